"""The one answering path shared by `ask`, the terminal chat and the Telegram bot."""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.search import Searcher, SearchResult

MAX_QUESTION_CHARS = 500
EMPTY_NOTE = "The question is empty: ask about the archive, e.g. “Who was the French ambassador?”"


@dataclass(frozen=True)
class Answer:
    """A search result and, when the question was cut or empty, a note for the asker."""

    result: SearchResult
    note: str | None = None
    latency_ms: float = 0.0  # time spent searching


def answer(searcher: Searcher, text: str, top_k: int = 3) -> Answer:
    """Answer the question `text`: empty ones get a note, long ones are cut to 500 characters."""
    question = " ".join(text.split())
    if not question:
        return Answer(SearchResult(query="", found=False, hits=[]), EMPTY_NOTE)
    note = None
    if len(question) > MAX_QUESTION_CHARS:
        cut = question.rfind(" ", 0, MAX_QUESTION_CHARS + 1)
        question = question[: cut if cut > MAX_QUESTION_CHARS // 2 else MAX_QUESTION_CHARS]
        note = f"Your question was long: only its first {len(question)} characters were searched."
    started = time.perf_counter()
    result = searcher.search(question, top_k)
    return Answer(result, note, 1000 * (time.perf_counter() - started))
