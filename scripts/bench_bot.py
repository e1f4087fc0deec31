"""Bot throughput: replies per second and reply latency for many askers at once.

The real Application answers through the Bot API stand-in of the test suite (tests/botapi.py)
on 127.0.0.1: every asker sends one question at the same moment; latency runs from the update
being queued to the bot's sendMessage arriving at the stand-in.

    python scripts/bench_bot.py [--askers 100 500] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from benchlib import publish, shipped_index  # noqa: E402

from tests.botapi import BotAPI, message, running_bot  # noqa: E402

QUESTIONS = [
    "Who was the French ambassador?",
    "What happened on May 31, 2013?",
    "Tokaev",
    "How were Zhakiyanov's relatives treated?",
    "Which convention had Kazakhstan not signed with France?",
]


async def measure(data_dir: Path, askers: int) -> dict:
    with BotAPI() as api:
        async with running_bot(api, data_dir):
            pushed = {}
            started = time.monotonic()
            for asker in range(askers):
                chat_id = 10_000 + asker
                pushed[str(chat_id)] = time.monotonic()
                api.push(message(QUESTIONS[asker % len(QUESTIONS)], user_id=chat_id))
            while len(api.calls_to("sendMessage")) < askers:
                if time.monotonic() - started > 600:
                    raise SystemExit("the bot did not answer everyone within 10 minutes")
                await asyncio.sleep(0.01)
            replies = api.calls_to("sendMessage")
    latencies = sorted(r.at - pushed[r.params["chat_id"]] for r in replies)
    elapsed = max(r.at for r in replies) - started
    return {
        "askers": askers,
        "answered": len({r.params["chat_id"] for r in replies}),
        "per_second": askers / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--askers", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    data_dir = shipped_index("bench-bot")
    lines = [
        "| askers at once | answered | replies/s | p50 reply latency | p95 reply latency |",
        "| --- | --- | --- | --- | --- |",
    ]
    for askers in args.askers:
        r = asyncio.run(measure(data_dir, askers))
        lines.append(
            f"| {r['askers']} | {r['answered']} | {r['per_second']:.1f} | "
            f"{1000 * r['p50']:.0f} ms | {1000 * r['p95']:.0f} ms |"
        )
        print(lines[-1], file=sys.stderr)
    publish(
        "bench_bot",
        "Telegram bot throughput",
        [
            "Each asker sends one question at the same moment through the Bot API stand-in; "
            "replies go through PTB's rate limiter (30 messages/s overall, Telegram's limit), "
            "which caps replies per second.",
            "",
            *lines,
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
