"""Rendering answers: JSON for scripts, plain text for the terminal, HTML for Telegram.

Quotes are shown exactly as they stand in the source; only markup around them is added, and a
quote too long for one Telegram message is cut at a sentence with "…" at the cut. Everything
around the quotes comes from `bot.texts` in the asker's language (the terminal's is English).
"""

from __future__ import annotations

from html import escape

import click

from bot.answering import Answer
from bot.texts import LANGUAGES
from bot.texts import text as say
from index.passages import sentence_spans
from index.store import CARD_PARAGRAPH, StoredPassage

TELEGRAM_LIMIT = 4096
ENTITY_LIMIT = 100  # Telegram applies at most this many formatting entities (tags) per message
ELLIPSIS = " …"
TERMINAL = "en"  # the language of `ask` and the terminal chat
# Metadata is shown whole up to these lengths, so a heading or a catalogue title of thousands
# of characters never pushes a message past Telegram's limit (quotes are cut at sentences).
METADATA_CHARS = 120  # a title, author, date or section name in an attribution
NOTE_CHARS = 300  # a catalogue note in /sources
EXAMPLE_CHARS = 200  # an example question


def shorten(text: str, limit: int) -> str:
    """Return `text` on one line, cut between words to at most `limit` characters with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:") + "…"


def attribution_of(passage: StoredPassage, lang: str, paragraph: bool = True) -> str:
    """Return "title, author, date, section, ¶ n" for a passage as plain text, in `lang`.

    The document's own metadata (title, author, section name) stays as it is, shortened past
    METADATA_CHARS; only the labels are translated. Missing parts are left out.
    """
    document = passage.document
    title = shorten(document["title"], METADATA_CHARS)
    if passage.paragraph == CARD_PARAGRAPH:  # its text holds the values: not twice
        return say(lang, "attribution_card", html=False, title=title)
    parts = [title, *(shorten(document[k] or "", METADATA_CHARS) for k in ("author", "date"))]
    if passage.section:
        section = shorten(passage.section, METADATA_CHARS)
        parts.append(say(lang, "attribution_section", html=False, name=section))
    if paragraph:
        parts.append(say(lang, "attribution_paragraph", html=False, number=passage.paragraph))
    if passage.page:
        parts.append(say(lang, "attribution_page", html=False, number=passage.page))
    if passage.scanned:
        parts.append(say(lang, "attribution_scanned", html=False))
    return ", ".join(p for p in parts if p)


def note_of(answer: Answer, lang: str) -> str | None:
    """Return the note on an empty or shortened question, as plain text (None without one)."""
    if not answer.result.query:
        return say(lang, "note_empty", html=False)
    if answer.cut_to:
        return say(lang, "note_cut", count=answer.cut_to, html=False)
    return None


def to_json(answer: Answer) -> dict:
    """Return the `ask --json` object of DESIGN.md (plus `note` when there is one)."""
    result = answer.result
    data = {
        "query": result.query,
        "found": result.found,
        "outcome": result.outcome,
        "confidence": result.confidence,
        "reason": result.reason,
        "passages": [
            {
                "text": hit.passage.text,
                "score": round(hit.score, 4),
                "highlight": list(hit.best_sentence) if hit.best_sentence else None,
                "document": hit.passage.document,
                "section": hit.passage.section,
                "paragraph": hit.passage.paragraph,
                "passage_id": hit.passage.passage_id,
            }
            | ({"page": hit.passage.page} if hit.passage.page else {})
            | ({"scanned": True} if hit.passage.scanned else {})
            for hit in result.hits
        ],
    }
    if note := note_of(answer, TERMINAL):
        data["note"] = note
    return data


def to_text(answer: Answer, color: bool = False) -> str:
    """Return a readable answer: each passage quoted, best sentence highlighted, attributed.

    The quote is printed as it stands (no re-wrapping): the terminal wraps long lines.
    """
    note = note_of(answer, TERMINAL)
    lines = [note] if note else []
    result = answer.result
    if not result.query:
        return "\n".join(lines)
    if result.outcome == "none":
        lines.append(say(TERMINAL, "nothing_found", html=False))
        return "\n".join(lines)
    if result.outcome == "closest":
        lines += [say(TERMINAL, "closest", html=False), ""]
    for number, hit in enumerate(result.hits, start=1):
        text = hit.passage.text
        if color and hit.best_sentence:
            start, end = hit.best_sentence
            text = text[:start] + click.style(text[start:end], bold=True) + text[end:]
        lines += [f"{number}. “{text}”", f"   — {attribution_of(hit.passage, TERMINAL)}", ""]
    return "\n".join(lines).rstrip()


def _html_quote(text: str, bold: tuple[int, int] | None) -> str:
    """Escape `text` and put the span `bold` (offsets into `text`) in <b>."""
    if not bold:
        return escape(text, quote=False)
    start, end = bold
    return (
        escape(text[:start], quote=False)
        + f"<b>{escape(text[start:end], quote=False)}</b>"
        + escape(text[end:], quote=False)
    )


def _cut_quote(text: str, bold: tuple[int, int] | None, budget: int) -> str:
    """Return the HTML of the longest head of `text` that fits `budget`, cut at a sentence.

    A single sentence longer than the budget is cut between words. "…" marks the cut. Only
    the first `budget` characters are looked at (escaping never shortens text), so a quote
    costs the same whatever the length of its paragraph.
    """
    window = text[: budget + 1]
    cut_short = len(window) < len(text.rstrip())
    spans = sentence_spans(window)
    if cut_short and spans:
        spans = spans[:-1]  # the last one runs into the cut, not to a sentence end
    ends = [end for _, end in spans]
    first_end = ends[0] if ends else len(window)
    ends += [i for i, c in enumerate(window[:first_end]) if c.isspace()]
    for end in sorted(set(ends), reverse=True):
        head = text[:end].rstrip()
        clipped = (bold[0], min(bold[1], len(head))) if bold and bold[0] < len(head) else None
        html = _html_quote(head, clipped) + (ELLIPSIS if end < len(text.rstrip()) else "")
        if len(html) <= budget:
            return html
    return ELLIPSIS.strip()


def passage_html(
    passage: StoredPassage, bold: tuple[int, int] | None, budget: int, lang: str
) -> str:
    """Return one quoted passage and its attribution as Telegram HTML within `budget`."""
    line = f"— {escape(attribution_of(passage, lang), quote=False)}"
    quote = _cut_quote(passage.text, bold, budget - len(line) - len("<blockquote></blockquote>\n"))
    return f"<blockquote>{quote}</blockquote>\n{line}"


def to_html(answer: Answer, examples: list[str], lang: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Return the Telegram message for an answer: quotes in <blockquote>s, each attributed.

    Passages that do not fit `limit` are dropped from the end; a first passage that alone
    does not fit is cut at a sentence. `examples` are questions in the asker's language `lang`.
    """
    note = note_of(answer, lang)
    head = f"<i>{escape(note, quote=False)}</i>\n\n" if note else ""
    result = answer.result
    if not result.query:
        return head.strip()
    if result.outcome == "none":
        return head + nothing_found_html(examples, lang)
    if result.outcome == "closest":  # said plainly first: these are not an answer
        head += say(lang, "closest") + "\n\n"
    blocks: list[str] = []
    budget = limit - len(head)
    for hit in result.hits:
        block = passage_html(hit.passage, hit.best_sentence, budget if not blocks else 10**9, lang)
        if blocks and len(block) + 2 > budget:
            break
        blocks.append(block)
        budget -= len(block) + 2
    return head + "\n\n".join(blocks)


def nothing_found_html(examples: list[str], lang: str) -> str:
    """Return the "nothing found" message with example questions the archive answers."""
    lines = [say(lang, "nothing_found")]
    if examples:
        lines += ["", say(lang, "you_could_ask")]
        lines += [f"• {escape(shorten(q, EXAMPLE_CHARS), quote=False)}" for q in examples[:3]]
    return "\n".join(lines)


def sources_html(documents: list[dict], lang: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Return /sources: each document's title, author, date, language, passages and note.

    Every part is shortened (a note to one line), so each document's entry is whole and its
    tags closed; entries past the message's length or Telegram's entity limit are counted in
    a last line instead of listed.
    """
    lines = [f"<b>{say(lang, 'sources_title')}</b>"]
    entities, size = 1, len(lines[0])
    for listed, d in enumerate(documents):
        details = [say(lang, "count_passages", count=d["passages"])]
        if d["language"] in LANGUAGES:
            name = say(lang, f"language_{d['language']}")
            details.insert(0, say(lang, "sources_language", language=name))
        byline = ", ".join(
            escape(shorten(x, METADATA_CHARS), quote=False) for x in (d["author"], d["date"]) if x
        )
        note = shorten(d["note"] or "", NOTE_CHARS)
        entry = (
            f"• <b>{escape(shorten(d['title'], METADATA_CHARS), quote=False)}</b>"
            f"{' — ' + byline if byline else ''} ({', '.join(details)})"
            + (f"\n  <i>{escape(note, quote=False)}</i>" if note else "")
        )
        after = len(documents) - listed - 1  # room for the last line, should the next not fit
        reserve = len(say(lang, "sources_more", count=after)) + 1 if after else 0
        if entities + 1 + bool(note) > ENTITY_LIMIT or size + 1 + len(entry) + reserve > limit:
            lines.append(say(lang, "sources_more", count=len(documents) - listed))
            break
        lines.append(entry)
        entities += 1 + bool(note)
        size += 1 + len(entry)
    return "\n".join(lines)


def context_html(
    passages: list[StoredPassage], quoted: int, lang: str, limit: int = TELEGRAM_LIMIT
) -> str:
    """Return the paragraphs around paragraph `quoted` as an expandable blockquote."""
    first = passages[0]
    parts = []
    for p in passages:
        marker = "▶ " if p.paragraph == quoted else ""
        number = say(lang, "attribution_paragraph", number=p.paragraph)
        parts.append(f"{marker}{number}\n{escape(p.text, quote=False)}")
    line = f"— {escape(attribution_of(first, lang, paragraph=False), quote=False)}"
    body = "\n\n".join(parts)
    if len(body) + len(line) + 40 > limit:  # the quoted paragraph alone, cut to fit
        p = next((p for p in passages if p.paragraph == quoted), first)
        number = say(lang, "attribution_paragraph", number=p.paragraph)
        body = f"{number}\n" + _cut_quote(p.text, None, limit - len(line) - 60)
    return f"<blockquote expandable>{body}</blockquote>\n{line}"
