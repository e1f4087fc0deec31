"""The Telegram application: built in one function, the archive loaded in `post_init`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import signal
import sqlite3
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot import __version__, handlers, texts
from bot.health import (
    INDEX_FIELDS,
    STATUS_CHECK_EVERY,
    Health,
    PollWatch,
    read_status,
    reason,
    write_status,
)
from bot.inbox import INBOX_FILE, Inbox
from bot.querylog import DEFAULT_RETENTION_DAYS, QueryLog
from bot.shared import LEADERSHIP_CHECK_EVERY, TAKE_OVER_EVERY, Leadership, SharedInbox, bot_id
from bot.state import BotState
from index import threads
from index.errors import ArchiveError
from index.search import Searcher
from index.store import database_url

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
COMMANDS = ("start", "help", "sources", "about", "forget")  # described in each catalogue
MODERATOR_COMMANDS = ("stats", "recent", "reload")  # in moderators' private menus only
PURGE_EVERY = 24 * 3600  # seconds between retention purges of the running bot
RELOAD_CHECK_EVERY = 5.0  # seconds between checks for a new index (a small file read)
# A reply is retried this often after a timeout or a connection error, waiting 0.5 s, 1 s,
# 2 s … up to 30 s in between: it outlives about a minute of Bot API outage.
NETWORK_RETRIES = 7
# Telegram lets a bot send about 30 messages a second overall. A test server, or a bot Telegram
# allows more, can take a higher rate (--max-rate).
MAX_RATE = 30.0
# Updates handled at once. Their searches run in as many threads: the new questions among them
# wait for the models together and share their next pass (index.embed.ModelLane), which alone
# uses several cores (index.threads).
CONCURRENT_UPDATES = 64
# Inline queries answered at once, in their own lane; one waiting longer than INLINE_WAIT
# seconds is dropped: Telegram gives up on an inline answer after about ten seconds.
INLINE_WORKERS = 4
INLINE_WAIT = 8.0
# With several processes: seconds between looks for updates that a process which died had
# received and not answered (bot.shared.SharedInbox.pending).
ORPHANS_EVERY = 1.0


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's rate limits (waiting out 429s), plus retries after timeouts and network errors.

    A reply that meets one slow response or dropped connection is sent again instead of lost.
    At the rate limit, "typing…" is left out: it would take the place of an answer, and with
    every answer costing two requests the bot would answer half as many questions per second.
    """

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        overall = getattr(self, "_base_limiter", None)  # PTB's limiter of all requests
        if endpoint == "sendChatAction" and overall and not overall.has_capacity():
            return True
        migrated = False
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except ChatMigrated as error:  # a group became a supergroup: send it there
                if migrated or "chat_id" not in data:
                    raise
                migrated = True
                logger.info("a group became a supergroup; %s goes to its new chat", endpoint)
                data["chat_id"] = error.new_chat_id
                data.pop("reply_parameters", None)  # that message is in the old chat
            except BadRequest:
                raise
            except NetworkError as error:
                if attempt == NETWORK_RETRIES:
                    raise
                # One line per request, with the reason; the outage itself is bot.health's.
                log = logger.warning if attempt == 0 else logger.debug
                log("%s failed (%s); retrying", endpoint, reason(error))
                await asyncio.sleep(min(0.5 * 2**attempt, 30.0))


class InboxQueue(asyncio.Queue):
    """The application's update queue: each update reaches the inbox before it is queued.

    PTB's updater puts a batch here, then confirms it to Telegram with its next getUpdates:
    so no update is confirmed before it is on disk (see bot.inbox). Re-deliveries of updates
    the inbox holds or has handled are dropped here.

    Inline queries take a lane of their own (`inline`, served by `answer_inline_queries`):
    a flood of them never queues ahead of a message, and they are never kept, since Telegram
    stops waiting for their answers after about ten seconds.
    """

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
        self.inline: asyncio.Queue[tuple[float, Update]] = asyncio.Queue()

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and item.inline_query:
            self.inline.put_nowait((time.monotonic(), item))
            return
        if isinstance(item, Update):
            try:
                kept = await asyncio.to_thread(
                    self.inbox.receive, item.update_id, json.dumps(item.to_dict())
                )
            except (sqlite3.Error, OSError) as error:  # still answered, just not durable
                logger.warning("the inbox cannot keep an update (%s)", error)
                kept = True
            if not kept:
                return
        await super().put(item)


async def answer_inline_queries(application: Application) -> None:
    """One of INLINE_WORKERS: answer inline queries from their lane, dropping stale ones."""
    lane = application.update_queue.inline
    while True:
        received, update = await lane.get()
        if time.monotonic() - received > INLINE_WAIT:
            continue  # Telegram has stopped waiting for this answer
        try:
            await application.process_update(update)  # errors go to the error handler
        except Exception:  # noqa: BLE001 - the lane must outlive any one query
            logger.exception("an inline query failed")


def open_inbox(data_dir: Path) -> Inbox:
    """Open the inbox of `data_dir`; without it the bot does not start (fail closed).

    Raises:
        ArchiveError: the inbox cannot be written (a read-only data dir, say).
    """
    try:
        return Inbox(data_dir)
    except (OSError, sqlite3.Error) as error:
        raise ArchiveError(
            f"the inbox {data_dir / INBOX_FILE} cannot be written ({error}): questions received "
            "before a crash would be lost; make the data dir writable by the bot's user"
        ) from None


async def replay_inbox(application: Application) -> None:
    """Queue the updates a previous run received and did not handle (a crash, a kill).

    An update that cannot be read back is set aside in the inbox (see bot.inbox), not lost.
    """
    inbox = application.bot_data["state"].inbox
    pending = await asyncio.to_thread(inbox.pending)
    replayed = 0
    for update_id, body in pending:
        try:
            update = Update.de_json(json.loads(body), application.bot)
            if not isinstance(update, Update):
                raise TypeError("not an update")
        except Exception as error:  # noqa: BLE001 - whatever a damaged body makes de_json raise
            await asyncio.to_thread(inbox.set_aside, update_id, type(error).__name__)
            continue
        application.update_queue.put_nowait(update)  # already in the inbox
        replayed += 1
    if replayed:
        logger.warning("answering %d questions received before a stop", replayed)
    if replayed < len(pending):
        logger.warning(
            "%d waiting updates could not be read back; set aside in %s for a week",
            len(pending) - replayed, INBOX_FILE,
        )  # fmt: skip


def open_log(state: BotState) -> None:
    """Open the query log and purge what is past retention (fail closed: see `build_application`).

    Raises:
        ArchiveError: the log cannot be opened, and the bot was not told to run without one.
    """
    if not state.log_wanted:
        logger.warning("running without a query log (--no-log): no question is logged")
        return
    try:
        state.log = QueryLog(state.data_dir, state.retention_days)
        removed = state.log.purge()
    except ArchiveError as error:
        raise ArchiveError(
            f"{error}. Fix that, or run with --no-log to answer without logging questions"
        ) from None
    if removed:
        logger.info("purged %d logged questions older than %d days", removed, state.retention_days)


async def purge_log(application: Application) -> None:
    """Daily: delete logged questions past the retention period."""
    log = application.bot_data["state"].log
    if log:
        log.submit(log.purge)


def status_of(application: Application) -> dict:
    """What `archive-bot status` shows: version, connection, index, inbox, log, last error."""
    state: BotState = application.bot_data["state"]
    health = state.health
    manifest = state.searcher.store.manifest if state.searcher else {}
    dropped = state.log.dropped if state.log else 0
    return {
        "pid": os.getpid(),
        "version": __version__,
        "bot": application.bot.username,
        "started": state.started,
        "written": time.time(),
        "last_poll": health.last_poll,
        "standby": health.standby,
        "webhook": health.webhook,
        "polled_monotonic": health.polled,
        "down_since": health.down_since,
        "last_error": health.last_error,
        "last_error_at": health.last_error_at,
        "index": {k: manifest.get(k) for k in INDEX_FIELDS},
        "inbox_pending": state.inbox.count(),
        "kept_aside": state.inbox.aside(),
        "log": state.log is not None,
        "retention_days": state.retention_days,
        "log_dropped": state.dropped_before + dropped,  # over every run on this data dir
        "stopped": None,
    }


def save_status(application: Application, **extra) -> None:
    """Write status.json, and with several processes their table (blocking: it reads the
    inbox)."""
    status = status_of(application) | extra
    write_status(application.bot_data["state"].data_dir, status)
    if leadership := application.bot_data.get("leadership"):
        leadership.report(status)


async def report_status(application: Application) -> None:
    """Write status.json for `archive-bot status` when it is due (see bot.health)."""
    state: BotState = application.bot_data["state"]
    if state.health.status_due():
        await asyncio.to_thread(save_status, application)


async def check_index(application: Application) -> None:
    """Every few seconds: switch to a new index when `archive-bot index` made one."""
    await asyncio.to_thread(application.bot_data["state"].reload)


async def every(seconds: float, job, application: Application, first: float) -> None:
    """Run `job(application)` after `first` seconds, then every `seconds`, until cancelled.

    Timed by the event loop's monotonic clock: a step of the wall clock (NTP, an operator's
    `date -s`) neither stops nor hurries it, as it did PTB's JobQueue, which counts in wall
    time. A failing run is logged and the next one comes as usual.
    """
    await asyncio.sleep(first)
    while True:
        try:
            await job(application)
        except Exception as error:
            logger.error("%s failed: %s", job.__name__, reason(error))
        await asyncio.sleep(seconds)


async def post_init(application: Application) -> None:
    """Load the index, the model and the log, then tell Telegram the bot's commands."""
    state: BotState = application.bot_data["state"]
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(CONCURRENT_UPDATES, thread_name_prefix="search")
    )
    await asyncio.to_thread(open_log, state)  # first: a log that cannot open stops the bot
    state.use(await asyncio.to_thread(Searcher.open, state.data_dir, state.model))
    state.dropped_before = (read_status(state.data_dir) or {}).get("log_dropped") or 0
    application.bot_data["background"] = [
        *(asyncio.create_task(answer_inline_queries(application)) for _ in range(INLINE_WORKERS)),
        asyncio.create_task(every(PURGE_EVERY, purge_log, application, first=PURGE_EVERY)),
        asyncio.create_task(
            every(RELOAD_CHECK_EVERY, check_index, application, first=RELOAD_CHECK_EVERY)
        ),
        asyncio.create_task(every(STATUS_CHECK_EVERY, report_status, application, first=0)),
    ]
    await stand_by(application)  # loaded: ready to take over the moment it is this one's turn
    await replay_inbox(application)
    if isinstance(state.inbox, SharedInbox):  # what another process received, then died
        application.bot_data["background"].append(
            asyncio.create_task(
                every(ORPHANS_EVERY, replay_inbox, application, first=ORPHANS_EVERY)
            )
        )
    try:  # SIGHUP: check for a new index now
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: application.create_task(check_index(application))
        )
    except (NotImplementedError, RuntimeError, ValueError):
        logger.info("SIGHUP cannot be handled here; the index is still checked every few seconds")
    await register_profile(application)
    manifest = state.searcher.store.manifest
    logger.info(
        "archive-bot %s is @%s: %s (index built %s, %s); %s; %d moderators; %s",
        __version__, application.bot.username, texts.index_size("en", manifest),
        manifest.get("built_at"), " + ".join(manifest["models"]),
        f"query log on, kept {state.retention_days} days" if state.log else "query log OFF",
        len(state.moderators), threads.current().describe(),
    )  # fmt: skip
    for moderator in state.moderators:
        try:  # moderators see their extra commands in the menu of their private chat
            for lang in texts.LANGUAGES:
                await application.bot.set_my_commands(
                    menu(lang, COMMANDS + MODERATOR_COMMANDS),
                    scope=BotCommandScopeChat(moderator),
                    language_code=None if lang == texts.LANGUAGES[0] else lang,
                )
        except TelegramError:
            logger.info("a moderator has not started a chat with the bot yet")


async def stand_by(application: Application) -> None:
    """With the index in PostgreSQL: wait until this process is the one polling the bot
    (bot.shared); then check every few seconds that it still is."""
    leadership: Leadership | None = application.bot_data.get("leadership")
    if leadership is None or application.bot_data.get("webhook"):
        return  # alone, or every process receives (webhooks)
    waiting = None
    while True:
        try:
            if await asyncio.to_thread(leadership.take):
                break
            problem = "another process polls this bot; this one takes over when it stops"
        except ArchiveError as error:
            problem = f"{error}; trying again"
        if problem != waiting:
            logger.warning("standing by: %s", problem)
            waiting = problem
        health = application.bot_data["state"].health
        health.changed = health.changed or not health.standby  # status.json says so now
        health.standby = True
        await asyncio.sleep(TAKE_OVER_EVERY)
    health = application.bot_data["state"].health
    health.changed, health.standby = True, False
    if waiting:
        logger.warning("this process polls the bot now")
    application.bot_data["background"].append(
        asyncio.create_task(
            every(LEADERSHIP_CHECK_EVERY, keep_leadership, application, LEADERSHIP_CHECK_EVERY)
        )
    )


async def keep_leadership(application: Application) -> None:
    """Stop polling at once when this process no longer holds the bot's lock (its database
    session was lost): another process may have taken over. The process ends with an error,
    so that its service manager starts it again, as a standby."""
    if not await asyncio.to_thread(application.bot_data["leadership"].holds):
        logger.error(
            "lost the database session that let this process poll the bot: stopping, so that "
            "two processes never poll together"
        )
        application.bot_data["lost_leadership"] = True
        application.stop_running()


def menu(lang: str, commands: tuple[str, ...] = COMMANDS) -> list[BotCommand]:
    """The command menu in `lang`: the askers' commands, or any others of the catalogue."""
    return [BotCommand(name, texts.text(lang, f"command_{name}", html=False)) for name in commands]


async def register_profile(application: Application) -> None:
    """Tell Telegram the command menu and the descriptions, in each language of bot.texts.

    English is registered without a language code: it is what every other client sees.
    """
    bot = application.bot
    for lang in texts.LANGUAGES:
        code = None if lang == texts.LANGUAGES[0] else lang
        try:
            await bot.set_my_commands(menu(lang), language_code=code)
            await bot.set_my_short_description(
                texts.text(lang, "short_description"), language_code=code
            )
            await bot.set_my_description(texts.text(lang, "description"), language_code=code)
        except TelegramError as error:
            logger.warning(
                "could not register the bot's commands (%s): %s", lang, type(error).__name__
            )


async def post_shutdown(application: Application) -> None:
    """Stop answering inline queries and the timed jobs; say so in status.json; close the
    query log and inbox."""
    for task in application.bot_data.pop("background", []):
        task.cancel()
    state: BotState = application.bot_data["state"]
    if state.searcher is not None:  # it started
        await asyncio.to_thread(save_status, application, stopped=time.time())
    if state.log:
        state.log.close()
    state.inbox.close()
    if leadership := application.bot_data.get("leadership"):
        leadership.close()


def build_application(
    token: str,
    data_dir: Path,
    model: str,
    base_url: str = DEFAULT_BASE_URL,
    top_k: int = 3,
    timeout: float = 20.0,
    moderators: frozenset[int] = frozenset(),
    retention_days: int = DEFAULT_RETENTION_DAYS,
    max_rate: float = MAX_RATE,
    log: bool = True,
    webhook: bool = False,
) -> Application:
    """Build the bot: handlers, rate limiter with retries, concurrent updates, timeouts.

    Args:
        token: the bot token from @BotFather.
        data_dir: where the index is.
        model: the embedding model the index must have been built with.
        base_url: the Bot API endpoint (Telegram's, or a self-hosted or test server).
        top_k: passages per answer.
        timeout: seconds to wait for each HTTP read or write (sized for a busy server).
        moderators: Telegram user ids allowed /stats and /recent (read once, at start).
        retention_days: how long logged questions are kept.
        max_rate: requests per second to the Bot API, all chats together.
        log: keep the query log; False only when the operator says so (`run --no-log`).
            Without it, or without the inbox, the bot does not start: it never runs
            silently degraded.
        webhook: updates arrive by webhook (`run_bot`), not by polling: every process of
            the bot receives some, none waits for a lock.

    Raises:
        ArchiveError: the inbox cannot be written (the log is opened in `post_init`).
    """
    url = database_url()
    inbox = SharedInbox(url, bot_id(token)) if url else open_inbox(data_dir)
    health = Health(webhook=webhook)
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        allow_sending_without_reply=True,
    )
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .defaults(defaults)
        .concurrent_updates(CONCURRENT_UPDATES)
        .update_queue(InboxQueue(inbox))
        .rate_limiter(RetryingRateLimiter(overall_max_rate=max_rate, max_retries=5))
        .get_updates_request(PollWatch(health))
        .connection_pool_size(128)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .connect_timeout(timeout / 2)
        .pool_timeout(timeout)
        .job_queue(None)  # timed jobs are asyncio tasks (`every`): wall-clock steps stop PTB's
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["leadership"] = Leadership(url, bot_id(token)) if url else None
    application.bot_data["webhook"] = webhook
    application.bot_data["state"] = BotState(
        data_dir=data_dir,
        model=model,
        top_k=top_k,
        moderators=moderators,
        retention_days=retention_days,
        inbox=inbox,
        log_wanted=log,
        health=health,
    )
    handlers.register(application)
    return application


class RedactToken(logging.Filter):
    """Replaces the bot token wherever it appears in a log line (e.g. in an error's URL)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[token]"), None
        if record.exc_info and record.exc_info[1]:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            if self.token in text:  # keep the traceback, without the token
                record.exc_info, record.exc_text = None, text.replace(self.token, "[token]")
        return True


class ReportedElsewhere(logging.Filter):
    """Drops python-telegram-bot's traceback of a rejected token: `archive-bot run` says so in
    one line (bot.cli.service.serve)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, InvalidToken):
                return False
            error = error.__cause__
        return True


def webhook_secret(token: str) -> str:
    """The secret Telegram sends with each webhook delivery (its X-Telegram-Bot-Api-Secret-Token
    header), derived from the token: the same in every process of the bot, never stored, and
    a request without it is refused."""
    return hmac.new(token.encode(), b"archive-bot webhook", hashlib.sha256).hexdigest()


def listen_address(listen: str) -> tuple[str, int]:
    """The host and port of a listening address, host:port ("[::1]:8443" too).

    Raises:
        ValueError: `listen` is not host:port with a port from 1 to 65535.
    """
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not host:port: {listen!r}")
    return host.strip("[]"), int(port)


def run_bot(
    token: str, application: Application, webhook: str | None = None, listen: str = ""
) -> None:
    """Poll Telegram, or with `webhook` (the public https address a reverse proxy passes to
    `listen`, host:port) receive its deliveries, until SIGINT or SIGTERM; logging nothing that
    holds the token."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(ReportedElsewhere())  # first: RedactToken may turn the traceback to text
        handler.addFilter(RedactToken(token))
    if webhook is None:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    host, port = listen_address(listen)
    application.run_webhook(
        listen=host,
        port=port,
        url_path=urlsplit(webhook).path.lstrip("/"),
        webhook_url=webhook,
        secret_token=webhook_secret(token),
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
    )
