"""The query log: what askers asked and whether it was answered, never who they are.

One SQLite database, `logs.db` in the data dir (apart from the index, so reindexing never
touches it), or PostgreSQL's `archive_bot` schema when ARCHIVE_BOT_DATABASE_URL is set. Askers
appear only as a pseudonym (`keys`), so the log groups one asker's questions (for /forget)
without holding an id, a name or a username. Rows older than the retention period are purged.
Logging never costs an answer (`log`: one background writer).

    keys.py        the pseudonym key and the pseudonyms
    migrations.py  the schema, as named steps (and at once in PostgreSQL)
    database.py    where it is kept: SQLite or PostgreSQL, the few operations the log needs
    log.py         QueryLog: writes, deletions, reads, backup; the copy datasette browses
    stats.py       the moderators' summary
    labels.py      moderators' labels follow their passage's text through rebuilds
"""

from bot.querylog.keys import SECRET_FILE
from bot.querylog.log import (
    DEFAULT_RETENTION_DAYS,
    LOG_FILE,
    PUBLIC_COLUMNS,
    QueryLog,
    public_copy,
)
from bot.querylog.migrations import SCHEMA_VERSION

__all__ = ["DEFAULT_RETENTION_DAYS", "LOG_FILE", "PUBLIC_COLUMNS", "SCHEMA_VERSION",
           "SECRET_FILE", "QueryLog", "public_copy"]  # fmt: skip
