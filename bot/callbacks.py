"""Inline-button callback data: short, typed, validated; never user text.

    more:<answer id>:<passages shown>     the next passages of an answer
    ctx:<document key>:<paragraph>        the paragraphs around a quoted one
    fb:<answer id>:up|down                feedback on an answer
    forget:<request id>:yes|no            the confirmation of /forget, for its sender only

Answer and request ids are random and refer to answers and /forget requests kept in memory;
document keys are a hash of the document id, so "Context" buttons keep working across restarts
and reindexing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_PATTERNS = {
    "more": re.compile(r"more:(?P<answer>[A-Za-z0-9_-]{8}):(?P<number>[0-9]{1,2})"),
    "ctx": re.compile(r"ctx:(?P<document>[0-9a-f]{10}):(?P<number>[0-9]{1,6})"),
    "fb": re.compile(r"fb:(?P<answer>[A-Za-z0-9_-]{8}):(?P<choice>up|down)"),
    "forget": re.compile(r"forget:(?P<answer>[A-Za-z0-9_-]{8}):(?P<choice>yes|no)"),
}


@dataclass(frozen=True)
class Callback:
    kind: str  # "more", "ctx", "fb" or "forget"
    answer: str | None = None
    document: str | None = None
    number: int = 0
    choice: str | None = None


def document_key(doc_id: str) -> str:
    """Return the short, stable key of a document id used in callback data."""
    return hashlib.sha256(doc_id.encode()).hexdigest()[:10]


def more(answer: str, shown: int) -> str:
    return f"more:{answer}:{shown}"


def context(doc_id: str, paragraph: int) -> str:
    return f"ctx:{document_key(doc_id)}:{paragraph}"


def feedback(answer: str, vote: str) -> str:
    return f"fb:{answer}:{vote}"


def forget(request: str, choice: str) -> str:
    return f"forget:{request}:{choice}"


def parse(data: object) -> Callback | None:
    """Return the callback that `data` encodes, or None when it is not one of ours."""
    if not isinstance(data, str) or len(data) > 64:
        return None
    for kind, pattern in _PATTERNS.items():
        if match := pattern.fullmatch(data):
            fields = match.groupdict()
            number = int(fields.pop("number", 0) or 0)
            return Callback(kind=kind, number=number, **fields)
    return None
