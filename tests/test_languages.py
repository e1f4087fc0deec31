"""Russian and Kazakh questions: stems, transliteration, spelling, and search across languages."""

from __future__ import annotations

import pytest

from bot.answering import answer
from bot.render import to_html
from index.languages import query_terms, stems, transliterate
from index.search import Searcher
from index.spelling import Vocabulary

from .support.archive import LETTER, RUSSIAN_DOCUMENT
from .support.botapi import check_html


def test_names_cross_scripts_and_endings_are_cut():
    assert transliterate("жақиянов") == "zhakiyanov"
    assert transliterate("тоқаев") == "tokaev" and transliterate("жанаозен") == "zhanaozen"
    assert "аблязов" in stems("аблязовтың")  # Kazakh genitive
    assert "ахметов" in stems("ахметова") and "экспертиз" in stems("экспертизы")
    assert "ablyazov*" in query_terms("аблязовты")
    assert query_terms("tokaev") == ["tokaev"]  # Latin words are left to Porter


def test_misspellings_are_corrected_against_the_archive_vocabulary():
    vocabulary = Vocabulary(["ablyazov", "ambassador", "nazarbaev", "france"])
    assert vocabulary.corrections("ablyazoff") == ["ablyazov"]
    assert vocabulary.corrections("аблязоф") == ["ablyazov"]
    assert vocabulary.corrections("ambassdor") == ["ambassador"]
    assert vocabulary.corrections("nazarbaev") == []  # already a word of the archive
    assert vocabulary.corrections("recipe") == []


def top(searcher: Searcher, question: str, k: int = 3) -> list[str]:
    return [hit.passage.text for hit in searcher.search(question, k).hits]


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Кто был послом Франции в Казахстане?", "Serge Smesov"),
        ("Кто выдал гарантийное письмо?", "warranty letter"),
        ("Франция елшісі кім болды?", "Serge Smesov"),
        ("Жакиянов", "Zhakiyanov"),
        ("Тоқаев", "Tokaev"),
        ("Аблязоф", "Ablyazov"),
        ("nazarbayev", "Nazarbaev"),
    ],
)
def test_russian_kazakh_and_misspelled_questions_quote_the_english_letter(
    multilingual_searcher: Searcher, question: str, phrase: str
):
    result = multilingual_searcher.search(question)
    assert result.found
    assert any(phrase in text for text in top(multilingual_searcher, question))


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("right to seek asylum from persecution", "искать убежища"),
        ("presumption of innocence", "считаться невиновным"),
        ("Право на мирные собрания", "мирных собраний"),
    ],
)
def test_a_russian_document_is_found_by_english_and_russian_questions(
    multilingual_searcher: Searcher, question: str, phrase: str
):
    assert phrase in top(multilingual_searcher, question, 1)[0]


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread?",
        "Рецепт борща",
        "Какая погода в Париже завтра?",
        "Бешбармақ қалай дайындалады?",
        "Ертең Алматыда ауа райы қандай болады?",
    ],
)
def test_unrelated_questions_are_declined_in_every_language(
    multilingual_searcher: Searcher, question: str
):
    assert not multilingual_searcher.search(question).found


def test_cyrillic_quotes_are_verbatim(multilingual_searcher: Searcher):
    for question in ("Все люди рождаются свободными", "пытки и жестокое обращение", "Аблязов"):
        html = to_html(answer(multilingual_searcher, question), [], "ru")
        for quote in check_html(html):
            quote = quote.removesuffix(" …")
            assert quote in RUSSIAN_DOCUMENT or quote in LETTER, quote


def test_a_russian_question_highlights_the_english_sentence_naming_whom_it_asks_about(
    multilingual_searcher: Searcher,
):
    hits = multilingual_searcher.search("Где Жакиянов искал убежища?", 3).hits
    hit = next(h for h in hits if "taking refuge" in h.passage.text)
    start, end = hit.best_sentence
    assert hit.passage.text[start:end].startswith("For the first time in Kazakhstan")
    assert "G. Zhakiyanov taking refuge" in hit.passage.text[start:end]
