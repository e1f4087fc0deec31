"""`archive-bot backup`: a consistent copy of a data dir, taken while the bot runs.

The copy holds the current index (copied under the build lock, so no build replaces it
meanwhile; an index in PostgreSQL is written as files), the archive's own calibration, and
the query log with its key
(SQLite's online backup, without the questions past retention); inbox.db is left out: it holds
Telegram ids. It is written into a partial directory beside DEST (bot.copies) and renamed into
place when whole: an interrupted backup leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

from bot.copies import partial_dir
from bot.querylog import LOG_FILE, QueryLog
from index.answerable import ARCHIVE_FILE, own_calibration
from index.build import build_lock, transfer_index
from index.errors import ArchiveError
from index.store import copy_index, database_url


def backup(data_dir: Path, dest: Path, retention_days: int) -> tuple[dict, int | None]:
    """Copy the index and the query log of `data_dir` into the new directory `dest` (absent
    or empty); return the index's manifest and the questions copied (None without a log).

    Raises:
        ArchiveError: the copy failed; nothing was written to `dest`.
    """
    try:
        with partial_dir(dest.parent, dest.name) as partial:  # whole or nothing, never left
            if (url := database_url()) is None:
                with build_lock(data_dir, wait=True):
                    manifest = copy_index(data_dir, partial)
            else:  # the index in PostgreSQL: its files in the copy, as `database copy-out`
                manifest = transfer_index(partial, url, into_database=False)
            if own := own_calibration(data_dir):  # the archive's, from the files or database
                (partial / ARCHIVE_FILE).write_text(own[0], encoding="utf-8")
            copied = None
            if url is not None or (data_dir / LOG_FILE).exists():  # the log: in the database
                log = QueryLog(data_dir, retention_days)
                try:
                    copied = log.backup(partial)
                finally:
                    log.close()
            if dest.exists():
                dest.rmdir()
            partial.rename(dest)
    except (OSError, ArchiveError, RuntimeError) as error:
        message = getattr(error, "strerror", None) or str(error)
        raise ArchiveError(f"backup failed, nothing written to {dest}: {message}") from None
    return manifest, copied
