"""The one answering path shared by `ask`, the terminal chat and the Telegram bot."""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.search import Searcher, SearchResult

MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Answer:
    """A search result, and how much of a long question was searched (rendered as a note)."""

    result: SearchResult
    cut_to: int | None = None  # characters searched, when the question was longer
    latency_ms: float = 0.0  # time spent searching


def answer(searcher: Searcher, text: str, top_k: int = 3) -> Answer:
    """Answer the question `text`: empty ones find nothing, long ones are cut to 500 characters."""
    question = " ".join(text.split())
    if not question:
        return Answer(SearchResult(query="", found=False, hits=[]))
    cut_to = None
    if len(question) > MAX_QUESTION_CHARS:
        cut = question.rfind(" ", 0, MAX_QUESTION_CHARS + 1)
        question = question[: cut if cut > MAX_QUESTION_CHARS // 2 else MAX_QUESTION_CHARS]
        cut_to = len(question)
    started = time.perf_counter()
    result = searcher.search(question, top_k)
    return Answer(result, cut_to, 1000 * (time.perf_counter() - started))
