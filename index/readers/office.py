"""Word processors' and e-book files: Word (.docx), OpenDocument (.odt), EPUB and RTF.

The zip containers are parsed without entities, network or huge trees (their sizes were
checked first: `Limits.check_zip`). Headings come out as `#` lines; foot- and endnotes follow
their paragraph, marked as the document shows them; a table's rows are blocks.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile

from index.readers.html import decode_html, read_html
from index.readers.text import GUESS_BYTES, Extracted

_XML_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False}
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"


def read_rtf(raw: bytes) -> Extracted:
    """Read an RTF file (court rulings here): its text in the code page it declares.

    `\\'xx` escapes are read in the document's code page (`\\ansicpg1251`), `\\uN` escapes as
    Unicode; every line of the result is a paragraph. Hidden text is left out and footnotes
    follow their paragraph (`_rtf_as_shown`).
    """
    from striprtf.striprtf import rtf_to_text

    source = raw.decode("latin-1")  # RTF is 7-bit: bytes as they are, for the reader
    if not source.lstrip().startswith("{\\rtf"):
        raise ValueError("not an RTF file (no {\\rtf header)")
    page = re.search(r"\\ansicpg(\d+)", source[:GUESS_BYTES])
    encoding = f"cp{page.group(1)}" if page else "cp1252"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "cp1252"
    text = rtf_to_text(_rtf_as_shown(source), encoding=encoding, errors="replace")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return Extracted("\n\n".join(line for line in lines if line))


_RTF_TOKEN = re.compile(r"\\([a-zA-Z]+)(-?\d+)? ?|\\'[0-9a-fA-F]{2}|\\.|[{}]|[^\\{}]+", re.S)


def _rtf_as_shown(source: str) -> str:
    """The RTF `source` as a word processor shows it, for striprtf (which drops footnotes and
    keeps hidden text): text formatted hidden (`\\v` up to `\\v0`, `\\plain` or its group's
    end) left out, and each footnote group moved after the paragraph that cites it, as a
    paragraph of its own marked `[1]`, `[2]`, … (the mark `\\chftn` Word numbers)."""
    out: list[str] = []
    hidden, stack = False, []
    note: list[str] | None = None  # the footnote being read, its tokens
    depth_of_note, notes, count = 0, [], 0
    for match in _RTF_TOKEN.finditer(source):
        token, word, number = match.group(), match.group(1), match.group(2)
        target = out if note is None else note
        if token == "{":
            stack.append(hidden)
        elif token == "}":
            hidden = stack.pop() if stack else False
            if note is not None and len(stack) < depth_of_note:
                notes.append("{" + "".join(note) + "}\\par ")
                note = None
                continue
        elif word == "footnote" and note is None and out and out[-1] == "{":
            out.pop()
            note, depth_of_note = [], len(stack)
            continue
        elif word == "chftn" and note is not None:
            count += 1
            token = f" [{count}] "
        elif word == "v":
            hidden = number != "0"
        elif word == "plain":
            hidden = False
        elif hidden and (word == "u" or token.startswith("\\'") or not token.startswith("\\")):
            continue  # text (a run, an escaped letter), hidden
        target.append(token)
        if note is None and notes and (word == "par" or token in ("\\\n", "\\\r")):
            out += notes
            notes = []
    if note is not None:  # a damaged file: its last footnote never ends
        notes.append("{" + "".join(note) + "}")
    end = len(out) - 1 if out and out[-1] == "}" else len(out)  # the document's own group
    return "".join(out[:end] + notes + out[end:])


def _xml(data: bytes):
    """Parse XML from a document's zip container: no entities, no network, no huge trees."""
    from lxml import etree

    return etree.fromstring(data, etree.XMLParser(**_XML_OPTIONS))


def read_odt(raw: bytes) -> Extracted:
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
        # A note is read after its paragraph; tracked changes keep deleted text, unseen.
        if any(True for _ in element.iterancestors(f"{_ODF_TEXT}note",
                                                   f"{_ODF_TEXT}tracked-changes")):  # fmt: skip
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


def read_epub(raw: bytes) -> Extracted:
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
        pages = [read_html(decode_html(archive.read(name)), page=False) for name in chapters]
    except (KeyError, AttributeError, etree.XMLSyntaxError) as error:
        raise ValueError(f"not a readable EPUB book ({type(error).__name__})") from error
    metadata = {}
    for name, tag in (("title", "title"), ("author", "creator")):
        found = package.find(f".//{_DC}{tag}")
        if found is not None and (found.text or "").strip():
            metadata[name] = found.text.strip()
    return Extracted("\n\n".join(page.text for page in pages if page.text), metadata)


def read_docx(raw: bytes) -> Extracted:
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
    drop_cap = ""  # a drop cap is a paragraph of its own, the first letter of the next one
    for block in document.iter_inner_content():  # paragraphs and tables, in reading order
        if isinstance(block, docx.table.Table):
            blocks += _table_rows(block)
            continue
        text = drop_cap + _word_text(block._p)
        if block._p.xpath("./w:pPr/w:framePr[@w:dropCap and @w:dropCap != 'none']"):
            drop_cap = text
            continue
        drop_cap = ""
        style = block.style.name if block.style is not None else ""
        if text:
            blocks.append(f"# {text}" if style.startswith("Heading") or style == "Title" else text)
        blocks += [t for box in _text_boxes(block._p) if (t := _word_text(box))]
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


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# What a reader of the Word file does not see in a paragraph's flow: deleted and moved-away
# text (tracked changes, accepted as Word shows them), text boxes (blocks of their own), and
# the older copy of a drawing Word keeps for other programs.
_UNSEEN = {f"{_W}del", f"{_W}moveFrom", f"{_W}txbxContent", f"{_MC}Fallback"}


def _word_text(paragraph) -> str:
    """The text of a Word paragraph (a `w:p` element) as Word shows it with its changes
    accepted: insertions and moved text included, deletions, hidden text (`w:vanish`) and
    field codes left out; text boxes are read as blocks of their own (`_text_boxes`)."""
    parts = []
    for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        run, seen = node.getparent(), True
        ancestor = run
        while ancestor is not None and ancestor is not paragraph:
            if ancestor.tag in _UNSEEN:  # a text box's paragraphs sit in its w:txbxContent
                seen = False
                break
            ancestor = ancestor.getparent()
        if seen and run.find(f"{_W}rPr/{_W}vanish") is None:
            parts.append(node.text or "" if node.tag == f"{_W}t" else " ")
    return " ".join("".join(parts).split())


def _text_boxes(paragraph) -> list:
    """The paragraphs of the text boxes anchored in a Word paragraph, in order (each box once:
    not its copy for older programs)."""
    return [
        inner
        for box in paragraph.iter(f"{_W}txbxContent")
        if not any(a.tag == f"{_MC}Fallback" for a in box.iterancestors())
        for inner in box.iter(f"{_W}p")
    ]


def _word_notes(raw: bytes, kind: str) -> dict[str, str]:
    """Return a Word file's foot- or endnotes (`kind`) by id: each note's text, its paragraphs
    joined (separators, which Word also stores as notes, have no text)."""
    archive = zipfile.ZipFile(io.BytesIO(raw))
    name = f"word/{kind}s.xml"
    if name not in archive.namelist():
        return {}
    return {
        note.get(f"{_W}id"): " ".join("".join(t.text or "" for t in note.iter(f"{_W}t")).split())
        for note in _xml(archive.read(name)).iter(f"{_W}{kind}")
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
