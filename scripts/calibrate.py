"""Fit the shipped judgement (`index/calibration.json`) on the tuning halves of the question sets.

    python -m scripts.external_sets                   # once: the real sets, in data/external
    python -m scripts.calibrate [--sets data/external] [--answered 0.95] [--again]
                                [--write BENCHMARKS.md]

The sets: the real ones of `scripts/external_sets.py` (XQuAD en, ru, ru→en; KazQAD; SQuAD 2.0,
split by article; the first four's questions also asked of the other half's articles, where
nothing answers them: unanswerable questions in every language) and the letter's
(`tests/questions_multilingual.jsonl`, with its near-topic questions of
`tests/questions_honest.jsonl` and `tests/questions_near_topic.jsonl`), each searched with
`archive-bot`'s own search (index.evaluate.labelled_evidence). The letter's unrelated
questions form the sets `letter-LANG-far`: with the `-absent` sets, they are the questions off
the archive's subjects that the subject decision is fitted on. The evidence is
kept in `data/calibration-evidence.json` (`--again` searches anew). The decision is fitted on
the tuning halves only, every set and kind of question (answerable, not) weighing the same;
the figures of both halves are printed and stored in the calibration. An archive's own
labelled questions refit it for that archive: `archive-bot calibrate`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from index.answerable import ANSWERED, SHIPPED, describe, fit, shown
from index.build import build_index
from index.embed import load_embedder
from index.evaluate import labelled_evidence, load_questions, parse_question
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import publish, shipped_index
from scripts.external_sets import ABSENT, SETS

ROOT = Path(__file__).resolve().parent.parent
HALVES = ("tune", "held-out")
LETTER_FILES = ("questions_multilingual.jsonl", "questions_honest.jsonl",
                "questions_near_topic.jsonl")  # fmt: skip


# Sets of questions off the archive's subjects: asked of an archive without their article, or
# of the letter about unrelated things. The subject decision is fitted on them.
OFF_SUBJECT = ("-absent", "-far")


def letter_questions(half: str, lang: str, topics: tuple[str, ...]) -> list:
    """The letter's questions of one half and language and of `topics`: "letter" (in scope),
    "near" (near its subject, not answered by it), "unrelated" (off its subject); not those
    about the archive, answered from its cards."""
    found = []
    for name in LETTER_FILES:
        for line in (ROOT / "tests" / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else None
            if item and (item["half"], item["lang"]) == (half, lang) and \
                    item.get("topic") in topics:  # fmt: skip
                found.append(parse_question({k: item[k] for k in ("q", "gold", "out_of_scope")
                                             if k in item}))  # fmt: skip
    return found


def gather(sets: Path) -> dict[str, dict[str, tuple[list, list]]]:
    """Search every set's halves; return {set: {half: (evidence rows, labels)}}."""
    embedder = load_embedder()
    evidence: dict[str, dict[str, tuple[list, list]]] = {}
    letter = Searcher(IndexStore(shipped_index("calibrate")), embedder)
    for lang in ("en", "ru", "kk"):
        for name, topics in ((f"letter-{lang}", ("letter", "near")),
                             (f"letter-{lang}-far", ("unrelated",))):  # fmt: skip
            evidence[name] = {half: labelled_evidence(letter, letter_questions(half, lang, topics))
                              for half in HALVES}  # fmt: skip

    def archive(folder: Path) -> Path:
        """The data directory of the archive of `folder`/corpus, built when missing."""
        if not (folder / "data" / "index").exists():
            build_index(folder / "corpus", folder / "data", embedder=embedder)
        return folder / "data"

    for name, (folder, _) in SETS.items():
        searcher = Searcher(IndexStore(archive(sets / folder)), embedder)
        evidence[name] = {
            half: labelled_evidence(searcher, load_questions(sets / name / f"{half}.jsonl"))
            for half in HALVES
        }
        print(f"searched {name}", file=sys.stderr)
    for name in ABSENT:
        evidence[f"{name}-absent"] = {}
        for half in HALVES:
            searcher = Searcher(IndexStore(archive(sets / f"{SETS[name][0]}-absent" / half)),
                                embedder)  # fmt: skip
            questions = load_questions(sets / f"{name}-absent" / f"{half}.jsonl")
            evidence[f"{name}-absent"][half] = labelled_evidence(searcher, questions)
        print(f"searched {name}-absent", file=sys.stderr)
    return evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, default=ROOT / "data" / "external")
    parser.add_argument(
        "--answered", type=float, default=ANSWERED,
        help="share of the answerable tuning questions the cut answers",
    )  # fmt: skip
    parser.add_argument("--again", action="store_true", help="search anew, not the kept evidence")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument("--write", type=Path, help="also write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    kept = ROOT / "data" / "calibration-evidence.json"
    if args.again or not kept.exists():
        kept.parent.mkdir(exist_ok=True)
        kept.write_text(json.dumps(gather(args.sets)), encoding="utf-8")
    evidence = json.loads(kept.read_text(encoding="utf-8"))
    rows, labels, weights, off = [], [], [], []
    for name, halves in evidence.items():
        x, y = halves["tune"]
        counts = Counter(y)
        rows += x
        labels += y
        weights += [1.0 / counts[label] for label in y]  # each set's kind weighs the same
        off += [name.endswith(OFF_SUBJECT)] * len(y)
    calibration = fit(rows, labels, weights, off, args.answered,
                      source="the tuning halves of " + ", ".join(evidence))  # fmt: skip
    measured = {}
    for name, halves in evidence.items():
        for half, (x, y) in halves.items():
            measured[f"{name} {half}"] = calibration.measure(x, y)
            print(describe(f"{name} {half}", measured[f"{name} {half}"]))
    calibration = calibration.with_figures(measured)
    calibration.save(args.out)
    print(f"wrote {args.out} (cut {calibration.cut:.3f})", file=sys.stderr)
    publish("calibrate", "The judgement", report(evidence, measured, calibration.cut), args.write,
            how="after `python -m scripts.external_sets`; not run by `make bench`")  # fmt: skip


def report(evidence: dict, measured: dict, cut: float) -> list[str]:
    """The figures as a table for BENCHMARKS.md."""

    lines = [
        f"The fitted judgement at its cut ({cut:.3f}): answered, among the answerable questions "
        "whose right passage came first; declined, among the unanswerable ones; nothing quoted, "
        'among those the share found off the archive\'s subjects (outcome "none"; the sets '
        "named -far and -absent are off them, the others near them). Fitted on the tuning "
        "halves; the held-out halves were not seen.",
        "",
        "| set | tuning: answered | declined | nothing quoted | held-out: answered | declined "
        "| nothing quoted | held-out counted |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in evidence:
        tune, held = measured[f"{name} tune"], measured[f"{name} held-out"]
        lines.append(
            f"| {name} | {shown(tune['answered'])} | {shown(tune['declined'])} | "
            f"{shown(tune['none'])} | {shown(held['answered'])} | {shown(held['declined'])} | "
            f"{shown(held['none'])} | {held['answerable'] + held['unanswerable']} |"
        )
    return lines


if __name__ == "__main__":
    main()
