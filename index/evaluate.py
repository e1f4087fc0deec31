"""Retrieval quality on a question file: hit@1, hit@3, MRR@5, answered and declined shares.

Question files are JSON Lines: {"q": "...", "gold": ["phrase", ...]} for questions the archive
answers (a hit is a passage containing any gold phrase, compared in folded form), or
{"q": "...", "out_of_scope": true} for questions it should decline.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.answerable import ANSWERED, SHIPPED, Calibration, choose_cut, need_both_kinds
from index.errors import ArchiveError
from index.normalize import fold
from index.search import Fusion, Mode, Searcher

RANKS = 5  # MRR@5 and hit@k need the five best passages whatever the answer's top k


@dataclass(frozen=True)
class Question:
    q: str
    gold: tuple[str, ...] = ()
    out_of_scope: bool = False


@dataclass
class EvalReport:
    """Scores over one question file; shares are in [0, 1] (None when no question applies)."""

    questions: int = 0
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    mrr_at_5: float | None = None
    answered: float | None = None  # share of in-scope questions with found = true
    declined: float | None = None  # share of out-of-scope questions with found = false
    ms_per_question: float = 0.0
    misses: list[str] = field(default_factory=list)  # in-scope questions with no hit in the top 5
    wrongly_answered: list[str] = field(default_factory=list)  # out-of-scope ones answered

    def summary(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def load_questions(path: Path) -> list[Question]:
    """Read a question file.

    Raises:
        ArchiveError: the file is missing or a line is not a valid question.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ArchiveError(f"cannot read the question file {path}: {error}") from error
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(parse_question(json.loads(line)))
        except ValueError as error:  # json's errors are ValueErrors too
            raise ArchiveError(f"{path}:{number}: {error}") from error
    return questions


def parse_question(item: object) -> Question:
    """Return the question of one line of a question file.

    Raises:
        ValueError: saying what is wrong, e.g. a gold phrase given as a string, not a list.
    """
    if not isinstance(item, dict):
        raise ValueError('each line must be an object: {"q": ..., "gold": [...]}')
    q, gold, out_of_scope = item.get("q"), item.get("gold", []), item.get("out_of_scope", False)
    if not isinstance(q, str) or not q.strip():
        raise ValueError('"q" must be the question, a non-empty string')
    if not isinstance(out_of_scope, bool):
        raise ValueError('"out_of_scope" must be true or false')
    if not isinstance(gold, list) or not all(isinstance(g, str) and g.strip() for g in gold):
        raise ValueError('"gold" must be a list of non-empty phrases, e.g. ["Tokaev"]')
    if bool(gold) == out_of_scope:
        raise ValueError('give either "gold": [phrases] or "out_of_scope": true')
    return Question(q=q, gold=tuple(gold), out_of_scope=out_of_scope)


def is_hit(text: str, gold: tuple[str, ...]) -> bool:
    """Whether the passage `text` contains any gold phrase, in folded form."""
    folded = fold(text)
    return any(fold(phrase) in folded for phrase in gold)


def first_hit(texts: list[str], gold: tuple[str, ...]) -> int | None:
    """Return the 1-based rank of the first text among the top 5 that holds a gold phrase."""
    return next((i for i, text in enumerate(texts[:RANKS], 1) if is_hit(text, gold)), None)


def rank_scores(ranks: list[int | None]) -> tuple[float, float, float]:
    """Return hit@1, hit@3 and MRR@5 for the first-hit ranks of a set of questions."""
    found = [r for r in ranks if r]
    return (
        sum(r == 1 for r in found) / len(ranks),
        sum(r <= 3 for r in found) / len(ranks),
        sum(1 / r for r in found) / len(ranks),
    )


def evaluate(
    searcher: Searcher,
    questions: list[Question],
    top_k: int = RANKS,
    mode: Mode = "hybrid",
    fusion: Fusion = "weighted",
) -> EvalReport:
    """Search every question and score the rankings (over max(top_k, 5) passages)."""
    report = EvalReport(questions=len(questions))
    ranks: list[int | None] = []
    answered, declined = [], []
    started = time.perf_counter()
    for question in questions:
        result = searcher.search(question.q, max(top_k, RANKS), mode=mode, fusion=fusion)
        if question.out_of_scope:
            declined.append(not result.found)
            if result.found:
                report.wrongly_answered.append(question.q)
            continue
        answered.append(result.found)
        rank = first_hit([hit.passage.text for hit in result.hits], question.gold)
        ranks.append(rank)
        if rank is None:
            report.misses.append(question.q)
    report.ms_per_question = 1000 * (time.perf_counter() - started) / max(len(questions), 1)
    if ranks:
        report.hit_at_1, report.hit_at_3, report.mrr_at_5 = rank_scores(ranks)
        report.answered = sum(answered) / len(answered)
    if declined:
        report.declined = sum(declined) / len(declined)
    return report


def labelled_evidence(
    searcher: Searcher, questions: list[Question]
) -> tuple[list[list[float]], list[int]]:
    """Search `questions` and return the judgement's evidence (index.answerable) with its
    label: 1 for an in-scope question whose right passage came first, 0 for an out-of-scope
    one. In-scope questions ranked wrongly, and questions answered from the catalogue (no
    evidence), teach the decision nothing and are left out."""
    rows, labels = [], []
    for question in questions:
        result = searcher.search(question.q, RANKS)
        if result.evidence is None:
            continue
        if question.out_of_scope:
            label = 0
        elif first_hit([hit.passage.text for hit in result.hits], question.gold) == 1:
            label = 1
        else:
            continue
        rows.append(result.evidence.features())
        labels.append(label)
    return rows, labels


def half_of(question: str) -> str:
    """The half an archive's own labelled question falls in, "tune" or "held-out": fixed by
    its folded text, so a question keeps its half however the files are ordered."""
    return ("tune", "held-out")[zlib.crc32(fold(question).encode()) % 2]


def calibrate_archive(
    searcher: Searcher, questions: list[Question], answered: float = ANSWERED
) -> Calibration:
    """Re-fit the cut of the shipped calibration on an archive's own labelled questions.

    The shipped weights and subject decision stay (an archive's few hundred labels would
    overfit them, and its labels do not say which questions are off its subjects); the cut is
    the one that answers `answered` of the tuning half's answerable questions. The figures of
    both halves, at the shipped cut and at the new one, come with the calibration.

    Raises:
        ArchiveError: the tuning half lacks answerable or unanswerable questions.
    """
    import numpy as np

    shipped = Calibration.load(SHIPPED)
    evidence = {
        half: labelled_evidence(searcher, [q for q in questions if half_of(q.q) == half])
        for half in ("tune", "held-out")
    }
    rows, labels = evidence["tune"]
    need_both_kinds(labels)
    confidence = np.array([shipped.confidence(row) for row in rows])
    cut = choose_cut(confidence, np.array(labels), np.ones(len(labels)), answered)
    measured = {}
    for half, (rows, labels) in evidence.items():
        for name, value in (("shipped cut", shipped.cut), ("new cut", cut)):
            measured[f"{half}, {name}"] = shipped.measure(rows, labels, value)
    return replace(shipped, cut=cut, figures=measured,
                   source=f"the shipped weights; the cut from {len(questions)} labelled "
                   "questions of this archive")  # fmt: skip
