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
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import pathspec

from index.errors import ArchiveError
from index.headings import first_heading
from index.languages import detect_language
from index.limits import Limits
from index.readers import CONVERT, FORMATS, MARKDOWN_HEADINGS
from index.readers.text import tool_made
from index.readers.worker import Reader

logger = logging.getLogger(__name__)

#: Makes the progress callback of a stage ("Reading" files, "OCR" pages of a scan,
#: "Embedding" passages) with `total` steps: it is called with the steps done since its last
#: call.
ProgressFactory = Callable[[str, int], Callable[[int], object]]

CATALOGUE = "catalogue.toml"
IGNORE_FILE = ".archiveignore"  # files of the corpus not to index, in gitignore syntax
ARCHIVE_TABLE = "archive"  # the catalogue's table about the archive itself, not a document
ARCHIVE_FIELDS = ("examples",)
METADATA_FIELDS = ("title", "author", "date", "source", "note", "language")


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
    # The catalogue entry describing it when not its own: a renamed file whose entry still
    # names its old path (index.build keeps it, and says to move it).
    catalogue_id: str | None = None
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDF only)
    scanned: tuple[int, ...] = ()  # 1-based pages whose text OCR recognised (scans)
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
    orphans: dict[str, dict]  # catalogue entries naming no file of the corpus, by their id


def printable(name: str) -> str:
    """Return `name` with control and format characters escaped (`\\u202e`), for reports.

    A file name may hold a newline (forging a line of a report) or a right-to-left override
    (showing "report\u202etxt.exe" as "reportexe.txt"); reports and titles show them as escapes.
    """
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf") else c for c in name
    )


def load_catalogue(corpus_dir: Path) -> dict[str, dict]:
    """Return the catalogue's valid tables by table name ({} when there is no catalogue).

    The catalogue is checked, not trusted: a table that cannot be parsed (bad TOML, nesting
    too deep) or a value of the wrong type is left out with one warning naming the table and
    key, and the rest is used.
    """
    path = corpus_dir / CATALOGUE
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        logger.warning("%s cannot be read (%s); no document gets its metadata", CATALOGUE, error)
        return {}
    try:
        tables = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        tables = _parse_by_table(text)
    valid = {}
    for name, entry in tables.items():
        shown = json.dumps(printable(name), ensure_ascii=False)
        if not isinstance(entry, dict):
            logger.warning("%s: %s is not a table of metadata; ignored", CATALOGUE, shown)
            continue
        check = _archive_value if name == ARCHIVE_TABLE else _metadata_value
        known = ARCHIVE_FIELDS if name == ARCHIVE_TABLE else METADATA_FIELDS
        valid[name] = {}
        for key, value in entry.items():
            if key not in known:
                logger.warning(
                    "%s: [%s] has an unknown key %r (known: %s); ignored",
                    CATALOGUE, shown, printable(key), ", ".join(known),
                )  # fmt: skip
            elif (problem := check(value)) is not None:
                logger.warning("%s: [%s] %s %s; ignored", CATALOGUE, shown, key, problem)
            else:
                valid[name][key] = value
    return valid


_TABLE_HEADER = re.compile(r"\s*\[")


def _parse_by_table(text: str) -> dict:
    """Parse a catalogue that is not valid TOML as a whole one table at a time.

    Each table (a `[header]` line and the lines up to the next) is parsed alone: the ones
    that parse are kept, each of the others is named in one warning.
    """
    chunks: list[list[str]] = [[]]
    for line in text.splitlines():
        if _TABLE_HEADER.match(line) and not line.lstrip().startswith("[["):
            chunks.append([])
        chunks[-1].append(line)
    tables: dict = {}
    for chunk in chunks:
        header = chunk[0].strip() if chunk else ""
        try:
            parsed = tomllib.loads("\n".join(chunk))
        except (tomllib.TOMLDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            logger.warning(
                "%s: %s cannot be read (%s); ignored",
                CATALOGUE, printable(header[:80]) or "the start", reason,
            )  # fmt: skip
            continue
        _merge(tables, parsed)
    return tables


def _merge(into: dict, tables: dict) -> None:
    for name, value in tables.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


def _metadata_value(value: object) -> str | None:
    """Why `value` is not a metadata value (text, a number or a date), or None when it is."""
    if isinstance(value, bool | list | dict):
        return f"must be text, not {_kind(value)}"
    return None


def _archive_value(examples: object) -> str | None:
    """Why `examples` is not a list of questions or a table of lists, or None when it is."""
    by_language = examples if isinstance(examples, dict) else {"": examples}
    for lang, questions in by_language.items():
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            where = f"{lang}: " if lang else ""
            return f"{where}must be a list of questions (text), not {_kind(questions)}"
    return None


def _kind(value: object) -> str:
    names = {bool: "true or false", list: "a list of other things", dict: "a table"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a date")


def read_document(
    path: Path,
    doc_id: str,
    reader: Reader,
    catalogue_entry: dict | None = None,
    ocr_page: Callable[[int], object] | None = None,
) -> Document:
    """Read one file into a `Document` (its text by `reader`, in bounds; each page OCR
    reads told to `ocr_page`).

    Raises:
        ValueError: the file cannot be read as its format, or not within the limits (the
            message says why).
        OSError: the file cannot be opened.
    """

    def warn(level: int, message: str) -> None:  # a library's ("EOF marker not found"), named
        logger.log(level, "%s: %s", printable(doc_id), message)

    extracted = reader.read(path, warn, ocr_page)
    metadata = {}
    for name, value in extracted.metadata.items():
        if name not in METADATA_FIELDS or value is None:
            continue
        if name in ("title", "author") and tool_made(str(value)):
            logger.warning(
                "%s: its %s %r is a tool's or a file's name; ignored",
                printable(doc_id),
                name,
                value,
            )
            continue
        metadata[name] = value
    metadata.update(catalogue_entry or {})
    fields = {name: str(metadata[name]) for name in METADATA_FIELDS if name in metadata}
    if "language" not in fields and (language := detect_language(extracted.text)):
        fields["language"] = language  # shown by /sources; the catalogue's wins
    if "title" not in fields:
        body = extracted.text[extracted.body_start :]
        from_name = printable(path.stem)
        fields["title"] = first_heading(body, path.suffix.lower() in MARKDOWN_HEADINGS) or from_name
        logger.warning(
            "%s has no title (catalogue or file); using %r, its first heading or file name",
            printable(doc_id),
            fields["title"],
        )
    digest = hashlib.sha256()  # of the file's bytes, then of its metadata
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    digest.update(json.dumps(fields, sort_keys=True).encode())
    return Document(
        id=doc_id,
        text=extracted.text,
        body_start=extracted.body_start,
        pages=tuple(extracted.pages),
        scanned=tuple(extracted.scanned),
        sha256=digest.hexdigest(),
        **fields,
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


def _unsupported(suffix: str) -> str:
    """Why a file of this suffix is skipped, what to do, and which formats are read."""
    advice = f": {CONVERT[suffix]}" if suffix in CONVERT else ""
    return f"not a supported format{advice} (supported: {', '.join(sorted(FORMATS))})"


def load_corpus(
    corpus_dir: Path,
    limits: Limits | None = None,
    progress: ProgressFactory | None = None,
) -> Corpus:
    """Read every supported file under `corpus_dir`, sorted by id, each within `limits`.

    `progress("Reading", files)` makes the callback told of each file read, and
    `progress("OCR", pages)`, once per scan, the one told of each page OCR reads (progress
    bars).

    Returns:
        The documents that could be read, one `Problem` for each file that could not, the
        catalogue's example questions, and the files of unsupported formats.

    Raises:
        ArchiveError: there is no such directory, or ARCHIVE_BOT_READ_LIMITS is malformed.
    """
    if not corpus_dir.is_dir():
        raise ArchiveError(f"no corpus directory at {corpus_dir}: create it or pass --corpus")
    reader = Reader(limits or Limits.from_environ())
    catalogue = load_catalogue(corpus_dir)
    ignored = _ignore_spec(corpus_dir)
    examples = example_questions(catalogue.pop(ARCHIVE_TABLE, {}).get("examples", []))
    documents: list[Document] = []
    problems: list[Problem] = []
    skipped: list[Problem] = []
    root = corpus_dir.resolve()
    paths = sorted(p for p in corpus_dir.rglob("*") if p.is_file())
    read_one = progress("Reading", len(paths)) if progress else None
    try:
        for path in paths:
            if read_one:
                read_one(1)
            doc_id = path.relative_to(corpus_dir).as_posix()
            if doc_id == CATALOGUE or any(part.startswith(".") for part in Path(doc_id).parts):
                continue
            try:
                doc_id.encode("utf-8")
            except UnicodeEncodeError:  # an id must be text: in the index, the log, JSON
                shown = doc_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(Problem(shown, "the file name is not valid UTF-8: rename it"))
                continue
            if ignored and ignored.match_file(doc_id):
                skipped.append(Problem(doc_id, f"matched by {IGNORE_FILE}"))
                continue
            if not path.resolve().is_relative_to(root):  # as linked folders are not followed
                skipped.append(Problem(doc_id, "a link to a file outside the corpus"))
                continue
            if path.suffix.lower() not in FORMATS:
                skipped.append(Problem(doc_id, _unsupported(path.suffix.lower())))
                continue
            try:
                documents.append(
                    read_document(path, doc_id, reader, catalogue.get(doc_id), _ocr_bar(progress))
                )
            except (OSError, ValueError) as error:
                problems.append(Problem(doc_id, str(error)))
    finally:
        reader.close()
    seen = {d.id for d in documents} | {p.path for p in problems + skipped}
    orphans = {doc_id: catalogue[doc_id] for doc_id in sorted(set(catalogue) - seen)}
    for doc_id in orphans:
        logger.warning("%s lists %s, which is not in the corpus", CATALOGUE, printable(doc_id))
    return Corpus(documents, problems, examples, skipped, orphans)


def _ocr_bar(progress: ProgressFactory | None) -> Callable[[int], None] | None:
    """Return the callback for one file's OCR pages: its bar is made at the first page."""
    if progress is None:
        return None
    bar: list[Callable[[int], object]] = []

    def page(total: int) -> None:
        if not bar:
            bar.append(progress("OCR", total))
        bar[0](1)

    return page


def with_entry(document: Document, catalogue_id: str, entry: dict) -> Document:
    """Return `document` described by the catalogue entry of `catalogue_id` (a renamed file
    whose entry names its old path): the entry's values win, as they would under its own id."""
    fields = {name: str(entry[name]) for name in METADATA_FIELDS if name in entry}
    digest = hashlib.sha256(
        (document.sha256 + json.dumps([catalogue_id, fields], sort_keys=True)).encode()
    )
    return replace(document, catalogue_id=catalogue_id, sha256=digest.hexdigest(), **fields)
