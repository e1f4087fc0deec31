"""Reading the corpus: each supported file becomes a `Document` with its metadata.

Metadata comes from `corpus/catalogue.toml` (one table per document id) and, for Markdown, from
YAML front matter; the catalogue wins. A document's id is its path relative to the corpus.
The catalogue's `[archive]` table holds `examples`: questions the archive answers well, offered
to askers whose question found nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import yaml

logger = logging.getLogger(__name__)

CATALOGUE = "catalogue.toml"
ARCHIVE_TABLE = "archive"  # the catalogue's table about the archive itself, not a document
FORMATS = {".txt", ".md"}
METADATA_FIELDS = ("title", "author", "date", "source", "note")


@dataclass(frozen=True)
class Document:
    """One document of the archive: its exact text and its metadata.

    `body_start` is where the text after any front matter begins; passages are taken from
    `text[body_start:]` and their offsets point into `text`, the file's decoded content.
    """

    id: str
    text: str
    title: str
    author: str | None = None
    date: str | None = None
    source: str | None = None
    note: str | None = None
    body_start: int = 0
    sha256: str = ""

    @property
    def format(self) -> str:
        return Path(self.id).suffix.lower()

    def metadata(self) -> dict[str, str | None]:
        return {"id": self.id, **{name: getattr(self, name) for name in METADATA_FIELDS}}


@dataclass(frozen=True)
class Problem:
    """A file that could not be read, with the reason in words a maintainer understands."""

    path: str
    reason: str


class Corpus(NamedTuple):
    documents: list[Document]
    problems: list[Problem]
    examples: list[str]


def load_catalogue(corpus_dir: Path) -> dict[str, dict]:
    """Return the catalogue's tables by document id ({} when there is no catalogue)."""
    path = corpus_dir / CATALOGUE
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from error


def split_front_matter(text: str) -> tuple[dict, int]:
    """Return the YAML front matter of a Markdown text and where its body starts."""
    if not text.startswith("---"):
        return {}, 0
    end = text.find("\n---", 3)
    if end == -1:
        return {}, 0
    body_start = text.find("\n", end + 4)
    body_start = len(text) if body_start == -1 else body_start + 1
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError as error:
        raise ValueError(f"front matter is not valid YAML ({error})") from error
    return (data if isinstance(data, dict) else {}), body_start


def read_document(path: Path, doc_id: str, catalogue_entry: dict | None = None) -> Document:
    """Read one file into a `Document`.

    Raises:
        ValueError: the file is empty, not UTF-8 text, or its front matter is broken.
    """
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError("binary content in a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start})") from error
    metadata, body_start = split_front_matter(text) if path.suffix.lower() == ".md" else ({}, 0)
    if not text[body_start:].strip():
        raise ValueError("no text")
    metadata = {k: v for k, v in metadata.items() if k in METADATA_FIELDS and v is not None}
    metadata.update(catalogue_entry or {})
    fields = {name: str(metadata[name]) for name in METADATA_FIELDS if name in metadata}
    if "title" not in fields:
        logger.warning(
            "%s has no title in %s or front matter; using its file name", doc_id, CATALOGUE
        )
        fields["title"] = path.stem
    digest = hashlib.sha256(raw + json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return Document(id=doc_id, text=text, body_start=body_start, sha256=digest, **fields)


def load_corpus(corpus_dir: Path) -> Corpus:
    """Read every supported file under `corpus_dir`, sorted by id.

    Returns:
        The documents that could be read, one `Problem` for each file that could not, and the
        catalogue's example questions.

    Raises:
        FileNotFoundError: there is no such directory.
        ValueError: the catalogue is not valid TOML.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"no corpus directory at {corpus_dir}")
    catalogue = load_catalogue(corpus_dir)
    examples = [str(q) for q in catalogue.pop(ARCHIVE_TABLE, {}).get("examples", [])]
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        doc_id = path.relative_to(corpus_dir).as_posix()
        if doc_id == CATALOGUE or any(part.startswith(".") for part in Path(doc_id).parts):
            continue
        if path.suffix.lower() not in FORMATS:
            logger.info(
                "skipping %s: not a supported format (%s)", doc_id, ", ".join(sorted(FORMATS))
            )
            continue
        try:
            documents.append(read_document(path, doc_id, catalogue.get(doc_id)))
        except (OSError, ValueError) as error:
            problems.append(Problem(doc_id, str(error)))
    for doc_id in sorted(set(catalogue) - {d.id for d in documents} - {p.path for p in problems}):
        logger.warning("%s lists %s, which is not in the corpus", CATALOGUE, doc_id)
    return Corpus(documents, problems, examples)
