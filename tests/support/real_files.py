"""Real files from other projects' test suites (`tests/real_files/`, its README says whence),
each with facts checked by hand against the file (`facts.jsonl`): text that must become a
passage, page furniture that must not, the title and author, and a question it answers.
`tests/test_real_files.py` and `scripts/bench_real_files.py` check them the same way, here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.documents import Corpus, Document, load_corpus
from index.normalize import fold
from index.passages import Passage, split_passages

REAL_FILES = Path(__file__).resolve().parent.parent / "real_files"  # README.md, facts.jsonl
CORPUS = REAL_FILES / "corpus"  # the files, by kind: web/, pdf/, scan/, office/, epub/
KINDS = ("web", "pdf", "scan", "office", "epub")
SHORT_JUNK = 3  # words: shorter junk ("12", "Share") counts only as a line of its own


@dataclass(frozen=True)
class Fact:
    """One fact about one file, and whether the readers hold it."""

    file: str
    kind: str
    what: str  # "passage", "junk", "title", "author" or "question"
    expected: str
    held: bool


def entries() -> list[dict]:
    """The facts file's entries, one per file (its path in CORPUS)."""
    lines = (REAL_FILES / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def same(text: str) -> str:
    """`text` as compared: folded, its whitespace one space (a line end inside a sentence of a
    PDF or an HTML source is a space to a reader)."""
    return " ".join(fold(text).split())


def read(embedder, folder: Path = CORPUS) -> tuple[Corpus, dict[str, list[Passage]]]:
    """Read every file of `folder` (CORPUS, or a part of it laid out alike) with the real
    readers; return the corpus and each document's passages."""
    corpus = load_corpus(folder)
    passages = {
        d.id: split_passages(d, embedder.count_tokens, embedder.max_tokens)
        for d in corpus.documents
    }
    return corpus, passages


def judged(corpus: Corpus, passages: dict[str, list[Passage]],
           answers: dict[str, bool] | None = None) -> list[Fact]:  # fmt: skip
    """Every fact of the entries, held or not by what was read. `answers` says, per file,
    whether its question was answered from it among the first three quotes (a bench searches;
    without it, questions are not judged)."""
    documents = {d.id: d for d in corpus.documents}
    found: list[Fact] = []
    for entry in entries():
        name = entry["file"]
        held = _held(entry, documents.get(name), passages.get(name, []), answers)
        found += [Fact(name, entry["kind"], what, expected, ok) for what, expected, ok in held]
    return found


def _held(entry: dict, document: Document | None, passages: list[Passage],
          answers: dict[str, bool] | None) -> list[tuple[str, str, bool]]:  # fmt: skip
    """(kind of fact, what it expects, held) for each fact of one file's `entry`; nothing
    holds for a file that was not read."""
    texts = [same(p.text) for p in passages]
    lines = {same(line) for p in passages for line in p.text.splitlines()}
    checked = [("passage", phrase, any(same(phrase) in text for text in texts))
               for phrase in entry.get("passages", [])]  # fmt: skip
    for junk in entry.get("junk", []):
        wanted = same(junk)
        if len(wanted.split()) < SHORT_JUNK:
            checked.append(("junk", junk, wanted not in lines and wanted not in texts))
        else:
            checked.append(("junk", junk, not any(wanted in text for text in texts)))
    for what in ("title", "author"):
        if entry.get(what):
            value = getattr(document, what, None) or ""
            checked.append((what, entry[what], same(value) == same(entry[what])))
    if answers is not None and entry.get("question"):
        checked.append(("question", entry["question"], answers.get(entry["file"], False)))
    return [(what, expected, held and document is not None) for what, expected, held in checked]


def shares(facts: list[Fact]) -> dict[str, tuple[int, int]]:
    """Facts held and facts in all, per kind of file and overall ("all")."""
    counted: dict[str, tuple[int, int]] = {}
    for key in (*KINDS, "all"):
        chosen = [f for f in facts if key in ("all", f.kind)]
        counted[key] = (sum(f.held for f in chosen), len(chosen))
    return counted
