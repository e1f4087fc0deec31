"""Words for the keyword side of search: Russian and Kazakh stems and Latin transliterations,
and the stopwords of all three languages (`words/`, data files).

Askers write Аблязов, Назарбаев, Жақиянов where the letter writes Ablyazov, Nazarbaev,
Zhakiyanov, and Russian and Kazakh words change their endings ("судьи Ахметова" for "судья
Ахметов"). Every Cyrillic word of a passage is therefore indexed with its stem and its Latin
transliteration as well, and every Cyrillic word of a question looks for all three (stems as
prefixes). Latin words are left to FTS5's Porter stemmer. Works on folded text
(`index.normalize.fold`): lower case, look-alike letters already Latin.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

_CYRILLIC_WORD = re.compile("[\u0400-\u04ff]")
# Russian and Kazakh letters in Latin, as names of the region are usually spelled in English
# (Жақиянов → zhakiyanov, Тоқаев → tokaev, Ыдырысов → ydyrysov).
_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}  # fmt: skip
_LATIN_TABLE = str.maketrans(_LATIN)
# Kazakh case, possessive and plural endings, longest first; a stem keeps 4 letters or more.
_KAZAKH_ENDINGS = sorted(
    """лардың лердің дардың дердің тардың тердің ларды лерді дарды дерді тарды терді
    ларға лерге дарға дерге тарға терге лар лер дар дер тар тер
    ның нің дың дің тың тің ны ні ды ді ты ті ға ге қа ке на не да де та те
    дан ден тан тен нан нен мен бен пен сы сі ы і""".split(),
    key=len,
    reverse=True,
)
_KAZAKH_LETTERS = set("әғқңөұүһі")
MIN_STEM = 4  # shorter stems are not searched as prefixes: they would match too much
WORDS = Path(__file__).parent / "words"  # word lists per language, data rather than code


def word_list(name: str) -> frozenset[str]:
    """Return the words of `words/NAME.txt`: one per line, `#` lines are comments."""
    text = (WORDS / f"{name}.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.splitlines() if w.strip() and not w.startswith("#"))


#: Words that carry no topic, in English, Russian and Kazakh.
STOPWORDS = word_list("stopwords-en") | word_list("stopwords-ru") | word_list("stopwords-kk")


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC_WORD.search(word))


def mostly_cyrillic(text: str) -> bool:
    """Whether most letters of `text` are Cyrillic (a Russian or Kazakh passage)."""
    cyrillic = len(_CYRILLIC_WORD.findall(text))
    return cyrillic > sum(c.isalpha() for c in text) - cyrillic


def detect_language(text: str) -> str | None:
    """Return the language of a text whose catalogue gives none: "en", "ru" or "kk".

    By script, and for Cyrillic by Kazakh's own letters (ә ғ қ ң ө ұ ү һ і: over 1 % of the
    Cyrillic letters in Kazakh, none in Russian). Any Latin-script text counts as English, the
    archive's only one; None when the text has too few letters to tell.
    """
    sample = text[:20_000].lower()
    cyrillic = len(_CYRILLIC_WORD.findall(sample))
    latin = sum("a" <= c <= "z" for c in sample)
    if cyrillic + latin < 20:
        return None
    if latin > cyrillic:
        return "en"
    kazakh = sum(c in _KAZAKH_LETTERS for c in sample)
    return "kk" if kazakh > 0.01 * cyrillic else "ru"


def transliterate(word: str) -> str:
    """Return a Cyrillic word in Latin letters (other words unchanged)."""
    return word.translate(_LATIN_TABLE)


@functools.cache
def _russian():
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


@functools.lru_cache(maxsize=65_536)
def stems(word: str) -> tuple[str, ...]:
    """Return the possible stems of a Cyrillic word: Russian (Snowball) and Kazakh (endings cut).

    Which language a word is cannot be told from one word ("Аблязовты" is Kazakh, with only
    Russian letters), so both are tried.
    """
    kazakh = word
    for ending in _KAZAKH_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            kazakh = word[: -len(ending)]
            break
    if _KAZAKH_LETTERS & set(word):
        return (kazakh,)
    return tuple(dict.fromkeys([_russian().stemWord(word), kazakh]))


def index_terms(words: list[str]) -> list[str]:
    """Return the extra terms a passage is indexed with: per Cyrillic word, stems and Latin."""
    extra: list[str] = []
    for word in words:
        if is_cyrillic(word):
            roots = stems(word)
            extra += [*roots, transliterate(word), *(transliterate(r) for r in roots)]
    return extra


def query_terms(word: str) -> list[str]:
    """Return the keyword terms one question word matches (`index.store.Keywords`): itself,
    and for a Cyrillic word its stems and Latin forms (stems of four letters or more as
    prefixes, "stem*")."""
    if not is_cyrillic(word):
        return [word]
    terms = [word, transliterate(word)]
    roots = stems(word)
    for form in dict.fromkeys([*roots, *(transliterate(r) for r in roots)]):
        terms.append(f"{form}*" if len(form) >= MIN_STEM else form)
    return list(dict.fromkeys(terms))
