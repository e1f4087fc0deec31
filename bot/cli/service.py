"""The operator's commands: `run` the bot, its `status`, a `backup` of its data dir."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from bot.cli.common import (
    corpus_option,
    data_dir_option,
    fail,
    load_searcher,
    model_option,
    moderators,
    open_log,
    retention_days,
    top_k_option,
)
from index import settings
from index.errors import ArchiveError

DEFAULT_LISTEN = "127.0.0.1:8443"  # where `run --webhook` listens, behind a reverse proxy


@click.command()
@top_k_option
@corpus_option
@data_dir_option
@model_option
@click.option(
    "--log/--no-log",
    "log_questions",
    default=None,
    help="Telegram questions are logged unless --no-log; terminal questions only with --log.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    envvar="ARCHIVE_BOT_MAX_RATE",
    help="Requests per second to the Bot API, all chats together: Telegram allows a bot about "
    "30. Raise it only for a test server or a bot Telegram allows more.",
)
@click.option(
    "--webhook",
    metavar="URL",
    envvar="ARCHIVE_BOT_WEBHOOK_URL",
    help="Receive updates by webhook at this public https address, which a reverse proxy "
    "passes to --listen, instead of polling: every process of the bot receives "
    "(docs/operators.md).",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=DEFAULT_LISTEN,
    show_default=True,
    envvar="ARCHIVE_BOT_WEBHOOK_LISTEN",
    help="Where the webhook server listens (with --webhook).",
)
def run(
    top_k: int,
    corpus: Path,
    data_dir: Path,
    model: str,
    log_questions: bool | None,
    max_rate: float,
    webhook: str | None,
    listen: str,
) -> None:
    """Run the Telegram bot, or a terminal chat when TELEGRAM_BOT_TOKEN is not set.

    \b
    Environment:
      TELEGRAM_BOT_TOKEN      the bot's token from @BotFather
      TELEGRAM_API_BASE_URL   Bot API endpoint (default https://api.telegram.org/bot)
      ARCHIVE_BOT_MODERATORS  comma-separated user ids allowed /stats and /recent
                              (read at start: restart the bot after a change)
      ARCHIVE_BOT_LOG_RETENTION_DAYS  days logged questions are kept (default 90)
      ARCHIVE_BOT_MAX_RATE    the same as --max-rate
      ARCHIVE_BOT_WEBHOOK_URL, ARCHIVE_BOT_WEBHOOK_LISTEN  the same as --webhook, --listen

    Telegram questions are logged (pseudonymously, see docs/moderators.md); terminal questions
    only with --log. The bot does not start when its query log or its inbox cannot be written,
    or a setting is malformed: it says what to fix. --no-log runs it without a log, on purpose.
    An index of an older archive-bot (after an upgrade) is first rebuilt from --corpus, as
    `archive-bot index` would, keeping every stored vector it can.

    \b
    Examples:
      archive-bot run                                   # terminal chat
      echo "Who was the French ambassador?" | archive-bot run
      TELEGRAM_BOT_TOKEN=123:abc archive-bot run         # Telegram
      archive-bot run --webhook https://bot.example.org/archive-bot --listen 127.0.0.1:8443
    """
    from index.build import upgrade_index
    from index.errors import ArchiveError

    check_webhook(webhook, listen)
    try:
        if report := upgrade_index(corpus, data_dir, model):
            click.echo(
                f"rebuilt from {corpus}: {report.passages_total} passages, "
                f"{report.passages_embedded} of them embedded anew",
                err=True,
            )
    except ArchiveError as error:
        raise click.ClickException(f"the index could not be rebuilt: {error}") from None
    token = (settings.value("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token:
        from bot.console import chat

        chat(
            lambda: load_searcher(data_dir, model),
            top_k,
            open_log(data_dir, create=True) if log_questions else None,
        )
        return
    from bot.health import run_lock
    from index.embed import chosen_backend
    from index.store import current_manifest

    logging.getLogger("bot").setLevel(logging.INFO)  # the bot's own news: start-up, outages

    try:
        chosen_backend()  # fail before connecting when a setting is wrong
        current_manifest(data_dir)  # or when there is no index
        with run_lock(data_dir):
            serve(
                token, data_dir, model, top_k, max_rate, log_questions is not False, webhook, listen
            )
    except ArchiveError as error:
        raise fail(error) from error


def check_webhook(webhook: str | None, listen: str) -> None:
    """Refuse a webhook address Telegram would not call, or a listening address that is not
    host:port (click.BadParameter)."""
    if webhook is None:
        return
    parts = urlsplit(webhook)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise click.BadParameter(
            "Telegram calls https addresses only, such as https://bot.example.org/archive-bot",
            param_hint="--webhook",
        )
    from bot.app import listen_address  # python-telegram-bot: only for a webhook

    try:
        listen_address(listen)
    except ValueError:
        raise click.BadParameter(
            "give host:port, such as 127.0.0.1:8443", param_hint="--listen"
        ) from None


def serve(
    token: str,
    data_dir: Path,
    model: str,
    top_k: int,
    max_rate: float,
    log: bool,
    webhook: str | None = None,
    listen: str = DEFAULT_LISTEN,
) -> None:
    """Run the Telegram bot until it is stopped; a failure to connect ends in one line."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import DEFAULT_BASE_URL, build_application, run_bot

    base_url = settings.value("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL
    application = build_application(
        token,
        data_dir,
        model,
        base_url=base_url,
        top_k=top_k,
        moderators=moderators(),
        retention_days=retention_days(),
        max_rate=max_rate,
        log=log,
        webhook=webhook is not None,
    )
    click.echo(f"Connecting to the Bot API at {base_url} … (Ctrl-C stops the bot)", err=True)
    if webhook is not None:
        click.echo(f"Receiving updates at {webhook}, listening on {listen}", err=True)
    try:
        run_bot(token, application, webhook, listen)
    except InvalidToken:
        raise click.ClickException(
            "Telegram rejected the token: check TELEGRAM_BOT_TOKEN (from @BotFather)"
        ) from None
    except NetworkError as error:
        raise click.ClickException(
            f"cannot reach the Bot API at {base_url} ({type(error).__name__})"
        ) from None
    if application.bot_data.get("lost_leadership"):  # bot.app.keep_leadership
        raise click.ClickException(
            "stopped: the database session that let this process poll was lost; start it "
            "again (it stands by while another process polls)"
        )


@click.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(data_dir: Path, as_json: bool) -> None:
    """Say whether a bot runs on the data dir, and what it serves.

    Exits with 0 when a bot runs on the data dir and polled Telegram within the last two
    minutes, else 1: usable as a health check by systemd or a monitor.

    \b
    Examples:
      archive-bot status
      archive-bot status --json --data-dir /var/lib/archive-bot
    """
    from bot.health import status as read_report
    from bot.health import status_lines

    report = read_report(data_dir)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        click.echo("\n".join(status_lines(report, data_dir)))
    sys.exit(0 if report["healthy"] else 1)


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@data_dir_option
def backup(dest: Path, data_dir: Path) -> None:
    """Copy the query log, its key and the current index to DEST, while the bot runs.

    DEST must not exist yet (or be empty); it becomes a data dir of its own, owner-only, that
    `logs` and `ask` can read with --data-dir DEST. The copy is consistent (SQLite's online
    backup; the index copied under the build lock) and holds no question past retention.
    inbox.db is left out: it holds Telegram ids. A key given in ARCHIVE_BOT_LOG_SECRET is not
    written anywhere: keep it with the backup yourself. Restoring: see docs/operators.md, "Backups".
    Interrupted (Ctrl-C, SIGTERM, a failing disk), it leaves nothing behind; what a killed
    backup left (SIGKILL) is removed by the next one into the same folder.

    \b
    Examples:
      archive-bot backup /var/backups/archive-bot/$(date +%F)
      archive-bot backup ~/copy --data-dir /var/lib/archive-bot
    """
    from bot.backup import backup as copy_data_dir
    from index.errors import ArchiveError

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise click.BadParameter(f"{dest} exists and is not empty: give a new directory")
    try:
        manifest, copied = copy_data_dir(data_dir, dest, retention_days())
    except ArchiveError as error:
        raise fail(error) from None
    click.echo(
        f"backed up to {dest}: the index ({manifest['passages']} passages, built "
        f"{manifest['built_at']})"
        + (
            f", the query log ({copied} question{'s' * (copied != 1)}) and its key"
            if copied is not None
            else ""
        )
    )
    if copied is not None and settings.value("ARCHIVE_BOT_LOG_SECRET"):
        click.echo("the key is in ARCHIVE_BOT_LOG_SECRET, not in the backup: keep it with it")


@click.group()
def database() -> None:
    """Move the index between the data dir's files and PostgreSQL (ARCHIVE_BOT_DATABASE_URL).

    With ARCHIVE_BOT_DATABASE_URL set, `index`, `ask`, `run` and `status` use the index in
    that database (PostgreSQL with pgvector; docs/operators.md, "Several machines"): every
    bot process and every build, on any machine, shares it, and the query log and the
    archive's own calibration too. The URL is read from the environment only, never from a
    flag, so that its password is not shown in the process list.
    """


def _transfer(data_dir: Path, into_database: bool) -> None:
    from bot.querylog import LOG_FILE
    from index.build import transfer_index
    from index.postgres import where
    from index.store import database_url

    if (url := database_url()) is None:
        raise click.UsageError(
            "set ARCHIVE_BOT_DATABASE_URL=postgresql://user@host/database first"
        )
    try:
        manifest = transfer_index(data_dir, url, into_database)
        calibration = _copy_calibration(data_dir, into_database)
    except ArchiveError as error:
        raise fail(error) from None
    there = where(url) if into_database else str(data_dir)
    click.echo(
        f"copied the index ({manifest['documents']} documents, {manifest['passages']} "
        f"passages) to {there}; it is the current index there"
        + ("; and the archive's own calibration" if calibration else "")
    )
    if into_database and (data_dir / LOG_FILE).exists():
        _copy_log(data_dir)


def _copy_calibration(data_dir: Path, into_database: bool) -> bool:
    """Copy the archive's own calibration, if it has one, along with its index, between the
    data dir's file and the database (where `own_calibration` reads it, the URL being set);
    whether it had one (ArchiveError: it is damaged, or cannot be written)."""
    from index.answerable import ARCHIVE_FILE, Calibration, keep_calibration, own_calibration

    own = data_dir / ARCHIVE_FILE
    if into_database:
        if own.exists():
            keep_calibration(data_dir, Calibration.load(own))
        return own.exists()
    if (kept := own_calibration(data_dir)) is not None:
        Calibration.parse(*kept).save(own)
    return kept is not None


def _copy_log(data_dir: Path) -> None:
    """Copy the data dir's query log into the database's (which must be empty)."""
    from bot.querylog import QueryLog

    try:
        files = QueryLog(data_dir, retention_days(), in_database=False)
        try:
            database = QueryLog(data_dir, retention_days())
            try:
                copied, with_askers = files.copy_into(database)
            finally:
                database.close()
        finally:
            files.close()
    except ArchiveError as error:
        raise fail(ArchiveError(f"the query log was not copied: {error}")) from None
    click.echo(
        f"copied the query log ({copied} question{'s' * (copied != 1)}) to the database"
        + ("" if with_askers or not copied else (
            "; without the askers' pseudonyms: it was kept under the data dir's own key, not "
            "ARCHIVE_BOT_LOG_SECRET, so /forget cannot reach those questions (retention "
            "still deletes them)"
        ))
    )  # fmt: skip


@database.command(name="copy-in")
@data_dir_option
def copy_in(data_dir: Path) -> None:
    """Copy the data dir's current index into the database, as it is (nothing is embedded),
    with the archive's own calibration, and its query log into the database's, which must be
    empty.

    The database's log makes pseudonyms with ARCHIVE_BOT_LOG_SECRET. Questions logged under
    another key (the data dir's own `log-secret`) are copied without their askers' pseudonyms.

    \b
    Examples:
      ARCHIVE_BOT_DATABASE_URL=postgresql://archive@db.example.org/archive \\
        archive-bot database copy-in --data-dir /var/lib/archive-bot
    """
    _transfer(data_dir, into_database=True)


@database.command(name="copy-out")
@data_dir_option
def copy_out(data_dir: Path) -> None:
    """Copy the database's current index into the data dir's files (back from PostgreSQL),
    with the archive's own calibration.

    \b
    Examples:
      ARCHIVE_BOT_DATABASE_URL=postgresql://archive@db.example.org/archive \\
        archive-bot database copy-out --data-dir /var/lib/archive-bot
    """
    _transfer(data_dir, into_database=False)
