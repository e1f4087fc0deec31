"""Scans: images (PNG, JPEG, TIFF) and PDF pages without a text layer, read by Tesseract.

Tesseract's orientation and script detection looks at each page first: a page scanned upside
down or sideways is turned upright, and a page in Latin letters is read with the English data
alone (read with the Russian and Kazakh data too, English words got Cyrillic letters). Other
pages, and pages too sparse for the detection, are read with Russian, Kazakh and English data
together. Without Tesseract a scan is refused with the command that installs it (`make ocr`
does it). Tesseract gives each word with its box: a paragraph in letters far taller than the
page's (HEADING_HEIGHT) is a `#` heading, and a scan's first heading is its title.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from index.normalize import latin_lookalikes
from index.readers.text import Extracted, rejoined

OCR_LANGUAGES = "rus+kaz+eng"  # Tesseract's models, tried together on a page
LATIN_LANGUAGES = "eng"  # for a page the detection finds in Latin letters
OCR_DPI = 300  # a scanned PDF page is rendered at this resolution for OCR
OCR_INSTALL = "sudo apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-kaz"
HEADING_HEIGHT = 1.5  # a paragraph in letters this many times as tall as the page's is a heading
HEADING_LINES = 4  # a heading runs over this many lines at most


def recognise(image: bytes) -> list[str]:
    """Return the paragraphs Tesseract reads in an image (PNG, JPEG or TIFF bytes).

    A paragraph's lines are joined, and a word hyphenated at a line's end is joined again. A
    paragraph of HEADING_LINES at most, in letters HEADING_HEIGHT times as tall as the page's
    median line's, is a `#` heading (a line's height is its words' median: a skewed scan's
    line boxes are all tall).

    Raises:
        ValueError: Tesseract or its Russian, Kazakh or English data is not installed (the
            message says what to install), or it failed on the image.
    """
    import shutil
    import subprocess

    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise ValueError(f"a scan: its text needs OCR; install Tesseract: `{OCR_INSTALL}`")
    turn, script = _orientation(tesseract, image)
    if turn:
        image = _turned(image, turn)
    languages = LATIN_LANGUAGES if script == "Latin" else OCR_LANGUAGES
    done = subprocess.run(
        [tesseract, "stdin", "stdout", "-l", languages, "tsv"],
        input=image,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        hint = f"; install its data: `{OCR_INSTALL}`" if "language" in problem[0].lower() else ""
        raise ValueError(f"OCR failed ({problem[0][:200]}){hint}")
    # One row per word: its paragraph's and line's numbers, its box's height, its text.
    lines: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[11].strip() and cells[9].isdigit():
            key = tuple(cells[1:5])  # page, block, paragraph, line
            lines.setdefault(key, []).append((int(cells[9]), cells[11].strip()))
    heights = {key: sorted(h for h, _ in words)[len(words) // 2] for key, words in lines.items()}
    tall = HEADING_HEIGHT * sorted(heights.values())[len(heights) // 2] if heights else 0
    paragraphs: dict[tuple[str, ...], list[tuple[str, ...]]] = {}  # each one's lines' keys
    for key in lines:
        paragraphs.setdefault(key[:3], []).append(key)  # by page, block, paragraph
    found = []
    for keys in paragraphs.values():
        text = ""
        for key in keys:
            line = " ".join(word for _, word in lines[key])
            text = rejoined(text, line) or f"{text} {line}".strip()
        heading = len(heights) >= 3 and len(keys) <= HEADING_LINES and any(map(str.isalpha, text))
        if heading and all(heights[key] >= tall for key in keys):
            text = f"# {text}"
        found.append(latin_lookalikes(text))
    return found


def _orientation(tesseract: str, image: bytes) -> tuple[int, str | None]:
    """Return how many degrees clockwise the page must turn to stand upright, and the script
    it is written in ("Latin", "Cyrillic", …), as Tesseract's detection says; (0, None) when it
    cannot tell (too few letters on the page)."""
    import subprocess

    done = subprocess.run(
        [tesseract, "stdin", "stdout", "--psm", "0"], input=image, capture_output=True, check=False
    )
    report = done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""
    turn = re.search(r"^Rotate: (\d+)$", report, re.MULTILINE)
    script = re.search(r"^Script: (\w+)$", report, re.MULTILINE)
    return (int(turn.group(1)) % 360 if turn else 0), (script.group(1) if script else None)


def _turned(image: bytes, degrees: int) -> bytes:
    """The PNG of `image` turned `degrees` clockwise."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(image)).rotate(-degrees, expand=True).save(out, "PNG")
    return out.getvalue()


def read_image(raw: bytes, ocr_page: Callable[[int], object] | None = None) -> Extracted:
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
        pages.append(recognise(frame))
        if ocr_page:
            ocr_page(len(frames))
    return scanned_pages(pages)


def scanned_pages(pages: list[list[str]]) -> Extracted:
    """The text of pages read by OCR, each paragraph a block, each page marked scanned."""
    text, starts = "", []
    for paragraphs in pages:
        if text and paragraphs:
            text += "\n\n"
        starts.append(len(text))
        text += "\n\n".join(paragraphs)
    return Extracted(text, pages=starts, scanned=list(range(1, len(pages) + 1)))
