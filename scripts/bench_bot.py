"""Bot throughput: replies per second and reply latency for many askers at once.

The real Application answers through the Bot API stand-in of the test suite
(tests/support/botapi.py) on 127.0.0.1: every asker sends one question at the same moment, each a
different one (the questions of both question sets in ten phrasings), so none is answered from the
vector cache. Latency runs from the update being queued to the bot's sendMessage arriving at the
stand-in.
Each crowd is measured twice: under Telegram's limit of 30 requests/s (the default), and with
the limit lifted (--max-rate 1000), which shows what the machine itself can answer. The cost
of the inbox (every update synced to disk before it is confirmed, deleted once answered) is
timed on its own: the bot pays it once per question.

    python -m scripts.bench_bot [--askers 100 500] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.inbox import Inbox
from index import threads
from index.evaluate import load_questions
from scripts.benchlib import busy_machine, publish, shipped_index
from tests.support.botapi import BotAPI, message, running_bot

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

QUESTION_FILES = [ROOT / "tests" / "dev_questions.jsonl", ROOT / "tests" / "questions.jsonl"]
PHRASINGS = [
    "{}",
    "Question: {}",
    "Please tell me: {}",
    "I would like to know: {}",
    "{} Thanks!",
    "Quick question: {}",
    "Could you tell me: {}",
    "Asking for a friend: {}",
    "{} (from our reading group)",
    "Hello! {}",
]
RATES = {"Telegram's 30 requests/s": 30.0, "lifted (1000/s)": 1000.0}


def distinct_questions() -> list[str]:
    """Every question of both question sets in every phrasing: all different texts."""
    questions = [q.q for path in QUESTION_FILES for q in load_questions(path)]
    return [phrasing.format(q) for phrasing in PHRASINGS for q in questions]


async def measure(data_dir: Path, questions: list[str], max_rate: float) -> dict:
    askers = len(questions)
    with BotAPI() as api:
        async with running_bot(api, data_dir, max_rate=max_rate):
            pushed = {}
            started = time.monotonic()
            for asker, text in enumerate(questions):
                chat_id = 10_000 + asker
                pushed[str(chat_id)] = time.monotonic()
                api.push(message(text, user_id=chat_id))
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


def inbox_cost(updates: int = 500) -> float:
    """Milliseconds per question that the inbox adds: one synced receive and one handled."""
    with tempfile.TemporaryDirectory() as directory:
        inbox = Inbox(Path(directory))
        body = json.dumps(message("Who was the French ambassador?", user_id=10_000))
        started = time.perf_counter()
        for update_id in range(updates):
            inbox.receive(update_id, body)
            inbox.handled(update_id)
        elapsed = time.perf_counter() - started
        inbox.close()
    return 1000 * elapsed / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--askers", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    data_dir = shipped_index("bench-bot")
    questions = distinct_questions()
    if max(args.askers) > len(questions):
        parser.error(f"at most {len(questions)} askers (one different question each)")
    lines = [
        "| machine | askers at once | rate limit | answered | replies/s | p50 reply latency "
        "| p95 reply latency |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def crowds(machine: str) -> None:
        for askers in args.askers:
            for limit, rate in RATES.items():
                r = asyncio.run(measure(data_dir, questions[:askers], rate))
                lines.append(
                    f"| {machine} | {r['askers']} | {limit} | {r['answered']} | "
                    f"{r['per_second']:.1f} | {1000 * r['p50']:.0f} ms | {1000 * r['p95']:.0f} ms |"
                )
                print(lines[-1], file=sys.stderr)

    crowds("idle")
    with busy_machine() as load:
        crowds("busy")
    lifted = [float(line.split(" | ")[4]) for line in lines[2:] if "lifted" in line]
    cost = inbox_cost()
    inbox_line = (
        f"The inbox costs {cost:.1f} ms per question (receive and handled, each synced to "
        f"disk), {cost * max(lifted) / 10:.0f} % of the {1000 / max(lifted):.1f} ms per "
        "question of the fastest row above: that row includes it."
    )
    print(inbox_line, file=sys.stderr)
    publish(
        "bench_bot",
        "Telegram bot throughput",
        [
            "Each asker sends one different question at the same moment through the Bot API "
            "stand-in (in the same process: it shares the 2 cores with the bot). Under "
            "Telegram's limit of 30 requests/s a bot answers at most 30 questions/s (at the "
            'limit it leaves out "typing…", which would take an answer\'s place); with the '
            "limit lifted the row shows the machine's own capacity. Idle, then "
            f"{load} (the bot's thread policy: {threads.current().describe()}).",
            "",
            *lines,
            "",
            inbox_line,
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
