"""Where the query log is kept: `logs.db` in the data dir (SQLite through sqlite-utils, the
default) or PostgreSQL (ARCHIVE_BOT_DATABASE_URL, shared by every process of the bot).

`log.QueryLog` holds the log's logic once and speaks to either through these few operations,
its SQL written with `?` placeholders and nothing particular to one of them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from bot.querylog.migrations import migrate, migrate_postgres
from index.errors import first_line

BUSY_TIMEOUT = 2.0  # seconds a write waits for a lock held by another process


class SqliteDatabase:
    """The log in `logs.db`: one connection for writes, one for reads (WAL), so a moderator's
    reading never waits for a write. Deleted rows are overwritten with zeros (secure_delete)
    and the WAL, whose older frames still hold them, is truncated after deletions."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        import sqlite_utils

        self.where = str(path)
        self._read_lock = threading.Lock()
        new = not path.exists()
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        connection.execute("pragma secure_delete = on")
        if new:
            os.chmod(path, 0o600)
        self.db = sqlite_utils.Database(connection)  # the tests reach SQLite's own pragmas
        try:
            self.db.enable_wal()
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise
        self._reader = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        self._reader.row_factory = sqlite3.Row

    def insert(self, table: str, row: dict) -> int:
        return self.db[table].insert(row, alter=False).last_pk

    def write(self, *statements: tuple[str, list]) -> list[int]:
        """Run statements in one transaction; return how many rows each changed."""
        with self.db.conn:
            return [self.db.conn.execute(sql, values).rowcount for sql, values in statements]

    def read(self, sql: str, parameters: list | tuple = ()) -> list[dict]:
        with self._read_lock:
            return [dict(row) for row in self._reader.execute(sql, parameters)]

    def continue_ids(self) -> None:
        """After rows were inserted with their ids: new rows follow them (SQLite does so)."""

    def erase_traces(self) -> None:
        """After a deletion: copy the WAL into the database and truncate it."""
        self.db.execute("pragma wal_checkpoint(TRUNCATE)")

    def backup(self, target: Path) -> None:
        """Copy the whole database into the new file `target` (SQLite's online backup)."""
        copy = sqlite3.connect(target)
        try:
            with self._read_lock:
                self._reader.backup(copy)
        finally:
            copy.close()

    def close(self) -> None:
        self.db.close()
        with self._read_lock:
            self._reader.close()


class PostgresDatabase:
    """The log in PostgreSQL, in the bots' schema (bot.shared.SCHEMA), owned by their role:
    one connection for writes, one for reads. PostgreSQL does not overwrite deleted rows at
    once: `erase_traces` vacuums the tables so that their space is reclaimed."""

    def __init__(self, url: str) -> None:
        import psycopg

        from bot.shared import bot_connection
        from index.postgres import where

        self.errors = (psycopg.Error,)
        self.where = f"the database {where(url)}"
        self._read_lock = threading.Lock()
        self._writer = bot_connection(url)
        try:
            migrate_postgres(self._writer)
            self._reader = bot_connection(url)
        except psycopg.Error as error:
            self._writer.close()
            raise RuntimeError(first_line(error)) from error
        except BaseException:
            self._writer.close()
            raise

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def insert(self, table: str, row: dict) -> int:
        columns = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        sql = f"insert into {table} ({columns}) values ({marks}) returning id"
        return self._writer.execute(sql, list(row.values())).fetchone()["id"]

    def write(self, *statements: tuple[str, list]) -> list[int]:
        with self._writer.transaction():
            return [
                self._writer.execute(self._sql(sql), parameters).rowcount
                for sql, parameters in statements
            ]

    def read(self, sql: str, parameters: list | tuple = ()) -> list[dict]:
        with self._read_lock:
            return self._reader.execute(self._sql(sql), parameters).fetchall()

    def continue_ids(self) -> None:
        for table in ("queries", "labels"):
            self._writer.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((select max(id) from {table}), 0) + 1, false)"
            )

    def erase_traces(self) -> None:
        self._writer.execute("vacuum queries, labels")

    def close(self) -> None:
        self._writer.close()
        with self._read_lock:
            self._reader.close()

    def __del__(self) -> None:
        """Close the connections of a log nobody closed (a command that ended early)."""
        for connection in (getattr(self, "_writer", None), getattr(self, "_reader", None)):
            if connection is not None:
                connection.close()
