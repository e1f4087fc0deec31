"""The query log: one background writer, reads beside it, and the askers' deletions.

`logs.db` in the data dir (sqlite-utils, WAL), or PostgreSQL when ARCHIVE_BOT_DATABASE_URL
is set (`database`: the same logic over either). The bot hands its writes to one background
writer (`submit`) through a bounded queue, and a database that cannot be written (locked,
full, read-only, unreachable) loses those entries with a counted warning.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

from bot.answering import Answer
from bot.copies import sweep
from bot.querylog import keys
from bot.querylog.database import PostgresDatabase, SqliteDatabase
from bot.querylog.stats import summary
from index.errors import ArchiveError, first_line
from index.store import database_url

logger = logging.getLogger(__name__)

LOG_FILE = "logs.db"
DEFAULT_RETENTION_DAYS = 90
# Everything but the asker's pseudonym, which never leaves the database.
PUBLIC_COLUMNS = ("id", "time", "chat_type", "language", "query", "found", "outcome", "passages",
                  "top_passage", "latency_ms", "feedback", "feedback_time", "label",
                  "out_of_scope", "confidence", "reason")  # fmt: skip
BUSY_TIMEOUT = 2.0  # seconds the writer's queue waits at close
WRITE_QUEUE = 1000  # writes waiting for the background writer; beyond it they are dropped
DROPS_REPORTED_EVERY = 100  # a warning at the first dropped entry, then at every 100th


def utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class QueryLog:
    """The log of one data dir, or of the bot's database. Thread-safe; every method may be
    called off the event loop.

    Writes run under one lock on one connection, reads on a second one, so a moderator's
    reading never waits for a write. The bot submits its writes (`submit`) to a background
    writer instead of calling them: it never waits for the database.
    """

    def __init__(
        self,
        data_dir: Path,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock=time.time,
        in_database: bool | None = None,
    ) -> None:
        """Open the log of `data_dir` (or, with `in_database`, the database's; by default
        where ARCHIVE_BOT_DATABASE_URL says), making it (and its key) when there is none.

        Raises:
            ArchiveError: "cannot open the query log in …: " and why (its key is missing or
                weak, its schema is newer, a file or the database cannot be read or written).
        """
        self.path = data_dir / LOG_FILE
        self.retention_days = retention_days
        self.clock = clock
        self._lock = threading.Lock()
        self._failing = False
        self.dropped = 0  # entries lost to an unwritable database or a full queue
        self._queue: queue.Queue[tuple | None] = queue.Queue(WRITE_QUEUE)
        self._writer: threading.Thread | None = None
        url = database_url() if in_database is not False else None
        self.db = None  # SQLite's database itself (sqlite-utils), for the tests' pragmas
        try:
            if url is None:
                self._secret = keys.load_secret(self.path)
                sweep(data_dir)  # copies of the log a killed process left (bot.copies)
                check_shared_memory(self.path)
                self.store = SqliteDatabase(self.path)
                self.db = self.store.db
            else:
                self._secret = keys.shared_secret()
                self.store = PostgresDatabase(url)
        except (OSError, RuntimeError, sqlite3.Error, ArchiveError) as error:
            place = data_dir if url is None else "the database"
            raise ArchiveError(f"cannot open the query log in {place}: {error}") from None

    def pseudonym(self, user_id: int) -> str:
        """Return the asker's pseudonym: stable per installation, not reversible without the key."""
        return keys.pseudonym(self._secret, user_id)

    def _write(self, action, *args):
        """Run a write; on a database error warn, count the loss, return None, and go on."""
        try:
            with self._lock:
                result = action(*args)
        except self.store.errors as error:
            if not self._failing:
                logger.warning(
                    "the query log %s cannot be written (%s); answers go on",
                    self.store.where, first_line(error),
                )  # fmt: skip
            self._failing = True
            self._drop()
            return None
        if self._failing:
            logger.warning(
                "the query log %s is writable again (%d entries lost)",
                self.store.where, self.dropped,
            )  # fmt: skip
            self._failing = False
        return result

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped % DROPS_REPORTED_EVERY == 0:
            logger.warning("the query log has lost %d entries so far", self.dropped)

    def submit(self, method: Callable, *args, **kwargs) -> Future:
        """Run `method(*args, **kwargs)` (a writing method of this log) on the background writer.

        Returns at once. The future holds the method's result, or None when the entry was
        dropped: the queue was full (the database has been unavailable for a while) or the
        write failed. Writes run in the order they were submitted.
        """
        future: Future = Future()
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = threading.Thread(
                        target=self._write_queued, name="querylog", daemon=True
                    )
                    self._writer.start()
        try:
            self._queue.put_nowait((method, args, kwargs, future))
        except queue.Full:
            self._drop()
            future.set_result(None)
        return future

    def _write_queued(self) -> None:
        while (item := self._queue.get()) is not None:
            method, args, kwargs, future = item
            try:
                future.set_result(method(*args, **kwargs))
            except Exception as error:  # a bug, not the database: the caller may see it
                logger.exception("a query log write failed")
                future.set_exception(error)

    def record(
        self,
        *,
        query: str,
        found: bool,
        passages: list[tuple[str, float, tuple[int, int] | None]],
        latency_ms: float,
        chat_type: str,
        asker: int | None = None,
        language: str | None = None,
        outcome: str | None = None,
        confidence: float | None = None,
        reason: str | None = None,
    ) -> int | None:
        """Log one answered question; return its id (None when the log is not writable).

        `passages` are (passage id, score, highlight): the highlight is the span of the quoted
        text shown in bold, offsets into it (None when none was). `outcome` is "answered",
        "closest" or "none" (default: "answered" when `found`, else "none"); "closest" counts
        as not answered everywhere (`found` is false). `confidence` and `reason` are the
        judgement's (index.search.SearchResult).
        """
        row = {
            "time": utc(self.clock()),
            "asker": self.pseudonym(asker) if asker is not None else None,
            "chat_type": chat_type,
            "language": language,
            "query": query,
            "found": int(found),
            "outcome": outcome or ("answered" if found else "none"),
            "passages": json.dumps([_as_logged(*passage) for passage in passages]),
            "top_passage": passages[0][0] if passages else None,
            "latency_ms": round(latency_ms, 1),
            "out_of_scope": 0,  # one value for "not marked": never NULL
            "confidence": confidence,
            "reason": reason,
        }
        return self._write(self.store.insert, "queries", row)

    def record_answer(
        self,
        answer: Answer,
        chat_type: str,
        asker: int | None = None,
        language: str | None = None,
    ) -> int | None:
        """Log an answer of the answering path (see `record`); empty questions are not logged."""
        result = answer.result
        if not result.query:
            return None
        return self.record(
            query=result.query,
            found=result.found,
            outcome=result.outcome,
            confidence=result.confidence,
            reason=result.reason,
            passages=[(h.passage.passage_id, h.score, h.best_sentence) for h in result.hits],
            latency_ms=answer.latency_ms,
            chat_type=chat_type,
            asker=asker,
            language=language,
        )

    def feedback(self, query_id: int, vote: str) -> bool:
        """Store 👍 ("up") or 👎 ("down") on a logged question."""

        (updated,) = self._write(
            self.store.write,
            ("update queries set feedback = ?, feedback_time = ? where id = ?",
             [vote, utc(self.clock()), query_id]),
        ) or [0]  # fmt: skip
        return updated > 0

    def forget(self, asker: int) -> int | None:
        """Delete every logged question of the asker, and the labels still linked to them;
        return how many questions (None: cannot write)."""
        return self._delete("asker = ?", self.pseudonym(asker), keep_labels=False)

    def purge(self, older_than_days: int | None = None) -> int | None:
        """Delete questions older than the retention period; return how many (None: failed).

        Questions dated in the future (logged while the clock was set ahead) are dated now
        first: they would otherwise outlive retention by as far as the clock was ahead.
        """
        now = utc(self.clock())
        self._write(self.store.write, ("update queries set time = ? where time > ?", [now, now]))
        return self._delete("time <= ?", self._cutoff(older_than_days))

    def purgeable(self, older_than_days: int | None = None) -> int:
        """Return how many questions `purge` would delete."""
        query = "select count(*) as n from queries where time <= ?"
        return self.store.read(query, [self._cutoff(older_than_days)])[0]["n"]

    def _cutoff(self, older_than_days: int | None) -> str:
        """The time before which questions are past `older_than_days` (default: retention)."""
        days = self.retention_days if older_than_days is None else older_than_days
        return utc(self.clock() - days * 86400)

    def _delete(self, where: str, value: str, keep_labels: bool = True) -> int | None:
        """Delete the matching questions so that no file keeps their text; return how many.

        Their labels are kept, unlinked from them (`keep_labels`), or deleted, in the same
        transaction. Then the database erases what is left of them (`database`).
        """
        linked = f"query_id in (select id from queries where {where})"
        labels = f"update labels set query_id = null where {linked}" if keep_labels else (
            f"delete from labels where {linked}"
        )  # fmt: skip

        def delete():
            _, removed = self.store.write(
                (labels, [value]), (f"delete from queries where {where}", [value])
            )
            if removed:
                self.store.erase_traces()
            return removed

        return self._write(delete)

    def label(
        self,
        query_id: int,
        passage_id: str | None,
        out_of_scope: bool = False,
        text: str | None = None,
    ) -> None:
        """Mark the passage a logged question should have found (with its `text`, which the
        label follows through edits), or mark the question out of scope.

        Raises:
            KeyError: there is no such question.
        """
        with self._lock:
            found = self.store.read("select time, query from queries where id = ?", [query_id])
            if not found:
                raise KeyError(query_id)
            row = found[0]
            self.store.write(
                ("update queries set label = ?, out_of_scope = ? where id = ?",
                 [passage_id, int(out_of_scope), query_id]),
                ("delete from labels where query_id = ?", [query_id]),
                ("insert into labels (query_id, day, query, passage_id, out_of_scope, text) "
                 "values (?, ?, ?, ?, ?, ?)",
                 [query_id, row["time"][:10], row["query"], passage_id, int(out_of_scope), text]),
            )  # fmt: skip

    # --- reading ----------------------------------------------------------------------------

    def labels(self) -> list[dict]:
        """Return every labelled question, oldest first: query, day, passage_id, out_of_scope
        and the labelled passage's text (None for a label made before schema 5)."""
        rows = self.store.read(
            "select query, day, passage_id, out_of_scope, text from labels order by day, id"
        )
        return [row | {"out_of_scope": bool(row["out_of_scope"])} for row in rows]

    def rows(
        self,
        *,
        limit: int | None = None,
        since: str | None = None,
        unanswered: bool = False,
        disliked: bool = False,
        oldest_first: bool = False,
    ) -> list[dict]:
        """Return logged questions, newest first, as dicts (without the asker pseudonym)."""
        where, params = ["1 = 1"], []
        if since:
            where.append("time >= ?")
            params.append(since)
        if unanswered:
            where.append("found = 0")
        if disliked:
            where.append("feedback = 'down'")
        order = "asc" if oldest_first else "desc"
        sql = (
            f"select {', '.join(PUBLIC_COLUMNS)} from queries where {' and '.join(where)} "
            f"order by time {order}, id {order}"
        )
        if limit:
            sql += f" limit {int(limit)}"
        return [_public(row) for row in self.store.read(sql, params)]

    def row(self, query_id: int) -> dict | None:
        """Return one logged question as `rows` does, or None when there is no such id."""
        sql = f"select {', '.join(PUBLIC_COLUMNS)} from queries where id = ?"
        found = self.store.read(sql, [query_id])
        return _public(found[0]) if found else None

    def stats(self, days: int = 30) -> dict:
        """Return the moderators' summary of the last `days` days (bot.querylog.stats)."""
        rows = self.rows(since=utc(self.clock() - days * 86400), oldest_first=True)
        return summary(rows, datetime.fromtimestamp(self.clock(), UTC).date(), days)

    def labelled_passages(self) -> list[dict]:
        """Return the labels on a passage: id, query, passage_id, text (None if not known)."""
        return self.store.read(
            "select id, query, passage_id, text from labels where passage_id is not null"
        )

    def move_label(self, label_id: int, passage_id: str, text: str) -> None:
        """Point a label at `passage_id`, holding `text` (see bot.querylog.labels.follow)."""

        self._write(
            self.store.write,
            ("update labels set passage_id = ?, text = ? where id = ?",
             [passage_id, text, label_id]),  # fmt: skip
        )

    def backup(self, dest: Path) -> int:
        """Copy the log and its key file into the data dir `dest`; return the questions copied.

        The copy is consistent while the bot writes (SQLite's online backup), owner-only, and
        holds nothing past retention: a backup must not bring back what a purge removed. A log
        in the database is copied into a `logs.db` (its key, in ARCHIVE_BOT_LOG_SECRET, is not
        written anywhere: keep it with the backup).
        """
        keys.copy_secret(self.path, dest)
        os.close(os.open(dest / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if self.db is not None:
            self.store.backup(dest / LOG_FILE)
        copy = QueryLog(dest, self.retention_days, self.clock, in_database=False)
        try:
            if self.db is None:
                for table in ("queries", "labels"):
                    copy.db[table].insert_all(self.store.read(f"select * from {table} order by id"))
            copy.purge()
            return copy.store.read("select count(*) as n from queries")[0]["n"]
        finally:
            copy.close()

    def copy_into(self, target: QueryLog) -> tuple[int, bool]:
        """Copy every question and label of this log into the empty log `target` (the
        database's, say), ids kept; return how many questions, and whether their askers'
        pseudonyms came along: only when both logs make them with the same key. Otherwise
        the questions are copied without them (/forget cannot reach those; retention does).

        Raises:
            ArchiveError: `target` already holds questions or labels.
        """
        if target.store.read("select 1 from queries union all select 1 from labels limit 1"):
            raise ArchiveError(f"the query log in {target.store.where} is not empty")
        same_key = target._secret == keys.key_of(self.path, self._secret)
        questions = self.store.read("select * from queries order by id")
        for row in questions:
            target.store.insert("queries", row if same_key else row | {"asker": None})
        for row in self.store.read("select * from labels order by id"):
            target.store.insert("labels", row)
        target.store.continue_ids()
        return len(questions), same_key

    def close(self) -> None:
        """Write what is queued (waiting up to a few seconds), then close the database."""
        if self._writer is not None:
            try:
                self._queue.put(None, timeout=BUSY_TIMEOUT)
                self._writer.join(timeout=3 * BUSY_TIMEOUT)
            except queue.Full:
                pass
            if self._writer.is_alive():  # the database is still locked: what is left is lost
                logger.warning(
                    "the query log closes with %d entries unwritten", self._queue.qsize()
                )
        # Under the lock: never close a connection while a write runs on it (the store
        # closes its reading one under its own).
        with self._lock:
            self.store.close()


def _public(row: dict) -> dict:
    """A logged question as moderators read it: booleans as booleans, passages as a list."""
    return row | {
        "found": bool(row["found"]),
        "outcome": row["outcome"] or ("answered" if row["found"] else "none"),  # before schema 4
        "out_of_scope": bool(row["out_of_scope"]),
        "passages": _passages(row),
    }


def _passages(row: dict) -> list[dict]:
    """The passages a logged question returned: [] with a warning when the column is damaged
    (edited by hand, say), so that one row never stops a review."""
    try:
        passages = json.loads(row["passages"] or "[]")
        if all(isinstance(p["id"], str) and isinstance(p["score"], int | float)
               and _span(p.get("highlight")) for p in passages):  # fmt: skip
            return passages
    except (json.JSONDecodeError, TypeError, KeyError):
        pass
    logger.warning("logged question %s has damaged passages; shown without them", row["id"])
    return []


def _as_logged(passage_id: str, score: float, highlight: tuple[int, int] | None) -> dict:
    """A returned passage as the log keeps it: its id, its score and the span in bold."""
    return {"id": passage_id, "score": round(score, 4)} | (
        {"highlight": list(highlight)} if highlight else {}
    )


def _span(highlight) -> bool:
    """Whether a logged highlight is absent or two offsets, start before end."""
    if highlight is None:
        return True
    if not isinstance(highlight, list) or len(highlight) != 2:
        return False
    return all(type(x) is int for x in highlight) and 0 <= highlight[0] < highlight[1]


def check_shared_memory(path: Path) -> None:
    """Refuse a database whose WAL index (`-shm`, shared memory) cannot be written.

    SQLite maps that file into memory; a mapping it cannot write can kill the process with
    SIGBUS instead of raising an error.

    Raises:
        RuntimeError: saying which file and what to do.
    """
    shm = path.with_name(path.name + "-shm")
    try:
        os.close(os.open(shm, os.O_RDWR))
    except FileNotFoundError:
        return
    except OSError as error:
        raise RuntimeError(
            f"{shm} cannot be written ({error.strerror}): make it writable, or delete it "
            "while nothing uses the log"
        ) from None


def public_copy(data_dir: Path, target: Path) -> None:
    """Write the log of `data_dir` without the askers' pseudonyms to `target` (new, 0600).

    What moderators browse (datasette): the `queries` table with PUBLIC_COLUMNS only, the
    `labels` table and the `questions` view. No URL or SQL run on it can reach a pseudonym.
    """
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    copy = sqlite3.connect(f"file:{target}", uri=True)
    try:
        copy.execute("attach database ? as live", [f"file:{data_dir / LOG_FILE}?mode=ro"])
        copy.execute(
            f"create table queries as select {', '.join(PUBLIC_COLUMNS)} from live.queries"
        )
        copy.execute("create table labels as select * from live.labels")
        (view,) = copy.execute(
            "select sql from live.sqlite_master where name = 'questions'"
        ).fetchone()
        copy.execute(view)
        copy.commit()
    finally:
        copy.close()
