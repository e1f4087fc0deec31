"""Splitting a document into passages: paragraphs, under headings, within the model's window.

A passage is a verbatim slice `document.text[start:end]`. Headings (see `index.headings`) are
not passages; they name the `section` of the passages below them. Paragraphs are blocks
separated by blank lines, or single lines in a text that has no blank lines (as the letter).
A paragraph longer than the model's window is cut at sentence boundaries into parts that keep
its number, so nothing is ever truncated away.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.headings import heading
from index.normalize import fold

if TYPE_CHECKING:
    from index.documents import Document  # the readers: a search never needs them

#: Counts the word pieces of each text (without the model's special tokens).
TokenCounter = Callable[[list[str]], list[int]]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

# A sentence ends at . ! ? or … (plus closing quotes or brackets) followed by whitespace and a
# capital, a digit or an opening quote. Initials ("N. Nazarbaev") and common abbreviations
# ("Mr. Smesov") do not end sentences.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[^\W\d_a-zа-яё]|\d)")
# (Single letters are initials or abbreviations in any language: "ч. 2", "г. Алматы", "ж.".)
_ABBREVIATIONS = set(
    "mr mrs ms dr st no nos vs prof gen gov jr sr co inc ltd art p pp vol e.g i.e cf etc "
    # Russian and Kazakh: "ст. 307 УК РК", "пп. 1-3", "гг.", "тыс. тенге", "обл.", "см."
    "ст пп гг тыс млн млрд руб тг обл ул им стр см др пр проф ред изд тел".split()
)
_LAST_WORD = re.compile(r"([\w.]+)[.!?…]+[\"'”’»)\]]*\s+$")
_LAST_WORD_REACH = 64  # characters before a sentence end searched for its last word
WHOLE_COUNT_CHARS = 16  # a paragraph under this many characters per window token is counted whole
COUNT_BATCH = 1000  # texts given to the tokenizer at once
PIECE_CHARS = 20_000  # a sentence longer than the window is cut into words this much at a time


@dataclass(frozen=True)
class Passage:
    """A verbatim slice of a document, the unit that is embedded, searched and quoted."""

    doc_id: str
    paragraph: int  # 1-based number among the document's body paragraphs (headings excluded)
    part: int  # 1-based; more than one part only when the paragraph exceeded the window
    section: str | None
    start: int  # offsets into Document.text
    end: int
    text: str
    heading: str | None = None  # the heading lines directly above the paragraph, if any
    page: int | None = None  # 1-based page of a paged document (PDF) where the passage starts
    scanned: bool = False  # its page was read by OCR: the text is what OCR recognised

    @property
    def search_text(self) -> str:
        """What is embedded and keyword-indexed: the text, after the heading right above it.

        Only the heading directly above a paragraph joins it: the letter's last section runs
        for twenty paragraphs, and naming it in each one drowned their own words (measured).
        """
        return f"{self.heading}\n{self.text}" if self.heading and self.part == 1 else self.text

    @property
    def passage_id(self) -> str:
        return f"{self.doc_id}#{self.paragraph}.{self.part}"

    @property
    def sort_key(self) -> tuple[str, int, int]:
        return self.doc_id, self.paragraph, self.part


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the sentences of `text`, without surrounding spaces."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        last = _LAST_WORD.search(text, max(start, match.start() - _LAST_WORD_REACH), match.end())
        word = last.group(1).lower().rstrip(".") if last else ""
        if len(word) == 1 and word.isalpha() or word in _ABBREVIATIONS:
            continue  # an initial or an abbreviation, not the end of a sentence
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [
        (s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans if text[s:e].strip()
    ]


def _paragraphs(text: str, start: int) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each non-empty line or blank-line-separated block after `start`."""
    body = text[start:]
    separator = _BLANK_LINE if _BLANK_LINE.search(body.strip()) else re.compile(r"\n")
    position = 0
    for match in [*separator.finditer(body), None]:
        end = match.start() if match else len(body)
        block = body[position:end]
        if block.strip():
            lead = len(block) - len(block.lstrip())
            yield start + position + lead, start + position + len(block.rstrip())
        position = match.end() if match else end


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each non-empty line in `text[start:end]`, stripped."""
    position = start
    for line in text[start:end].split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            yield position + lead, position + lead + len(stripped)
        position += len(line) + 1


def _pack(
    spans: list[tuple[int, int]], sizes: list[int], limit: int
) -> list[tuple[tuple[int, int], int]]:
    """Join consecutive spans greedily into groups whose summed size stays within `limit`.

    Returns each group's (start, end) with its summed size.
    """
    groups: list[tuple[tuple[int, int], int]] = []
    for (start, end), size in zip(spans, sizes, strict=True):
        if groups and groups[-1][1] + size <= limit:
            (first, _), total = groups[-1]
            groups[-1] = ((first, end), total + size)
        else:
            groups.append(((start, end), size))
    return groups


def fit_window(
    text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Cut `text[start:end]` into consecutive spans of at most `max_tokens` word pieces each.

    Cuts fall between sentences; a sentence longer than the window is cut between words.
    A single word longer than the window stays whole (the model reads its beginning). Work
    and memory grow with the paragraph's length, never faster: the tokenizer sees at most
    COUNT_BATCH texts, or PIECE_CHARS characters of one sentence, at a time.
    """
    # Every word piece covers at least one character of the folded text: short text fits.
    # Long text is counted sentence by sentence rather than as a whole.
    if end - start <= max_tokens * WHOLE_COUNT_CHARS and (
        len(fold(text[start:end])) <= max_tokens or count_tokens([text[start:end]])[0] <= max_tokens
    ):
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    sizes: list[int] = []
    sentences = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
    for (s, e), size in zip(sentences, _counts(text, sentences, count_tokens), strict=True):
        if size <= max_tokens:
            spans.append((s, e))
            sizes.append(size)
            continue
        for piece in _pieces(text, s, e):
            words = [(piece[0] + m.start(), piece[0] + m.end())
                     for m in re.finditer(r"\S+", text[piece[0] : piece[1]])]  # fmt: skip
            for group, size in _pack(words, _counts(text, words, count_tokens), max_tokens):
                spans.append(group)
                sizes.append(size)
    # Sizes add up: the tokenizer splits at whitespace first, so a span's count is the sum of
    # its sentences' or words' counts.
    return [group for group, _ in _pack(spans, sizes, max_tokens)]


def _counts(text: str, spans: list[tuple[int, int]], count_tokens: TokenCounter) -> list[int]:
    """Count the word pieces of each span, COUNT_BATCH spans at a time."""
    counts: list[int] = []
    for first in range(0, len(spans), COUNT_BATCH):
        counts += count_tokens([text[s:e] for s, e in spans[first : first + COUNT_BATCH]])
    return counts


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield consecutive stretches of `text[start:end]` of about PIECE_CHARS, cut at spaces."""
    while start < end:
        cut = min(end, start + PIECE_CHARS)
        if cut < end:
            space = max(text.rfind(" ", start, cut), text.rfind("\n", start, cut))
            cut = space if space > start else cut
        yield start, cut
        start = cut


def page_of(document: Document, offset: int) -> int | None:
    """Return the 1-based page holding `offset`, or None for a document without pages."""
    return bisect.bisect_right(document.pages, offset) if document.pages else None


def split_passages(
    document: Document, count_tokens: TokenCounter, max_tokens: int
) -> list[Passage]:
    """Split `document` into passages that each fit the model's window of `max_tokens`."""
    markdown = document.markdown_headings
    text = document.text
    passages: list[Passage] = []
    section: str | None = None
    subsection: str | None = None
    number = 0
    headings: list[str] = []
    for block_start, block_end in _paragraphs(text, document.body_start):
        body_start = None
        for line_start, line_end in _lines(text, block_start, block_end):
            found = heading(text[line_start:line_end], markdown) if body_start is None else None
            if found is None:
                body_start = line_start if body_start is None else body_start
                continue
            level, name = found
            headings.append(name)
            section, subsection = (name, None) if level == 1 else (section, name)
        if body_start is None:
            continue  # the block held only headings
        above = ". ".join(headings) or None
        headings = []
        number += 1
        label = " › ".join(name for name in (section, subsection) if name) or None
        window = max_tokens - (count_tokens([above])[0] + 1 if above else 0)
        parts = fit_window(text, body_start, block_end, count_tokens, window)
        passages.extend(
            Passage(
                document.id,
                number,
                part,
                label,
                s,
                e,
                text[s:e],
                above,
                page_of(document, s),
                page_of(document, s) in document.scanned,
            )
            for part, (s, e) in enumerate(parts, start=1)
        )
    return passages
