"""Which questions ask about the archive itself (index.cards), in three languages."""

from __future__ import annotations

import pytest

from index.cards import archive_question
from index.search import content_words

TITLE = frozenset("open letter on the extradition of mukhtar ablyazov".split())


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who wrote the letter?", "card"),
        ("What is the title of the document?", "card"),
        ("Как называется документ?", "card"),  # the verb of "название"
        ("Какого года это письмо?", "card"),  # every form of "какой" asks nothing itself
        ("Құжат қалай аталады?", "card"),
        ("What documents are in the archive?", "list"),
        ("Мұрағаттағы құжаттарды атап бер", "list"),  # "атап бер": "name them"
        ("Хатқа кім қол қойды?", "card"),  # "қол қойды": "signed"
        ("Кто написал открытое письмо?", "card"),  # "open" in any language, not only the title's
        ("Ашық хаттың авторы кім?", "card"),
        ("What is in the archive?", "list"),
        ("Мұрағатта не бар?", "list"),  # "бар": "there is"
        ("Что есть в архиве?", "list"),
        ("What is in the archive about Ablyazov?", None),  # the passages about him answer
        ("Who signed the warranty letter?", None),  # another letter: the passages answer
        ("Хатта қандай баяндама аталған?", None),  # "mentioned", not "called"
        ("Which report does the letter quote?", None),
    ],
)
def test_questions_about_the_archive_and_about_its_contents(question: str, kind: str | None):
    assert archive_question(content_words(question), TITLE) == kind
