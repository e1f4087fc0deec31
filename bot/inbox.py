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

A damaged inbox never stops the bot: at start-up every pending update that can still be read
is carried into a new inbox, the damaged file is moved aside (`inbox.db.damaged-<time>`), and
an update that cannot be replayed (not valid JSON, say) is set aside in its own table. Both are
kept for inspection for a week (they hold ids), then deleted; each is one loud warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

INBOX_FILE = "inbox.db"
HANDLED_FOR = 24 * 3600  # seconds a handled update's id is remembered (Telegram keeps 24 h)
CHECKPOINT_EVERY = 64  # handled updates between WAL truncations (also whenever it is empty)
KEPT_ASIDE_FOR = 7 * 24 * 3600  # seconds a damaged inbox or a set-aside update is kept
DAMAGED = ".damaged-"  # infix of a damaged inbox moved aside


class Inbox:
    """Updates received and not yet handled. Thread-safe."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = data_dir / INBOX_FILE
        self._lock = threading.Lock()
        self._handled_since_checkpoint = 0
        _delete_old_damaged(data_dir)
        try:
            self._db = self._open()
            if self._db.execute("pragma quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.OperationalError:
            raise  # it cannot be opened or written (permissions, a directory): not damage
        except sqlite3.DatabaseError as error:
            self._db = self._replace(error)

    def _open(self) -> sqlite3.Connection:
        new = not self.path.exists()
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            if new:
                os.chmod(self.path, 0o600)
            # Small pages: a damaged page costs a few waiting updates, not a screenful.
            pragmas = ("page_size = 1024", "journal_mode = wal", "synchronous = full")
            for pragma in (*pragmas, "secure_delete = on"):
                db.execute(f"pragma {pragma}")
            db.execute("create table if not exists pending (update_id integer primary key, body)")
            db.execute("create table if not exists handled (update_id integer primary key, at)")
            db.execute(
                "create table if not exists set_aside "
                "(update_id integer primary key, body, reason text, at real)"
            )
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _replace(self, error: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Carry what can be read of a damaged inbox into a new one; move the old one aside."""
        rows = _readable(self.path)
        moved_to = self.path.with_name(f"{INBOX_FILE}{DAMAGED}{time.strftime('%Y%m%dT%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            old = self.path.with_name(self.path.name + suffix)
            if old.exists():
                old.rename(moved_to.with_name(moved_to.name + suffix))
        os.utime(moved_to)  # kept a week from now
        db = self._open()
        db.executemany("insert or ignore into pending values (?, ?)", rows)
        logger.warning(
            "the inbox was damaged (%s): %d waiting updates recovered; the damaged file is "
            "kept as %s for a week (updates in its damaged part are lost)",
            error, len(rows), moved_to.name,
        )  # fmt: skip
        return db

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

    def pending(self) -> list[tuple[int, str]]:
        """Return the id and JSON of every update received and not handled, oldest first."""
        with self._lock:
            return self._db.execute("select * from pending order by update_id").fetchall()

    def count(self) -> int:
        """Return how many updates wait to be handled."""
        with self._lock:
            return self._db.execute("select count(*) from pending").fetchone()[0]

    def set_aside(self, update_id: int, reason: str) -> None:
        """Move a pending update that cannot be handled to `set_aside`, kept for a week."""
        with self._lock:
            self._db.execute("begin")
            self._db.execute(
                "insert or replace into set_aside select update_id, body, ?, ? from pending "
                "where update_id = ?",
                [reason, time.time(), update_id],
            )
            self._db.execute("delete from pending where update_id = ?", [update_id])
            self._db.execute("delete from set_aside where at <= ?", [time.time() - KEPT_ASIDE_FOR])
            self._db.execute("commit")

    def aside(self) -> list[str]:
        """Name what was kept aside: updates set aside, damaged inboxes moved aside."""
        with self._lock:
            (count,) = self._db.execute("select count(*) from set_aside").fetchone()
        damaged = sorted(p.name for p in self.path.parent.glob(f"{INBOX_FILE}{DAMAGED}*[0-9]"))
        return ([f"{count} updates set aside in {INBOX_FILE}"] if count else []) + damaged

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _readable(path: Path) -> list[tuple[int, str]]:
    """Return the pending updates of a damaged inbox that can still be read.

    The table is read from both ends (a damaged leaf page stops each pass at itself, so the
    rows before and after it are recovered), and the raw bytes of the file and its WAL are
    searched for update bodies (a damaged root page hides every leaf from SQLite, though the
    leaves still hold the bodies as JSON text). Updates the inbox had marked handled are left
    out where that table can still be read.
    """
    rows: dict[int, str] = _raw_bodies(path)
    handled: set[int] = set()
    try:
        db = sqlite3.connect(path)
    except sqlite3.DatabaseError:
        return sorted(rows.items())
    for order in ("asc", "desc"):
        try:
            for update_id, body in db.execute(
                f"select update_id, body from pending order by update_id {order}"
            ):
                rows[update_id] = body
        except sqlite3.DatabaseError:
            pass
    try:
        handled = {update_id for (update_id,) in db.execute("select update_id from handled")}
    except sqlite3.DatabaseError:
        pass
    db.close()
    return sorted((update_id, body) for update_id, body in rows.items() if update_id not in handled)


def _raw_bodies(path: Path) -> dict[int, str]:
    """Find update bodies (JSON objects with an integer "update_id") in the bytes of an inbox."""
    bodies: dict[int, str] = {}
    decoder = json.JSONDecoder()
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            data = file.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        for start in (m.start() for m in re.finditer(r'\{"', data)):
            try:
                body, _ = decoder.raw_decode(data, start)
            except ValueError:
                continue
            if isinstance(body, dict) and type(body.get("update_id")) is int:
                bodies[body["update_id"]] = json.dumps(body)
    return bodies


def _delete_old_damaged(data_dir: Path) -> None:
    """Delete damaged inboxes moved aside more than KEPT_ASIDE_FOR ago (they hold ids)."""
    for path in data_dir.glob(f"{INBOX_FILE}{DAMAGED}*"):
        if path.stat().st_mtime < time.time() - KEPT_ASIDE_FOR:
            path.unlink(missing_ok=True)
