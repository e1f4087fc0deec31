"""Property-based tests: arbitrary questions, button data, inline queries and documents."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import callbacks
from bot.answering import answer
from bot.render import to_html
from index.documents import Document
from index.passages import split_passages

from .support.archive import verbatim
from .support.botapi import BotAPI, callback, check_html, inline, running_bot, wait_for

NASTY = st.sampled_from(
    ["\u202e", "\u200d", "\u200b", "\ufeff", "\x00", "\x07", "\ud800", "👩‍👩‍👧", "<b>", "</i>",
     "<a href='x'>", "&amp;", "&", "**", "_", "`", "[x](y)", "М.", "WATСH", "\n", "\t", "…"]
)  # fmt: skip
QUESTIONS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(NASTY, st.text(max_size=20)), max_size=60).map("".join),
    st.integers(0, 20_000).map(lambda n: ("Tokaev <b>&</b> " * (n // 16 + 1))[:n]),
)
RELAXED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _assert_verbatim(html: str) -> None:
    for quote in check_html(html):
        assert verbatim(quote), quote


@settings(max_examples=60, deadline=None, suppress_health_check=RELAXED)
@given(QUESTIONS)
def test_any_question_renders_valid_html_with_verbatim_quotes(searcher, text: str):
    result = answer(searcher, text)
    _assert_verbatim(to_html(result, ["Example & <question>?"], "kk"))


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=100), st.binary(max_size=80), st.none(), st.integers()))
def test_any_callback_data_parses_or_is_refused(data):
    parsed = callbacks.parse(data)
    if parsed is not None:
        assert isinstance(data, str) and len(data.encode()) <= 64


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=3000))
def test_any_document_text_splits_into_verbatim_passages(text: str):
    def count_tokens(texts: list[str]) -> list[int]:  # a cheap stand-in for the tokenizer
        return [len(t.split()) + t.count(".") for t in texts]

    for name in ("doc.txt", "doc.md"):
        document = Document(id=name, text=text, title="T")
        for passage in split_passages(document, count_tokens, max_tokens=20):
            assert text[passage.start : passage.end] == passage.text
            assert passage.text.strip() == passage.text and passage.text


@settings(max_examples=3, deadline=None, suppress_health_check=RELAXED)
@given(
    st.lists(st.one_of(st.text(max_size=70), NASTY), min_size=8, max_size=8),
    st.lists(st.one_of(QUESTIONS, NASTY), min_size=8, max_size=8),
)
def test_any_button_press_and_inline_query_is_answered(data_dir: Path, presses, queries):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for data in presses:
                    api.push(callback(data, user_id=41))
                for query in queries:
                    api.push(inline(query[:256], user_id=42))
                await wait_for(
                    lambda: (
                        len(api.calls_to("answerCallbackQuery")) == len(presses)
                        and len(api.calls_to("answerInlineQuery")) == len(queries)
                    )
                )
            return api

    api = asyncio.run(scenario())
    for call in api.calls_to("answerInlineQuery"):
        for result in call.params.get("results", []):
            _assert_verbatim(result["input_message_content"]["message_text"])
