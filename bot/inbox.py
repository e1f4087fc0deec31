"""The inbox: every update Telegram delivered, kept on disk until the bot has handled it.

Telegram keeps an update until the bot confirms it (the offset of its next `getUpdates`), and
python-telegram-bot confirms each batch as soon as it is queued, before it is answered. The
inbox closes that gap: an update is written here (synced to disk) before it is queued, so
before it is confirmed, and deleted once its handlers are done. At start-up whatever is left
is handled again: after a crash, a kill or a power cut every received question gets its reply.
An update whose reply went out just before the crash is answered twice; none is lost.

The inbox holds what Telegram sent (chat and user ids, the question) only until the update is
handled. It is its own file, apart from the query log, which never holds an id: deleted rows
are overwritten (`secure_delete`) and the WAL is truncated regularly, so handled updates do
not linger. Handled update ids (numbers only) are remembered for a day, as long as Telegram
keeps an update, to recognise its re-deliveries: after a week without updates Telegram may
start its ids anywhere, so older ones must not count.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

INBOX_FILE = "inbox.db"
HANDLED_FOR = 24 * 3600  # seconds a handled update's id is remembered (Telegram keeps 24 h)
CHECKPOINT_EVERY = 64  # handled updates between WAL truncations (also whenever it is empty)


class Inbox:
    """Updates received and not yet handled. Thread-safe."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = data_dir / INBOX_FILE
        new = not self.path.exists()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if new:
            os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        self._handled_since_checkpoint = 0
        for pragma in ("journal_mode = wal", "synchronous = full", "secure_delete = on"):
            self._db.execute(f"pragma {pragma}")
        self._db.execute(
            "create table if not exists pending (update_id integer primary key, body text)"
        )
        self._db.execute(
            "create table if not exists handled (update_id integer primary key, at real)"
        )

    def receive(self, update_id: int, body: str) -> bool:
        """Keep an update (its JSON `body`) until it is handled; synced before returning.

        Returns:
            False when the update is a re-delivery of one already kept or handled.
        """
        with self._lock:
            seen = "select 1 from handled where update_id = ? and at > ?"
            if self._db.execute(seen, [update_id, time.time() - HANDLED_FOR]).fetchone():
                return False
            cursor = self._db.execute(
                "insert or ignore into pending (update_id, body) values (?, ?)", [update_id, body]
            )
            return cursor.rowcount == 1

    def handled(self, update_id: int) -> None:
        """Let an update go: it has been answered (or needed no answer)."""
        with self._lock:
            self._db.execute("begin")
            self._db.execute("delete from pending where update_id = ?", [update_id])
            now = time.time()
            self._db.execute("insert or replace into handled values (?, ?)", [update_id, now])
            self._db.execute("delete from handled where at <= ?", [now - HANDLED_FOR])
            self._db.execute("commit")
            self._handled_since_checkpoint += 1
            empty = not self._db.execute("select 1 from pending limit 1").fetchone()
            if empty or self._handled_since_checkpoint >= CHECKPOINT_EVERY:
                self._db.execute("pragma wal_checkpoint(TRUNCATE)")
                self._handled_since_checkpoint = 0

    def pending(self) -> list[str]:
        """Return the JSON of every update received and not handled, oldest first."""
        with self._lock:
            rows = self._db.execute("select body from pending order by update_id").fetchall()
        return [body for (body,) in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
