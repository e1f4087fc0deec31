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
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import yaml

from index.headings import heading
from index.limits import MB, Limits
from index.normalize import latin_lookalikes

#: Formats whose headings are Markdown `#` lines after extraction.
MARKDOWN_HEADINGS = {".md", ".html", ".htm", ".docx", ".odt", ".epub", ".pdf"}
IMAGES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # scans, read by OCR
FORMATS = {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".rtf", ".odt", ".epub"} | IMAGES
#: What to do with formats that are not read, for the report of a skipped file.
CONVERT = {
    ".doc": "a legacy Word file: save it as .docx (in Word, or with "
    "`libreoffice --headless --convert-to docx FILE.doc`)",
    ".xls": "a spreadsheet: export the text to read as .docx or .pdf",
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
PAGE_EDGE_LINES = 2  # lines at the top and at the foot of a PDF page that may be furniture
PAGE_MARGIN = 0.07  # of a page's height: headers and footers stand there, body text not
_PAGE_NUMBER = re.compile(
    r"[\W_]*((page|p\.|стр\.?|страница|бет)\s*)?\d{1,4}(\s*(of|из|/)\s*\d{1,4})?(\s*-?\s*бет)?[\W_]*",
    re.I,
)
PARAGRAPH_GAP = 1.4  # a gap this many times the usual line spacing ends a PDF paragraph
HEADING_SIZE = 1.15  # a PDF line in type this many times the body's is a heading
LAYOUT_CELL = 500  # characters: a table cell this long holds an article, not data
FURNITURE_WORDS = 25
ARTICLE_WORDS = 4  # a block this long is the article's wherever trafilatura's text holds it
_FURNITURE = [
    re.compile(pattern, re.I)
    for pattern in (
        r"\bcookies?\b|файл\w* cookie",
        r"^\s*(©|\(c\)|copyright\b)|all rights reserved|все права защищены|"
        r"барлық құқықтар қорғалған",
        r"^[^.!?]*\S\s+(›|»|→|>|/)\s+\S[^.!?]*\s(›|»|→|>|/)\s+\S",  # Home › Society › Regions
        r"\d\s(views|просмотр(а|ов)?|қаралым)\b",
        r"^(share|поделиться|бөлісу)\b\W",
        r"^(?=.*\b(subscribe|подпишитесь|подписывайтесь|жазылыңыз|жазылыңдар)\b)"
        r"(?=.*\b(telegram|канал\w*|арна\w*|channel|newsletter|рассылк\w*|youtube|instagram))",
        r"^(read also|see also|related( news| articles)?|читайте также|смотрите также|"
        r"по теме|сондай-ақ оқыңыз|тақырыпқа орай|advertisement|реклама|жарнама)\W*$",
    )
]
FRONT_MATTER_BYTES = 64 * 1024  # YAML front matter is a few lines of metadata


@dataclass
class Extracted:
    text: str
    metadata: dict = field(default_factory=dict)
    body_start: int = 0  # where the text after front matter begins
    pages: list[int] = field(default_factory=list)  # offset where each PDF page starts
    scanned: list[int] = field(default_factory=list)  # 1-based pages read by OCR


def extract(
    suffix: str, raw: bytes, limits: Limits, ocr_page: Callable[[int], object] | None = None
) -> Extracted:
    """Return the text and metadata of a file's bytes, within `limits`.

    `ocr_page(total)` is called after each page OCR reads, with the number of pages it reads
    in this file (a progress bar).

    Raises:
        ValueError: the file is empty, broken, encrypted, not text where text is expected, or
            over a limit (the message names it).
        Exception: whatever a parsing library raises on a damaged file (see index.reading).
    """
    suffix = suffix.lower()
    if len(raw) > limits.file_mb * MB:
        raise ValueError(f"the file is over the limit of {limits.file_mb} MB (file_mb)")
    if suffix == ".pdf":
        extracted = _pdf(raw, ocr_page)
    elif suffix in IMAGES:
        extracted = _image(raw, ocr_page)
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
    if len(extracted.text) > limits.text_mb * MB:
        raise ValueError(f"it holds more than {limits.text_mb} MB of text (text_mb)")
    if not extracted.text[extracted.body_start :].strip():
        raise ValueError("no text" + (" (a blank scan?)" if extracted.scanned else ""))
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
    """Read an OpenDocument text: headings as `#` lines, paragraphs, each foot- or endnote
    (`[1] …`, its citation as the document shows it) right after its paragraph."""
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
        for note in element.iter(f"{_ODF_TEXT}note"):  # after the paragraph, as in Word's
            citation = note.find(f"{_ODF_TEXT}note-citation")
            body = note.find(f"{_ODF_TEXT}note-body")
            words = " ".join(_odf_text(body).split()) if body is not None else ""
            if words:
                mark = "".join(citation.itertext()).strip() if citation is not None else ""
                blocks.append(f"[{mark}] {words}" if mark else words)
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
        pages = [_html(_decode_html(archive.read(name)), page=False) for name in chapters]
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


def _html(source: str, page: bool = True) -> Extracted:
    """Read an HTML page: its title and meta tags, and its text.

    A page saved from a website (`page`) gives its article only (`_article`), without
    the site's furniture (`furniture`); an EPUB chapter gives every block outside `CHROME`.
    """
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    parser._flush()
    metadata = {k: parser.meta[k] for k in ("author", "date") if k in parser.meta}
    title = _page_title(" ".join(parser.title.split()), parser.first_h1)
    if title:
        metadata["title"] = title
    blocks = parser.blocks
    if page:
        blocks = [b for b in _article(blocks, source) if not furniture(b.lstrip("# "))]
    return Extracted("\n\n".join(blocks), metadata)


def _article(blocks: list[str], source: str) -> list[str]:
    """Return the blocks of a web page that belong to its article, as trafilatura finds it.

    trafilatura tells the article from menus, cookie notices, related links and footers
    (measured against the rules of `_HTMLText` alone: scripts/bench_documents.py); the blocks
    themselves stay ours, so headings stay headings. A heading is kept when a block of its
    section is. An old page laid out with tables holds its article in a table cell, which
    trafilatura would keep whole as a data table: a table with a cell of more than
    LAYOUT_CELL characters is read as `<div>`s. When trafilatura finds nothing, every block.
    """
    import lxml.html
    import trafilatura
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(source)
    except (etree.ParserError, ValueError):
        return blocks
    for table in list(tree.iter("table")):
        if any(len(cell.text_content()) > LAYOUT_CELL for cell in table.iter("td", "th")):
            for element in table.iter("table", "tbody", "thead", "tfoot", "tr", "td", "th"):
                element.tag = "div"
    found = trafilatura.bare_extraction(
        tree, favor_precision=True, include_comments=False, include_formatting=False
    )
    if found is None or found.body is None:
        return blocks
    text = " ".join("\n".join(found.body.itertext()).split())
    lines = {" ".join(line.split()) for line in "\n".join(found.body.itertext()).splitlines()}
    kept = [b in lines or (len(b.split()) >= ARTICLE_WORDS and b in text) for b in blocks]
    section_kept = False  # whether a block between this heading and the next is kept
    for i in reversed(range(len(blocks))):
        if blocks[i].startswith("# "):
            kept[i], section_kept = section_kept, False
        else:
            section_kept = section_kept or kept[i]
    return [b for b, keep in zip(blocks, kept, strict=True) if keep]


def furniture(block: str) -> bool:
    """Whether a short block of a web page is the site's, not the article's: a cookie notice,
    breadcrumbs, a byline with a view count, share or subscribe lines, a "read also" or advert
    label, a © line — in English, Russian or Kazakh. A block of more than FURNITURE_WORDS words
    is always the article's."""
    if len(block.split()) > FURNITURE_WORDS:
        return False
    return any(pattern.search(block) for pattern in _FURNITURE)


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


_PARAGRAPH_END = re.compile(r"[.!?:\"”»]$")  # a line that may end a paragraph


def _rejoined(previous: str, line: str) -> str | None:
    """Return `previous` and the next `line` as one word-joined text when `previous` ends in a
    word hyphenated at the line's end ("Уральс-" + "ке." -> "Уральске."), else None."""
    if re.search(r"\w-$", previous) and line[:1].islower():
        return previous[:-1] + line
    return None


@dataclass
class _Line:
    """One line of a PDF page: its text, height on the page (None when unknown), font size."""

    text: str
    y: float | None = None
    size: float = 0.0
    margin: bool = True  # in the page's top or bottom margin (or where, unknown)


def _page_lines(page) -> list[_Line]:
    """Return the lines of a PDF page as pypdf reads them, each with where it stands.

    pypdf passes each piece of text it outputs, with its position, to the visitor; the
    pieces joined are the page's text, and a line's position is its first piece's.
    """
    lines = [_Line("")]

    def visit(text: str, cm: list, tm: list, font: object, size: float) -> None:
        for number, piece in enumerate(text.split("\n")):
            if number:
                lines.append(_Line(""))
            if piece.strip() and lines[-1].y is None:
                lines[-1].y = cm[5] + tm[5] * cm[3]
                lines[-1].size = abs(size * (tm[3] or 1) * (cm[3] or 1))
            lines[-1].text += piece

    page.extract_text(visitor_text=visit)
    box = page.mediabox
    band = PAGE_MARGIN * float(box.height)
    for line in lines:
        line.text = " ".join(line.text.split())
        if line.y is not None:
            line.margin = not float(box.bottom) + band < line.y < float(box.top) - band
    return [line for line in lines if line.text]


def _without_page_furniture(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop each page's running header and footer and its page number.

    Only the first or last PAGE_EDGE_LINES lines of a page that stand in its top or bottom
    margin (PAGE_MARGIN of its height) are candidates. A page number is a line of a number
    alone, or with "page", "стр." or "-бет" ("— 157 —", "Page 3 of 40"). A running header or
    footer is a line, of 15 words at most, that recurs, digits aside, at the edge of at least
    half of the pages (and of two or more).
    """

    def shape(text: str) -> str:
        return re.sub(r"\d+", "#", text.lower())

    def edges(lines: list[_Line]) -> list[_Line]:
        return lines[:PAGE_EDGE_LINES] + lines[-PAGE_EDGE_LINES:]

    counts: dict[str, int] = {}
    for lines in pages:
        for text in {shape(line.text) for line in edges(lines)}:
            counts[text] = counts.get(text, 0) + 1
    recurring = {
        t for t, n in counts.items() if n >= max(2, len(pages) / 2) and len(t.split()) <= 15
    }
    return [
        [
            line
            for line in lines
            if not (
                line.margin
                and any(line is edge for edge in edges(lines))
                and (_PAGE_NUMBER.fullmatch(line.text) or shape(line.text) in recurring)
            )
        ]
        for lines in pages
    ]


def _pdf_paragraphs(lines: list[_Line]) -> list[str]:
    """Rebuild paragraphs from a PDF page's lines.

    A paragraph ends where the gap to the next line is wider than the page's usual line
    spacing, or at a short line that ends a sentence. A line in a larger type than the body's,
    or a heading by `index.headings` («УСТАНОВИЛ:», «ПРИГОВОР»), is a `#` heading line of its
    own. A run of short lines (a ruling's header: court, date, case number) is one paragraph
    that keeps its line breaks. A word hyphenated at a line's end is joined again; a line that
    starts a new column (higher on the page) continues the paragraph.
    """
    # A full line's length: the longest, or, on a page of many lines, the 90th percentile (a
    # running title across two columns is longer than the columns' lines).
    widths = sorted(len(line.text) for line in lines)
    full = widths[int(0.9 * (len(widths) - 1)) if len(widths) >= 10 else -1] if widths else 0
    sizes = sorted(line.size for line in lines)
    body_size = sizes[len(sizes) // 2] if sizes else 0.0
    gaps = [
        a.y - b.y
        for a, b in zip(lines, lines[1:], strict=False)
        if a.y is not None and b.y is not None and a.y > b.y
    ]
    spacing = sorted(gaps)[len(gaps) // 4] if gaps else None  # within a paragraph
    paragraphs: list[str] = []
    current: list[str] = []

    def short(text: str) -> bool:
        return len(text) < 0.8 * full

    def flush() -> None:
        if current:
            paragraphs.append(("\n" if all(map(short, current)) else " ").join(current))
            current.clear()

    for number, line in enumerate(lines):
        larger = body_size and line.size > HEADING_SIZE * body_size and len(line.text) < 120
        if larger or heading(line.text):
            flush()
            paragraphs.append(f"# {line.text}" if larger else line.text)
            continue
        if current and all(map(short, current)) and not short(line.text):
            flush()  # a header block ends where the body's full lines begin
        if current and (joined := _rejoined(current[-1], line.text)):
            current[-1] = joined
        else:
            current.append(line.text)
        after = lines[number + 1] if number + 1 < len(lines) else None
        gap = after is not None and spacing and after.y is not None and line.y is not None
        if gap and line.y - after.y > PARAGRAPH_GAP * spacing:
            flush()
        elif gap and after.y > line.y and re.search(r"[.!?]$", current[-1]):
            flush()  # the next column starts with a new sentence
        elif _PARAGRAPH_END.search(current[-1]) and short(current[-1].split("\n")[-1]):
            flush()
    flush()
    return paragraphs


def _pdf(raw: bytes, ocr_page: Callable[[int], object] | None = None) -> Extracted:
    from pypdf import PdfReader

    # pypdf raises many kinds of errors on damaged files; any of them means "cannot read".
    try:
        reader = PdfReader(io.BytesIO(raw))
        # A PDF with an owner password only (no printing, say) opens with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted PDF: it needs a password to open; save it without one")
        pages = _without_page_furniture([_page_lines(page) for page in reader.pages])
        info = reader.metadata or {}
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"not a readable PDF ({type(error).__name__}: {error})") from error
    text, starts, scanned = "", [], []
    to_read = sum(not lines for lines in pages)
    for number, lines in enumerate(pages):
        if lines:
            paragraphs = _pdf_paragraphs(lines)
        else:  # no text layer: a scanned page
            paragraphs = _ocr(_render(raw, number))
            scanned.append(number + 1)
            if ocr_page:
                ocr_page(to_read)
        # A paragraph that runs on from the page before continues it: no sentence ended
        # there, and this page starts with a small letter.
        runs_on = paragraphs and not _PARAGRAPH_END.search(text) and paragraphs[0][:1].islower()
        if text and runs_on:
            starts.append(len(text) + 1)
            text += " " + "\n\n".join(paragraphs)
            continue
        if text and paragraphs:
            text += "\n\n"
        starts.append(len(text))
        text += "\n\n".join(paragraphs)
    metadata = {
        key: str(value).strip()
        for key, value in (("title", info.get("/Title")), ("author", info.get("/Author")))
        if value and str(value).strip()
    }
    return Extracted(text, metadata, pages=starts, scanned=scanned)


OCR_LANGUAGES = "rus+kaz+eng"  # Tesseract's models, tried together on every page
OCR_DPI = 300  # a scanned PDF page is rendered at this resolution for OCR
OCR_INSTALL = "sudo apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-kaz"


def _ocr(image: bytes) -> list[str]:
    """Return the paragraphs Tesseract reads in an image (PNG, JPEG or TIFF bytes).

    Tesseract separates paragraphs by blank lines; a paragraph's lines are joined, and a word
    hyphenated at a line's end is joined again.

    Raises:
        ValueError: Tesseract or its Russian, Kazakh or English data is not installed (the
            message says what to install), or it failed on the image.
    """
    import shutil
    import subprocess

    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise ValueError(f"a scan: its text needs OCR; install Tesseract: `{OCR_INSTALL}`")
    done = subprocess.run(
        [tesseract, "stdin", "stdout", "-l", OCR_LANGUAGES],
        input=image,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        hint = f"; install its data: `{OCR_INSTALL}`" if "language" in problem[0].lower() else ""
        raise ValueError(f"OCR failed ({problem[0][:200]}){hint}")
    paragraphs = []
    for block in re.split(r"\n\s*\n", done.stdout.decode("utf-8", "replace")):
        text = ""
        for line in (" ".join(line.split()) for line in block.splitlines()):
            if not line:
                continue
            text = _rejoined(text, line) or f"{text} {line}".strip()
        if text:
            paragraphs.append(latin_lookalikes(text))
    return paragraphs


def _image(raw: bytes, ocr_page: Callable[[int], object] | None = None) -> Extracted:
    """Read a scanned image by OCR: each frame (a TIFF holds several) is a page."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(raw))
        frames = []
        for frame in ImageSequence.Iterator(picture):
            out = io.BytesIO()
            frame.convert("RGB").save(out, "PNG")
            frames.append(out.getvalue())
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"not a readable image ({type(error).__name__}: {error})") from error
    pages = []
    for frame in frames:
        pages.append(_ocr(frame))
        if ocr_page:
            ocr_page(len(frames))
    return _scanned_pages(pages)


def _scanned_pages(pages: list[list[str]]) -> Extracted:
    """The text of pages read by OCR, each paragraph a block, each page marked scanned."""
    text, starts = "", []
    for paragraphs in pages:
        if text and paragraphs:
            text += "\n\n"
        starts.append(len(text))
        text += "\n\n".join(paragraphs)
    return Extracted(text, pages=starts, scanned=list(range(1, len(pages) + 1)))


def _render(raw: bytes, page: int) -> bytes:
    """Return one page of a PDF as a PNG image at OCR_DPI (for a page without a text layer)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(raw)
    try:
        image = document[page].render(scale=OCR_DPI / 72).to_pil()
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()
    finally:
        document.close()


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
        if member.file_size > MB and ratio > limits.zip_ratio:
            raise ValueError(
                f"its part {member.filename!r} inflates {ratio:.0f} times "
                f"(limit {limits.zip_ratio}, zip_ratio): a zip bomb?"
            )
    if total > limits.unzipped_mb * MB:
        raise ValueError(
            f"it unpacks to {total / MB:.0f} MB (limit {limits.unzipped_mb} MB, unzipped_mb)"
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
    notes = {kind: _word_notes(raw, kind) for kind in ("footnote", "endnote")}
    numbers = {"footnote": 0, "endnote": 0}
    blocks = []
    for block in document.iter_inner_content():  # paragraphs and tables, in reading order
        if isinstance(block, docx.table.Table):
            blocks += _table_rows(block)
            continue
        text = " ".join(block.text.split())
        style = block.style.name if block.style is not None else ""
        if text:
            blocks.append(f"# {text}" if style.startswith("Heading") or style == "Title" else text)
        # The paragraph's foot- and endnotes follow it, each a block, numbered as Word shows
        # them: a note is quoted right after what it annotates.
        for reference in block._p.xpath(".//w:footnoteReference | .//w:endnoteReference"):
            kind = "footnote" if reference.tag.endswith("footnoteReference") else "endnote"
            note = notes[kind].get(reference.get(docx.oxml.ns.qn("w:id")), "")
            if note:
                numbers[kind] += 1
                mark = numbers[kind] if kind == "footnote" else _roman(numbers[kind])
                blocks.append(f"[{mark}] {note}")
    properties = document.core_properties
    metadata = {k: v for k, v in (("title", properties.title), ("author", properties.author)) if v}
    return Extracted("\n\n".join(blocks), metadata)


def _word_notes(raw: bytes, kind: str) -> dict[str, str]:
    """Return a Word file's foot- or endnotes (`kind`) by id: each note's text, its paragraphs
    joined (separators, which Word also stores as notes, have no text)."""
    archive = zipfile.ZipFile(io.BytesIO(raw))
    name = f"word/{kind}s.xml"
    if name not in archive.namelist():
        return {}
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return {
        note.get(f"{w}id"): " ".join("".join(t.text or "" for t in note.iter(f"{w}t")).split())
        for note in _xml(archive.read(name)).iter(f"{w}{kind}")
    }


def _roman(number: int) -> str:
    """Word numbers endnotes i, ii, iii, …"""
    values = [(100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
              (4, "iv"), (1, "i")]  # fmt: skip
    out = ""
    for value, letters in values:
        while number >= value:
            out, number = out + letters, number - value
    return out


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
