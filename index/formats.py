"""Text extraction: each supported file format becomes plain text plus its own metadata.

The extracted text is the document's text for the archive: passages are verbatim slices of
it. HTML and Word headings come out as Markdown `#` lines (headings, never quoted), paragraphs
are separated by blank lines, and a PDF records where each page starts.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import yaml

from index.headings import heading

if TYPE_CHECKING:
    from index.reading import Limits

#: Formats whose headings are Markdown `#` lines after extraction.
MARKDOWN_HEADINGS = {".md", ".html", ".htm", ".docx", ".odt", ".epub"}
FORMATS = {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".rtf", ".odt", ".epub"}
#: What to do with formats that are not read, for the report of a skipped file.
CONVERT = {
    ".doc": "a legacy Word file: save it as .docx (in Word, or with "
    "`libreoffice --headless --convert-to docx FILE.doc`)",
    ".xls": "a spreadsheet: export the text to read as .docx or .pdf",
    ".jpg": "an image: scans are not read yet; keep their PDF or list them in .archiveignore",
    ".png": "an image: scans are not read yet; keep their PDF or list them in .archiveignore",
}
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_XML_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False}
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_GUESS_BYTES = 64 * 1024  # enough text to tell an encoding, never the whole of a huge file
#: What an HTML <title> puts between a page's name and its site's ("… | Новости").
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|·|::)\s+")
_SITE_NAME_WORDS = 4
FRONT_MATTER_BYTES = 64 * 1024  # YAML front matter is a few lines of metadata
_MB = 1024 * 1024


@dataclass
class Extracted:
    text: str
    metadata: dict = field(default_factory=dict)
    body_start: int = 0  # where the text after front matter begins
    pages: list[int] = field(default_factory=list)  # offset where each PDF page starts


def extract(suffix: str, raw: bytes, limits: Limits) -> Extracted:
    """Return the text and metadata of a file's bytes, within `limits`.

    Raises:
        ValueError: the file is empty, broken, encrypted, not text where text is expected, or
            over a limit (the message names it).
        Exception: whatever a parsing library raises on a damaged file (see index.reading).
    """
    suffix = suffix.lower()
    if len(raw) > limits.file_mb * _MB:
        raise ValueError(f"the file is over the limit of {limits.file_mb} MB (file_mb)")
    if suffix == ".pdf":
        extracted = _pdf(raw)
    elif suffix in (".docx", ".odt", ".epub"):
        _check_zip(raw, limits)
        extracted = {".docx": _docx, ".odt": _odt, ".epub": _epub}[suffix](raw)
    elif suffix == ".rtf":
        extracted = _rtf(raw)
    elif suffix in {".html", ".htm"}:
        extracted = _html(_decode_html(raw))
    else:
        text = _decode(raw)
        if suffix == ".md":
            metadata, body_start = split_front_matter(text)
            extracted = Extracted(text, metadata, body_start)
        else:
            extracted = Extracted(text)
    if len(extracted.text) > limits.text_mb * _MB:
        raise ValueError(f"it holds more than {limits.text_mb} MB of text (text_mb)")
    if not extracted.text[extracted.body_start :].strip():
        raise ValueError(
            "no text" + (" (a scanned PDF without a text layer?)" if suffix == ".pdf" else "")
        )
    return extracted


def _decode(raw: bytes) -> str:
    """Return the text of a UTF-8 file (a UTF-8 or UTF-16 byte-order mark is honoured)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ValueError(f"damaged UTF-16 text (byte {error.start})") from error
        if "\x00" in text:  # binary data that happens to start like a byte-order mark
            raise ValueError("binary content in a text file")
        return text
    if b"\x00" in raw:
        raise ValueError("binary content in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start}){_encoding_hint(raw)}") from error


def _encoding_hint(raw: bytes) -> str:
    """Name the encoding `raw` most likely has, with the command that converts it to UTF-8."""
    from charset_normalizer import from_bytes

    guess = from_bytes(raw[:_GUESS_BYTES]).best()
    if guess is None or guess.encoding in ("utf_8", "ascii"):  # damaged UTF-8: no advice
        return ""
    name = guess.encoding.replace("_", "-")
    return f": looks like {name}; convert it with `iconv -f {name} -t utf-8`"


def _decode_html(raw: bytes) -> str:
    """Return a page's text in the charset it declares (`<meta charset>`, `http-equiv`).

    A page saved from a website often says windows-1251 or koi8-r: it is read as it says.
    Without a declaration (or with an unknown one) it must be UTF-8, as any text file.
    """
    declared = _CHARSET.search(raw[:_GUESS_BYTES])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            if codecs.lookup(name).name not in ("utf-8", "utf-8-sig"):
                return raw.decode(name)
        except LookupError:
            pass  # an unknown charset: UTF-8 is the only other guess
        except UnicodeDecodeError as error:
            raise ValueError(f"not {name} text as it declares (byte {error.start})") from error
    return _decode(raw)


def _rtf(raw: bytes) -> Extracted:
    """Read an RTF file (court rulings here): its text in the code page it declares.

    `\\'xx` escapes are read in the document's code page (`\\ansicpg1251`), `\\uN` escapes as
    Unicode; every line of the result is a paragraph.
    """
    from striprtf.striprtf import rtf_to_text

    source = raw.decode("latin-1")  # RTF is 7-bit: bytes as they are, for the reader
    if not source.lstrip().startswith("{\\rtf"):
        raise ValueError("not an RTF file (no {\\rtf header)")
    page = re.search(r"\\ansicpg(\d+)", source[:_GUESS_BYTES])
    encoding = f"cp{page.group(1)}" if page else "cp1252"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "cp1252"
    text = rtf_to_text(source, encoding=encoding, errors="replace")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return Extracted("\n\n".join(line for line in lines if line))


def _xml(data: bytes):
    """Parse XML from a document's zip container: no entities, no network, no huge trees."""
    from lxml import etree

    return etree.fromstring(data, etree.XMLParser(**_XML_OPTIONS))


def _odt(raw: bytes) -> Extracted:
    """Read an OpenDocument text: headings as `#` lines, paragraphs, foot- and endnotes left out."""
    from lxml import etree

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        content = _xml(archive.read("content.xml"))
        meta = _xml(archive.read("meta.xml")) if "meta.xml" in archive.namelist() else None
    except (KeyError, etree.XMLSyntaxError) as error:
        raise ValueError(f"not a readable OpenDocument text ({type(error).__name__})") from error
    blocks = []
    for element in content.iter(f"{_ODF_TEXT}h", f"{_ODF_TEXT}p"):
        if any(True for _ in element.iterancestors(f"{_ODF_TEXT}note")):
            continue
        text = " ".join(_odf_text(element).split())
        if text:
            blocks.append(f"# {text}" if element.tag == f"{_ODF_TEXT}h" else text)
    metadata = {}
    if meta is not None:
        for name, tags in (("title", ["title"]), ("author", ["initial-creator", "creator"])):
            for tag in tags:
                found = meta.find(f".//{{*}}{tag}")
                if found is not None and (found.text or "").strip():
                    metadata[name] = found.text.strip()
                    break
    return Extracted("\n\n".join(blocks), metadata)


def _odf_text(element) -> str:
    """The text of an OpenDocument paragraph: spaces, tabs and line breaks as spaces."""
    parts = [element.text or ""]
    for child in element:
        name = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if name in ("s", "tab", "line-break"):
            parts.append(" ")
        elif name != "note":  # a footnote's citation and body are not the paragraph's text
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _epub(raw: bytes) -> Extracted:
    """Read an EPUB book: its chapters in reading order (the spine), each read as a page."""
    from urllib.parse import unquote

    from lxml import etree

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        container = _xml(archive.read("META-INF/container.xml"))
        root = container.find(".//{*}rootfile").get("full-path")
        package = _xml(archive.read(root))
        items = {i.get("id"): i.get("href") for i in package.iter(f"{_OPF}item")}
        chapters = [
            posixpath.normpath(posixpath.join(posixpath.dirname(root), unquote(items[ref])))
            for ref in (r.get("idref") for r in package.iter(f"{_OPF}itemref"))
            if ref in items
        ]
        pages = [_html(_decode_html(archive.read(name))) for name in chapters]
    except (KeyError, AttributeError, etree.XMLSyntaxError) as error:
        raise ValueError(f"not a readable EPUB book ({type(error).__name__})") from error
    metadata = {}
    for name, tag in (("title", "title"), ("author", "creator")):
        found = package.find(f".//{_DC}{tag}")
        if found is not None and (found.text or "").strip():
            metadata[name] = found.text.strip()
    return Extracted("\n\n".join(page.text for page in pages if page.text), metadata)


def split_front_matter(text: str) -> tuple[dict, int]:
    """Return the YAML front matter of a Markdown text and where its body starts."""
    if not text.startswith("---"):
        return {}, 0
    end = text.find("\n---", 3)
    if end == -1:
        return {}, 0
    body_start = text.find("\n", end + 4)
    body_start = len(text) if body_start == -1 else body_start + 1
    if len(text[3:end].encode()) > FRONT_MATTER_BYTES:
        raise ValueError(f"its front matter is over {FRONT_MATTER_BYTES // 1024} KB")
    try:
        data = yaml.load(text[3:end], Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise ValueError(f"its front matter is not valid YAML ({problem}{where})") from error
    return (data if isinstance(data, dict) else {}), body_start


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: metadata never needs them, and an alias bomb needs nothing else."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


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
    title = _page_title(" ".join(parser.title.split()), parser.first_h1)
    if title:
        metadata["title"] = title
    return Extracted("\n\n".join(parser.blocks), metadata)


def _page_title(title: str, h1: str) -> str:
    """Return a page's own name: its <title> without the site's name, else its main heading.

    The site's name is the title's short last part ("… | Новости", "… - BBC News"); a title
    that holds the <h1> and more is the <h1> with the site's name around it.
    """
    if not title:
        return h1
    separators = list(_TITLE_SEPARATOR.finditer(title))
    site = title[separators[-1].end() :] if separators else ""
    if h1 and h1 in title and h1 != site:
        return h1
    if site and len(site.split()) <= _SITE_NAME_WORDS:
        return title[: separators[-1].start()]
    return title


def _pdf_paragraphs(page_text: str) -> list[str]:
    """Rebuild paragraphs from a PDF page's lines.

    A short line that ends a sentence ends a paragraph. A heading line (see `index.headings`:
    «УСТАНОВИЛ:», «ПРИГОВОР») is a paragraph of its own, and a run of short lines (a ruling's
    header: court, date, case number) is one paragraph that keeps its line breaks. Runs of
    spaces inside a line become one space.
    """
    lines = [" ".join(line.split()) for line in page_text.splitlines()]
    widest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []

    def short(line: str) -> bool:
        return len(line) < 0.8 * widest

    def flush() -> None:
        if current:
            paragraphs.append(("\n" if all(map(short, current)) else " ").join(current))
            current.clear()

    for line in lines:
        if not line or heading(line):
            flush()
            if line:
                paragraphs.append(line)
            continue
        if current and all(map(short, current)) and not short(line):
            flush()  # a header block ends where the body's full lines begin
        current.append(line)
        if re.search(r"[.!?:\"”]$", line) and short(line):
            flush()
    flush()
    return paragraphs


def _pdf(raw: bytes) -> Extracted:
    from pypdf import PdfReader

    # pypdf raises many kinds of errors on damaged files; any of them means "cannot read".
    try:
        reader = PdfReader(io.BytesIO(raw))
        # A PDF with an owner password only (no printing, say) opens with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted PDF: it needs a password to open; save it without one")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"not a readable PDF ({type(error).__name__}: {error})") from error
    text, starts = "", []
    for page in pages:
        paragraphs = _pdf_paragraphs(page)
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


def _check_zip(raw: bytes, limits: Limits) -> None:
    """Refuse a zip container (.docx, .odt, .epub) whose members would inflate past the limits.

    A member is never inflated past the size its header declares (zipfile stops there), so
    the headers bound the work: too large in all, or one member inflating too many times over
    (a zip bomb), and the file is refused before anything is parsed.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except zipfile.BadZipFile as error:
        raise ValueError(f"not a readable zip container ({error})") from error
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _MB and ratio > limits.zip_ratio:
            raise ValueError(
                f"its part {member.filename!r} inflates {ratio:.0f} times "
                f"(limit {limits.zip_ratio}, zip_ratio): a zip bomb?"
            )
    if total > limits.unzipped_mb * _MB:
        raise ValueError(
            f"it unpacks to {total / _MB:.0f} MB (limit {limits.unzipped_mb} MB, unzipped_mb)"
        )


def _docx(raw: bytes) -> Extracted:
    import docx
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as error:
        detail = " ".join(str(error).split())[:160]
        raise ValueError(
            f"not a readable Word document ({type(error).__name__}: {detail})"
        ) from error
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

    When the first row is a header (every cell a label, not a number), it is not a block of its
    own: each other row's cells are prefixed with their column's label ("Region: Shymkent"), so
    a row quoted alone still says what its numbers are. A merged cell appears once, under the
    label of its first column, though Word reports it in every column it spans.
    """
    rows = []
    for row in table.rows:
        cells: dict[int, tuple[int, str]] = {}  # by the cell's identity: (first column, text)
        for column, cell in enumerate(row.cells):
            cells.setdefault(id(cell._tc), (column, " ".join(cell.text.split())))
        rows.append(list(cells.values()))
    header = None
    if len(rows) > 1 and all(_is_label(text) for _, text in rows[0]):
        header = {column: text for column, text in rows[0]}
        rows = rows[1:]
    blocks = []
    for cells in rows:
        if header:
            cells = [(c, f"{header.get(c, '')}: {text}".lstrip(": ")) for c, text in cells if text]
        text = " | ".join(text for _, text in cells)
        if text.strip(" |"):
            blocks.append(text)
    return blocks


def _is_label(cell: str) -> bool:
    return bool(cell) and not re.fullmatch(r"[\d\s.,%+−-]*", cell)
