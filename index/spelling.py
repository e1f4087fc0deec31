"""Misspelled names and words, corrected against the archive's own vocabulary.

"ablyazoff", "Аблязоф" or "ambassdor" are not words of the archive; "ablyazov" and
"ambassador" are. A question word that the keyword index does not hold (in Latin letters,
transliterated if need be) also searches for the archive's words closest to it in spelling.
The words are kept by first letter and length, and compared with rapidfuzz (C++): a look-up
stays in milliseconds at the vocabulary of a million passages (scripts/bench_spelling.py).
"""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz import fuzz, process

from index.languages import is_cyrillic, transliterate

MIN_LENGTH = 5  # shorter words have too many neighbours to correct
CUTOFF = 80  # similarity a correction needs (rapidfuzz's ratio, as difflib's, times 100)
LENGTH_SPREAD = 2  # letters a correction may have more or fewer than the word


class Vocabulary:
    """The distinct words of an index, grouped by first letter and length."""

    def __init__(self, words: list[str]) -> None:
        self.words = set(words)
        self._groups: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in self.words:
            if len(word) >= MIN_LENGTH - 1 and not is_cyrillic(word):
                self._groups[word[0], len(word)].append(word)

    def corrections(self, word: str) -> list[str]:
        """Return up to two archive words spelled like `word` (none when it is one of them).

        Only words of the same first letter and of a length within LENGTH_SPREAD are compared
        (a typo or a transliteration variant, "ablyazoff" for "ablyazov", changes the length
        by one or two): a look-up reads a few buckets, not the vocabulary.
        """
        latin = transliterate(word)
        if len(latin) < MIN_LENGTH or word in self.words or latin in self.words:
            return []
        candidates = [
            candidate
            for length in range(len(latin) - LENGTH_SPREAD, len(latin) + LENGTH_SPREAD + 1)
            for candidate in self._groups.get((latin[0], length), ())
        ]
        found = process.extract(latin, candidates, scorer=fuzz.ratio, score_cutoff=CUTOFF, limit=2)
        return [candidate for candidate, _, _ in sorted(found, key=lambda f: (-f[1], f[0]))]
