"""What Telegram would refuse never leaves the bot: long metadata, any catalogue in /sources.

The stand-in refuses (400) what Telegram refuses, and fails the test that caused it
(tests/support/botapi.py, `refusal`); these tests show that it does, then feed the bot an
archive whose metadata runs to thousands of characters.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.render import TELEGRAM_LIMIT, sources_html
from bot.texts import text as say
from index.build import build_index

from .support.botapi import (
    TOKEN,
    BotAPI,
    ask,
    buttons,
    callback,
    check_html,
    inline,
    message,
    read_html,
    running_bot,
    wait_for,
)

LONG = " ".join(f"word{n}" for n in range(900))  # about 6,000 characters
BULLETS = "\n".join(f"• point {n} of the note, with <angle> & ampersand" for n in range(200))
RULING = f"""Section: {LONG}

The court fined the activist 150,000 tenge for taking part in an unauthorised rally in Almaty.

The appeal against the fine was rejected by the city court in March 2021.
"""
CATALOGUE = f'''["ruling.txt"]
title = "Ruling {LONG}"
author = "Judge {LONG[:4500]}"
date = "2021"
note = """{BULLETS}"""

[archive.examples]
en = ["What fine did the court give the activist? {LONG}"]
'''


@pytest.fixture(scope="module")
def long_metadata(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    corpus = tmp_path_factory.mktemp("corpus-long-metadata")
    (corpus / "ruling.txt").write_text(RULING, encoding="utf-8")
    (corpus / "catalogue.toml").write_text(CATALOGUE, encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("data-long-metadata")
    build_index(corpus, data_dir, embedder=embedder)
    return data_dir


def test_the_stand_in_refuses_what_telegram_refuses():
    refused = {
        "too long": "a" * 4097,
        "unclosed tag": "<b>bold",
        "crossed tags": "<b><i>x</b></i>",
        "unknown tag": "<p>paragraph</p>",
        "bare ampersand": "Smith & Sons",
        "unknown entity": "&nbsp;",
        "101 entities": "<b>x</b> " * 101,
        "empty": "<b> </b>",
    }
    accepted = {
        "4,096 characters shown": "<blockquote>" + "&amp;" * 4096 + "</blockquote>",
        "100 entities": "<b>x</b> " * 100,
    }

    async def scenario():
        with BotAPI() as api:
            bot = Bot(TOKEN, base_url=api.base_url)
            async with bot:
                for text in accepted.values():
                    await bot.send_message(1, text, parse_mode="HTML")
                problems = {}
                for name, text in refused.items():
                    with pytest.raises(BadRequest) as error:
                        await bot.send_message(1, text, parse_mode="HTML")
                    problems[name] = error.value.message
                with pytest.raises(BadRequest):
                    await bot.answer_callback_query("1", text="a" * 201)
            assert len(api.refused) == len(refused) + 1
            api.refused.clear()  # seen: the stand-in fails a test that leaves one unseen
            return problems

    problems = asyncio.run(scenario())
    assert "too long" in problems["too long"] and "entities" in problems["101 entities"]
    assert all("parse entities" in problems[k] for k in ("unclosed tag", "bare ampersand"))


def test_a_refused_message_fails_the_test_even_unseen():
    with pytest.raises(AssertionError, match="Telegram would have refused"):
        with BotAPI() as api:
            asyncio.run(_send(api, "<b>never closed"))


async def _send(api: BotAPI, text: str) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        try:
            await bot.send_message(1, text, parse_mode="HTML")
        except BadRequest:
            pass


def test_thousands_of_characters_of_metadata_still_answer(long_metadata: Path):
    asker = 71

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, long_metadata):
                question = "What fine did the court give the activist?"
                (answer,) = await ask(api, message(question, user_id=asker), asker)
                context = buttons(answer)[next(b for b in buttons(answer) if "¶" in b)]
                (around,) = await ask(api, callback(context, user_id=asker), asker)
                (nothing,) = await ask(api, message("How do I bake bread?", user_id=asker), asker)
                (start,) = await ask(api, message("/start", user_id=asker), asker)
                (sources,) = await ask(api, message("/sources", user_id=asker), asker)
                api.push(inline("court fine activist", user_id=asker))
                await wait_for(lambda: api.calls_to("answerInlineQuery"))
                results = api.calls_to("answerInlineQuery")[0].params["results"]
            return answer, around, nothing, start, sources, results

    answer, around, nothing, start, sources, results = asyncio.run(scenario())
    for reply in (answer, around, nothing, start, sources):
        check_html(reply["text"])
        assert len(reply["text"]) <= TELEGRAM_LIMIT
        assert say("en", "apology") not in reply["text"]
    quotes = check_html(answer["text"])
    assert "150,000 tenge" in " ".join(quotes)  # the quotes are whole; the metadata is shortened
    assert "Ruling word0 word1" in answer["text"] and "word899" not in answer["text"]
    assert "Ruling word0" in sources["text"] and "point 0 of the note" in sources["text"]
    assert results and all(
        read_html(r["input_message_content"]["message_text"]).problem is None for r in results
    )


def document(number: int, note: str | None, title: str = "Document") -> dict:
    return {"title": f"{title} {number}", "author": "Author", "date": "2020", "language": "en",
            "passages": 3, "note": note}  # fmt: skip


NOTES = [
    None,
    "",
    "A short note.",
    "• first point\n• second point\n• third <point> & more",
    BULLETS,
    "x" * 5000,
    "Ünïcødé & <tags> " * 400,
]


@pytest.mark.parametrize(
    "count, note", list(itertools.product([1, 2, 7, 30, 51, 120], range(len(NOTES))))
)
def test_sources_is_valid_and_useful_for_any_catalogue(count: int, note: int):
    documents = [document(n, NOTES[(note + n) % len(NOTES)]) for n in range(count)]
    for lang in ("en", "ru", "kk"):
        html = sources_html(documents, lang)
        parsed = read_html(html)
        assert parsed.problem is None, parsed.problem
        assert len(html) <= TELEGRAM_LIMIT
        listed = html.count("\n• <b>")
        assert listed >= min(count, 5)  # never an empty list, whatever the notes hold
        if listed < count:
            assert html.endswith(say(lang, "sources_more", count=count - listed))
        assert "Document 0" in html


def test_sources_of_a_first_document_with_a_huge_note_lists_it_and_the_rest():
    documents = [document(0, "word " * 1000), document(1, None), document(2, "short")]
    html = sources_html(documents, "en")
    assert all(f"Document {n}" in html for n in range(3)) and "more document" not in html
