"""What every `archive-bot` command shares: its options, and opening the data dir's parts
(the query log, the index, the searcher) or exiting with one line that says what to fix."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from index import settings
from index.embed import DEFAULT_MODEL  # a light import: torch loads only with the model


def user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def chown_hint(path: Path, folder: Path) -> str:
    """One line: `path` belongs to someone else, and the chown that gives `folder` back."""
    me = user_name(os.geteuid())
    try:
        owner = f"belongs to {user_name(path.lstat().st_uid)}, "
    except OSError:
        owner = ""
    return (
        f"{path} cannot be read or written by {me} ({owner}restored or made by another user?): "
        f"give it back with `chown -R {me}: {folder}`"
    )


def readable_data_dir(_ctx, _param, data_dir: Path) -> Path:
    """Refuse a data dir whose files this user cannot read (a backup restored as root with
    `cp -a`), in one line naming the fix, before any command meets them."""

    def refuse_unreadable(path: Path) -> None:
        folder = path.is_dir() and not path.is_symlink()
        wanted = os.R_OK | os.X_OK if folder else os.R_OK
        if not path.is_symlink() and not os.access(path, wanted, effective_ids=True):
            raise click.ClickException(chown_hint(path, data_dir))

    if not data_dir.is_dir():
        return data_dir
    refuse_unreadable(data_dir)
    for entry in data_dir.iterdir():  # its files, and those of its index directories
        refuse_unreadable(entry)
        if entry.is_dir() and not entry.is_symlink():
            for path in entry.iterdir():
                refuse_unreadable(path)
    return data_dir


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_DATA_DIR",
    default="data",
    show_default=True,
    callback=readable_data_dir,
    help="Where the index and the query log live [env: ARCHIVE_BOT_DATA_DIR].",
)
model_option = click.option(
    "--model",
    envvar="ARCHIVE_BOT_MODEL",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Embedding model: the bundled default or a local sentence-transformers directory "
    "[env: ARCHIVE_BOT_MODEL].",
)
corpus_option = click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_CORPUS",
    default="corpus",
    show_default=True,
    help="The archive's documents [env: ARCHIVE_BOT_CORPUS].",
)
top_k_option = click.option(
    "--top-k",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="How many passages to return.",
)


log_option = click.option(
    "--log", "log_questions", is_flag=True, help="Write the questions to the query log."
)


def fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


output_option = click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="File (default stdout).",
)


@contextlib.contextmanager
def output_file(path: str) -> Iterator[TextIO]:
    """Yield the file to write to (stdout for "-"); a failing write (a full disk) ends clearly.

    What is written holds logged questions, so a file is owner-only (0600) like the log
    itself, an existing one included.
    """
    try:
        if path == "-":
            yield sys.stdout
            sys.stdout.flush()
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if stat.S_ISREG(os.fstat(descriptor).st_mode):  # not a pipe or a terminal
                os.fchmod(descriptor, 0o600)
            with open(descriptor, "w", encoding="utf-8") as file:
                yield file
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None


def retention_days() -> int:
    """Return ARCHIVE_BOT_LOG_RETENTION_DAYS (default 90), or exit explaining the mistake."""
    from bot.querylog import DEFAULT_RETENTION_DAYS

    value = settings.value("ARCHIVE_BOT_LOG_RETENTION_DAYS")
    value = (str(DEFAULT_RETENTION_DAYS) if value is None else value).strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise click.ClickException(
            "ARCHIVE_BOT_LOG_RETENTION_DAYS must be a whole number of days (1 or more), "
            f"not {value!r}"
        )
    return int(value)


def moderators() -> frozenset[int]:
    """Return the user ids of ARCHIVE_BOT_MODERATORS, or exit explaining the mistake."""
    value = settings.value("ARCHIVE_BOT_MODERATORS") or ""
    ids = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if not (part.isascii() and part.removeprefix("-").isdigit()):
            hint = " (a username: moderators are given by numeric id)" if "@" in part else ""
            raise click.ClickException(
                f"ARCHIVE_BOT_MODERATORS must be Telegram user ids separated by commas "
                f'("12345,67890"); {part!r} is not one{hint}'
            )
        ids.add(int(part))
    return frozenset(ids)


def open_log(data_dir: Path, create: bool = False):
    """Return the query log of `data_dir`, or exit with the reason.

    Only what writes questions (`--log`) may create a log: a mistyped `--data-dir` given to
    a reviewing command must not make a new, empty one.
    """
    from bot.querylog import LOG_FILE, QueryLog
    from index.errors import ArchiveError
    from index.store import database_url

    in_files = database_url() is None  # else the log is in the database, made there once
    if in_files and not create and not (data_dir / LOG_FILE).exists():
        raise click.BadParameter(
            f"{data_dir} holds no query log ({LOG_FILE}): give the data dir the bot uses "
            "(ARCHIVE_BOT_DATA_DIR)",
            param_hint="--data-dir",
        )
    try:
        return QueryLog(data_dir, retention_days())
    except ArchiveError as error:
        raise fail(error) from error


def load_searcher(data_dir: Path, model: str):
    """Return a Searcher for `data_dir`, or exit with the reason and what to run."""
    from index.errors import ArchiveError
    from index.search import Searcher

    try:
        return Searcher.open(data_dir, model)
    except ArchiveError as error:
        raise fail(error) from error


def open_store(data_dir: Path, required: bool = True):
    """Return the current index of `data_dir`; without one, exit with the reason (or return
    None when it is not `required`)."""
    from index.errors import ArchiveError
    from index.store import open_index

    try:
        return open_index(data_dir)
    except ArchiveError as error:
        if not required:
            return None
        raise fail(error) from error
