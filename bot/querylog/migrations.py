"""The query log's schema, as the named steps that made it (sqlite-utils' `Migrations`).

A new log runs every step; an older one, only those it lacks. Each step runs in a transaction
with the record of it in `_sqlite_migrations`, so a step that fails leaves the log as it was.
`pragma user_version` counts the steps applied: logs made before named steps (schemas 1 to 5)
are recognised by it, and a log of a newer archive-bot is refused, never misread.
A new step is a new schema version: CHANGELOG says so (tests/test_operations.py checks).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("archive-bot query log")
SCHEMA_VERSION = 6  # the number of steps below


@MIGRATIONS(name="1 queries")
def _queries(db: sqlite_utils.Database) -> None:
    """The questions: when, in what chat and language, what was found, how it was rated."""
    db["queries"].create(
        {"id": int, "time": str, "asker": str, "chat_type": str, "language": str, "query": str,
         "found": int, "passages": str, "top_passage": str, "latency_ms": float,
         "feedback": str, "feedback_time": str, "label": str, "out_of_scope": int},
        pk="id",
        if_not_exists=True,
    )  # fmt: skip
    db["queries"].create_index(["time"], if_not_exists=True)
    db["queries"].create_index(["asker"], if_not_exists=True)


@MIGRATIONS(name="2 labels apart from retention")
def _labels(db: sqlite_utils.Database) -> None:
    """The labels table, holding the labels of the questions logged so far.

    A label is a moderator's decision to keep a question as a test case: the question's text,
    its day and the label only, never the asker. Retention leaves labels alone; /forget deletes
    them while they are still linked to the asker's logged question.
    """
    db["labels"].create(
        {"id": int, "query_id": int, "day": str, "query": str, "passage_id": str,
         "out_of_scope": int},
        pk="id",
        if_not_exists=True,
    )  # fmt: skip
    db["labels"].create_index(["query_id"], if_not_exists=True)
    db.execute(
        "insert into labels (query_id, day, query, passage_id, out_of_scope) "
        "select id, substr(time, 1, 10), query, label, coalesce(out_of_scope, 0) "
        "from queries where label is not null or out_of_scope = 1"
    )
    db.execute("update queries set out_of_scope = 0 where out_of_scope is null")


@MIGRATIONS(name="3 questions view")
def _view(db: sqlite_utils.Database) -> None:
    """The `questions` view: the log as moderators browse it (datasette)."""
    _questions_view(db, "case found when 1 then 'answered' else 'not answered' end")


@MIGRATIONS(name="4 outcome")
def _outcome(db: sqlite_utils.Database) -> None:
    """The `outcome` column: answered, closest or none (see index.search).

    Questions logged before it have none: the view tells them by `found` alone.
    """
    if "outcome" not in db["queries"].columns_dict:
        db.execute("alter table queries add column outcome text")
    _questions_view(
        db, "coalesce(outcome, case found when 1 then 'answered' else 'not answered' end)"
    )


@MIGRATIONS(name="5 label text")
def _label_text(db: sqlite_utils.Database) -> None:
    """The labels' `text` column: the labelled passage's text, which the label follows when an
    edit moves it (bot.querylog.labels). Set for older labels by the next `archive-bot index`,
    from the index they were made on."""
    if "text" not in db["labels"].columns_dict:
        db.execute("alter table labels add column text text")


@MIGRATIONS(name="6 confidence")
def _confidence(db: sqlite_utils.Database) -> None:
    """The `confidence` (0–1) that the first passages answered, and the `reason` a question
    was not answered: "far" or "time" (index.search). Questions logged before have neither."""
    columns = db["queries"].columns_dict
    if "confidence" not in columns:
        db.execute("alter table queries add column confidence real")
    if "reason" not in columns:
        db.execute("alter table queries add column reason text")


def _questions_view(db: sqlite_utils.Database, outcome: str) -> None:
    """(Re)create the `questions` view with `outcome` as its outcome column: words instead of
    codes, passage ids one per line, and no pseudonym."""
    db.execute("drop view if exists questions")
    db.execute(
        "create view questions as select id, time, chat_type, language, query, "
        f"{outcome} as outcome, "
        "case feedback when 'up' then 'liked' when 'down' then 'disliked' else '' end "
        "as feedback, "
        "latency_ms, (select group_concat(json_extract(value, '$.id'), char(10)) "
        "from json_each(passages)) as passages, label, "
        "case out_of_scope when 1 then 'out of scope' else '' end as out_of_scope "
        "from queries"
    )


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the log `db` to SCHEMA_VERSION, running the steps it lacks.

    Raises:
        RuntimeError: the log is of a newer schema than this archive-bot knows.
    """
    version = db.execute("pragma user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"its schema version {version} is of a newer archive-bot (this one reads up to "
            f"{SCHEMA_VERSION})"
        )
    steps = MIGRATIONS.pending(db)
    if version and not db[Migrations.migrations_table].exists():
        MIGRATIONS.ensure_migrations_table(db)  # a log from before named steps: its version
        db[Migrations.migrations_table].insert_all(  # says which it has
            {"migration_set": MIGRATIONS.name, "name": step.name,
             "applied_at": str(datetime.now(UTC))}
            for step in steps[:version]
        )  # fmt: skip
    if MIGRATIONS.pending(db):
        MIGRATIONS.apply(db)
        db.execute(f"pragma user_version = {SCHEMA_VERSION}")


# The log in PostgreSQL (ARCHIVE_BOT_DATABASE_URL): the tables and view the steps above make,
# at SCHEMA_VERSION, made at once in the bots' schema (bot.shared.SCHEMA). A new step above is
# also a new step here, and raises both versions (tests/test_querylog.py compares the columns).
POSTGRES_TABLES = (
    "create table queries (id bigint generated by default as identity primary key, time text, "
    "asker text, chat_type text, language text, query text, found integer, passages text, "
    "top_passage text, latency_ms double precision, feedback text, feedback_time text, "
    "label text, out_of_scope integer, outcome text, confidence double precision, reason text)",
    "create index on queries (time)",
    "create index on queries (asker)",
    "create table labels (id bigint generated by default as identity primary key, query_id "
    "bigint, day text, query text, passage_id text, out_of_scope integer, text text)",
    "create index on labels (query_id)",
    "create view questions as select id, time, chat_type, language, query, coalesce(outcome, "
    "case found when 1 then 'answered' else 'not answered' end) as outcome, case feedback "
    "when 'up' then 'liked' when 'down' then 'disliked' else '' end as feedback, latency_ms, "
    "(select string_agg(p ->> 'id', chr(10)) from jsonb_array_elements(passages::jsonb) p) "
    "as passages, label, case out_of_scope when 1 then 'out of scope' else '' end as "
    "out_of_scope from queries",
)


def migrate_postgres(connection) -> None:
    """Bring the log in PostgreSQL (a psycopg connection, in the bots' schema) to
    SCHEMA_VERSION: make its tables when it has none.

    Raises:
        RuntimeError: the log is of a newer schema than this archive-bot knows.
    """
    from index.postgres import setting_up

    with setting_up(connection):  # one process at a time: two bots may start together
        connection.execute("create table if not exists log_schema (version integer not null)")
        row = connection.execute("select max(version) as version from log_schema").fetchone()
        version = row["version"] or 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"its schema version {version} is of a newer archive-bot (this one reads up to "
                f"{SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            for statement in POSTGRES_TABLES:
                connection.execute(statement)
            connection.execute("insert into log_schema values (%s)", (SCHEMA_VERSION,))
