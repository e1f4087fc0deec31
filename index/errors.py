"""The one exception type that `index/` raises for problems a user can fix."""

from __future__ import annotations


class ArchiveError(Exception):
    """A problem with the corpus or the index; the message says what to run or change."""


def first_line(error: Exception) -> str:
    """An error's message in one line for a person (its first, at most 200 characters), or
    its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
