"""Questions about the archive itself, answered from the documents' catalogue cards.

A document's card is a passage too (`index.store.card`): its text is the document's catalogue
values, one per line, exactly as the catalogue (or the file's own metadata) gives them, so the
verbatim rule holds for cards as for every other quote. Cards are made from the index's
documents table when a question asks for them; they are never ranked among the passages.

A question asks for a card when every content word it has is a word about documents
("letter", "письмо", "хат"), about their cards ("author", "написал", "жазды"), or a word of
a document's title or a word describing its kind ("open", "открытое", "ашық"), and one of the
first two kinds is there: "Who wrote the letter?", "Кто написал открытое письмо?", "Хатты кім
жазды?", "Хатқа кім қол қойды?" ("who signed the letter?"). It asks for the list of documents
when it names the archive, and perhaps documents, and nothing else: "What documents are in
the archive?", "Мұрағатта не бар?" ("what is in the archive?").
Words are matched by their beginnings, so that Russian and Kazakh endings do not matter.
"""

from __future__ import annotations

from typing import Literal

from index.normalize import tokens
from index.store import CARD_FIELDS, IndexStore, StoredPassage, card

ArchiveQuestion = Literal["card", "list"]

LIST_LIMIT = 20  # cards in an answer to "what documents are in the archive?"

DOCUMENT_WORDS = (
    "letter", "document", "report", "ruling", "article", "text", "book", "paper", "memo",
    "письм", "документ", "доклад", "текст", "стать", "книг", "решени", "приговор",
    "хат", "құжат", "мәтін", "баяндама", "мақала", "кітап", "үкім",
)  # fmt: skip
CARD_WORDS = (
    "author", "wrote", "write", "written", "writer", "signed", "date", "dated", "year",
    "title", "called", "named", "source", "published", "publish", "origin",
    "автор", "написа", "напиша", "подписа", "дата", "датир", "год", "назван", "называ",
    "заглави", "источник", "опубликова", "издан",
    "авторы", "жазды", "жазған", "жазыл", "күні", "жыл", "атауы", "аты", "аталад",
    "дереккөз", "жарияла", "қол", "қойды", "қойған",
)  # fmt: skip
ARCHIVE_WORDS = ("archive", "collection", "архив", "коллекци", "мұрағат")
# Words that only say what kind of document it is ("the *open* letter"), in any language,
# whatever the title's language: asking about them asks about the document, as its kind does.
DESCRIBING_WORDS = ("open", "открыт", "ашық", "official", "официальн", "ресми")
# Question words that are not in the stopword lists but ask nothing themselves.
ASKING_WORDS = frozenset(
    """list show tell give which kind перечисли покажи назови скажи подскажи какой есть атап
    бер берші беріңіз көрсет көрсетші айт айтшы бар""".split()
)


def title_words(documents: list[dict]) -> dict[str, frozenset[str]]:
    """Return the folded words of each document's title, by document id (made once per
    index: questions are matched against them)."""
    return {d["id"]: frozenset(tokens(d["title"] or "")) for d in documents}


def archive_question(words: list[str], title_words: frozenset[str]) -> ArchiveQuestion | None:
    """Whether a question asks for documents' cards, for the list of documents, or neither.

    Args:
        words: the question's content words (folded, stopwords left out: see index.search).
        title_words: the words of all the archive's titles.
    """
    kinds = {"document": 0, "card": 0, "archive": 0, "title": 0}
    for word in words:
        if word in ASKING_WORDS or word.startswith(DESCRIBING_WORDS):
            continue
        if word.startswith(DOCUMENT_WORDS):
            kinds["document"] += 1
        elif word.startswith(CARD_WORDS):
            kinds["card"] += 1
        elif word.startswith(ARCHIVE_WORDS):
            kinds["archive"] += 1
        elif word in title_words:
            kinds["title"] += 1
        else:
            return None  # it asks about something else: the passages answer it
    if kinds["archive"] and not kinds["card"] and not kinds["title"]:
        return "list"
    if kinds["document"] or kinds["card"]:
        return "card"
    return None


def named_documents(
    words: list[str], titles: dict[str, frozenset[str]]
) -> tuple[set[str], set[str]]:
    """Return the ids of the documents a question names by their kind, and the words that
    name them: "Which report does *the letter* quote?" names the document whose title has
    "letter" in it. A word about documents (DOCUMENT_WORDS) names those whose title holds a
    word of the same beginning; other title words (a name, a place) name nothing: they are
    what the question asks about. `titles`: the words of each title (`title_words`).
    """
    named, naming = set(), set()
    for word in words:
        kind = next((k for k in DOCUMENT_WORDS if word.startswith(k)), None)
        if kind is None:
            continue
        for doc_id, words_of_title in titles.items():
            if any(t.startswith(kind) for t in words_of_title):
                named.add(doc_id)
                naming.add(word)
    return named, naming


def cards(store: IndexStore, query: str, kind: ArchiveQuestion) -> list[StoredPassage]:
    """The cards a question about the archive asks for: every document's for the list (up to
    LIST_LIMIT), else those of the documents whose cards share the most of its words."""
    documents = store.documents()
    if kind == "card":
        asked = set(tokens(query))
        shared = [
            len(asked & set(tokens(" ".join(str(d[f] or "") for f in CARD_FIELDS))))
            for d in documents
        ]
        documents = [d for d, n in zip(documents, shared, strict=True) if n == max(shared)]
    return [card(d) for d in documents[:LIST_LIMIT]]
