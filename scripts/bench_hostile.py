"""Hostile input: a corpus of bombs, a damaged inbox after a SIGKILL, a flood of inline queries.

1. `archive-bot index` on a corpus holding a malformed .docx, an entity-expansion bomb, a YAML
   alias bomb, a .docx zip bomb (a 600 MB document.xml in a file of under 1 MB), a catalogue with
   a wrong type and a table nested 100,000 deep, beside one good new document: wall time and
   the peak resident memory of the command and its reading worker together (sampled).
2. The real bot process SIGKILLed with 80 questions received and unanswered, one page of its
   inbox then overwritten: questions answered after the restart. Every page of that inbox is
   also damaged in turn (in copies) to give the worst single page.
3. 2,000 inline queries from 100 users (20 each, within their allowance), then one private
   question, under Telegram's limit of 30 requests/s: seconds until the private reply.

    python -m scripts.bench_hostile [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bot.inbox import INBOX_FILE, Inbox
from scripts.benchlib import publish, shipped_index, timed_index
from tests.support.botapi import (
    BotAPI,
    inline,
    message,
    replies,
    running_bot,
    start_bot,
    wait_until,
)
from tests.support.documents import hostile_corpus, zip_bomb

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

PAGE = 1024  # the inbox's page size (bot.inbox)
WAITING = 80


def hostile_build(directory: Path) -> dict:
    corpus = directory / "corpus"
    corpus.mkdir()
    hostile_corpus(corpus)
    (corpus / "bomb.docx").write_bytes(zip_bomb(600))
    run = timed_index(corpus, directory / "data")
    return {
        "seconds": run["seconds"],
        "peak_mb": run["peak_mb"],
        "bomb_kb": (corpus / "bomb.docx").stat().st_size / 1024,
        "exit": run["exit"],
        "named": [line for line in run["err"].splitlines() if line.startswith("cannot read")],
        "traceback": "Traceback" in run["err"],
        "indexed": "added                 1" in run["out"],
    }


def killed_then_damaged(data_dir: Path) -> dict:
    """SIGKILL with WAITING questions confirmed and unanswered, damage a page, restart."""
    with BotAPI() as api:
        api.fail("sendMessage", 429, retry_after=60, times=10_000)  # nothing leaves before
        for asker in range(WAITING):
            api.push(message("Tokaev", user_id=6000 + asker))
        bot = start_bot(api, data_dir)
        try:
            wait_until(lambda: api.unconfirmed() == 0)
            bot.send_signal(signal.SIGKILL)
            bot.communicate(timeout=30)
        finally:
            bot.kill()
        inbox = data_dir / INBOX_FILE
        with sqlite3.connect(inbox) as db:  # the waiting updates from the WAL into the file
            db.execute("pragma wal_checkpoint(TRUNCATE)")
        pages = inbox.stat().st_size // PAGE
        worst = min(recovered_with_page_damaged(inbox, page) for page in range(2, pages + 1))
        damage(inbox, pages * 2 // 3)
        api.clear_failures()
        bot = start_bot(api, data_dir)
        try:
            deadline = time.monotonic() + 60
            while len(replies(api)) < WAITING and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2.0)
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
        finally:
            bot.kill()
        answered = len({r["chat_id"] for r in replies(api)})
    return {
        "answered": answered,
        "worst": worst,
        "pages": pages,
        "traceback": "Traceback" in output,
    }


def damage(path: Path, page: int) -> None:
    with open(path, "r+b") as file:
        file.seek(PAGE * (page - 1))
        file.write(bytes(range(256)) * (PAGE // 256))


def recovered_with_page_damaged(inbox: Path, page: int) -> int:
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / INBOX_FILE
        for suffix in ("", "-wal"):
            if inbox.with_name(inbox.name + suffix).exists():
                shutil.copy(
                    inbox.with_name(inbox.name + suffix), copy.with_name(copy.name + suffix)
                )
        damage(copy, page)
        recovered = Inbox(Path(directory))
        count = len(recovered.pending())
        recovered.close()
    return count


async def inline_flood(data_dir: Path) -> dict:
    with BotAPI() as api:
        async with running_bot(api, data_dir):
            for number in range(2000):
                api.push(inline(f"Tokaev {number}", user_id=30_000 + number % 100))
            pushed = time.monotonic()
            api.push(message("Who was the French ambassador?", user_id=9))
            while not replies(api, 9):
                await asyncio.sleep(0.01)
            seconds = replies_at(api, 9) - pushed
            inline_before = len(api.calls_to("answerInlineQuery"))
    return {"seconds": seconds, "inline_before": inline_before}


def replies_at(api: BotAPI, chat_id: int) -> float:
    return next(c.at for c in api.calls_to("sendMessage") if c.params["chat_id"] == str(chat_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        build = hostile_build(Path(directory))
    print(build, file=sys.stderr)
    kill = killed_then_damaged(shipped_index("bench-hostile"))
    print(kill, file=sys.stderr)
    flood = asyncio.run(inline_flood(shipped_index("bench-flood")))
    print(flood, file=sys.stderr)
    publish(
        "bench_hostile",
        "Hostile files, a damaged inbox, an inline flood",
        [
            "",
            "| case | measured | target |",
            "| --- | --- | --- |",
            f"| `index` on 4 hostile files (a {build['bomb_kb']:.0f} KB docx inflating to "
            f"600 MB among them) and a bad catalogue, beside 1 good document | good document "
            f"indexed: {'yes' if build['indexed'] else 'NO'}; {len(build['named'])} files named "
            f"once each; traceback: {'YES' if build['traceback'] else 'none'}; "
            f"{build['seconds']:.1f} s; peak {build['peak_mb']:.0f} MB (the command and its "
            "reading worker together) | indexed, named, < 2 min, < 2 GB |",
            f"| SIGKILL with {WAITING} questions waiting, then one page of the inbox "
            f"(of {kill['pages']}, {PAGE} bytes each) overwritten, restart | {kill['answered']} "
            f"of {WAITING} answered; worst single damaged page: {kill['worst']} of {WAITING} "
            f"recovered | ≥ {int(WAITING * 0.8)} |",
            f"| 2,000 inline queries from 100 users, then one private question, at Telegram's "
            f"30 requests/s | private reply after {flood['seconds']:.2f} s; "
            f"{flood['inline_before']} inline answers went out before it | ≤ 5 s (18.7 s "
            "before the inline lane) |",
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
