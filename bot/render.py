"""Rendering answers: JSON for scripts, plain text for the terminal.

Quotes are shown exactly as they stand in the source; only markup around them is added.
"""

from __future__ import annotations

import click

from bot.answering import Answer
from index.search import Hit

NOTHING_FOUND = "The archive has no passage that answers this question."


def attribution(hit: Hit) -> str:
    """Return "title, author, date, section, ¶ n" for a hit (missing parts left out)."""
    document = hit.passage.document
    parts = [document["title"], document["author"], document["date"]]
    if hit.passage.section:
        parts.append(f"section “{hit.passage.section}”")
    parts.append(f"¶ {hit.passage.paragraph}")
    return ", ".join(p for p in parts if p)


def to_json(answer: Answer) -> dict:
    """Return the `ask --json` object of DESIGN.md (plus `note` when there is one)."""
    result = answer.result
    data = {
        "query": result.query,
        "found": result.found,
        "passages": [
            {
                "text": hit.passage.text,
                "score": round(hit.score, 4),
                "document": hit.passage.document,
                "section": hit.passage.section,
                "paragraph": hit.passage.paragraph,
                "passage_id": hit.passage.passage_id,
            }
            for hit in result.hits
        ],
    }
    if answer.note:
        data["note"] = answer.note
    return data


def to_text(answer: Answer, color: bool = False) -> str:
    """Return a readable answer: each passage quoted, best sentence highlighted, attributed.

    The quote is printed as it stands (no re-wrapping): the terminal wraps long lines.
    """
    lines = [answer.note] if answer.note else []
    result = answer.result
    if not result.query:
        return "\n".join(lines)
    if not result.found:
        lines.append(NOTHING_FOUND)
        return "\n".join(lines)
    for number, hit in enumerate(result.hits, start=1):
        text = hit.passage.text
        if color and hit.best_sentence:
            start, end = hit.best_sentence
            text = text[:start] + click.style(text[start:end], bold=True) + text[end:]
        lines += [f"{number}. “{text}”", f"   — {attribution(hit)}", ""]
    return "\n".join(lines).rstrip()
