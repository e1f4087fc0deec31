"""The catalogues of bot.texts: complete in every language, valid Telegram HTML, plural forms."""

from __future__ import annotations

import string

import pytest

from bot import texts

from .support.botapi import check_html

ENGLISH = texts.catalogue("en")
# Values that stress every text: long, with characters HTML must escape.
SAMPLE = {"example": "Who & <why>?", "username": "archive_bot", "version": "0.1.0",
          "model": "all-MiniLM-L6-v2", "built": "2026-11-28T00:00:00Z", "language": "English",
          "name": "Введение & <co>", "number": 123456, "documents": "5 documents",
          "passages": "1,000 passages", "privacy": "questions are not logged",
          "text": "A quote & <b>", "day": 1, "month": "December", "year": 2026,
          "time": "14:21", "title": "Open & <letter>"}  # fmt: skip
CATEGORIES = {"en": {"one", "other"}, "ru": {"one", "few", "many"}, "kk": {"one", "other"}}


def placeholders(entry: str | dict) -> set[str]:
    forms = entry.values() if isinstance(entry, dict) else [entry]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_every_catalogue_holds_every_text_with_the_same_placeholders(lang: str):
    catalogue = texts.catalogue(lang)
    assert set(catalogue) == set(ENGLISH), set(catalogue) ^ set(ENGLISH)
    for key, entry in catalogue.items():
        assert placeholders(entry) == placeholders(ENGLISH[key]), key
        if isinstance(entry, dict):
            assert set(entry) == CATEGORIES[lang], key
        if lang != "en":
            assert entry != ENGLISH[key] or key in {"attribution_paragraph"}, key


@pytest.mark.parametrize("lang", texts.LANGUAGES)
@pytest.mark.parametrize("key", sorted(ENGLISH))
@pytest.mark.parametrize("count", [0, 1, 2, 5, 21, 1000])
def test_every_text_renders_as_valid_telegram_html(lang: str, key: str, count: int):
    html = texts.text(lang, key, count=count, **SAMPLE)
    check_html(html)
    assert "{" not in html and "Who & <why>" not in html


def test_plural_forms():
    forms = {n: texts.text("ru", "count_documents", count=n) for n in (1, 2, 5, 11, 21, 22, 25)}
    assert forms == {1: "1 документ", 2: "2 документа", 5: "5 документов", 11: "11 документов",
                     21: "21 документ", 22: "22 документа", 25: "25 документов"}  # fmt: skip
    assert texts.text("en", "count_passages", count=1) == "1 passage"
    assert texts.text("en", "count_passages", count=33) == "33 passages"
    assert texts.text("kk", "count_passages", count=33) == "33 үзінді"


@pytest.mark.parametrize(
    ("code", "lang"),
    [("ru", "ru"), ("ru-RU", "ru"), ("kk", "kk"), ("KK", "kk"), ("en", "en"), ("de", "en"),
     ("uk", "en"), ("", "en"), (None, "en")],
)  # fmt: skip
def test_telegram_language_codes(code: str | None, lang: str):
    assert texts.language(code) == lang


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1 December 2026, 14:21 UTC"), ("ru", "1 декабря 2026 г., 14:21 UTC"),
     ("kk", "2026 жылғы 1 желтоқсан, 14:21 UTC")],
)  # fmt: skip
def test_about_gives_the_index_date_in_the_askers_language(lang: str, expected: str):
    assert texts.date_time(lang, "2026-12-01T14:21:00+00:00") == expected
    assert texts.date_time(lang, "?") == "?"  # an index without a build time


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_help_never_puts_a_full_stop_after_a_question_mark(lang: str):
    assert "?." not in texts.text(lang, "help", example="Who was it?", username="bot")
    for command in ("stats", "recent", "reload"):  # moderators' menu, in their language too
        assert texts.text(lang, f"command_{command}") != ENGLISH[f"command_{command}"] or (
            lang == "en"
        )
