"""Text extraction: each supported file format becomes plain text plus its own metadata.

The extracted text is the document's text for the archive: passages are verbatim slices of
it. HTML and Word headings come out as Markdown `#` lines (headings, never quoted), paragraphs
are separated by blank lines, and a PDF records where each page starts.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import yaml

#: Formats whose headings are Markdown `#` lines after extraction.
MARKDOWN_HEADINGS = {".md", ".html", ".htm", ".docx"}
FORMATS = {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}


@dataclass
class Extracted:
    text: str
    metadata: dict = field(default_factory=dict)
    body_start: int = 0  # where the text after front matter begins
    pages: list[int] = field(default_factory=list)  # offset where each PDF page starts


def extract(suffix: str, raw: bytes) -> Extracted:
    """Return the text and metadata of a file's bytes.

    Raises:
        ValueError: the file is empty, broken, encrypted, or not text where text is expected.
    """
    suffix = suffix.lower()
    if suffix == ".pdf":
        extracted = _pdf(raw)
    elif suffix == ".docx":
        extracted = _docx(raw)
    else:
        text = _decode(raw)
        if suffix == ".md":
            metadata, body_start = split_front_matter(text)
            extracted = Extracted(text, metadata, body_start)
        elif suffix in {".html", ".htm"}:
            extracted = _html(text)
        else:
            extracted = Extracted(text)
    if not extracted.text[extracted.body_start :].strip():
        raise ValueError(
            "no text" + (" (a scanned PDF without a text layer?)" if suffix == ".pdf" else "")
        )
    return extracted


def _decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise ValueError("binary content in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start})") from error


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


class _HTMLText(HTMLParser):
    """Collects the main text of a page: blocks and headings, without page chrome."""

    CHROME = set("script style nav header footer aside form noscript template svg button select "
                 "iframe menu".split())  # fmt: skip
    BLOCKS = set("p div li blockquote pre td th tr section article main dd dt figcaption table "
                 "ul ol br hr body".split())  # fmt: skip
    HEADINGS = set("h1 h2 h3 h4 h5 h6".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.meta: dict[str, str] = {}
        self.title = ""
        self.first_h1 = ""
        self._current: list[str] = []
        self._chrome = 0
        self._in_title = False
        self._heading: str | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if not text:
            return
        if self._heading:
            self.blocks.append(f"# {text}")
            if self._heading == "h1" and not self.first_h1:
                self.first_h1 = text
        else:
            self.blocks.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.CHROME:
            self._chrome += 1
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name") and values.get("content"):
                self.meta[values["name"].lower()] = values["content"]
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCKS or tag in self.HEADINGS:
            self._flush()
            if tag in self.HEADINGS:
                self._heading = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.CHROME:
            self._chrome = max(0, self._chrome - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCKS or tag in self.HEADINGS:
            self._flush()
            if tag in self.HEADINGS:
                self._heading = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._chrome:
            self._current.append(data)


def _html(source: str) -> Extracted:
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    parser._flush()
    metadata = {k: parser.meta[k] for k in ("author", "date") if k in parser.meta}
    title = " ".join(parser.title.split()) or parser.first_h1
    if title:
        metadata["title"] = title
    return Extracted("\n\n".join(parser.blocks), metadata)


def _pdf_paragraphs(page_text: str) -> list[str]:
    """Rebuild paragraphs from a PDF page's lines: a short line ending a sentence ends one."""
    lines = [line.strip() for line in page_text.splitlines()]
    widest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        if current and (not line or (re.search(r"[.!?:\"”]$", line) and len(line) < 0.8 * widest)):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _pdf(raw: bytes) -> Extracted:
    from pypdf import PdfReader

    # pypdf raises many kinds of errors on damaged files; any of them means "cannot read".
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise ValueError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"not a readable PDF ({type(error).__name__}: {error})") from error
    text, starts = "", []
    for page in pages:
        paragraphs = [" ".join(p.split()) for p in _pdf_paragraphs(page) if p.strip()]
        if text and paragraphs:
            text += "\n\n"
        starts.append(len(text))
        text += "\n\n".join(paragraphs)
    metadata = {
        key: str(value).strip()
        for key, value in (("title", info.get("/Title")), ("author", info.get("/Author")))
        if value and str(value).strip()
    }
    return Extracted(text, metadata, pages=starts)


def _docx(raw: bytes) -> Extracted:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(f"not a readable Word document ({type(error).__name__})") from error
    blocks = []
    for block in document.iter_inner_content():  # paragraphs and tables, in reading order
        if isinstance(block, docx.table.Table):
            blocks += _table_rows(block)
            continue
        text = " ".join(block.text.split())
        style = block.style.name if block.style is not None else ""
        if text:
            blocks.append(f"# {text}" if style.startswith("Heading") or style == "Title" else text)
    properties = document.core_properties
    metadata = {k: v for k, v in (("title", properties.title), ("author", properties.author)) if v}
    return Extracted("\n\n".join(blocks), metadata)


def _table_rows(table) -> list[str]:
    """Return a Word table as one block per row, its cells separated by " | ".

    A merged cell appears once, though Word reports it in every column it spans.
    """
    rows = []
    for row in table.rows:
        cells = list({id(cell._tc): cell for cell in row.cells}.values())
        text = " | ".join(" ".join(cell.text.split()) for cell in cells)
        if text.strip(" |"):
            rows.append(text)
    return rows
