"""The folded form of text used for search, never for display.

Passages and questions go through the same `fold`, so a plain Latin question finds
`М. Ablyazov` (Cyrillic М) or `WATСH` (Cyrillic С), and curly quotes match straight ones.
"""

from __future__ import annotations

import re
import unicodedata

# Cyrillic letters that look like Latin ones. Folded only inside words that have no other
# Cyrillic letter, so genuine Russian or Kazakh words keep their spelling; in a text written
# mostly in Cyrillic, only inside words that also have Latin letters (Kazakh "ісі" and Russian
# "с" are words, not disguised Latin).
_LOOKALIKES = {
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    "а": "a", "е": "e", "ё": "e", "к": "k", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_PUNCTUATION_TABLE = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»‹›", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)
# Invisible characters (soft hyphen, zero-width, direction marks, BOM) and lone surrogates.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")
_CYRILLIC = re.compile("[\u0400-\u052f]")
_LATIN = re.compile("[A-Za-z]")
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"[^\W_]+")


def _fold_word(match: re.Match[str]) -> str:
    word = match.group()
    if not _CYRILLIC.search(word):
        return word
    if all(c in _LOOKALIKES for c in _CYRILLIC.findall(word)):
        return word.translate(_LOOKALIKE_TABLE)
    return word


def _fold_mixed_word(match: re.Match[str]) -> str:
    word = match.group()
    return _fold_word(match) if _LATIN.search(word) else word


def latin_lookalikes(text: str) -> str:
    """Return `text`, mostly in Latin letters, with its words spelled in Cyrillic look-alikes
    written in Latin: OCR that also knows Russian and Kazakh reads "The" as "Тһе".

    For extraction (the text OCR gives), not for display: text mostly in Cyrillic is returned
    as it is.
    """
    if len(_LATIN.findall(text)) <= len(_CYRILLIC.findall(text)):
        return text
    return _WORD.sub(_fold_word, text)


def clean(text: str) -> str:
    """Return `text` in Unicode NFKC, without invisible characters, runs of whitespace one space.

    What a cased multilingual model reads: it knows typographic quotes and Cyrillic letters,
    and folding them cost it (BENCHMARKS.md).
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))
    return " ".join(text.split())


def fold(text: str) -> str:
    """Return the search form of `text`.

    `clean`, then Cyrillic look-alikes folded to Latin, curly quotes and dashes made plain,
    lower case.
    """
    text = clean(text).translate(_PUNCTUATION_TABLE)
    if _CYRILLIC.search(text):  # most text has none: skip the word-by-word pass
        latin_text = len(_CYRILLIC.findall(text)) <= len(_LATIN.findall(text))
        text = _WORD.sub(_fold_word if latin_text else _fold_mixed_word, text)
    return text.lower()


def tokens(text: str) -> list[str]:
    """Return the words of the folded `text` (letters and digits only)."""
    return words(fold(text))


def words(folded: str) -> list[str]:
    """Return the words (letters and digits only) of text that is already folded."""
    return _TOKEN.findall(folded)
