"""What one small server needs: install size, index build, start-up, memory idle and under load.

Every figure is taken from the real commands: `archive-bot index` of the shipped corpus into a
new data dir (wall time and peak resident memory, its reading worker included), then
`archive-bot run` against the Bot API stand-in of the tests (seconds until `archive-bot status`
says it is healthy, resident memory idle after 10 s, and peak while 500 askers send a question
each), plus the size of the virtual environment and of the exported model cache.

    python -m scripts.bench_server [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.benchlib import peak_rss, publish, timed_index, tree_rss
from tests.support.botapi import TOKEN, BotAPI, message, replies

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

ASKERS = 500


def size_mb(path: Path) -> float:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
    )


def build(data_dir: Path) -> dict:
    run = timed_index(ROOT / "corpus", data_dir)
    if run["exit"]:
        raise SystemExit(run["err"])
    return run


def healthy(data_dir: Path) -> bool:
    command = [sys.executable, "-m", "bot", "status", "--data-dir", str(data_dir)]
    return subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 0


def serve(data_dir: Path) -> dict:
    with BotAPI() as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
               "ARCHIVE_BOT_DATA_DIR": str(data_dir)}  # fmt: skip
        started = time.monotonic()
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while not healthy(data_dir):
                if time.monotonic() - started > 120:
                    raise SystemExit("the bot did not become healthy within 2 minutes")
                time.sleep(0.2)
            start_up = time.monotonic() - started
            time.sleep(10)
            idle = tree_rss(bot.pid)
            peak = peak_rss(bot)
            for asker in range(ASKERS):
                api.push(message(f"Question {asker}: who was the French ambassador?", asker + 1))
            while len(replies(api)) < ASKERS:
                time.sleep(0.1)
            under_load = peak[0]
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=60)
        finally:
            bot.kill()
    return {"start_up": start_up, "idle_mb": idle / 2**20, "load_mb": under_load / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        index = build(data_dir)
        print(index, file=sys.stderr)
        bot = serve(data_dir)
        print(bot, file=sys.stderr)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archive-bot"
    venv = size_mb(Path(sys.prefix))
    publish(
        "bench_server",
        "One small server: install, build, start-up, memory",
        [
            "",
            "| what | measured |",
            "| --- | --- |",
            f"| virtual environment (`.venv`, PyTorch CPU build included) | {venv:,.0f} MB |",
            f"| exported model cache (`~/.cache/archive-bot`) | {size_mb(cache):,.0f} MB |",
            f"| `archive-bot index` of the shipped letter, new data dir | "
            f"{index['seconds']:.1f} s, peak {index['peak_mb']:,.0f} MB |",
            f"| `archive-bot run` until `archive-bot status` says healthy | "
            f"{bot['start_up']:.1f} s |",
            f"| the bot idle, resident | {bot['idle_mb']:,.0f} MB |",
            f"| the bot answering {ASKERS} askers at once, peak resident | "
            f"{bot['load_mb']:,.0f} MB |",
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
