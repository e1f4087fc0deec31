"""The query log in datasette, as moderators see it (`make browse-logs`), and its check.

    python -m scripts.browse_logs --data-dir data                 # serve on 127.0.0.1:8001
    python -m scripts.browse_logs --data-dir data --screenshots docs/browse-logs

Datasette is given a copy of the log made at start (`bot.querylog.public_copy`) that has no
pseudonym column at all, so no URL or SQL reaches one; restart it to see newer questions. The
copy lives in the data dir and goes when this script ends, by Ctrl-C, SIGTERM or a dropped SSH
session (SIGHUP) alike; after a SIGKILL, when the log is next opened (`bot.copies`). With the
log and index in PostgreSQL (ARCHIVE_BOT_DATABASE_URL), they are first copied as files into
that folder, as `archive-bot backup` copies them.
With --screenshots, the pages moderators start from are opened in headless Chromium (Debian's
`chromium` package) and saved as PNG files, and the script checks what a browser is served:
no pseudonym on any page, none reachable by SQL, the raw table hidden, every canned query
answering. It exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from click import ClickException

from bot.backup import backup
from bot.cli.common import retention_days
from bot.copies import partial_dir
from bot.querylog import LOG_FILE, public_copy
from index.errors import ArchiveError
from index.store import database_url

ROOT = Path(__file__).resolve().parent.parent

PR_SET_PDEATHSIG = 1  # prctl(2)

METADATA = ROOT / "bot" / "datasette.yml"
PAGES = {  # screenshot name: path
    "home": "/",
    "questions": "/logs/questions",
    "unanswered-this-week": "/logs/unanswered_this_week",
    "most-asked": "/logs/most_asked",
    "by-language": "/logs/by_language",
    "with-passages": "/_memory/with_passages?id=",
}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--window-size=1400,1000"]  # fmt: skip


def command(log_copy: Path, data_dir: Path, port: int) -> list[str]:
    """The datasette command line: the log's copy and the index's passages, side by side.

    Datasette of this virtual environment (`make browse-logs` installs it), else on PATH.
    """
    datasette = shutil.which("datasette", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))  # fmt: skip
    if datasette is None:
        sys.exit("datasette is not installed: `make browse-logs` installs it")
    return [datasette, "serve", str(log_copy), str(data_dir / "index" / "passages.db"),
            "--crossdb", "--metadata", str(METADATA),
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"datasette did not start on port {port}")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def check(base: str, data_dir: Path) -> list[str]:
    """Return what is wrong with the served pages (nothing when all is well)."""
    with sqlite3.connect(f"file:{data_dir / 'logs.db'}?mode=ro", uri=True) as log:
        pseudonyms = {row[0] for row in log.execute("select distinct asker from queries")}
    problems = []
    for name, path in PAGES.items():
        if any(pseudonym in get(base + path) for pseudonym in pseudonyms if pseudonym):
            problems.append(f"{name} ({path}) shows the askers' pseudonyms")
        if path != "/":  # the same page as JSON: an SQL error is a 400 there
            page, _, parameters = path.partition("?")
            try:
                json.loads(get(f"{base}{page}.json?{parameters}"))
            except urllib.error.HTTPError as error:
                problems.append(f"{name} ({path}) fails: {error}")
    if 'href="/logs/queries"' in get(base + "/logs"):
        problems.append("the raw queries table is listed")
    try:
        get(f"{base}/logs.json?sql=select+asker+from+queries")
        problems.append("SQL reaches the asker column")
    except urllib.error.HTTPError:
        pass  # no such column: what it should answer
    return problems


def screenshots(base: str, folder: Path) -> None:
    chromium = shutil.which("chromium") or sys.exit("no chromium: apt-get install chromium")
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        target = folder / f"{name}.png"
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--screenshot={target}", base + path],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        print(f"{target}  ←  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--screenshots", type=Path, help="Save PNGs here, check, and stop.")
    args = parser.parse_args()
    in_database = database_url() is not None
    for needed in (args.data_dir / LOG_FILE, args.data_dir / "index" / "passages.db"):
        if not in_database and not needed.exists():
            sys.exit(f"no {needed}: run the bot (the log) and `archive-bot index` first")
    # In the data dir (owner-only, like the log), removed on any exit, a signal included.
    with partial_dir(args.data_dir, "browse-logs") as folder:
        source = args.data_dir
        if in_database:
            source = folder / "files"
            try:
                backup(args.data_dir, source, retention_days())
            except (ArchiveError, ClickException) as error:
                sys.exit(str(error))
        log_copy = folder / LOG_FILE  # named logs.db: the pages are /logs/…
        public_copy(source, log_copy)
        quiet = subprocess.DEVNULL if args.screenshots else None
        server = subprocess.Popen(
            command(log_copy, source, args.port),
            preexec_fn=die_with_parent,
            stdout=quiet,
            stderr=quiet,
        )
        try:
            status = serve(server, args, source)
        finally:  # datasette first: it holds the copy open
            server.terminate()
            server.wait()
    sys.exit(status)


def die_with_parent() -> None:
    """In datasette's process: end it when this script ends, even by SIGKILL (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def serve(server: subprocess.Popen, args: argparse.Namespace, source: Path) -> int:
    """Serve until datasette stops (or, with --screenshots, check the log of the data dir
    `source`); return the exit status."""
    if not args.screenshots:
        print(f"The query log on http://127.0.0.1:{args.port} (Ctrl-C stops it)", file=sys.stderr)
        return server.wait()
    wait_for(args.port)
    base = f"http://127.0.0.1:{args.port}"
    screenshots(base, args.screenshots)
    problems = check(base, source)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C: the copy is gone already
        sys.exit(130)
