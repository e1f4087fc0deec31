"""Whether the passages found answer a question: a confidence fitted on labelled questions.

Search ranks the passages (`index.search`); this module judges them. The evidence is general,
the same in every archive and language: how close in meaning both models find the question
to the first passages, and the multilingual one to unrelated background texts (all of them,
and those in the first passage's letters); how far the first passage leads the next; how much
of the question's rare words the best sentence of the first passages and its whole passage
hold; whether one passage holds all its words; how much closer the passages are to the
question than to its names alone (`index.names`); and whether the first passage is written in
other letters than the question (a Russian question, an English passage: closeness runs lower
across languages).

Two logistic regressions over that evidence, fitted on labelled questions, decide. The first
says whether the first passages are on the question's subject at all (`on_subject`): fitted
on questions about the archive's subjects, answerable or not, against questions about
subjects it does not hold (asked of an archive without their article; "Who painted The
Starry Night?" of the letter). Off the subject, the bot quotes nothing. The second gives the
confidence in [0, 1] that they answer it: the question is answered when it is on the subject
and the confidence reaches the calibration's cut.

The weights and the cut are data: the shipped calibration (`calibration.json` beside this
file, written by `python -m scripts.calibrate` from the tuning halves of the project's
question sets) serves every archive until its maintainer fits the archive's own from its
labelled questions (`archive-bot calibrate`, written to DATA_DIR/calibration.json).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ArchiveError

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "calibration.json"
BACKGROUND = Path(__file__).parent / "background.txt"
ARCHIVE_FILE = "calibration.json"  # an archive's own calibration, in its data directory
# The features, in the order of the weights. A measure that was not taken (the English model
# does not run for a question in Cyrillic letters; a question may name nothing) gives 0 and
# its "has_" feature 0.
FEATURES = (
    "e5_similarity", "e5_margin", "e5_margin_script", "minilm_similarity", "has_minilm",
    "score_gap", "sentence_coverage", "passage_coverage", "every_word", "names_added_e5",
    "names_added_minilm", "has_names", "content_words", "other_script",
)  # fmt: skip
L2 = 0.01  # the ridge of the fit, on standardised features
NEWTON_STEPS = 30
# The cut answers at least this share of the labelled answerable questions whose right passage
# came first (weighted), and declines as many of the others as that leaves. Issue 29 asks 0.95
# of such questions answered on XQuAD and KazQAD and 0.90 on SQuAD 2.0: 0.90 on the pooled
# tuning halves answered 0.81-0.92 of the held-out ones (the letter's 0.84-0.90), 0.95 answers
# 0.90-1.00 while declining fewer unanswerable ones (BENCHMARKS.md, "The judgement").
ANSWERED = 0.95
# The subject's cut keeps this share of the answerable questions whose right passage came first
# (weighted) on the subject: one taken for off the subject loses its answer and its quotes.
ON_SUBJECT = 0.99


@functools.cache
def background_texts() -> tuple[str, ...]:
    """The unrelated texts of `background.txt`, in the three languages (read once)."""
    lines = BACKGROUND.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def background_vectors(multilingual) -> np.ndarray:
    """The multilingual model's (an `index.embed.Embedder`) vectors of the background texts,
    encoded once per process. An index stores them (`index.store.IndexStore.background`): a
    start of the bot reads them from there."""
    return multilingual.encode(list(background_texts()))


def background_key() -> str:
    """A name for the background texts: an index stores their vectors under it
    (`index.store.IndexStore.background`), and a change to the texts makes a new one."""
    return hashlib.sha256("\n".join(background_texts()).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    """What search knows about a question and its first passages (None: not measured)."""

    e5_similarity: float  # the multilingual model's best cosine to a first passage
    e5_margin: float  # that, less its best cosine to a background text
    e5_margin_script: float  # the same, to a background text in the first passage's letters
    minilm_similarity: float | None  # the English model's best cosine to a first passage
    score_gap: float  # the first passage's fused score less the second's
    sentence_coverage: float  # share of the question's rare words in the best sentence (IDF)
    passage_coverage: float  # the same in the whole passage of that sentence
    every_word: bool  # one passage holds every content word of the question
    names_added_e5: float | None  # closer to the question than to its names alone, by e5
    names_added_minilm: float | None  # the same by the English model
    content_words: int  # how many content words the question has
    other_script: bool  # the first passage is in other letters than the question (ru → en)

    def features(self) -> list[float]:
        """The evidence as numbers, in the order of FEATURES."""

        def value(x: float | None) -> float:
            return 0.0 if x is None else float(x)

        names = self.names_added_e5 is not None or self.names_added_minilm is not None
        return [
            self.e5_similarity, self.e5_margin, self.e5_margin_script,
            value(self.minilm_similarity), float(self.minilm_similarity is not None),
            self.score_gap, self.sentence_coverage, self.passage_coverage,
            float(self.every_word), value(self.names_added_e5), value(self.names_added_minilm),
            float(names), math.log1p(self.content_words), float(self.other_script),
        ]  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    """A fitted decision: standardisation, weights, bias and the cut on the confidence."""

    means: list[float]
    scales: list[float]
    weights: list[float]  # of the confidence that the first passages answer the question
    bias: float
    cut: float
    subject_weights: list[float]  # of the probability that they are on its subject at all
    subject_bias: float
    subject_cut: float
    source: str = ""  # what it was fitted on, for `status` and the curious
    figures: dict = field(default_factory=dict)  # the fit's own figures (tuning, held-out)

    def confidence(self, features: list[float]) -> float:
        """The fitted probability that the first passages answer the question, from its
        evidence's `features` (Evidence.features)."""
        return self._probability(self.weights, self.bias, features)

    def on_subject(self, features: list[float]) -> bool:
        """Whether the first passages are on the question's subject (else nothing is quoted):
        the fitted probability that they are reaches the subject's cut."""
        probability = self._probability(self.subject_weights, self.subject_bias, features)
        return probability >= self.subject_cut

    def measure(self, rows: list[list[float]], labels: list[int], cut: float | None = None) -> dict:
        """The `figures` of this calibration on labelled evidence `rows`, at its own cut or
        `cut`, its subject decision included."""
        confidence = [self.confidence(row) for row in rows]
        subject = [self.on_subject(row) for row in rows]
        return figures(confidence, labels, self.cut if cut is None else cut, subject)

    def _probability(self, weights: list[float], bias: float, features: list[float]) -> float:
        z = bias + sum(
            w * (x - m) / s
            for w, x, m, s in zip(weights, features, self.means, self.scales, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def with_figures(self, figures: dict) -> Calibration:
        """This calibration, with the figures measured with it."""
        return replace(self, figures=figures)

    def text(self) -> str:
        """The calibration as JSON, as a file or the database keeps it."""
        return json.dumps({"features": list(FEATURES), **asdict(self)}, indent=1) + "\n"

    def save(self, path: Path) -> None:
        """Write the calibration as JSON, atomically (a reader never sees half of it)."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(self.text(), encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> Calibration:
        """Read a calibration file.

        Raises:
            ArchiveError: it is unreadable, damaged, or made for other features.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ArchiveError(f"cannot read the calibration {path}: {error}") from error
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, where: str) -> Calibration:
        """Read a calibration from its JSON `text`, kept at `where` (for messages).

        Raises:
            ArchiveError: it is damaged, or made for other features.
        """
        try:
            data = json.loads(text)
            if data.pop("features") != list(FEATURES):
                raise ValueError("it was fitted on other features: run `archive-bot calibrate`")
            if "subject_weights" not in data:  # written before 0.6.0, with the old weights
                raise ValueError("it was written by an older version: run `archive-bot "
                                 "calibrate` again")  # fmt: skip
            calibration = cls(**data)
            if not all(len(v) == len(FEATURES) for v in (calibration.means, calibration.scales,
                       calibration.weights, calibration.subject_weights)):  # fmt: skip
                raise ValueError("its weights do not match its features")
            return calibration
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ArchiveError(f"cannot read the calibration {where}: {error}") from error

    @classmethod
    def for_archive(cls, data_dir: Path) -> Calibration:
        """The archive's own calibration when it has one, else the shipped one (also when its
        own is damaged: the bot keeps answering, with a warning naming where it is)."""
        try:
            if (own := own_calibration(data_dir)) is not None:
                return cls.parse(*own)
        except ArchiveError as error:
            logger.warning("%s; the shipped calibration serves instead", error)
        return cls.load(SHIPPED)


def own_calibration(data_dir: Path) -> tuple[str, str] | None:
    """The archive's own calibration as (JSON text, where it is kept): in the database with
    ARCHIVE_BOT_DATABASE_URL (every machine's bots share it), else in `data_dir`; None when
    the archive has none.

    Raises:
        ArchiveError: it cannot be read.
    """
    from index.store import database_url

    if (url := database_url()) is not None:
        from index import postgres

        text = postgres.read_calibration(url)
        return None if text is None else (text, postgres.where(url))
    path = data_dir / ARCHIVE_FILE
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ArchiveError(f"cannot read the calibration {path}: {error}") from error


def keep_calibration(data_dir: Path, calibration: Calibration | None) -> str:
    """Make `calibration` the archive's own (None: none, the shipped one serves), where
    `own_calibration` reads it; return where that is.

    Raises:
        ArchiveError: it cannot be written there.
    """
    from index.store import database_url

    if (url := database_url()) is not None:
        from index import postgres

        postgres.write_calibration(url, calibration.text() if calibration else None)
        return postgres.where(url)
    path = data_dir / ARCHIVE_FILE
    try:
        if calibration is None:
            path.unlink(missing_ok=True)
        else:
            calibration.save(path)
    except OSError as error:
        raise ArchiveError(f"cannot write {path}: {error.strerror or error}") from error
    return str(path)


def fit(rows: list[list[float]], labels: list[int], weights: list[float], off: list[bool],
        answered: float = ANSWERED, source: str = "") -> Calibration:  # fmt: skip
    """Fit the decision on labelled evidence: `rows` of features, `labels` 1 (the first passage
    answers) or 0 (nothing in the archive does), `off` whether the question is off the
    archive's subjects (its 0 is "far", not "near"), each row weighted (a question set's rows
    share one weight, so a large set does not drown a small one).

    Raises:
        ArchiveError: the labels hold no answerable or no unanswerable question, or no
            question is off the subject.
    """
    import numpy as np

    need_both_kinds(labels)
    if not any(off) or all(off):
        raise ArchiveError("fitting the subject needs questions on and off the subject")
    x, y, w = np.asarray(rows, float), np.asarray(labels, float), np.asarray(weights, float)
    on = 1.0 - np.asarray(off, float)
    w = w / w.mean()
    means = (w[:, None] * x).sum(0) / w.sum()
    scales = np.sqrt((w[:, None] * (x - means) ** 2).sum(0) / w.sum())
    scales[scales < 1e-9] = 1.0  # a feature that never varies carries no weight
    z = np.c_[(x - means) / scales, np.ones(len(x))]
    answer, p = _logistic(z, y, w)
    subject, q = _logistic(z, on, w)
    return Calibration(
        means=means.tolist(), scales=scales.tolist(), weights=answer[:-1].tolist(),
        bias=float(answer[-1]), cut=choose_cut(p, y, w, answered),
        subject_weights=subject[:-1].tolist(), subject_bias=float(subject[-1]),
        subject_cut=choose_cut(q, y, w, ON_SUBJECT), source=source,
    )  # fmt: skip


def _logistic(z, y, w):
    """A weighted ridge logistic regression of `y` on the standardised `z` (its last column
    ones, the unshrunk bias) by Newton's method; return its coefficients and probabilities."""
    import numpy as np

    beta = np.zeros(z.shape[1])
    ridge = L2 * np.eye(len(beta))
    ridge[-1, -1] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (w * (p - y)) + ridge @ beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
        beta -= np.linalg.solve(hessian, gradient)
    return beta, 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))


def need_both_kinds(labels: list[int]) -> None:
    """Refuse labels that lack answerable or unanswerable questions (ArchiveError)."""
    if 1 not in labels or 0 not in labels:
        raise ArchiveError(
            "calibrating needs questions of both kinds, in the tuning half: some the archive "
            "answers (its right passage first) and some it cannot (out of scope; label them "
            "with `archive-bot logs label N --out-of-scope`)"
        )


def choose_cut(confidence, labels, weights, answered: float = ANSWERED) -> float:
    """The highest cut that still answers `answered` of the answerable questions (weighted);
    numpy arrays of the confidences, labels and weights."""
    import numpy as np

    positive = labels == 1
    order = np.argsort(-confidence[positive])
    share = np.cumsum(weights[positive][order]) / weights[positive].sum()
    reached = int(np.searchsorted(share, answered))
    return float(confidence[positive][order][min(reached, len(order) - 1)])


def figures(confidence: list[float], labels: list[int], cut: float,
            subject: list[bool] | None = None) -> dict:  # fmt: skip
    """The share of answerable questions answered and of unanswerable ones declined at `cut`
    (None where a kind is missing), with how many there are of each. With `subject` (whether
    each question's first passages are on its subject), a question off it is not answered,
    and "none" is the share of the unanswerable ones found off the subject (nothing quoted)."""
    on = subject or [True] * len(labels)
    said = [c >= cut and o for c, o in zip(confidence, on, strict=True)]
    answered = [a for a, y in zip(said, labels, strict=True) if y == 1]
    declined = [not a for a, y in zip(said, labels, strict=True) if y == 0]
    nothing = [not o for o, y in zip(on, labels, strict=True) if y == 0]
    return {
        "answered": round(sum(answered) / len(answered), 3) if answered else None,
        "declined": round(sum(declined) / len(declined), 3) if declined else None,
        "none": round(sum(nothing) / len(nothing), 3) if nothing and subject else None,
        "answerable": len(answered),
        "unanswerable": len(declined),
    }


def shown(share: float | None) -> str:
    """A share of `figures` as printed: two decimals, "—" where it was not measured."""
    return "—" if share is None else f"{share:.2f}"


def describe(name: str, figure: dict) -> str:
    """One line of `figures` for a person: "held-out  answered 0.92 of 48, declined …"."""
    return (f"{name:<24} answered {shown(figure['answered'])} of {figure['answerable']}, "
            f"declined {shown(figure['declined'])} of {figure['unanswerable']}"
            f" (nothing quoted {shown(figure.get('none'))})")  # fmt: skip
