"""Real files from other projects' test suites: the facts the readers hold, per kind of file.

    python -m scripts.bench_real_files [--write BENCHMARKS.md]

`tests/real_files/` holds files taken unchanged from public repositories' test data (its
README gives each one's repository, path, commit and licence): web pages saved from news sites
and Wikipedia, PDFs in columns with running heads, scans, Word, ODT, RTF and EPUB files. Each
has facts checked by hand against it (`facts.jsonl`, tests/support/real_files.py): sentences
that must become passages, page furniture that must not, its title and author, and a question
that must be answered from it among the first three quotes when the whole corpus is indexed
with the real models. Reported: facts held per kind of file and per kind of fact, the files
that could not be read, and the time to read them all.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from index.build import build_index
from index.embed import load_embedder
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import publish
from tests.support.real_files import CORPUS, KINDS, entries, judged, read, same, shares

WHATS = ("passage", "junk", "title", "author", "question")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    embedder = load_embedder()
    started = time.perf_counter()
    corpus, passages = read(embedder)
    reading = time.perf_counter() - started
    data_dir = Path(tempfile.mkdtemp(prefix="bench-real-files-"))
    build_index(CORPUS, data_dir, embedder=embedder)
    searcher = Searcher(IndexStore(data_dir), embedder)
    listed = entries()
    answers = {}
    for entry in listed:
        if entry.get("question"):
            hits = searcher.search(entry["question"], 3).hits[:3]
            answers[entry["file"]] = any(
                hit.passage.document["id"] == entry["file"]
                and same(entry["answer"]) in same(hit.passage.text)
                for hit in hits
            )
    facts = judged(corpus, passages, answers)
    for fact in facts:
        if not fact.held:
            print(f"  not held: {fact.file} {fact.what}: {fact.expected[:80]}", file=sys.stderr)
    files = Counter(entry["kind"] for entry in listed)
    counted = shares(facts)
    lines = [
        "",
        f"{len(listed)} files; read in {reading:.1f} s with the real readers (OCR where "
        f"needed). Could not be read: {len(corpus.problems)}"
        + "".join(f"; {p.path}: {p.reason}" for p in corpus.problems)
        + ".",
        "",
        "| kind | files | facts held | " + " | ".join(WHATS) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in WHATS) + " |",
    ]
    for kind in (*KINDS, "all"):
        held, total = counted[kind]
        cells = []
        for what in WHATS:
            chosen = [f for f in facts if f.what == what and kind in ("all", f.kind)]
            cells.append(f"{sum(f.held for f in chosen)}/{len(chosen)}" if chosen else "—")
        share = f"{held / total:.2f} ({held}/{total})" if total else "—"
        count = sum(files.values()) if kind == "all" else files[kind]
        lines.append(f"| {kind} | {count} | {share} | " + " | ".join(cells) + " |")
    publish("bench_real_files", "Real files from other projects' test suites", lines, args.write)


if __name__ == "__main__":
    main()
