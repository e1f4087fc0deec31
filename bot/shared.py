"""Several bot processes, one bot: what they share through PostgreSQL (ARCHIVE_BOT_DATABASE_URL).

Telegram lets one process poll a bot's updates at a time. Every `archive-bot run` of a bot
loads its index and models, then waits for the bot's advisory lock; the one holding it polls
(the leader), the others stand by. The lock belongs to the leader's database session: when
the leader dies (a crash, SIGKILL, a dead machine), PostgreSQL releases it and a standby takes
over within a second or two. A leader that loses its session stops at once (`Leadership.holds`
every few seconds), so two processes never poll together for long.

With webhooks (`archive-bot run --webhook`), every process receives: a reverse proxy shares
Telegram's deliveries among them, and no lock is needed.

The inbox (bot.inbox's guarantee, shared): an update is kept in the database before Telegram
is told it arrived and until its reply has gone out. An update id is kept once: a re-delivery
is dropped, so a question is answered once whichever process receives it. Each kept update
names the process that received it, and each process holds an advisory lock of its own while
it lives: the updates of a process whose lock is free (it died) are taken over and answered by
another, once. A handled update keeps its id only (for a day, as Telegram keeps updates); its
text and the asker's ids are erased.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

from bot.inbox import HANDLED_FOR, KEPT_ASIDE_FOR
from index.errors import ArchiveError, first_line
from index.postgres import Session, connect, setting_up

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

LEADERSHIP_CHECK_EVERY = 2.0  # seconds between the leader's checks that it still holds the lock
TAKE_OVER_EVERY = 0.5  # seconds between a standby's tries to take the lock
SCHEMA = "archive_bot"  # the bots' tables (inbox, processes, query log), owned by their role
INBOX = "bot_inbox"
PROCESSES = "bot_processes"
SEEN_WITHIN = 120.0  # seconds: a process that has not reported for longer is not listed
# Seconds a process's lock of the living must stay free before its waiting updates are taken
# over: a living process whose connection dropped takes it again at its next statement (within
# bot.app.ORPHANS_EVERY), and must not see its updates answered by another meanwhile.
DEAD_AFTER = 3.0


def bot_connection(url: str) -> psycopg.Connection:
    """A connection whose unqualified tables are the bots' own (SCHEMA, made when missing).

    Raises:
        ArchiveError: the database cannot be reached, or the schema cannot be made.
    """
    import psycopg

    connection = connect(url)
    try:
        if not connection.execute(
            "select 1 from pg_namespace where nspname = %s", (SCHEMA,)
        ).fetchone():
            with setting_up(connection):
                connection.execute(f"create schema if not exists {SCHEMA}")
        connection.execute(f"set search_path to {SCHEMA}")
    except psycopg.Error as error:
        connection.close()
        raise ArchiveError(
            f"cannot use the schema {SCHEMA} for the bots' tables ({first_line(error)}): the "
            "bots' role needs `create` on the database once (docs/operators.md)"
        ) from error
    return connection


def bot_id(token: str) -> int:
    """The bot's id: the number before the colon of its token (the rest is the secret)."""
    number = token.split(":", 1)[0]
    return int(number) if number.isdigit() else 0


def process_name() -> str:
    """This process as the other processes and `archive-bot status` name it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive_key(instance: str) -> str:
    """The advisory lock a process holds while it lives (`SharedInbox`)."""
    return f"archive-bot process {instance}"


class Leadership:
    """The bot's polling lock: a session advisory lock on its own connection."""

    def __init__(self, url: str, bot: int) -> None:
        self.url = url
        self.key = f"archive-bot polls {bot}"
        self._connection = None
        self.leader = False

    def take(self) -> bool:
        """Try to become the process that polls (at once; False: another one does).

        Raises:
            ArchiveError: the database cannot be reached.
        """
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = connect(self.url)
        try:
            row = self._connection.execute(
                "select pg_try_advisory_lock(hashtextextended(%s, 0)) as got", (self.key,)
            ).fetchone()
        except psycopg.Error as error:
            self._connection.close()
            raise ArchiveError(f"cannot reach the database: {first_line(error)}") from error
        self.leader = bool(row["got"])
        return self.leader

    def holds(self) -> bool:
        """Whether this process still holds the lock (its session is alive)."""
        import psycopg

        if not self.leader or self._connection is None:
            return False
        try:
            self._connection.execute("select 1")
        except psycopg.Error:
            self.leader = False
        return self.leader

    def report(self, status: dict) -> None:
        """Record this process's status (`bot.app.status_of`) where `archive-bot status` on
        any machine reads it (`processes`); a failure is only logged."""
        import json

        import psycopg

        try:  # a connection of its own: the lock's must never be replaced under it
            with contextlib.closing(bot_connection(self.url)) as connection:
                with setting_up(connection):
                    connection.execute(
                        f"create table if not exists {PROCESSES} (process text primary key, "
                        "status jsonb not null, written double precision not null)"
                    )
                connection.execute(
                    f"insert into {PROCESSES} values (%s, %s, %s) on conflict (process) do "
                    "update set status = excluded.status, written = excluded.written",
                    (process_name(), json.dumps(status), time.time()),
                )
                connection.execute(
                    f"delete from {PROCESSES} where written < %s", (time.time() - 86400,)
                )
        except (psycopg.Error, ArchiveError) as error:
            logger.warning("cannot report this process's status to the database: %s", error)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # the lock goes with the session


def processes(url: str) -> list[dict]:
    """The bot processes that reported to the database within SEEN_WITHIN, by name.

    Raises:
        ArchiveError: the database cannot be reached.
    """
    import psycopg

    with contextlib.closing(bot_connection(url)) as connection:
        try:
            rows = connection.execute(
                f"select process, status from {PROCESSES} where written >= %s order by process",
                (time.time() - SEEN_WITHIN,),
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
        except psycopg.Error as error:
            raise ArchiveError(f"cannot read the processes' status: {first_line(error)}") from error
    return [{"process": row["process"], **row["status"]} for row in rows]


class SharedInbox:
    """bot.inbox.Inbox's methods on the database: the updates of one bot received and not yet
    handled, seen by all its processes. Database errors are raised as ConnectionError (an
    OSError), as a failing disk is for the inbox in files."""

    def __init__(self, url: str, bot: int) -> None:
        """Raises ArchiveError when the database cannot be reached or written."""
        import psycopg

        self.url = url
        self.bot = bot
        # This run's name: unique even where a dead process's pid comes back.
        self.instance = f"{process_name()}:{secrets.token_hex(4)}"
        self._free_since: dict[str, float] = {}  # receivers whose lock was seen free, since
        self._session = Session(self._connect)
        try:
            with setting_up(self._session.connection):
                self._session.connection.execute(
                    f"create table if not exists {INBOX} (bot_id bigint not null, update_id "
                    "bigint not null, body text, state text not null, reason text, at double "
                    "precision not null, primary key (bot_id, update_id))"
                )
                self._session.connection.execute(
                    f"alter table {INBOX} add column if not exists process text"
                )
        except psycopg.Error as error:
            self._session.close()
            raise ArchiveError(
                f"the inbox cannot be written in the database ({first_line(error)}): questions "
                "received before a crash would be lost"
            ) from error

    def _connect(self) -> psycopg.Connection:
        """A connection holding this process's lock of the living (its updates are its own)."""
        connection = bot_connection(self.url)
        connection.execute(
            "select pg_advisory_lock(hashtextextended(%s, 0))", (_alive_key(self.instance),)
        )
        return connection

    def _run(self, sql: str, parameters: tuple = ()) -> list[dict]:
        import psycopg

        try:
            return self._session.run(sql, parameters)
        except psycopg.Error as error:
            raise ConnectionError(first_line(error)) from error

    def receive(self, update_id: int, body: str) -> bool:
        """Keep an update until it is handled; False when it is a re-delivery (kept already,
        or handled within a day)."""
        now = time.time()
        self._run(
            f"delete from {INBOX} where bot_id = %s and update_id = %s and state = 'handled' "
            "and at <= %s",
            (self.bot, update_id, now - HANDLED_FOR),
        )
        (row,) = self._run(
            f"insert into {INBOX} (bot_id, update_id, body, state, at, process) values "
            "(%s, %s, %s, 'pending', %s, %s) on conflict do nothing",
            (self.bot, update_id, body, now, self.instance),
        )
        return row["rows"] == 1

    def handled(self, update_id: int) -> None:
        """Let an update go: its text and ids are erased, its number kept for a day."""
        now = time.time()
        self._run(
            f"update {INBOX} set state = 'handled', body = null, at = %s "
            "where bot_id = %s and update_id = %s",
            (now, self.bot, update_id),
        )
        self._run(
            f"delete from {INBOX} where bot_id = %s and state = 'handled' and at <= %s",
            (self.bot, now - HANDLED_FOR),
        )

    def pending(self) -> list[tuple[int, str]]:
        """Take over the waiting updates of the processes that died (their locks of the living
        free for DEAD_AFTER seconds), and return them: each is taken by one process only."""
        taken = []
        receivers = self._run(
            f"select distinct process from {INBOX} where bot_id = %s and state = 'pending' "
            "and process is distinct from %s",
            (self.bot, self.instance),
        )
        for receiver in (row["process"] for row in receivers):
            if receiver is not None and not self._dead(receiver):
                continue
            taken += self._run(
                f"update {INBOX} set process = %s where bot_id = %s and state = 'pending' "
                "and process is not distinct from %s returning update_id, body",
                (self.instance, self.bot, receiver),
            )
        return sorted((row["update_id"], row["body"]) for row in taken)

    def _dead(self, receiver: str) -> bool:
        """Whether the process `receiver` has been gone for DEAD_AFTER seconds at least."""
        key = _alive_key(receiver)
        (free,) = self._run("select pg_try_advisory_lock(hashtextextended(%s, 0)) as got", (key,))
        if not free["got"]:
            self._free_since.pop(receiver, None)
            return False  # alive: its updates are its own
        self._run("select pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
        since = self._free_since.setdefault(receiver, time.monotonic())
        return time.monotonic() - since >= DEAD_AFTER

    def count(self) -> int:
        (row,) = self._run(
            f"select count(*) as n from {INBOX} where bot_id = %s and state = 'pending'",
            (self.bot,),
        )
        return row["n"]

    def set_aside(self, update_id: int, reason: str) -> None:
        now = time.time()
        self._run(
            f"update {INBOX} set state = 'aside', reason = %s, at = %s "
            "where bot_id = %s and update_id = %s",
            (reason, now, self.bot, update_id),
        )
        self._run(
            f"delete from {INBOX} where bot_id = %s and state = 'aside' and at <= %s",
            (self.bot, now - KEPT_ASIDE_FOR),
        )

    def aside(self) -> list[str]:
        (row,) = self._run(
            f"select count(*) as n from {INBOX} where bot_id = %s and state = 'aside'",
            (self.bot,),
        )
        return [f"{row['n']} updates set aside in the database's {INBOX}"] if row["n"] else []

    def close(self) -> None:
        self._session.close()
