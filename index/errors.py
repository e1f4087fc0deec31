"""The one exception type that `index/` raises for problems a user can fix."""

from __future__ import annotations


class ArchiveError(Exception):
    """A problem with the corpus or the index; the message says what to run or change."""
