"""One enormous paragraph: index time and peak memory, and the time of an answer quoting it.

A corpus of one file holding a single paragraph of N MB (sentences recombined from the letter,
no line break) is indexed with `archive-bot index`, then asked about with `archive-bot ask`
and rendered for Telegram. Peak memory is the resident set of the `index` process
(`getrusage` of its child). The embedding of the passages is the same work as for any
archive of that size; the rest shows whether anything grows faster than the text.

    python -m scripts.bench_long_paragraph [--megabytes 2] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.answering import answer
from bot.render import to_html
from index.passages import sentence_spans
from index.search import Searcher
from scripts.benchlib import publish

ROOT = Path(__file__).resolve().parent.parent

QUESTION = "Who was the French ambassador to Kazakhstan?"


def write_corpus(corpus: Path, megabytes: float) -> int:
    """Write one file holding one paragraph of about `megabytes` MB; return its length."""
    letter = (ROOT / "corpus" / "khrapunov-open-letter-ablyazov.txt").read_text(encoding="utf-8")
    sentences = [letter[s:e] for s, e in sentence_spans(re.sub(r"\s+", " ", letter))]
    size, parts, number = int(megabytes * 1_000_000), [], 0
    while sum(map(len, parts)) < size:  # cheap enough: a few thousand joins
        parts.append(" ".join(sentences[(number * 7 + k) % len(sentences)] for k in range(200)))
        number += 1
    text = " ".join(parts)[:size].rsplit(" ", 1)[0]
    corpus.mkdir(parents=True)
    (corpus / "long.txt").write_text(text, encoding="utf-8")
    return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, nargs="+", default=[2.0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    lines = [
        "| paragraph | passages | index | index peak memory | answer (search) "
        "| Telegram rendering | longest quote |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for megabytes in args.megabytes:
        work = Path(tempfile.mkdtemp(prefix="bench-long-"))
        length = write_corpus(work / "corpus", megabytes)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "index", "--corpus", str(work / "corpus"),
             "--data-dir", str(work / "data")],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        indexed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        searcher = Searcher.open(work / "data")
        answer(searcher, "warm-up question")
        started = time.perf_counter()
        result = answer(searcher, QUESTION)
        searched = time.perf_counter() - started
        started = time.perf_counter()
        to_html(result, [], "en")
        rendered = time.perf_counter() - started
        longest = max(len(hit.passage.text) for hit in result.result.hits)
        lines.append(
            f"| {length / 1e6:.1f} MB | {searcher.store.manifest['passages']:,} | "
            f"{indexed:.0f} s | {peak_mb:,.0f} MB | {1000 * searched:.0f} ms | "
            f"{1000 * rendered:.1f} ms | {longest:,} characters |"
        )
        print(lines[-1], file=sys.stderr)
    publish(
        "bench_long_paragraph",
        "One enormous paragraph",
        [
            "One file holding one paragraph of N MB, without a line break. Peak memory is the "
            "largest resident set of the `index` processes so far in the run.",
            "",
            *lines,
        ],
        args.write,
        how="`make bench` runs it with 1 MB",
    )


if __name__ == "__main__":
    main()
