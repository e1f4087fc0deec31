"""What the running bot tells its operator: the connection's health and `data/status.json`.

The requests that poll Telegram (getUpdates) go through `PollWatch`, which tells `Health` how
each one ended: a lost connection is one WARNING line and its return one INFO line, however
many polls failed in between. Every half minute (and at start and stop) the bot writes
`status.json` in its data dir; `archive-bot status` reads it, together with the run lock, to
say whether a bot runs on that data dir and polled Telegram lately.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

STATUS_FILE = "status.json"
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
