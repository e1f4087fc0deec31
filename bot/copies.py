"""Copies of the query log that never outlive the process that made them.

A backup is written into `.DEST.partial-PID` beside DEST and renamed into place when whole;
`make browse-logs` serves a copy without pseudonyms from `.browse-logs.partial-PID` in the data
dir. Both hold logged questions, so such a directory is removed on any exit of its process: an
error, Ctrl-C, SIGTERM (systemd, kill) or SIGHUP (a dropped SSH session). One left by a process
killed outright (SIGKILL, a power cut) is removed by the next backup into the same folder, or
(in the data dir) when the log is next opened: the bot's start, any `archive-bot logs` command.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

PARTIAL = re.compile(r"\..+\.partial-(\d+)")
STOPPING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@contextlib.contextmanager
def partial_dir(parent: Path, name: str) -> Iterator[Path]:
    """Yield a new owner-only directory `parent/.NAME.partial-PID`, removed on any exit.

    Rename it while inside to keep it (a backup that is whole). Leftovers of dead processes in
    `parent` are removed first. SIGTERM and SIGHUP end the process through the cleanup (exit
    status 128 + the signal's number, as if the signal had ended it).
    """
    sweep(parent)
    path = parent / f".{name}.partial-{os.getpid()}"
    with _exit_on_signals():
        try:
            parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
            yield path
        finally:
            _remove(path)


def sweep(parent: Path) -> list[str]:
    """Remove the partial directories in `parent` whose process is gone; return their names."""
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = PARTIAL.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not _alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # no such pid at all
        return False
    return True


def _remove(path: Path) -> None:
    """Remove `path` with the stopping signals held back, so a second one cannot cut it short."""
    blocked = _main_thread() and signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        if blocked is not False:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextlib.contextmanager
def _exit_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit while inside (Ctrl-C already raises)."""
    if not _main_thread():  # only the main thread may set handlers; its process cleans up
        yield
        return

    def stop(signum: int, _frame) -> None:
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
