"""The names a question asks about, for telling an answer from a passage that only names them.

A near-topic question names what the archive is about and asks what it does not say: "What
currency does France use?" comes close to a paragraph about French judges because of
"France" alone. A passage that answers a question is closer to the whole question than to
its names; one that merely mentions them is about as close to the names alone ("France") as
to the question (`index.search.Searcher`, "what the question adds to its names").

The archive's names are the words its passages write with a capital letter inside a
sentence more often than without (found when the index is built, `archive_names`); a
question's names are its words that are such names, in any alphabet and with any ending
("Аблязова", "Тоқаев" ~ "Ablyazov", "Tokaev"), and its words the asker wrote with a capital
inside the sentence ("Human Rights Watch").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from index.languages import is_cyrillic, transliterate
from index.normalize import fold

WORD = re.compile(r"\w[\w'’-]*")
# A Russian or Kazakh word and a name are taken as one when their Latin forms share this many
# first letters (endings: "Аблязова" ~ "Ablyazov"); one fewer for a question's first word,
# capitalised anyway ("Франция" ~ "France"). An English word must be the name itself
# ("democracy" is no "Democratic"), or the name and "'s".
STEM = 5
# Text before a word that ends a sentence: the word after it is capitalised anyway. A single
# letter and a full stop is an initial ("K. Tokaev"), not a sentence's end.
_SENTENCE_END = re.compile(r"(^|[.!?:;\"«“—•\n-])\s*$")
_INITIAL = re.compile(r"(^|\W)\w\.\s*$")


def latin(word: str) -> str:
    """The folded word, in Latin letters when it is written in Cyrillic ones."""
    return transliterate(fold(word))


def archive_names(texts: Iterable[str]) -> set[str]:
    """Return the Latin forms of the words `texts` capitalise inside sentences more often than
    not: the names of people, places and bodies ("ablyazov", "france", "ministry")."""
    capital, small = Counter(), Counter()
    for text in texts:
        for match in WORD.finditer(text):
            before = text[max(0, match.start() - 20) : match.start()]
            if _SENTENCE_END.search(before) and not _INITIAL.search(before):
                continue
            word = match.group()
            (capital if word[0].isupper() else small)[latin(word)] += 1
    return {word for word, count in capital.items() if count > small[word] and len(word) > 1}


class Names:
    """The archive's names, and the names of a question."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self.stems = {name[:STEM] for name in self.names if len(name) >= STEM}
        self.first_stems = {name[: STEM - 1] for name in self.names if len(name) >= STEM - 1}

    def is_name(self, word: str, first: bool) -> bool:
        if len(word) < 2:
            return False
        form = latin(word)
        if form.removesuffix("'s") in self.names:
            return True
        if not is_cyrillic(word):  # English words keep their names' spelling
            return word[0].isupper() and not first
        if len(form) >= STEM and form[:STEM] in self.stems:
            return True
        if first:  # capitalised anyway
            return word[0].isupper() and form[: STEM - 1] in self.first_stems
        return word[0].isupper()

    def of(self, question: str) -> str | None:
        """Return the names of `question`, joined by spaces; None when it names nothing, or
        nothing else ("Ablyazov?" is answered by any passage that names him)."""
        words = WORD.findall(question)
        names = [word for i, word in enumerate(words) if self.is_name(word, i == 0)]
        return " ".join(names) if names and len(names) < len(words) else None
