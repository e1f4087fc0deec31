"""Soak: the bot under steady load for a while; memory, file descriptors and threads must stay flat.

The real Application answers simulated askers through the Bot API stand-in of the test suite
(tests/support/botapi.py), at a steady rate, with buttons pressed and inline queries mixed in. Every
few seconds the process's resident memory, open file descriptors and threads are sampled (the
stand-in runs in the same process; it forgets the calls it recorded at each sample).
Any error logged, or a message left unanswered, fails the run (exit status 1).

    python -m scripts.soak [--minutes 10] [--rate 5] [--plot soak.png] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import threading
import time
from pathlib import Path

from scripts.benchlib import publish, shipped_index
from tests.support.botapi import BotAPI, callback, inline, message, running_bot

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

QUESTIONS = [
    "Who was the French ambassador?",
    "Tokaev",
    "What happened on May 31, 2013?",
    "How do I bake bread?",
    "Which report does the letter quote?",
]


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def sample() -> tuple[float, int, int]:
    rss = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, len(os.listdir("/proc/self/fd")), threading.active_count()


async def soak(data_dir: Path, seconds: float, rate: float, every: float) -> tuple[list, int, int]:
    rng = random.Random(5)
    samples = []
    sent = answered = 0
    with BotAPI() as api:
        async with running_bot(api, data_dir):
            started = time.monotonic()
            next_sample = started
            while (now := time.monotonic()) - started < seconds:
                asker = 20_000 + rng.randrange(500)
                api.push(message(rng.choice(QUESTIONS), user_id=asker))
                sent += 1
                if rng.random() < 0.2:
                    api.push(inline(rng.choice(QUESTIONS), user_id=asker))
                if rng.random() < 0.2:
                    api.push(callback(f"ctx:{rng.randrange(16**10):010x}:1", user_id=asker))
                if now >= next_sample:
                    answered += api.drain("sendMessage")  # the stand-in keeps nothing
                    samples.append((now - started, *sample()))
                    next_sample += every
                await asyncio.sleep(1 / rate)
            deadline = time.monotonic() + 60
            while answered < sent and time.monotonic() < deadline:
                answered += api.drain("sendMessage")
                await asyncio.sleep(0.1)
    return samples, sent, answered


def plot(samples: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s[0] / 60 for s in samples]
    figure, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    for axis, index, label in zip(
        axes, (1, 2, 3), ("resident memory (MB)", "open files", "threads"), strict=True
    ):
        axis.plot(minutes, [s[index] for s in samples])
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
    axes[-1].set_xlabel("minutes")
    figure.suptitle("archive-bot soak")
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=5, help="questions per second")
    parser.add_argument("--plot", type=Path, help="write the curves to this PNG (matplotlib)")
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    errors = Errors()
    logging.getLogger().addHandler(errors)
    data_dir = shipped_index("soak")
    every = max(1.0, args.minutes * 60 / 40)
    samples, sent, answered = asyncio.run(soak(data_dir, args.minutes * 60, args.rate, every))
    if args.plot:
        plot(samples, args.plot)
    settled = samples[len(samples) // 4 :]  # after warm-up
    lines = [
        "| | first sample | after warm-up: min | max | last |",
        "| --- | --- | --- | --- | --- |",
    ]
    for index, label in ((1, "resident memory (MB)"), (2, "open file descriptors"), (3, "threads")):
        values = [s[index] for s in settled]
        lines.append(
            f"| {label} | {samples[0][index]:.0f} | {min(values):.0f} | {max(values):.0f} | "
            f"{values[-1]:.0f} |"
        )
    publish(
        "soak",
        "Soak",
        [
            f"{args.minutes:g} minutes at {args.rate:g} questions/s from 500 simulated askers, "
            "with inline queries and button presses mixed in: "
            f"{sent} questions, {answered} replies, {errors.count} errors logged."
            + (f" Curves: ![soak]({args.plot.as_posix()})." if args.plot else ""),
            "",
            *lines,
        ],
        args.write,
        how="`make soak`",
    )
    if errors.count or answered < sent:
        sys.exit(1)


if __name__ == "__main__":
    main()
