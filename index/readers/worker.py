"""Reading one file of the corpus, in isolation and in bounds.

Every file is read by a worker process (`python -m index.readers.worker`, started on first use,
reused, restarted after it dies) with a cap on its memory (RLIMIT_AS) and a time limit per
file. Whatever a file does to its
parser (an error of any library, RecursionError, MemoryError, a crash, an endless loop), that
file becomes unreadable with one line saying why, and the next file is read as usual. Every
bound, the worker's and those checked around parsing, is a `Limits` of `index.limits`.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from index.limits import LIMITS_VARIABLE, MB, Limits
from index.readers import Extracted, extract

logger = logging.getLogger(__name__)


def _serve(requests: BinaryIO, replies: BinaryIO, limits: Limits) -> None:
    """The worker: read the files the parent names, one at a time, within `limits.memory_mb`.

    Requests and replies are JSON lines on the worker's stdin and stdout (JSON, not pickle:
    a worker subverted by a file must not be able to run code in the parent); whatever a
    library prints goes to stderr instead, so it cannot corrupt a reply.
    """
    import resource

    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    library_log = _Collect()
    logging.getLogger("pypdf").addHandler(library_log)
    logging.getLogger("pypdf").propagate = False
    while True:
        line = requests.readline()
        if not line:
            return  # the parent has gone
        path, suffix = json.loads(line)
        library_log.messages = []

        def ocr_page(total: int) -> None:  # a line the parent reads as progress, not a reply
            replies.write(json.dumps(["page", total]).encode() + b"\n")
            replies.flush()

        try:
            with open(path, "rb") as file:
                raw = file.read(limits.file_mb * MB + 1)
            reply = ("ok", asdict(extract(suffix, raw, limits, ocr_page)))
        except (MemoryError, RecursionError) as error:
            reply = ("fatal", _too_much(error, limits))  # the next file gets a new worker
        except Exception as error:  # noqa: BLE001 - any library's failure means "unreadable"
            reply = ("error", _reason(error))
        message = json.dumps([*reply, library_log.messages], ensure_ascii=False, default=str)
        replies.write(message.encode() + b"\n")
        replies.flush()
        if reply[0] == "fatal":
            return


def _too_much(error: BaseException, limits: Limits) -> str:
    if isinstance(error, MemoryError):
        return f"reading it needs more than {limits.memory_mb} MB of memory (limit memory_mb)"
    return "its structure is nested too deeply to read"


def _reason(error: Exception) -> str:
    """The maintainer's line for an error: our own messages as they are, others by type."""
    if type(error) is ValueError:
        return str(error)
    if isinstance(error, OSError):
        return error.strerror or str(error)
    detail = " ".join(str(error).split())[:200]
    return f"cannot be parsed ({type(error).__name__}{': ' + detail if detail else ''})"


class _Collect(logging.Handler):
    """Keeps what a library logs while it reads a file, to be logged by the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))


class Reader:
    """Reads files in a worker process within `limits`. Thread-safe; one file at a time."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def read(
        self,
        path: Path,
        warn: Callable[[int, str], object],
        ocr_page: Callable[[int], object] | None = None,
    ) -> Extracted:
        """Return the text of `path`; what its parser warns about goes to `warn(level, text)`,
        and each page OCR has read to `ocr_page(pages OCR reads in the file)`.

        Raises:
            ValueError: the file cannot be read, or not within the limits (the message says
                which, in a maintainer's words).
            OSError: the file cannot be opened.
        """
        self.limits.check_file(path.stat().st_size)
        with self._lock:
            worker = self._worker()
            deadline = time.monotonic() + self.limits.seconds
            try:
                worker.stdin.write(json.dumps([str(path), path.suffix]).encode() + b"\n")
                worker.stdin.flush()
            except OSError:  # a worker that died between two files: its reply is empty
                pass
            for reply in self._replies(worker, deadline):  # ["page", total]s, then the reply
                if reply[0] != "page":
                    break
                if ocr_page:
                    ocr_page(reply[1])
            try:
                status, payload, messages = reply
                if status == "ok":
                    payload = Extracted(**payload)
            except (ValueError, TypeError):  # not a reply of ours
                raise self._died() from None
            if status == "fatal":
                self._stop()
        for level, message in messages:
            warn(level, message)
        if status != "ok":
            raise ValueError(payload)
        return payload

    def _replies(self, worker: subprocess.Popen, deadline: float) -> Iterator[list]:
        """Yield the worker's JSON lines until `deadline`.

        Read from the pipe itself, not through a buffered reader: a buffer holding the next
        line would hide it from select().

        Raises:
            ValueError: the deadline passed, or the worker died or wrote something that is
                not a reply (it is stopped).
        """
        pending, searched = bytearray(), 0
        while True:
            while (end := pending.find(b"\n", searched)) < 0:
                searched = len(pending)  # a long reply is scanned once, not once per chunk
                ready, _, _ = select.select(
                    [worker.stdout], [], [], max(deadline - time.monotonic(), 0)
                )
                chunk = os.read(worker.stdout.fileno(), 1 << 16) if ready else None
                if chunk is None:
                    self._stop()
                    raise ValueError(
                        f"reading it took longer than {self.limits.seconds} s "
                        f"(seconds in {LIMITS_VARIABLE})"
                    )
                if not chunk:
                    raise self._died()
                pending += chunk
            line, pending, searched = bytes(pending[:end]), pending[end + 1 :], 0
            try:
                reply = json.loads(line)
            except ValueError:  # a reply cut short
                raise self._died() from None
            if not isinstance(reply, list) or not (
                len(reply) == 3
                or (len(reply) == 2 and reply[0] == "page" and type(reply[1]) is int)
            ):
                raise self._died()
            yield reply

    def _died(self) -> ValueError:
        """Stop a worker that died or broke the protocol; return the error to raise."""
        self._stop()
        return ValueError(
            "its reader stopped: it probably needed more than "
            f"{self.limits.memory_mb} MB of memory (memory_mb in {LIMITS_VARIABLE})"
        )

    def _worker(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._stop()
            package_root = str(Path(__file__).resolve().parents[2])
            path = os.environ.get("PYTHONPATH")
            self._process = subprocess.Popen(
                [sys.executable, "-m", "index.readers.worker", json.dumps(asdict(self.limits))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": package_root + (f":{path}" if path else "")},
            )
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process.stdin.close()
            self._process.stdout.close()
        self._process = None

    def close(self) -> None:
        with self._lock:
            self._stop()


if __name__ == "__main__":  # the worker process of a Reader
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's print() goes to stderr, never into a reply
    _serve(sys.stdin.buffer, replies, Limits(**json.loads(sys.argv[1])))
