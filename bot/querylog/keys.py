"""The askers' pseudonyms: an HMAC-SHA256 of their Telegram user id under this installation's key.

The key is ARCHIVE_BOT_LOG_SECRET, or a random one made once in `log-secret` beside the log.
Without the key, a pseudonym cannot be turned back into an id, even by trying them all.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from index import settings

SECRET_FILE = "log-secret"
SECRET_BYTES = 32  # the pseudonym key: 256 random bits
MIN_SECRET_CHARS = 32  # a key given in ARCHIVE_BOT_LOG_SECRET
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def pseudonym(secret: bytes, user_id: int) -> str:
    """Return the asker's pseudonym: stable per installation, not reversible without the key."""
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()[:24]


def given_secret() -> bytes | None:
    """The key given in ARCHIVE_BOT_LOG_SECRET (None when it is not set).

    Raises:
        RuntimeError: it is too short to be a key (with a weak key, anyone holding the log
            could recover user ids by trying them all).
    """
    if not (value := settings.value("ARCHIVE_BOT_LOG_SECRET")):
        return None
    if len(value) < MIN_SECRET_CHARS:
        raise RuntimeError(
            f"ARCHIVE_BOT_LOG_SECRET is shorter than {MIN_SECRET_CHARS} characters; make "
            f"one with: {MAKE_SECRET}"
        )
    return value.encode()


def shared_secret() -> bytes:
    """The key of a log in the database: ARCHIVE_BOT_LOG_SECRET, the same for every process of
    the bot, so that /forget finds an asker's questions whichever process logged them. It is
    never kept in the database: beside the log, it would let whoever holds one read the other.

    Raises:
        RuntimeError: it is not set, or too short.
    """
    if secret := given_secret():
        return secret
    raise RuntimeError(
        "with the log in the database, set ARCHIVE_BOT_LOG_SECRET (32 characters or more, "
        f"the same for every process of the bot; make one with: {MAKE_SECRET})"
    )


def load_secret(log_path: Path) -> bytes:
    """Return the pseudonym key of the log at `log_path`: ARCHIVE_BOT_LOG_SECRET, or a file
    beside the log, made once.

    A new key is made only together with a new, empty log: under an existing log it would
    cut every logged question off from its asker's /forget.

    Raises:
        RuntimeError: the key is empty or short; nothing may be logged under it (with a weak
            key, anyone holding the log could recover user ids by trying them all). Or the
            log exists and its key does not (a restore without `log-secret`).
        OSError: a new key file could not be written (nothing is left half-written).
    """
    if secret := given_secret():
        return secret
    path = log_path.with_name(SECRET_FILE)
    if not path.exists() and log_path.exists():
        raise RuntimeError(
            f"{log_path} has no key ({SECRET_FILE} is missing, and "
            "ARCHIVE_BOT_LOG_SECRET is not set): restore the key from the backup the log came "
            f"from, or move {log_path.name} away to start a new, empty log"
        )
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret(path)
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        secret = b""
    if len(secret) < SECRET_BYTES:
        raise RuntimeError(
            f"the pseudonym key {path} is empty or damaged, so questions are not logged; "
            f"restore it from a backup, or delete it together with {log_path.name} to start a "
            "new log"
        )
    return secret


def key_of(log_path: Path, secret: bytes) -> bytes:
    """The key the log in files at `log_path` was made with: its key file's when it has one
    (ARCHIVE_BOT_LOG_SECRET, when set, overrides that file but did not make the log's
    pseudonyms), else `secret`, the key in use."""
    path = log_path.with_name(SECRET_FILE)
    try:
        return bytes.fromhex(path.read_text().strip()) if path.exists() else secret
    except (OSError, ValueError):
        return secret


def write_secret(path: Path) -> None:
    """Write a new random key to `path` atomically: whole and synced, or not at all.

    The key goes to a temporary file first, then is linked into place, which fails rather than
    replace a key another process made at the same moment.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = secrets.token_bytes(SECRET_BYTES).hex().encode()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            if os.write(descriptor, data) != len(data):
                raise OSError(f"could not write the whole pseudonym key to {temporary}")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a power cut too
    finally:
        os.close(directory)


def copy_secret(log_path: Path, dest: Path) -> None:
    """Copy the key file of the log at `log_path`, if it has one, into the directory `dest`
    (owner-only; an existing file there is never replaced)."""
    key = log_path.with_name(SECRET_FILE)
    if key.exists():
        descriptor = os.open(dest / SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key.read_bytes())
