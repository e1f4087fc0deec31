"""Text extraction: each supported file format becomes plain text plus its own metadata.

The extracted text is the document's text for the archive: passages are verbatim slices of
it. Headings come out as Markdown `#` lines (headings, never quoted) where the format has
them, paragraphs are separated by blank lines, and a PDF records where each page starts.

    text.py    .txt, .md; `Extracted` and decoding, which every reader shares
    html.py    .html, .htm: web pages saved from websites
    pdf.py     .pdf: text layers, and scanned pages through ocr.py
    ocr.py     .png, .jpg, .jpeg, .tif, .tiff: scans, read by Tesseract
    office.py  .docx, .odt, .epub, .rtf
    worker.py  the process that runs a reader on one file, in bounds (index.limits)

READERS is the one table of formats: the supported suffixes and those with `#` headings are
derived from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from index.limits import Limits
from index.readers import html, ocr, office, pdf, text
from index.readers.text import Extracted


@dataclass(frozen=True)
class Format:
    """A file format archive-bot reads: its suffixes, its reader, and how it is bounded."""

    suffixes: tuple[str, ...]
    read: Callable[..., Extracted]  # read(raw), or read(raw, ocr_page) when `ocr`
    headings: bool = False  # its headings come out as Markdown `#` lines
    zipped: bool = False  # a zip container: its members' sizes are checked before parsing
    ocr: bool = False  # it may read pages by OCR, reporting each (a progress bar)


READERS = (
    Format((".txt",), text.read_text),
    Format((".md",), text.read_markdown, headings=True),
    Format((".html", ".htm"), html.read_page, headings=True),
    Format((".pdf",), pdf.read_pdf, headings=True, ocr=True),
    Format((".png", ".jpg", ".jpeg", ".tif", ".tiff"), ocr.read_image, headings=True, ocr=True),
    Format((".docx",), office.read_docx, headings=True, zipped=True),
    Format((".odt",), office.read_odt, headings=True, zipped=True),
    Format((".epub",), office.read_epub, headings=True, zipped=True),
    Format((".rtf",), office.read_rtf),
)
BY_SUFFIX = {suffix: format for format in READERS for suffix in format.suffixes}
FORMATS = set(BY_SUFFIX)
#: Formats whose headings are Markdown `#` lines after extraction.
MARKDOWN_HEADINGS = {suffix for format in READERS if format.headings for suffix in format.suffixes}
#: What to do with formats that are not read, for the report of a skipped file.
CONVERT = {
    ".doc": "a legacy Word file: save it as .docx (in Word, or with "
    "`libreoffice --headless --convert-to docx FILE.doc`)",
    ".xls": "a spreadsheet: export the text to read as .docx or .pdf",
}


def extract(
    suffix: str, raw: bytes, limits: Limits, ocr_page: Callable[[int], object] | None = None
) -> Extracted:
    """Return the text and metadata of a file's bytes, within `limits`.

    `ocr_page(total)` is called after each page OCR reads, with the number of pages it reads
    in this file (a progress bar).

    Raises:
        ValueError: the file is of a format not read, empty, broken, encrypted, not text where
            text is expected, or over a limit (the message names it).
        Exception: whatever a parsing library raises on a damaged file (see worker.py).
    """
    format = BY_SUFFIX.get(suffix.lower())
    if format is None:
        raise ValueError(f"{suffix or 'a file without a suffix'} is not a format archive-bot reads")
    limits.check_file(len(raw))
    if format.zipped:
        limits.check_zip(raw)
    extracted = format.read(raw, ocr_page) if format.ocr else format.read(raw)
    limits.check_text(extracted.text)
    if not extracted.text[extracted.body_start :].strip():
        raise ValueError("no text" + (" (a blank scan?)" if extracted.scanned else ""))
    return extracted
