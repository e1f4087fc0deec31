"""index/answerable.py: the judgement's confidence, fitted on labelled questions, and its files;
`archive-bot calibrate`, which re-fits the cut for one archive."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from index.answerable import ARCHIVE_FILE, FEATURES, SHIPPED, Calibration, fit
from index.build import build_index
from index.errors import ArchiveError
from index.evaluate import Question, labelled_evidence, load_questions
from index.search import Searcher
from index.store import IndexStore
from scripts.external_sets import SAMPLES, SETS

from .support.archive import ROOT

# SAMPLES: a few held-out articles of each real set (python -m scripts.external_sets --sample;
# CC BY-SA 4.0, each catalogue says whence), which the shipped calibration was not fitted on.


def test_the_shipped_calibration_gives_a_confidence_between_0_and_1(searcher: Searcher):
    shipped = Calibration.load(SHIPPED)
    assert 0 < shipped.cut < 1 and "held-out" in " ".join(shipped.figures)
    for question in ["Who was the French ambassador?", "How do I bake sourdough bread?"]:
        result = searcher.search(question)
        assert result.confidence == round(shipped.confidence(result.evidence.features()), 3)
        assert 0 <= result.confidence <= 1
        assert (result.found, result.reason) == ((True, None) if result.found else (False, "far"))


def test_fit_learns_which_evidence_tells_and_the_cuts_keep_the_shares_asked():
    """The confidence learns from the evidence that tells answerable questions from the others,
    the subject from what tells questions off the archive's subjects; each cut keeps its share
    of the answerable questions."""
    rng = random.Random(3)
    rows, labels, off = [], [], []
    for _ in range(600):
        kind = rng.choice(["answerable", "near", "far"])
        row = [rng.gauss(0, 1) for _ in FEATURES]
        row[6] += 1.5 if kind == "answerable" else -1.5  # the coverage tells an answer
        row[1] += -2.0 if kind == "far" else 1.0  # the margin tells the subject
        rows.append(row)
        labels.append(int(kind == "answerable"))
        off.append(kind == "far")
    calibration = fit(rows, labels, [1.0] * len(rows), off, answered=0.9)
    assert abs(calibration.weights[6]) == max(abs(w) for w in calibration.weights)
    assert abs(calibration.subject_weights[1]) == max(abs(w) for w in calibration.subject_weights)
    answerable = [row for row, label in zip(rows, labels, strict=True) if label]
    answered = [calibration.confidence(row) >= calibration.cut for row in answerable]
    assert sum(answered) / len(answered) == pytest.approx(0.9, abs=0.01)
    on_subject = [calibration.on_subject(row) for row in answerable]
    assert sum(on_subject) / len(on_subject) == pytest.approx(0.99, abs=0.01)
    far = [calibration.on_subject(row) for row, o in zip(rows, off, strict=True) if o]
    assert sum(far) / len(far) < 0.2


def test_fit_refuses_labels_of_one_kind():
    with pytest.raises(ArchiveError, match="both kinds"):
        fit([[0.0] * len(FEATURES)] * 3, [1, 1, 1], [1.0] * 3, [False] * 3)
    with pytest.raises(ArchiveError, match="on and off the subject"):
        fit([[0.0] * len(FEATURES)] * 3, [1, 0, 0], [1.0] * 3, [False] * 3)


# A calibration file's fields with one weight: too few for FEATURES.
ONE_WEIGHT = {
    "means": [0],
    "scales": [1],
    "weights": [1],
    "bias": 0,
    "cut": 0.5,
    "subject_weights": [1],
    "subject_bias": 0,
    "subject_cut": 0.5,
}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        json.dumps({"features": ["e5_similarity"], **ONE_WEIGHT}),
        json.dumps({"features": list(FEATURES), **ONE_WEIGHT}),
        json.dumps({"features": list(FEATURES), "weights": []}),
        json.dumps(
            {
                "features": list(FEATURES),
                **{
                    k: v
                    for k, v in json.loads(SHIPPED.read_text()).items()
                    if not k.startswith("subject")
                },
            }
        ),
    ],
    ids=["empty", "damaged", "other features", "short weights", "missing fields", "older"],
)
def test_a_damaged_calibration_is_refused_and_the_archive_falls_back_to_the_shipped_one(
    tmp_path: Path, text: str, caplog
):
    (tmp_path / ARCHIVE_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ArchiveError, match="cannot read the calibration"):
        Calibration.load(tmp_path / ARCHIVE_FILE)
    with caplog.at_level(logging.WARNING):
        assert Calibration.for_archive(tmp_path) == Calibration.load(SHIPPED)
    assert "the shipped calibration serves instead" in caplog.text


def test_calibrate_refits_the_cut_for_one_archive_and_reset_removes_it(data_dir: Path, embedder):
    runner = CliRunner()
    files = [str(ROOT / "tests" / name) for name in ("questions.jsonl", "questions_honest.jsonl")]
    result = runner.invoke(cli, ["calibrate", *files, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    own = Calibration.load(data_dir / ARCHIVE_FILE)
    assert own.weights == Calibration.load(SHIPPED).weights  # a few labels refit the cut alone
    assert "held-out, new cut" in result.stdout and f"Cut {own.cut:.3f}" in result.stdout
    assert Searcher(IndexStore(data_dir), embedder).calibration == own
    status = runner.invoke(cli, ["status", "--data-dir", str(data_dir)])
    assert "this archive's own calibration" in status.stdout
    reset = runner.invoke(cli, ["calibrate", "--reset", "--data-dir", str(data_dir)])
    assert reset.exit_code == 0 and not (data_dir / ARCHIVE_FILE).exists()
    assert "the shipped calibration" in runner.invoke(cli, ["status", "--data-dir",
                                                            str(data_dir)]).stdout  # fmt: skip


def test_calibrate_explains_what_it_needs(data_dir: Path, tmp_path: Path):
    runner = CliRunner()
    nothing = runner.invoke(cli, ["calibrate", "--data-dir", str(data_dir)])
    assert nothing.exit_code == 2 and "give one or more question files" in nothing.output
    answerable = tmp_path / "answerable.jsonl"
    answerable.write_text('{"q": "Who was the French ambassador?", "gold": ["Smesov"]}\n')
    one_kind = runner.invoke(cli, ["calibrate", str(answerable), "--data-dir", str(data_dir)])
    assert one_kind.exit_code == 1 and "questions of both kinds" in one_kind.output
    assert "Traceback" not in one_kind.output and not (data_dir / ARCHIVE_FILE).exists()
    missing = runner.invoke(cli, ["calibrate", str(tmp_path / "none.jsonl"),
                                  "--data-dir", str(data_dir)])  # fmt: skip
    assert missing.exit_code != 0 and "Traceback" not in missing.output


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, Searcher]:
    """Each sample's archive, indexed once."""
    searchers = {}
    for name in SETS:
        data_dir = tmp_path_factory.mktemp(name)
        build_index(SAMPLES / name / "corpus", data_dir, embedder=embedder)
        searchers[name] = Searcher(IndexStore(data_dir), embedder)
    return searchers


def judged(searcher: Searcher, questions: list[Question]) -> dict:
    """The shipped judgement's figures on `questions` (index.answerable.figures)."""
    rows, labels = labelled_evidence(searcher, questions)
    return searcher.calibration.measure(rows, labels)


@pytest.mark.parametrize(
    ("name", "answered"),
    [("xquad-en", 0.9), ("xquad-ru", 0.9), ("xquad-ru-en", 0.72), ("xquad-en-ru", 0.8),
     ("kazqad-kk", 0.75), ("squad2", 0.85)],
)  # fmt: skip
def test_the_judgement_answers_most_questions_whose_right_passage_is_first(samples, name, answered):
    """Floors a little below what the shipped calibration does on these held-out samples,
    its subject decision included (BENCHMARKS.md, "The judgement", has the whole held-out
    halves: 0.88-0.98; these samples of 16-93 questions run lower across languages). SQuAD
    2.0's unanswerable questions, written against the paragraph that almost answers them, are
    still taken as answered nearly always (the part of issue 29 that is not met)."""
    found = judged(samples[name], load_questions(SAMPLES / name / "held-out.jsonl"))
    assert found["answered"] >= answered, found


@pytest.mark.parametrize(
    ("asked", "archive"),
    [("xquad-ru", "kazqad-kk"), ("kazqad-kk", "xquad-ru"), ("xquad-en", "kazqad-kk"),
     ("squad2", "xquad-ru")],
)  # fmt: skip
def test_questions_asked_of_an_archive_without_their_article_are_declined(samples, asked, archive):
    """Questions about one set's articles put to another's archive, on other subjects (and in
    other languages): nothing there answers them."""
    questions = [
        Question(q.q, out_of_scope=True) for q in load_questions(SAMPLES / asked / "held-out.jsonl")
    ]
    assert judged(samples[archive], questions)["declined"] >= 0.75
