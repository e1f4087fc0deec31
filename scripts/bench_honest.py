"""Honest answers: near-topic questions the archive cannot answer, and questions about it.

`tests/questions_honest.jsonl` (written before it was run, but for a few found trying the
bot, which are in the tuning half): 32 questions per language near the letter's subject that
it does not answer ("Where was Nazarbaev born?"), which should not be answered, and 31
questions about the archive itself (author, date, title, the list of documents), which
should be answered from the right catalogue card (a hit at rank 1). Beside
them, the in-scope questions of `tests/questions_multilingual.jsonl`, which must still be
answered. Every figure per language and half (tune, held-out); the held-out half is the result.
A second table gives the letter's outcomes on held-out questions alone (`outcomes`): far-topic
questions quoted nothing, near-topic ones not answered, in-scope ones answered, with the
sentence holding the answer in bold.

    python -m scripts.bench_honest [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.embed import load_embedder
from index.evaluate import evaluate, is_hit, parse_question
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import publish, shipped_index

ROOT = Path(__file__).resolve().parent.parent

LANGUAGES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}
HALVES = ("tune", "held-out")


def rows(name: str) -> list[dict]:
    lines = (ROOT / "tests" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    searcher = Searcher(IndexStore(shipped_index("bench-honest")), load_embedder())
    honest, in_scope = rows("questions_honest.jsonl"), rows("questions_multilingual.jsonl")
    lines = [
        "",
        "| language | half | near-topic not answered | about the archive: right card first "
        "| in-scope answered | in-scope hit@3 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lang, name in LANGUAGES.items():
        for half in HALVES:

            def report(items: list[dict]):
                return evaluate(searcher, [parse_question(r) for r in items])

            near = report([r for r in honest if (r["lang"], r["half"], r["topic"]) ==
                           (lang, half, "near")])  # fmt: skip
            archive = report([r for r in honest if (r["lang"], r["half"], r["topic"]) ==
                              (lang, half, "archive")])  # fmt: skip
            scoped = report([r for r in in_scope if (r["lang"], r["half"]) == (lang, half)
                             and not r.get("out_of_scope")])  # fmt: skip
            lines.append(
                f"| {name} | {half} | {share(near.declined)} ({near.questions}) | "
                f"{share(archive.hit_at_1)} ({archive.questions}) | {share(scoped.answered)} "
                f"({scoped.questions}) | {share(scoped.hit_at_3)} |"
            )
            print(lines[-1], file=sys.stderr)
            for question in near.wrongly_answered:
                print(f"  answered, should not be: {question}", file=sys.stderr)
            for question in archive.misses:
                print(f"  archive question missed: {question}", file=sys.stderr)
    publish(
        "bench_honest",
        "Honest answers: near-topic questions and questions about the archive",
        [
            "`tests/questions_honest.jsonl`, written before it was run (a few found trying the "
            "bot are in the tuning half); targets of issue 19 (held-out): near-topic not "
            "answered ≥ 0.85, the archive's questions ≥ 0.90, in-scope answered ≥ 0.95 "
            "(English) and 0.92 (Russian, Kazakh).",
            *lines,
        ],
        args.write,
    )
    outcomes(searcher, args.write)


def outcomes(searcher: Searcher, write: Path | None) -> None:
    """The letter's outcomes on held-out questions (issue 42): far-topic ones must get nothing
    ("none"), near-topic ones no answer, in-scope ones an answer with the sentence holding it
    in bold. `tests/questions_fresh.jsonl` was written before it was run (its second batch of
    far-topic questions before the subject decision's last change)."""
    fresh, multilingual = rows("questions_fresh.jsonl"), rows("questions_multilingual.jsonl")
    near_older = rows("questions_near_topic.jsonl")
    lines = [
        "",
        "| language | far-topic: none (fresh) | far-topic: none (older) | near-topic: not "
        "answered (fresh) | near-topic: not answered (older) | in-scope answered | hit@1 "
        "| highlight holds the answer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def said(items: list[dict]) -> list:
        return [(item, searcher.search(item["q"], 3)) for item in items]

    def part(found: list, test) -> str:
        return f"{share(sum(map(test, found)) / len(found) if found else None)} ({len(found)})"

    for lang, name in LANGUAGES.items():
        held = [r for r in fresh + multilingual + near_older
                if (r["lang"], r["half"]) == (lang, "held-out")]  # fmt: skip
        far_fresh = said([r for r in held if r in fresh and r["topic"] == "unrelated"])
        far_older = said([r for r in held if r in multilingual and r["topic"] == "unrelated"])
        near_fresh = said([r for r in held if r in fresh and r["topic"] == "near"])
        near_old = said([r for r in held if r in near_older])
        scoped = said([r for r in held if r in multilingual and r["topic"] == "letter"])
        first = [(r, result) for r, result in scoped
                 if result.hits and is_hit(result.hits[0].passage.text, r["gold"])]  # fmt: skip
        shown = [(r, result) for r, result in first if result.found]

        def holds(pair) -> bool:
            item, result = pair
            hit = result.hits[0]
            span = hit.best_sentence
            return span is not None and is_hit(hit.passage.text[span[0] : span[1]], item["gold"])

        lines.append(
            f"| {name} | {part(far_fresh, lambda p: p[1].outcome == 'none')} | "
            f"{part(far_older, lambda p: p[1].outcome == 'none')} | "
            f"{part(near_fresh, lambda p: not p[1].found)} | "
            f"{part(near_old, lambda p: not p[1].found)} | "
            f"{part(scoped, lambda p: p[1].found)} | "
            f"{share(len(first) / len(scoped) if scoped else None)} | {part(shown, holds)} |"
        )
        print(lines[-1], file=sys.stderr)
        for item, result in far_fresh + far_older:
            if result.outcome != "none":
                print(f"  far-topic, {result.outcome}: {item['q']}", file=sys.stderr)
    publish(
        "bench_honest_outcomes",
        "The letter's outcomes: far-topic, near-topic and in-scope questions (held out)",
        [
            "Held-out halves only. Far-topic: `tests/questions_fresh.jsonl` (30 per language, "
            "written before they were run) and the unrelated questions of "
            "`tests/questions_multilingual.jsonl` (some of which name Kazakhstan or France); "
            "near-topic: the fresh ones (20 per language) and `tests/questions_near_topic.jsonl`. "
            "hit@1: the right passage first; the highlight, among the answered questions whose "
            "first passage holds the answer, is the sentence in bold holding it. Targets of "
            "issue 42: far-topic none ≥ 0.95, near-topic not answered ≥ 0.80 (older) and 0.50 "
            "(fresh), in-scope answered ≥ 0.95 English and 0.90 Russian and Kazakh, hit@1 ≥ 0.86 "
            "English and 0.60 Russian and Kazakh, highlight ≥ 0.85.",
            *lines,
        ],
        write,
    )


if __name__ == "__main__":
    main()
