"""A Bot API stand-in on 127.0.0.1 for end-to-end tests of the real python-telegram-bot stack.

It serves queued updates through `getUpdates` long polling, answers the methods the bot uses,
records every call with its decoded parameters, and can be told to fail a method with a status
code (429 with `retry_after`, 500, …), to hang past the client's timeout, or to be unreachable.
Like Telegram, it refuses (400) a text it could not show: empty, over 4,096 characters once
its markup is parsed, HTML that is not Telegram's, more than 100 formatting entities (which
Telegram would silently ignore), or a button alert over 200 characters.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from bot.app import build_application
from index.embed import DEFAULT_MODEL

from .archive import ROOT

TOKEN = "123456:TEST-token-that-must-never-be-printed"

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Archive",
    "username": "archive_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
JSON_FIELDS = {"reply_markup", "results", "commands", "button", "link_preview_options",
               "reply_parameters", "entities"}  # fmt: skip
EMPTY_POLL_SECONDS = 0.3  # an empty getUpdates holds this long, or PTB polls in a busy loop
MESSAGE_LIMIT = 4096  # characters of a message's text once its markup is parsed
ENTITY_LIMIT = 100  # formatting entities Telegram applies; it ignores the rest
ALERT_LIMIT = 200  # characters of answerCallbackQuery's text
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "blockquote", "tg-spoiler", "span", "tg-emoji"}  # fmt: skip


class TelegramHTML(HTMLParser):
    """Reads text as Telegram's HTML parse mode does; `problem` says why Telegram would refuse it.

    Only Telegram's tags, balanced; only the named entities it knows; no bare "<", ">" or "&".
    `text` is what the reader sees, `entities` the formatting entities, `quotes` the contents
    of each <blockquote> (still escaped).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.quotes: list[str] = []
        self.text: list[str] = []
        self.entities = 0
        self.problem: str | None = None
        self._quote: list[str] | None = None

    def refuse(self, problem: str) -> None:
        self.problem = self.problem or f"Bad Request: can't parse entities: {problem}"

    def handle_starttag(self, tag, attrs):
        if tag not in TELEGRAM_TAGS:
            self.refuse(f'unsupported start tag "{tag}"')
        if tag == "blockquote" and attrs not in ([], [("expandable", None)]):
            self.refuse(f"unsupported blockquote attributes {attrs}")
        self.stack.append(tag)
        self.entities += 1
        if tag == "blockquote":
            self._quote = []

    def handle_endtag(self, tag):
        if not (self.stack and self.stack.pop() == tag):
            self.refuse(f'unmatched end tag "{tag}"')
        if tag == "blockquote" and self._quote is not None:
            self.quotes.append("".join(self._quote))
            self._quote = None

    def handle_data(self, data):
        if "<" in data or ">" in data or re.search(r"&(?!(amp|lt|gt|quot|#\d+);)", data):
            self.refuse(f"unescaped character in {data[:40]!r}")
        self.text.append(data)
        if self._quote is not None:
            self._quote.append(data)

    def handle_entityref(self, name):
        if name not in {"amp", "lt", "gt", "quot"}:
            self.refuse(f"unsupported entity &{name};")
        self.text.append("&")
        if self._quote is not None:
            self._quote.append(f"&{name};")

    def handle_charref(self, name):
        self.text.append("#")
        if self._quote is not None:
            self._quote.append(f"&#{name};")

    def close(self):
        super().close()
        if self.rawdata:
            self.refuse(f"unfinished markup {self.rawdata[:40]!r}")
        if self.stack:
            self.refuse(f"unclosed tags {self.stack}")


def read_html(text: str) -> TelegramHTML:
    """Parse `text` as Telegram HTML and check its size (`.problem`: None if Telegram takes it)."""
    parser = TelegramHTML()
    parser.feed(text)
    parser.close()
    shown = "".join(parser.text)
    if parser.problem is None:
        parser.problem = size_problem(shown)
    if parser.problem is None and parser.entities > ENTITY_LIMIT:
        parser.problem = f"Bad Request: {parser.entities} formatting entities (Telegram ignores "
        parser.problem += f"those past {ENTITY_LIMIT})"
    return parser


def size_problem(shown: str) -> str | None:
    if not shown.strip():
        return "Bad Request: message text is empty"
    if len(shown) > MESSAGE_LIMIT:
        return "Bad Request: message is too long"
    return None


def refusal(method: str, params: dict) -> str | None:
    """Why Telegram would refuse this call's text (None: it would take it)."""
    texts = []
    if method in {"sendMessage", "editMessageText"}:
        texts.append((params.get("text", ""), params.get("parse_mode")))
    if method == "answerInlineQuery":
        for result in params.get("results") or []:
            content = result.get("input_message_content") or {}
            texts.append((content.get("message_text", ""), content.get("parse_mode")))
    if method == "answerCallbackQuery" and len(params.get("text") or "") > ALERT_LIMIT:
        return "Bad Request: MESSAGE_TOO_LONG"
    for text, parse_mode in texts:
        problem = read_html(text).problem if parse_mode == "HTML" else size_problem(text)
        if problem:
            return problem
    return None


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 refuses connections under a burst

    def handle_error(self, request, client_address) -> None:
        pass  # clients that gave up on a hanging response are expected here


@dataclass
class Call:
    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int  # HTTP status; 0 hangs until the client times out
    retry_after: int | None = None
    body: bytes | None = None  # raw body instead of JSON (e.g. malformed)


class BotAPI:
    """The stand-in server. Use as a context manager; `base_url` goes to the Application."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.refused: list[Call] = []  # calls answered 400 as Telegram would (see `refusal`)
        self._updates: list[dict] = []
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Condition()
        self._ids = _update_ids  # increasing across stand-ins, as Telegram's for one bot
        self._message_ids = itertools.count(1000)
        self.down = False  # connection refused-like: every request gets a closed socket
        self.server = QuietServer(("127.0.0.1", 0), self._handler())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def __enter__(self) -> BotAPI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()
        if exc[0] is None and self.refused:  # seen or not by the test: the asker got nothing
            problems = [f"{c.method}: {c.params['problem']}" for c in self.refused]
            raise AssertionError(f"Telegram would have refused: {problems}")

    def _stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def refuse_connections(self, seconds: float) -> None:
        """Close the listening socket (connections are refused), then listen again."""
        port = self.server.server_address[1]
        self._stop()
        time.sleep(seconds)
        self.server = QuietServer(("127.0.0.1", port), self._handler())
        self.__enter__()

    # --- driving the bot -----------------------------------------------------------------

    def push(self, update: dict) -> int:
        with self._lock:
            update_id = next(self._ids)
            self._updates.append({"update_id": update_id, **update})
            self._lock.notify_all()
        return update_id

    def fail(self, method: str, status: int, times: int = 1, **kwargs) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(
                Failure(status, **kwargs) for _ in range(times)
            )

    def drain(self, method: str) -> int:
        """Count the calls to `method` so far, then forget every recorded call (long runs)."""
        with self._lock:
            count = sum(c.method == method for c in self.calls)
            self.calls.clear()
            return count

    def failures_left(self, method: str) -> int:
        """How many of the failures set for `method` are still to come."""
        with self._lock:
            return len(self._failures.get(method, []))

    def unconfirmed(self) -> int:
        """How many pushed updates the bot has not confirmed yet (by a later getUpdates offset)."""
        with self._lock:
            return len(self._updates)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # --- the HTTP side -------------------------------------------------------------------

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                method = self.path.rsplit("/", 1)[-1]
                params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                if self.headers.get("Content-Type", "").startswith("application/json") and body:
                    params = json.loads(body)
                for key in JSON_FIELDS & params.keys():
                    if isinstance(params[key], str):
                        params[key] = json.loads(params[key])
                if api.down:
                    self.close_connection = True
                    self.connection.close()
                    return
                failure = api._take_failure(method)
                if failure is not None:
                    if failure.status == 0:
                        time.sleep(30)
                        return
                    payload = {
                        "ok": False,
                        "error_code": failure.status,
                        "description": "stand-in failure",
                    }
                    if failure.retry_after is not None:
                        payload["parameters"] = {"retry_after": failure.retry_after}
                    self._send(failure.status, failure.body or json.dumps(payload).encode())
                    return
                if problem := refusal(method, params):
                    with api._lock:
                        api.refused.append(Call(method, params | {"problem": problem}))
                    payload = {"ok": False, "error_code": 400, "description": problem}
                    self._send(400, json.dumps(payload).encode())
                    return
                result = api._answer(method, params)
                self._send(200, json.dumps({"ok": True, "result": result}).encode())

            do_GET = do_POST

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _take_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def _answer(self, method: str, params: dict):
        if method == "getUpdates":
            return self._get_updates(params)
        with self._lock:
            self.calls.append(Call(method, params))
        if method == "getMe":
            return BOT_USER
        if method in {"sendMessage", "editMessageText"}:
            chat_id = int(params.get("chat_id", 0))
            return {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        return True

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), EMPTY_POLL_SECONDS)
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return list(self._updates[:100])


@asynccontextmanager
async def running_bot(api: BotAPI, data_dir: Path, timeout: float = 20.0, **settings):
    """The real Application, polling the stand-in, with the manual lifecycle."""
    application = build_application(
        TOKEN, data_dir, DEFAULT_MODEL, base_url=api.base_url, timeout=timeout, **settings
    )
    await application.initialize()
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)  # as run_polling does: the log is closed


# --- updates as Telegram sends them -----------------------------------------------------------

_message_ids = itertools.count(1)
_update_ids = itertools.count(1)


def user(user_id: int, username: str = "asker", language: str | None = "en") -> dict:
    """A Telegram user; `language` is their client's language_code (None: not sent)."""
    sender = {"id": user_id, "is_bot": False, "first_name": "Ann", "username": username}
    return sender | ({"language_code": language} if language else {})


def message(
    text: str | None = None,
    user_id: int = 1001,
    chat_id: int | None = None,
    chat_type: str = "private",
    reply_to_bot: bool = False,
    username: str = "asker",
    language: str | None = "en",
    **extra,
) -> dict:
    """A `message` update; commands and @mentions get their entities, as Telegram adds them."""
    chat_id = chat_id if chat_id is not None else user_id
    chat = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Readers"
    body = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat,
            "from": user(user_id, username, language), **extra}  # fmt: skip
    if text is not None:
        body["text"] = text
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        at = text.find("@" + BOT_USER["username"])
        if at >= 0 and not text.startswith("/"):
            entities.append(
                {"type": "mention", "offset": at, "length": len(BOT_USER["username"]) + 1}
            )
        if entities:
            body["entities"] = entities
    if reply_to_bot:
        body["reply_to_message"] = {"message_id": 1, "date": int(time.time()), "chat": chat,
                                    "from": BOT_USER, "text": "an earlier answer"}  # fmt: skip
    return {"message": body}


def callback(
    data: str, user_id: int = 1001, message_text: str = "answer", language: str | None = "en"
) -> dict:
    return {
        "callback_query": {
            "id": str(next(_message_ids)),
            "from": user(user_id, language=language),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 900,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": BOT_USER,
                "text": message_text,
            },  # fmt: skip
        }
    }


def inline(query: str, user_id: int = 1001, language: str | None = "en") -> dict:
    return {"inline_query": {"id": str(next(_message_ids)), "query": query, "offset": "",
                             "from": user(user_id, language=language)}}  # fmt: skip


async def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the bot")


def replies(api: BotAPI, chat_id: int | None = None) -> list[dict]:
    return [
        c.params
        for c in api.calls_to("sendMessage")
        if chat_id is None or c.params["chat_id"] == str(chat_id)
    ]


async def ask(api: BotAPI, update: dict, chat_id: int, count: int = 1) -> list[dict]:
    before = len(replies(api, chat_id))
    api.push(update)
    await wait_for(lambda: len(replies(api, chat_id)) >= before + count)
    return replies(api, chat_id)[before:]


def check_html(text: str) -> list[str]:
    """Assert `text` is a message Telegram accepts (see botapi.refusal); return its quotes."""
    parser = read_html(text)
    assert parser.problem is None, parser.problem
    return [unescape(q) for q in parser.quotes]


def buttons(reply: dict) -> dict[str, str]:
    return {
        b["text"]: b["callback_data"]
        for row in reply["reply_markup"]["inline_keyboard"]
        for b in row
    }


def start_bot(api: BotAPI, data_dir: Path, **settings: str) -> subprocess.Popen:
    """`archive-bot run` in a process of its own, on the stand-in; `settings` are more of its
    environment variables."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
           "ARCHIVE_BOT_DATA_DIR": str(data_dir), "NO_PROXY": "127.0.0.1,localhost",
           **settings}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_until(condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
