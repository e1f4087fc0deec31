"""Reading the corpus: each supported file becomes a `Document` with its metadata.

Metadata comes from `corpus/catalogue.toml` (one table per document id) and, for Markdown, from
YAML front matter; the catalogue wins. A document's id is its path relative to the corpus.
Files matched by the corpus's `.archiveignore` (gitignore syntax) are skipped. The catalogue's
`[archive]` table holds `examples`: questions the archive answers well, offered to askers
whose question found nothing, as one list (English) or one list per language code
(`[archive.examples]` with `en = [...]`, `ru = [...]`, `kk = [...]`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pathspec

from index.errors import ArchiveError
from index.formats import FORMATS, MARKDOWN_HEADINGS, extract
from index.headings import first_heading

logger = logging.getLogger(__name__)

CATALOGUE = "catalogue.toml"
IGNORE_FILE = ".archiveignore"  # files of the corpus not to index, in gitignore syntax
ARCHIVE_TABLE = "archive"  # the catalogue's table about the archive itself, not a document
ARCHIVE_FIELDS = ("examples",)
METADATA_FIELDS = ("title", "author", "date", "source", "note", "language")
#: Titles and authors that writing tools fill in by themselves: no metadata at all.
TOOL_DEFAULTS = {"untitled", "anonymous", "unknown", "author", "title", "python-docx"}


@dataclass(frozen=True)
class Document:
    """One document of the archive: its exact text and its metadata.

    `text` is the file's decoded content (plain text, Markdown) or the text extracted from it
    (HTML, PDF, Word); passages are taken from `text[body_start:]` (after any front matter)
    and their offsets point into `text`.
    """

    id: str
    text: str
    title: str
    author: str | None = None
    date: str | None = None
    source: str | None = None
    note: str | None = None
    language: str | None = None
    body_start: int = 0
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDF only)
    sha256: str = ""

    @property
    def markdown_headings(self) -> bool:
        return Path(self.id).suffix.lower() in MARKDOWN_HEADINGS

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
    examples: dict[str, list[str]]  # by language code
    skipped: list[Problem]  # files deliberately not read: other formats, links outside


def load_catalogue(corpus_dir: Path) -> dict[str, dict]:
    """Return the catalogue's tables by document id ({} when there is no catalogue)."""
    path = corpus_dir / CATALOGUE
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ArchiveError(f"{path} is not valid TOML: {error}") from error


def read_document(path: Path, doc_id: str, catalogue_entry: dict | None = None) -> Document:
    """Read one file into a `Document`.

    Raises:
        ValueError: the file cannot be read as its format (the message says why).
    """
    raw = path.read_bytes()
    with _named_warnings(doc_id):
        extracted = extract(path.suffix, raw)
    metadata = {}
    for name, value in extracted.metadata.items():
        if name not in METADATA_FIELDS or value is None:
            continue
        if str(value).strip().strip("()[]<>").lower() in TOOL_DEFAULTS:
            logger.warning("%s: its %s %r is a tool's default; ignored", doc_id, name, value)
            continue
        metadata[name] = value
    metadata.update(catalogue_entry or {})
    fields = {name: str(metadata[name]) for name in METADATA_FIELDS if name in metadata}
    if "title" not in fields:
        body = extracted.text[extracted.body_start :]
        fields["title"] = first_heading(body, path.suffix.lower() in MARKDOWN_HEADINGS) or path.stem
        logger.warning(
            "%s has no title (catalogue or file); using %r, its first heading or file name",
            doc_id,
            fields["title"],
        )
    digest = hashlib.sha256(raw + json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return Document(
        id=doc_id,
        text=extracted.text,
        body_start=extracted.body_start,
        pages=tuple(extracted.pages),
        sha256=digest,
        **fields,
    )


@contextmanager
def _named_warnings(doc_id: str) -> Iterator[None]:
    """Log what the PDF reader warns about while it reads `doc_id`, naming the document.

    pypdf's own warnings ("EOF marker not found") do not say which file they are about.
    """
    library = logging.getLogger("pypdf")

    class Named(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logger.log(record.levelno, "%s: %s", doc_id, record.getMessage())

    handler, propagate = Named(), library.propagate
    library.addHandler(handler)
    library.propagate = False
    try:
        yield
    finally:
        library.removeHandler(handler)
        library.propagate = propagate


def _check_catalogue(catalogue: dict) -> None:
    """Warn about each key of the catalogue that nothing reads: a typo loses metadata."""
    for table, entry in catalogue.items():
        if not isinstance(entry, dict):
            logger.warning("%s: %s is not a table of metadata; ignored", CATALOGUE, table)
            continue
        known = ARCHIVE_FIELDS if table == ARCHIVE_TABLE else METADATA_FIELDS
        for key in entry.keys() - set(known):
            logger.warning(
                "%s: [%s] has an unknown key %r (known: %s); ignored",
                CATALOGUE,
                json.dumps(table, ensure_ascii=False),
                key,
                ", ".join(known),
            )


def _ignore_spec(corpus_dir: Path) -> pathspec.PathSpec | None:
    """Return the patterns of the corpus's ignore file, if it has one."""
    path = corpus_dir / IGNORE_FILE
    if not path.is_file():
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(f"cannot read {path}: {error}") from error


def example_questions(examples: list | dict) -> dict[str, list[str]]:
    """Return the catalogue's example questions by language code ("en" for a plain list)."""
    by_language = examples if isinstance(examples, dict) else {"en": examples}
    return {str(lang): [str(q) for q in questions] for lang, questions in by_language.items()}


def load_corpus(corpus_dir: Path) -> Corpus:
    """Read every supported file under `corpus_dir`, sorted by id.

    Returns:
        The documents that could be read, one `Problem` for each file that could not, the
        catalogue's example questions, and the files of unsupported formats.

    Raises:
        ArchiveError: there is no such directory, or the catalogue is not valid TOML.
    """
    if not corpus_dir.is_dir():
        raise ArchiveError(f"no corpus directory at {corpus_dir}: create it or pass --corpus")
    catalogue = load_catalogue(corpus_dir)
    _check_catalogue(catalogue)
    catalogue = {k: v for k, v in catalogue.items() if isinstance(v, dict)}
    ignored = _ignore_spec(corpus_dir)
    examples = example_questions(catalogue.pop(ARCHIVE_TABLE, {}).get("examples", []))
    documents: list[Document] = []
    problems: list[Problem] = []
    skipped: list[Problem] = []
    root = corpus_dir.resolve()
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        doc_id = path.relative_to(corpus_dir).as_posix()
        if doc_id == CATALOGUE or any(part.startswith(".") for part in Path(doc_id).parts):
            continue
        try:
            doc_id.encode("utf-8")
        except UnicodeEncodeError:  # an id must be text: in the index, the log, JSON
            shown = doc_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(shown, "the file name is not valid UTF-8: rename the file"))
            continue
        if ignored and ignored.match_file(doc_id):
            skipped.append(Problem(doc_id, f"matched by {IGNORE_FILE}"))
            continue
        if not path.resolve().is_relative_to(root):  # as linked folders are not followed
            skipped.append(Problem(doc_id, "a link to a file outside the corpus"))
            continue
        if path.suffix.lower() not in FORMATS:
            skipped.append(Problem(doc_id, "not a supported format"))
            continue
        try:
            documents.append(read_document(path, doc_id, catalogue.get(doc_id)))
        except (OSError, ValueError) as error:
            problems.append(Problem(doc_id, str(error)))
    for doc_id in sorted(set(catalogue) - {d.id for d in documents} - {p.path for p in problems}):
        logger.warning("%s lists %s, which is not in the corpus", CATALOGUE, doc_id)
    return Corpus(documents, problems, examples, skipped)
