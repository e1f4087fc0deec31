"""Misspelled names and words, corrected against the archive's own vocabulary.

"ablyazoff", "Аблязоф" or "ambassdor" are not words of the archive; "ablyazov" and
"ambassador" are. A question word that the keyword index does not hold (in Latin letters,
transliterated if need be) also searches for the archive's words closest to it in spelling.
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from index.languages import is_cyrillic, transliterate

MIN_LENGTH = 5  # shorter words have too many neighbours to correct
CUTOFF = 0.8  # difflib similarity a correction needs


class Vocabulary:
    """The distinct words of an index, grouped by first letter for fast look-ups."""

    def __init__(self, words: list[str]) -> None:
        self.words = set(words)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self.words:
            if len(word) >= MIN_LENGTH - 1 and not is_cyrillic(word):
                self._by_initial[word[0]].append(word)

    def corrections(self, word: str) -> list[str]:
        """Return up to two archive words spelled like `word` (none when it is one of them)."""
        latin = transliterate(word) if is_cyrillic(word) else word
        if len(latin) < MIN_LENGTH or word in self.words or latin in self.words:
            return []
        candidates = self._by_initial.get(latin[0], [])
        return difflib.get_close_matches(latin, candidates, n=2, cutoff=CUTOFF)
