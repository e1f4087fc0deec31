"""PDF reports: paragraphs rebuilt from a text layer's lines, page furniture dropped.

A line in larger type is a heading (`#`); a wider gap or a short line ending a sentence ends a
paragraph; a paragraph broken by a page runs on; running headers, footers and page numbers
repeated from page to page, lines printed sideways in the margin, and copyright notices are
left out. A page without a text layer, or whose text layer is not text (fonts without a
Unicode map give glyph codes), is rendered and read by OCR (index.readers.ocr). The title is
the file's own unless a tool or a file name made it, else the first page's line in the
largest type; the author, the file's own unless a tool made it or the first page does not
print it (a login), else the first name of the byline under that title. `Extracted.pages`
records where each page starts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from index.headings import heading
from index.normalize import fold
from index.readers.ocr import OCR_DPI, recognise
from index.readers.text import Extracted, copyright_notice, people, rejoined, tool_made

PAGE_EDGE_LINES = 2  # lines at the top and at the foot of a PDF page that may be furniture
PAGE_MARGIN = 0.07  # of a page's height: headers and footers stand there, body text not
_PAGE_NUMBER = re.compile(
    r"[\W_]*((page|p\.|стр\.?|страница|бет)\s*)?\d{1,4}(\s*(of|из|/)\s*\d{1,4})?(\s*-?\s*бет)?[\W_]*",
    re.I,
)
PARAGRAPH_GAP = 1.4  # a gap this many times the usual line spacing ends a PDF paragraph
HEADING_SIZE = 1.15  # a PDF line in type this many times the body's is a heading
TITLE_LINES = 4  # a title in the first page's largest type runs over this many lines at most
TITLE_SPACING = 1.6  # of its type's size: the lines of one title stand this close at most
BYLINE_LINES = 2  # the authors' names stand on one of the first lines under a cover title
#: Marks that tie an author to an affiliation or a note: digits and symbols after a name.
_AFFILIATION_MARK = re.compile(r"(?<=\S)[\d∗*†‡§¶]+(?=[\s,]|$)|(?<=\s)[\d∗*†‡§¶]+(?=[\s,]|$)")
#: A word as a text layer that is text gives it: letters in one case, or capitalised, with
#: quotes and punctuation around and hyphens or apostrophes inside.
_WORD = re.compile(r"[(\[\"'«“„]*([^\W\d_]+(?:[-'’.][^\W\d_]+)*)[)\]\"'»”.,;:!?]*")
TEXT_SHARE = 0.3  # a text layer with fewer of its words so shaped is glyph codes, not text
RUN_TOGETHER = 20  # letters: a word this long in small letters is words without spaces
RUN_TOGETHER_SHARE = 0.05  # of a page's words: its text layer lost its spaces


_PARAGRAPH_END = re.compile(r"[.!?:\"”»]$")  # a line that may end a paragraph


@dataclass
class _Line:
    """One line of a PDF page: its text, height on the page (None when unknown), font size."""

    text: str
    y: float | None = None
    size: float = 0.0
    margin: bool = True  # in the page's top or bottom margin (or where, unknown)
    upright: bool = True  # written left to right, not sideways or upside down


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
                across, up = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
                lines[-1].upright = across > 0 and abs(up) < 0.1 * across
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
    """Drop each page's running header and footer, its page number, and lines printed
    sideways on a page of upright lines (a repository's stamp, a printer's code in the margin).

    Only lines that stand in a page's top or bottom margin (PAGE_MARGIN of its height) are
    candidates. A page number is a line of a number alone, or with "page", "стр." or "-бет"
    ("— 157 —", "Page 3 of 40"), among the first or last PAGE_EDGE_LINES lines. A running
    header or footer is a line that recurs, digits aside, in the margin of at least half of
    the pages (and of two or more); where pypdf runs two of them into one line, the line.
    """

    def shape(text: str) -> str:
        return re.sub(r"\d+", "#", text.lower())

    def edges(lines: list[_Line]) -> list[_Line]:
        return lines[:PAGE_EDGE_LINES] + lines[-PAGE_EDGE_LINES:]

    counts: dict[str, int] = {}
    for lines in pages:
        for text in {shape(line.text) for line in lines if line.margin}:
            counts[text] = counts.get(text, 0) + 1
    recurring = sorted((t for t, n in counts.items() if n >= max(2, len(pages) / 2)), key=len)

    def repeated(text: str) -> bool:  # recurring lines, one or several run together
        rest = shape(text)
        while rest and (start := next((t for t in reversed(recurring) if rest.startswith(t)), "")):
            rest = rest[len(start) :].lstrip()
        return not rest

    kept = []
    for lines in pages:
        upright = 2 * sum(line.upright for line in lines) > len(lines)
        kept.append([
            line
            for line in lines
            if (line.upright or not upright) and not (
                line.margin
                and (repeated(line.text)
                     or _PAGE_NUMBER.fullmatch(line.text) and any(line is e for e in edges(lines)))
            )
        ])  # fmt: skip
    return kept


def _not_text(lines: list[_Line]) -> bool:
    """Whether a page's text layer is not its text: glyph codes ("3HQČåQt SURVWĜHGN\\" from a
    font without a Unicode map: fewer than TEXT_SHARE of its words with letters are shaped as
    words are, one case or capitalised, letters only inside), or words without the spaces
    between them ("Theansweristhatscienceuses…": RUN_TOGETHER_SHARE of its words are runs of
    RUN_TOGETHER small letters or more, which no language here writes as often)."""
    words = [w for line in lines for w in line.text.split() if any(c.isalpha() for c in w)]
    shaped = run_together = 0
    for word in words:
        match = _WORD.fullmatch(word)
        letters = match.group(1).replace("-", "").replace(".", "") if match else ""
        shaped += bool(letters) and (
            letters.islower() or letters.isupper() or letters.istitle() or len(letters) == 1
        )
        runs = re.findall(rf"[^\W\d_]{{{RUN_TOGETHER},}}", letters)
        run_together += any(run[1:].islower() for run in runs)
    return bool(words) and (
        shaped < TEXT_SHARE * len(words) or run_together >= RUN_TOGETHER_SHARE * len(words)
    )


def _cover_title(lines: list[_Line]) -> tuple[str, int] | None:
    """The title printed on a first page and the number of its line after it: its lines in
    the page's largest type, when that is larger than its body's (HEADING_SIZE), the first run
    of them one under the other (TITLE_LINES at most, TITLE_SPACING apart) joined."""
    sizes = sorted(line.size for line in lines)
    if not sizes or sizes[-1] <= HEADING_SIZE * sizes[len(sizes) // 2]:
        return None
    run: list[_Line] = []
    end = len(lines)
    for number, line in enumerate(lines):
        near = not run or (run[-1].y is not None and line.y is not None
                           and 0 < run[-1].y - line.y <= TITLE_SPACING * line.size)  # fmt: skip
        if line.size == sizes[-1] and near:
            run.append(line)
        elif run:
            end = number
            break
    return (" ".join(line.text for line in run), end) if len(run) <= TITLE_LINES else None


def _byline(lines: list[_Line]) -> str | None:
    """The first author a paper's first page names: the first line under its cover title
    that reads as people's names once their affiliation marks ("Rui Wang1", "Montoya∗ †") are
    dropped; None when there is none."""
    for line in lines[:BYLINE_LINES]:
        text = _AFFILIATION_MARK.sub("", line.text).strip(" ,")
        names = [n.strip() for n in re.split(r",|\band\b|&", text) if n.strip()]
        if names and len(names[0].split()) >= 2 and all(people(n) for n in names):
            return people(names[0])
    return None


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
        if current and (joined := rejoined(current[-1], line.text)):
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


def read_pdf(raw: bytes, ocr_page: Callable[[int], object] | None = None) -> Extracted:
    from pypdf import PdfReader

    # pypdf raises many kinds of errors on damaged files; any of them means "cannot read".
    try:
        reader = PdfReader(io.BytesIO(raw))
        # A PDF with an owner password only (no printing, say) opens with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted PDF: it needs a password to open; save it without one")
        pages = [_page_lines(page) for page in reader.pages]
        pages = _without_page_furniture([[] if _not_text(p) else p for p in pages])
        info = reader.metadata or {}
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"not a readable PDF ({type(error).__name__}: {error})") from error
    text, starts, scanned = "", [], []
    to_read = sum(not lines for lines in pages)
    for number, lines in enumerate(pages):
        if lines:
            paragraphs = [p for p in _pdf_paragraphs(lines) if not copyright_notice(p)]
        else:  # no text layer: a scanned page
            paragraphs = recognise(render_page(raw, number))
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
    cover = _cover_title(pages[0]) if pages else None  # None for a scanned page: its heading
    if tool_made(metadata.get("title", "untitled")) and cover:
        metadata["title"] = cover[0]
    # The author the file names stands unless a tool made it or the first page does not print
    # it (a login: "ibm", "senellpa"); then the byline under the cover title, if any.
    author = metadata.get("author", "")
    if cover and (
        tool_made(author or "untitled")
        or fold(author) not in fold(" ".join(line.text for line in pages[0]))
    ):
        if byline := _byline(pages[0][cover[1] :]):
            metadata["author"] = byline
    return Extracted(text, metadata, pages=starts, scanned=scanned)


def render_page(raw: bytes, page: int) -> bytes:
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
