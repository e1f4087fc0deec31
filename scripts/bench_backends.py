"""Model backends: PyTorch, ONNX Runtime and ONNX Runtime int8, speed and quality in one table.

Each backend builds its own index of the shipped corpus, answers both question sets (hit@1,
hit@3, MRR@5, answered/declined as `archive-bot eval` scores them) and encodes every question
uncached, block after block over several rounds; the median per backend is reported. int8 is
the exported model with its weights quantised by ONNX Runtime (dynamic quantisation): measured
here only, to decide whether it could become the default (it would need equal quality).

    python -m scripts.bench_backends [--rounds 5] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from index.build import build_index
from index.embed import DEFAULT_MODEL, Embedder, load_embedder, model_location
from index.evaluate import evaluate, load_questions
from index.models import OnnxModel, cache_dir, export_key
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import publish

ROOT = Path(__file__).resolve().parent.parent

SETS = {"dev": ROOT / "tests" / "dev_questions.jsonl", "own": ROOT / "tests" / "questions.jsonl"}


def int8_embedder() -> Embedder:
    """The default model on ONNX Runtime with int8 weights (dynamic quantisation)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    embedder = Embedder(DEFAULT_MODEL, "onnx")  # a fresh one, so the shared one is untouched
    exported = cache_dir() / export_key(model_location(DEFAULT_MODEL))
    target = Path(tempfile.mkdtemp(prefix="int8-"))
    for name in ("tokenizer.json", "meta.json"):
        shutil.copy(exported / name, target / name)
    quantize_dynamic(exported / "model.onnx", target / "model.onnx", weight_type=QuantType.QInt8)
    embedder.model = OnnxModel(target)
    return embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()

    backends = {
        "PyTorch (sentence-transformers)": load_embedder(backend="torch"),
        "ONNX Runtime (the default)": load_embedder(backend="onnx"),
        "ONNX Runtime, int8 weights": int8_embedder(),
    }
    sets = {name: load_questions(path) for name, path in SETS.items()}
    questions = [q.q for qs in sets.values() for q in qs]
    searchers, times = {}, {name: [] for name in backends}
    for name, embedder in backends.items():
        data_dir = Path(tempfile.mkdtemp(prefix="bench-backends-"))
        build_index(ROOT / "corpus", data_dir, embedder=embedder)
        searchers[name] = Searcher(IndexStore(data_dir), embedder)
    for round_ in range(args.rounds + 1):  # the first round warms up
        for name, embedder in backends.items():
            for question in questions:
                embedder.clear_cache()
                started = time.perf_counter()
                embedder.encode_query(question)
                if round_:
                    times[name].append(1000 * (time.perf_counter() - started))

    torch_ms = statistics.median(times["PyTorch (sentence-transformers)"])
    lines = [
        "| backend | encode a question (median) | × PyTorch | dev hit@1 / hit@3 / MRR@5 "
        "| own hit@1 / hit@3 / MRR@5 | answered / declined (own) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, searcher in searchers.items():
        scores = {s: evaluate(searcher, qs) for s, qs in sets.items()}
        median = statistics.median(times[name])
        quality = [
            f"{r.hit_at_1:.2f} / {r.hit_at_3:.2f} / {r.mrr_at_5:.2f}" for r in scores.values()
        ]
        own = scores["own"]
        lines.append(
            f"| {name} | {median:.1f} ms | {median / torch_ms:.2f} | {quality[0]} | {quality[1]} "
            f"| {own.answered:.2f} / {own.declined:.2f} |"
        )
        print(lines[-1], file=sys.stderr)
    publish(
        "bench_backends",
        "Model backends",
        [
            f"Each backend indexes the shipped corpus itself and encodes the {len(questions)} "
            f"questions of both sets uncached, {args.rounds} rounds, backend after backend.",
            "",
            *lines,
        ],
        args.write,
    )


if __name__ == "__main__":
    main()
