"""Retrieval quality and latency: archive-bot's search against its peers, in one run.

Peers, all on the same passages (one per paragraph, headings excluded) and the same model:
BM25 (rank-bm25), a bare all-MiniLM-L6-v2 + exact FAISS search, and txtai 9.14 (dense and
hybrid). archive-bot runs keyword-only (FTS5 BM25), dense-only, and hybrid with reciprocal
rank fusion and with weighted fusion (the default). Then the effect of the `found` threshold.

    python scripts/bench_retrieval.py [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from benchlib import passage_texts, publish, shipped_index  # noqa: E402

from index.embed import load_embedder, model_location  # noqa: E402
from index.evaluate import Question, first_hit, load_questions, rank_scores  # noqa: E402
from index.search import (  # noqa: E402
    FOUND_SIMILARITY,
    FOUND_WITH_KEYWORDS,
    Searcher,
)
from index.store import IndexStore  # noqa: E402

SETS = {
    "dev": ROOT / "tests" / "dev_questions.jsonl",
    "own": ROOT / "tests" / "questions.jsonl",
}


def peers(texts: list[str]):
    """Yield (name, search function returning ranked texts) for each peer system."""
    import faiss
    from rank_bm25 import BM25Okapi
    from sentence_transformers import SentenceTransformer

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    bm25 = BM25Okapi([words(t) for t in texts])

    def bm25_search(q: str) -> list[str]:
        scores = bm25.get_scores(words(q))
        return [texts[i] for i in sorted(range(len(texts)), key=lambda i: -scores[i])[:5]]

    yield "BM25 (rank-bm25)", bm25_search

    model = SentenceTransformer(model_location("all-MiniLM-L6-v2"), device="cpu")
    flat = faiss.IndexFlatIP(model.get_embedding_dimension())
    flat.add(model.encode(texts, normalize_embeddings=True))

    def dense_search(q: str) -> list[str]:
        _, rows = flat.search(model.encode([q], normalize_embeddings=True), 5)
        return [texts[i] for i in rows[0]]

    yield "bare MiniLM + FAISS (the floor)", dense_search

    try:
        from txtai import Embeddings
    except ImportError:
        print("txtai not installed: `pip install -r requirements-bench.txt`", file=sys.stderr)
        return
    for hybrid in (False, True):
        embeddings = Embeddings(
            path=model_location("all-MiniLM-L6-v2"), content=True, hybrid=hybrid
        )
        embeddings.index([(i, t, None) for i, t in enumerate(texts)])

        def txtai_search(q: str, e=embeddings) -> list[str]:
            return [r["text"] for r in e.search(q, 5)]

        yield f"txtai 9.14 {'hybrid' if hybrid else 'dense'}", txtai_search


def measure(search, questions: list[Question]) -> tuple[float, float, float, float]:
    in_scope = [q for q in questions if not q.out_of_scope]
    for q in in_scope[:3]:
        search(q.q)  # warm-up
    started = time.perf_counter()
    ranks = [first_hit(search(q.q), q.gold) for q in in_scope]
    ms = 1000 * (time.perf_counter() - started) / len(in_scope)
    return (*rank_scores(ranks), ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    data_dir = shipped_index("bench-retrieval")
    searcher = Searcher(IndexStore(data_dir), load_embedder())
    texts = passage_texts(searcher.store)
    sets = {name: load_questions(path) for name, path in SETS.items()}

    def ours(question: str, mode: str, fusion: str) -> list[str]:
        searcher.embedder.clear_cache()  # every system embeds every question afresh
        return [h.passage.text for h in searcher.search(question, 5, mode, fusion).hits]

    systems = list(peers(texts))
    for label, mode, fusion in [
        ("archive-bot keyword (FTS5 BM25)", "keyword", "weighted"),
        ("archive-bot dense", "dense", "weighted"),
        ("archive-bot hybrid, RRF", "hybrid", "rrf"),
        ("archive-bot hybrid, weighted (default)", "hybrid", "weighted"),
    ]:
        systems.append((label, lambda q, m=mode, f=fusion: ours(q, m, f)))

    columns = ["system"] + [f"{s} {m}" for s in SETS for m in ("hit@1", "hit@3", "MRR@5")]
    lines = [
        "| " + " | ".join([*columns, "ms/question"]) + " |",
        "| " + " | ".join(["---"] * (len(columns) + 1)) + " |",
    ]
    for name, search in systems:
        dev, own = measure(search, sets["dev"]), measure(search, sets["own"])
        ms = (dev[3] + own[3]) / 2
        lines.append(
            f"| {name} | {dev[0]:.2f} | {dev[1]:.2f} | {dev[2]:.2f} | "
            f"{own[0]:.2f} | {own[1]:.2f} | {own[2]:.2f} | {ms:.1f} |"
        )
        print(lines[-1], file=sys.stderr)

    # The `found` decision: best cosine similarity per question, in scope or not.
    rows = []
    for questions in sets.values():
        for q in questions:
            result = searcher.search(q.q, 5)
            best = max((h.similarity for h in result.hits), default=0.0)
            rows.append((best, q.out_of_scope, result.found))
    in_scope = sorted(b for b, oos, _ in rows if not oos)
    outside = sorted(b for b, oos, _ in rows if oos)
    lines += [
        "",
        f"Best-passage cosine similarity: in-scope questions {in_scope[0]:.2f}–{in_scope[-1]:.2f} "
        f"(n={len(in_scope)}), out-of-scope {outside[0]:.2f}–{outside[-1]:.2f} (n={len(outside)}).",
        "",
        "| rule | in-scope answered | out-of-scope declined |",
        "| --- | --- | --- |",
    ]
    for threshold in (0.15, 0.20, 0.25, 0.30, 0.35, 0.40):
        answered = sum(b >= threshold for b in in_scope) / len(in_scope)
        declined = sum(b < threshold for b in outside) / len(outside)
        lines.append(f"| similarity ≥ {threshold:.2f} only | {answered:.2f} | {declined:.2f} |")
    answered = sum(f for _, oos, f in rows if not oos) / len(in_scope)
    declined = sum(not f for _, oos, f in rows if oos) / len(outside)
    lines.append(
        f"| archive-bot's rule (≥ {FOUND_SIMILARITY}, or ≥ {FOUND_WITH_KEYWORDS} with a keyword "
        f"hit, or all words in one passage) | {answered:.2f} | {declined:.2f} |"
    )

    publish(
        "bench_retrieval",
        "Retrieval quality",
        [
            f"Question sets: dev = `tests/dev_questions.jsonl` ({len(sets['dev'])} questions), "
            f"own = `tests/questions.jsonl` ({len(sets['own'])}: paraphrases, misspellings, "
            "bare names, headings, unrelated questions). ms/question is the mean search time "
            "(question embedding included), same process, same machine.",
            "",
            *lines,
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
