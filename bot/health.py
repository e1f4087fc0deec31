"""What the running bot tells its operator: the connection's health and `data/status.json`.

The requests that poll Telegram (getUpdates) go through `PollWatch`, which tells `Health` how
each one ended: a lost connection is one WARNING line and its return one INFO line, however
many polls failed in between. Every half minute (and at start and stop) the bot writes
`status.json` in its data dir; `archive-bot status` reads it, together with the run lock, to
say whether a bot runs on that data dir and polled Telegram lately: a bot holds the data dir's
run lock while it runs (`run_lock`), one bot per data dir.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from telegram.request import HTTPXRequest

from bot.texts import index_size
from index.answerable import own_calibration
from index.build import lock_file
from index.errors import ArchiveError
from index.store import current_manifest, database_url

logger = logging.getLogger(__name__)

STATUS_FILE = "status.json"
RUN_LOCK = "run.lock"  # held by the one `archive-bot run` of a data dir
STATUS_CHECK_EVERY = 5.0  # seconds between checks whether the status file is due
STATUS_EVERY = 30.0  # seconds between writes of the status file, unless the connection changed
POLLED_WITHIN = 120.0  # a bot that polled longer ago than this is not healthy
INDEX_FIELDS = ("built_at", "documents", "passages", "models")  # of the manifest, in a status


@dataclass
class Health:
    """The connection to the Bot API as the polls saw it. Used on the event loop only."""

    last_poll: float | None = None  # time of the last successful getUpdates
    polled: float | None = None  # the same, on the machine's monotonic clock (CLOCK_MONOTONIC)
    down_since: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    conflict_told: bool = False
    standby: bool = False  # another process of the bot polls (bot.shared); this one waits
    webhook: bool = False  # updates arrive by webhook (`run --webhook`): nothing is polled
    changed: bool = True  # since the status file was last written: connection up or down
    written_at: float = float("-inf")  # monotonic

    def status_due(self) -> bool:
        """Whether to write the status file now (the connection changed, or STATUS_EVERY)."""
        now = time.monotonic()  # a step of the wall clock must not stop the writes
        if not self.changed and now - self.written_at < STATUS_EVERY:
            return False
        self.changed, self.written_at = False, now
        return True

    def poll_ended(self, outcome: int | Exception) -> None:
        """Note how a getUpdates ended: its HTTP status, or the error that ended it."""
        now = time.time()
        if outcome == 200:
            if self.down_since is not None:
                logger.info("the Bot API is reachable again (after %.0f s)", now - self.down_since)
            self.changed |= self.last_poll is None or self.down_since is not None
            self.last_poll, self.down_since, self.conflict_told = now, None, False
            self.polled = time.monotonic()
            return
        why = reason(outcome) if isinstance(outcome, Exception) else f"HTTP {outcome}"
        self.last_error, self.last_error_at = f"getUpdates: {why}", now
        if isinstance(outcome, Exception) and self.down_since is None:
            self.down_since, self.changed = now, True
            logger.warning(
                "cannot reach the Bot API (%s); retrying until it answers, questions wait at "
                "Telegram",
                why,
            )

    def tell_conflict(self) -> bool:
        """Whether a 409 Conflict is news (logged once until a poll succeeds again)."""
        told, self.conflict_told = self.conflict_told, True
        return not told


def reason(error: Exception) -> str:
    """An error's type and message in one short line ("NetworkError: All connection attempts
    failed")."""
    message = " ".join(str(error).split())[:200]
    name = type(error).__name__
    return f"{name}: {message}" if message and message != name else name


class PollWatch(HTTPXRequest):
    """The request object of getUpdates, reporting how each poll ended to `health`."""

    def __init__(self, health: Health) -> None:
        super().__init__(connection_pool_size=1)  # python-telegram-bot's own for getUpdates
        self.health = health

    async def do_request(self, url, method, request_data=None, **timeouts):
        try:
            status, payload = await super().do_request(url, method, request_data, **timeouts)
        except Exception as error:
            if url.endswith("/getUpdates"):
                self.health.poll_ended(error)
            raise
        if url.endswith("/getUpdates"):
            self.health.poll_ended(status)
        return status, payload


def write_status(data_dir: Path, status: dict) -> None:
    """Replace `status.json` atomically (a reader never sees half a file)."""
    path = data_dir / STATUS_FILE
    temporary = path.with_name(f".{STATUS_FILE}.{os.getpid()}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(status, file, ensure_ascii=False, indent=1)
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("cannot write %s (%s)", path, error.strerror or error)
        temporary.unlink(missing_ok=True)


def poll_age(status: dict) -> float | None:
    """Seconds since the bot of `status` last polled Telegram (None: never).

    Measured on the monotonic clock the bot wrote (the same for every process of one boot),
    so that a wall clock set back cannot make an old poll look recent; a status of an older
    version, with wall times only, is read with those.
    """
    if isinstance(status.get("polled_monotonic"), int | float):
        return time.monotonic() - status["polled_monotonic"]
    if isinstance(status.get("last_poll"), int | float):
        return time.time() - status["last_poll"]
    return None


def read_status(data_dir: Path) -> dict | None:
    """Return the last status a bot wrote in `data_dir`, or None when there is none."""
    try:
        status = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


@contextmanager
def run_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data dir's run lock: one bot per data dir (they would share one inbox).

    The lock is an flock on `run.lock`: it dies with the process, even a killed one.

    Raises:
        ArchiveError: another `archive-bot run` serves this data dir, or it cannot be written.
    """
    with lock_file(data_dir, RUN_LOCK) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveError(
                f"another `archive-bot run` is serving {data_dir}: one bot per data dir "
                "(stop the other one, or give this one its own --data-dir)"
            ) from None
        yield


def bot_running(data_dir: Path) -> bool:
    """Whether an `archive-bot run` holds the run lock of `data_dir` now."""
    try:
        descriptor = os.open(data_dir / RUN_LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def status(data_dir: Path) -> dict:
    """Return what `archive-bot status` reports on `data_dir`: the last status a bot wrote,
    whether a bot runs on it now and is healthy (it polled within POLLED_WITHIN), and its
    index (or the reason there is none)."""
    report = read_status(data_dir) or {}
    running = bot_running(data_dir)
    age = poll_age(report) if running else None
    try:
        manifest = current_manifest(data_dir)
        index = {k: manifest.get(k) for k in INDEX_FIELDS}
    except ArchiveError as error:
        index = {"error": str(error)}
    healthy = age is not None and 0 <= age <= POLLED_WITHIN
    if running and (report.get("standby") or report.get("webhook")):  # healthy while it reports
        healthy = 0 <= time.time() - (report.get("written") or 0) <= POLLED_WITHIN
    try:
        own = own_calibration(data_dir)
        calibration, calibration_at = ("own", own[1]) if own else ("shipped", None)
    except ArchiveError as error:  # its own, unreadable: the shipped one serves
        calibration, calibration_at = "shipped", str(error)
    report = report | {"running": running, "healthy": healthy, "index": index,
                       "calibration": calibration, "calibration_at": calibration_at}  # fmt: skip
    if (url := database_url()) is not None:
        from bot.shared import processes

        try:
            report["processes"] = processes(url)
        except ArchiveError as error:
            report["processes"] = {"error": str(error)}
    return report


def status_lines(report: dict, data_dir: Path) -> list[str]:
    """Return a `status` report as lines for a person: the bot, its index, inbox and log."""
    now = time.time()

    def seconds_ago(seconds: float | None) -> str:
        return "never" if seconds is None else f"{max(0, seconds):.0f} s ago"

    def ago(at: float | None) -> str:
        return seconds_ago(now - at if at else None)

    if report["running"] and report.get("standby"):
        lines = [
            f"bot: standing by (pid {report.get('pid')}, @{report.get('bot')}, version "
            f"{report.get('version')}): another process polls; this one takes over if it stops"
        ]
    elif report["running"] and report.get("webhook"):
        lines = [
            f"bot: running (pid {report.get('pid')}, @{report.get('bot')}, version "
            f"{report.get('version')}); receiving updates by webhook"
        ]
    elif report["running"]:
        lines = [
            f"bot: running (pid {report.get('pid')}, @{report.get('bot')}, version "
            f"{report.get('version')}); last poll {seconds_ago(poll_age(report))}"
            + ("" if report["healthy"] else f": NOT HEALTHY (none within {POLLED_WITHIN:.0f} s)")
        ]
    elif report.get("stopped"):
        lines = [f"bot: not running (it stopped {ago(report['stopped'])})"]
    elif report.get("pid"):  # killed (SIGKILL, out of memory) or crashed: it wrote no stop
        lines = [
            f"bot: not running (it ended without stopping, killed or crashed; its last "
            f"status was written {ago(report.get('written'))})"
        ]
    else:
        lines = [f"bot: not running (no bot has run on {data_dir})"]
    index = report["index"]
    if "error" in index:
        lines.append(f"index: {index['error']}")
    else:
        lines.append(
            f"index: {index_size('en', index)}, built "
            f"{index['built_at']} ({' + '.join(index['models'])})"
        )
    others = report.get("processes")
    if isinstance(others, dict):
        lines.append(f"processes: {others['error']}")
    elif others is not None:
        lines.append(f"processes of the bots on this database: {len(others)}")
        for process in others:
            role = "standing by" if process.get("standby") else "polling"
            polled = f", last poll {ago(process.get('last_poll'))}"
            if process.get("webhook"):
                role, polled = "receiving webhooks", ""
            lines.append(
                f"  {process['process']} @{process.get('bot')} {process.get('version')}: "
                f"{role}{polled}"
            )
    if report["calibration"] == "own":
        lines.append(f"judgement: this archive's own calibration ({report['calibration_at']})")
    else:
        problem = report.get("calibration_at")
        lines.append("judgement: the shipped calibration" + (f" ({problem})" if problem else ""))
    if report.get("pid"):
        log = f"on, kept {report.get('retention_days')} days" if report.get("log") else "OFF"
        lines.append(
            f"inbox: {report.get('inbox_pending')} updates waiting"
            + "".join(f"; kept aside: {name}" for name in report.get("kept_aside") or [])
        )
        lines.append(f"query log: {log}; {report.get('log_dropped', 0)} entries dropped in all")
        if report.get("last_error"):
            lines.append(f"last error: {report['last_error']}, {ago(report.get('last_error_at'))}")
    return lines
