"""Which lines of a document are headings, in every format.

Level 1 starts a new section: a `Section: …` line, a Markdown `#` line (in formats whose
headings come out as Markdown), or a short line in capitals («ПРИГОВОР», «УСТАНОВИЛ:») as court
rulings and reports head their parts. Level 2, a short line ending in `:`, names a subsection
within it. PDF extraction uses the same rules to keep a heading out of the paragraph around it.
"""

from __future__ import annotations

import re

_SECTION_LINE = re.compile(r"section:\s*(?P<name>.+)", re.IGNORECASE)
_MARKDOWN_HEADING = re.compile(r"#{1,6}\s+(?P<name>.+?)\s*#*")
_MAX_HEADING_WORDS = 8
_MAX_HEADING_CHARS = 80
_MIN_CAPITALS = 4  # "UN" or "I" alone is no heading
#: A heading that only numbers a part of a book or report, in the three languages.
_PART_LABEL = re.compile(
    r"(chapter|part|section|book|volume|unit|appendix|глава|часть|раздел|том|книга|бөлім|"
    r"тарау|бап)\s+(\d+|[ivxlcdm]+|[a-zа-я])\.?|\d+\s*-\s*(бөлім|тарау|бап)",
    re.IGNORECASE,
)


def heading(line: str, markdown: bool = False) -> tuple[int, str] | None:
    """Return (level, name) when `line` is a heading, else None."""
    line = line.strip()
    if match := _SECTION_LINE.fullmatch(line):
        return 1, match["name"].strip()
    if markdown and (match := _MARKDOWN_HEADING.fullmatch(line)):
        return 1, match["name"]
    if len(line) > _MAX_HEADING_CHARS or len(line.split()) > _MAX_HEADING_WORDS:
        return None
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= _MIN_CAPITALS and all(c.isupper() for c in letters):
        return 1, line.removesuffix(":").strip()
    if line.endswith(":"):
        return 2, line[:-1].strip()
    return None


def first_heading(text: str, markdown: bool = False) -> str | None:
    """Return the name of the first section heading of `text`, if it has one. A heading that
    only numbers a part ("Chapter 1", "Глава 3", "2-бөлім") gives way to the heading right
    under it, its name ("What is Earth Science?")."""
    label = None
    for line in (line for line in text.splitlines() if line.strip()):
        found = heading(line, markdown)
        if label is not None:
            return found[1] if found and found[0] == 1 else label
        if found and found[0] == 1:
            if not _PART_LABEL.fullmatch(found[1]):
                return found[1]
            label = found[1]
    return label
