"""End to end: the real python-telegram-bot Application against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import app
from bot.texts import catalogue
from bot.texts import text as say

from .support import botapi
from .support.archive import ROOT, verbatim
from .support.botapi import (
    TOKEN,
    BotAPI,
    ask,
    buttons,
    callback,
    check_html,
    inline,
    message,
    replies,
    running_bot,
    wait_for,
)

STICKER = {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": False,
           "is_video": False, "type": "regular"}  # fmt: skip
CONFLICT = (b'{"ok": false, "error_code": 409, "description": "Conflict: terminated by other '
            b'getUpdates request; make sure that only one bot instance is running"}')  # fmt: skip


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def assert_verbatim(quote: str) -> None:
    """Each quoted passage is a substring of the letter ("…" marks a cut), or a card."""
    assert verbatim(quote), quote


def test_start_help_sources_about(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                (start,) = await ask(api, message("/start", user_id=11), 11)
                (help_,) = await ask(api, message("/help", user_id=11), 11)
                (sources,) = await ask(api, message("/sources", user_id=11), 11)
                (about,) = await ask(api, message("/about", user_id=11), 11)
                (unknown,) = await ask(api, message("/nonsense", user_id=11), 11)
            commands = api.calls_to("setMyCommands")[0].params["commands"]
            names = {c["command"] for c in commands}
            assert names == {"start", "help", "sources", "about", "forget"}
        for reply in (start, help_, sources, about, unknown):
            assert reply["parse_mode"] == "HTML"
            check_html(reply["text"])
        assert "1 document (33 passages)" in start["text"]
        assert "Privacy" in start["text"] and "Who was the French ambassador" in start["text"]
        assert "/sources" in help_["text"] and "@archive_test_bot" in help_["text"]
        assert "Open letter on the extradition of Mukhtar Ablyazov" in sources["text"]
        assert "Viktor Khrapunov, 2013" in sources["text"] and "33 passages" in sources["text"]
        assert "never generated text" in about["text"]
        assert "/help" in unknown["text"]

    asyncio.run(scenario())


def test_a_question_gets_verbatim_quotes_with_attribution_and_buttons(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                (reply,) = await ask(api, message("Who was the French ambassador?", user_id=12), 12)
                actions = api.calls_to("sendChatAction")
                assert actions and actions[0].params["action"] == "typing"
                assert actions[0].at <= api.calls_to("sendMessage")[-1].at
                keys = buttons(reply)
                assert all(len(data.encode()) <= 64 for data in keys.values())

                (context,) = await ask(api, callback(keys["Context ¶ 18"], user_id=12), 12)
                (more,) = await ask(api, callback(keys["More"], user_id=12), 12)
                api.push(callback(keys["👍"], user_id=12))
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= 3)
            toasts = [c.params.get("text") for c in api.calls_to("answerCallbackQuery")]
            return reply, context, more, toasts

    reply, context, more, toasts = asyncio.run(scenario())
    quotes = check_html(reply["text"])
    assert len(quotes) == 3
    for quote in quotes:
        assert_verbatim(quote)
    assert "Serge Smesov" in quotes[0]
    assert "<b>" in reply["text"]  # the best-matching sentence
    assert (
        "</blockquote>\n— Open letter on the extradition of Mukhtar Ablyazov, Viktor Khrapunov"
        in reply["text"]
    )
    assert "¶ 18" in reply["text"]

    (around,) = check_html(context["text"])
    assert "<blockquote expandable>" in context["text"]
    for number in (17, 18, 19):
        assert f"¶ {number}" in around
    more_quotes = check_html(more["text"])
    assert more_quotes and not set(more_quotes) & set(quotes)
    for quote in more_quotes:
        assert_verbatim(quote)
    assert "Thank you for the feedback." in toasts


@pytest.mark.parametrize(
    "data",
    ["garbage", "more:AAAAAAAA:3", "fb:AAAAAAAA:up", "ctx:0000000000:5", "ctx:zz:1", "x" * 200, ""],
)
def test_forged_or_stale_buttons_are_answered_politely(data_dir: Path, data: str):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                api.push(callback(data, user_id=13))
                await wait_for(lambda: api.calls_to("answerCallbackQuery"))
                await asyncio.sleep(0.2)
            return api

    api = asyncio.run(scenario())
    (answered,) = api.calls_to("answerCallbackQuery")
    assert answered.params.get("text")
    assert not replies(api)


def test_unrelated_question_gets_nothing_found_and_examples(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                return await ask(api, message("How do I bake sourdough bread?", user_id=14), 14)

    (reply,) = asyncio.run(scenario())
    check_html(reply["text"])
    assert "no passage" in reply["text"] and "<blockquote" not in reply["text"]
    assert "Who was the French ambassador to Kazakhstan?" in reply["text"]
    assert "reply_markup" not in reply


def test_markup_and_ampersands_in_questions_are_harmless(data_dir: Path):
    question = '<b>Tokaev</b> & <script>alert("x")</script> *bold* _it_'

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                return await ask(api, message(question, user_id=15), 15)

    (reply,) = asyncio.run(scenario())
    for quote in check_html(reply["text"]):
        assert_verbatim(quote)
    assert "<script>" not in reply["text"]


def test_stickers_photos_and_long_messages(data_dir: Path):

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                (hint,) = await ask(api, message(user_id=16, sticker=STICKER), 16)
                (long,) = await ask(api, message("Tokaev " + "x" * 10_000, user_id=16), 16)
                return hint, long

    hint, long = asyncio.run(scenario())
    assert hint["text"] == say("en", "not_text")
    check_html(long["text"])
    assert "only its first" in long["text"]


def test_groups_answer_mentions_and_replies_only(data_dir: Path):
    group = {"chat_id": -100, "chat_type": "supergroup"}

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                api.push(message("Tokaev is mentioned in the letter", user_id=17, **group))
                api.push(message(user_id=17, sticker=STICKER, **group))
                await asyncio.sleep(1.0)
                assert replies(api, -100) == []
                (mention,) = await ask(
                    api, message("@archive_test_bot Tokaev", user_id=17, **group), -100
                )
                (reply,) = await ask(
                    api, message("and Idrisov?", user_id=18, reply_to_bot=True, **group), -100
                )
                (command,) = await ask(
                    api, message("/sources@archive_test_bot", user_id=18, **group), -100
                )
                return mention, reply, command

    mention, reply, command = asyncio.run(scenario())
    assert "К. Tokaev" in mention["text"]
    assert "Idrisov" in reply["text"]
    assert "Open letter" in command["text"]


def test_inline_queries(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for query in ("French ambassador", "", "How do I bake sourdough bread?"):
                    api.push(inline(query, user_id=19))
                await wait_for(lambda: len(api.calls_to("answerInlineQuery")) == 3)
            return api.calls_to("answerInlineQuery")

    answered = {c.params["inline_query_id"]: c.params for c in asyncio.run(scenario())}
    found, empty, unrelated = sorted(answered.values(), key=lambda p: int(p["inline_query_id"]))
    assert 1 <= len(found["results"]) <= 5
    assert found["is_personal"] == "true" and int(found["cache_time"]) <= 60
    first = found["results"][0]["input_message_content"]
    (quote,) = check_html(first["message_text"])
    assert "Serge Smesov" in quote and first["parse_mode"] == "HTML"
    assert empty["results"] == [] and "button" in empty
    assert unrelated["results"] == []


def test_a_private_question_is_answered_ahead_of_an_inline_flood(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, max_rate=10_000):
                for number in range(2000):  # 100 users, 20 each: within their allowance
                    api.push(inline(f"Tokaev {number}", user_id=30_000 + number % 100))
                (answer,) = await ask(api, message("Who was the French ambassador?", user_id=9), 9)
                return answer, len(api.calls_to("answerInlineQuery"))

    answer, inline_answered = asyncio.run(scenario())
    assert "Serge Smesov" in answer["text"]
    assert inline_answered < 500  # with one queue for all, ~1,950 went first


def test_inline_queries_telegram_no_longer_waits_for_are_dropped(data_dir: Path, monkeypatch):
    monkeypatch.setattr(app, "INLINE_WAIT", -1.0)  # every query is already too old

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for _ in range(5):
                    api.push(inline("Tokaev", user_id=19))
                (answer,) = await ask(api, message("Tokaev", user_id=19), 19)
                await asyncio.sleep(0.5)
                return answer, api.calls_to("answerInlineQuery")

    answer, answered = asyncio.run(scenario())
    assert "К. Tokaev" in answer["text"] and answered == []


def test_a_burst_from_one_asker_and_a_crowd_of_askers_all_get_one_reply(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for _ in range(30):
                    api.push(message("Tokaev", user_id=20))
                for asker in range(100):
                    api.push(message("Who was the French ambassador?", user_id=5000 + asker))
                await wait_for(lambda: len(replies(api)) >= 130, timeout=120)
                await asyncio.sleep(0.5)
            return api

    api = asyncio.run(scenario())
    burst = replies(api, 20)
    assert len(burst) == 30
    slow = [r for r in burst if r["text"] == say("en", "slow_down")]
    assert 0 < len(slow) < 30
    for asker in range(100):
        (reply,) = replies(api, 5000 + asker)
        assert "Serge Smesov" in reply["text"]


def test_rate_limits_errors_and_outages_delay_replies_but_lose_none(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, timeout=1.0):
                api.fail("sendMessage", 429, retry_after=1)
                (limited,) = await ask(api, message("Tokaev", user_id=21), 21)
                api.fail("sendMessage", 500)
                (errored,) = await ask(api, message("Tokaev", user_id=22), 22)
                api.fail("sendMessage", 0)  # hangs past the client's timeout
                (slow,) = await ask(api, message("Tokaev", user_id=23), 23)
                api.fail("getUpdates", 502, times=3)
                api.fail("getUpdates", 200, body=b"{not json")
                (after_outage,) = await ask(api, message("Tokaev", user_id=24), 24)
                api.down = True
                api.push(message("Tokaev", user_id=25))
                await asyncio.sleep(2)
                api.down = False
                question = message("French ambassador", user_id=25)
                during, after = await ask(api, question, 25, count=2)
            return limited, errored, slow, after_outage, during, after

    *before, during, after = asyncio.run(scenario())
    for reply in before:
        assert "К. Tokaev" in reply["text"]
    # the question sent while the API was down and the one after it are both answered
    texts = sorted([during["text"], after["text"]], key=lambda text: "К. Tokaev" in text)
    assert "Serge Smesov" in texts[0] and "К. Tokaev" in texts[1]


def test_the_bot_process_stops_cleanly_on_sigterm_and_never_prints_the_token(data_dir: Path):
    with BotAPI() as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "ARCHIVE_BOT_DATA_DIR": str(data_dir),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            api.push(message("Who was the French ambassador?", user_id=26))
            deadline = time.monotonic() + 90
            while not replies(api, 26) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "Serge Smesov" in replies(api, 26)[0]["text"]
            second = subprocess.run(  # a second bot on the same data dir: refused at once
                [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            api.fail("getUpdates", 409, times=3, body=CONFLICT)  # another process polls
            while api.failures_left("getUpdates") and time.monotonic() < deadline:
                time.sleep(0.1)
            api.push(message("Tokaev", user_id=27))  # answered: polling works again
            while not replies(api, 27) and time.monotonic() < deadline:
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output
    assert output.count("another process is polling with this token") == 1, output
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"another `archive-bot run` is serving {data_dir}" in second.stderr


def test_botapi_helpers_make_command_entities():
    update = botapi.message("/start")
    assert update["message"]["entities"][0]["type"] == "bot_command"


@pytest.mark.parametrize(
    "method", ["sendMessage", "sendChatAction", "answerCallbackQuery", "answerInlineQuery"]
)
def test_a_429_on_any_method_the_bot_uses_delays_but_loses_nothing(data_dir: Path, method: str):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                api.fail(method, 429, retry_after=1)
                (reply,) = await ask(api, message("Who was the French ambassador?", user_id=61), 61)
                api.push(callback(buttons(reply)["👍"], user_id=61))
                api.push(inline("Tokaev", user_id=61))
                await wait_for(
                    lambda: (
                        api.calls_to("answerCallbackQuery") and api.calls_to("answerInlineQuery")
                    )
                )
            return reply

    assert "Serge Smesov" in asyncio.run(scenario())["text"]


def test_at_the_rate_limit_typing_gives_way_to_answers(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, max_rate=2):
                for asker in range(12):
                    api.push(message(f"Tokaev {asker}", user_id=900 + asker))
                await wait_for(lambda: len(api.calls_to("sendMessage")) == 12, timeout=60)
            return api

    api = asyncio.run(scenario())
    assert {c.params["chat_id"] for c in api.calls_to("sendMessage")} == {
        str(900 + asker) for asker in range(12)
    }
    assert 1 <= len(api.calls_to("sendChatAction")) < 12  # the first ones typed; then answers


def test_failing_start_up_calls_and_edits_delay_but_never_stop_the_bot(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            api.fail("deleteWebhook", 429, retry_after=1)
            api.fail("setMyCommands", 500)  # the menu stays as it was: a warning, no more
            api.fail("setMyShortDescription", 429, retry_after=1)
            async with running_bot(api, data_dir):
                (reply,) = await ask(api, message("Tokaev", user_id=81), 81)
                (confirm,) = await ask(api, message("/forget", user_id=81), 81)
                api.fail("editMessageText", 429, retry_after=1)
                api.push(callback(buttons(confirm)["No"], user_id=81))
                await wait_for(lambda: api.calls_to("editMessageText"))
            return reply, api

    reply, api = asyncio.run(scenario())
    assert "Tokaev" in reply["text"]
    assert api.calls_to("deleteWebhook") and api.calls_to("setMyShortDescription")  # retried
    assert api.calls_to("editMessageText")[0].params["text"] == "Nothing was deleted."


@pytest.mark.slow
def test_thirty_seconds_of_refused_connections_lose_no_question(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, timeout=2.0):
                await ask(api, message("Tokaev", user_id=71), 71)
                api.push(message("Who was the French ambassador?", user_id=72))
                await asyncio.to_thread(api.refuse_connections, 30)
                (reply,) = await ask(api, message("Tokaev", user_id=73), 73)
                await wait_for(lambda: replies(api, 72), timeout=60)
            return replies(api, 72)[0], reply

    queued, after = asyncio.run(scenario())
    assert "К. Tokaev" in after["text"]
    assert "Serge Smesov" in queued["text"]


LANGUAGES = {"ru": "ru", "kk": "kk", "en": "en", "de": "en", None: "en"}  # client -> replies


OUTCOMES = [  # asker's language, question, outcome
    ("en", "Who was the French ambassador?", "answered"),
    ("en", "Where was Nursultan Nazarbaev born?", "closest"),  # names him, not his birth
    ("en", "What is the weather in Paris tomorrow?", "none"),  # off the letter's subjects
    ("en", "How do I bake bread?", "none"),
    ("ru", "Кто был послом Франции?", "answered"),
    ("ru", "Какой любимый цвет Токаева?", "closest"),
    ("ru", "На каких языках говорят в Казахстане?", "closest"),
    ("ru", "Рецепт борща", "none"),
    ("ru", "Кто написал «Войну и мир»?", "none"),
    ("kk", "Францияның Қазақстандағы елшісі кім болды?", "answered"),
    ("kk", "Тоқаевтың сүйікті түсі қандай?", "closest"),
    ("kk", "Назарбаев қай жерде туған?", "closest"),  # asks for a birth the letter lacks
    ("kk", "Париждегі ауа райы қандай?", "none"),
]


def test_answered_closest_and_none_each_say_what_they_are_in_the_askers_language(
    data_dir: Path,
):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                replies_ = []
                for number, (lang, text, _) in enumerate(OUTCOMES):
                    (reply,) = await ask(api, message(text, user_id=700 + number, language=lang),
                                         700 + number)  # fmt: skip
                    replies_.append(reply)
                for number, (lang, text, _) in enumerate(OUTCOMES):
                    api.push(inline(text, user_id=800 + number, language=lang))
                await wait_for(lambda: len(api.calls_to("answerInlineQuery")) == len(OUTCOMES))
                return replies_, api.calls_to("answerInlineQuery")

    replies_, inline_answers = asyncio.run(scenario())
    inline_by_text = {c.params["inline_query_id"]: c.params for c in inline_answers}
    inline_answers = [inline_by_text[k] for k in sorted(inline_by_text, key=int)]
    for (lang, text, outcome), reply, offered in zip(
        OUTCOMES, replies_, inline_answers, strict=True
    ):
        quotes = check_html(reply["text"])
        if outcome == "answered":
            assert quotes and not reply["text"].startswith(say(lang, "closest")), text
            assert not offered["results"][0]["title"].startswith(
                say(lang, "inline_closest_title", html=False, text="")
            )
        elif outcome == "closest":  # said plainly first, then the closest passages
            assert reply["text"].startswith(say(lang, "closest")) and quotes, text
            assert "reply_markup" in reply
            for result in offered["results"]:
                assert result["title"].startswith(
                    say(lang, "inline_closest_title", html=False, text="")
                )
            assert offered["button"]["text"] == say(lang, "inline_closest", html=False)
        else:
            assert reply["text"].startswith(say(lang, "nothing_found")) and not quotes, text
            assert offered["results"] == []


ABOUT_THE_ARCHIVE = [  # asker's language, question
    ("en", "Who wrote the letter?"),
    ("ru", "Кто автор письма?"),
    ("kk", "Хатты кім жазды?"),
    ("en", "What documents are in the archive?"),
    ("ru", "Какие документы есть в архиве?"),
    ("kk", "Мұрағатта қандай құжаттар бар?"),
]


def test_questions_about_the_archive_are_answered_from_its_catalogue(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                return [
                    (await ask(api, message(text, user_id=900 + n, language=lang), 900 + n))[0]
                    for n, (lang, text) in enumerate(ABOUT_THE_ARCHIVE)
                ]

    for (lang, text), reply in zip(ABOUT_THE_ARCHIVE, asyncio.run(scenario()), strict=True):
        quotes = check_html(reply["text"])
        card = quotes[0]  # the letter's card: the catalogue's values, verbatim, one per line
        assert card.split("\n")[:3] == [
            "Open letter on the extradition of Mukhtar Ablyazov", "Viktor Khrapunov", "2013"
        ], text  # fmt: skip
        assert verbatim(card)
        title = "Open letter on the extradition of Mukhtar Ablyazov"
        assert say(lang, "attribution_card", title=title) in reply["text"], text
        if "?" in text and ("wrote" in text or "автор" in text or "жазды" in text):
            assert "By saying this I, Khrapunov Viktor" in quotes[1]  # ¶ 29: he names himself
        labels = buttons(reply)
        assert not any(label.startswith("Context ¶ 0") for label in labels)


def test_every_asker_is_answered_in_their_own_language(data_dir: Path):
    """/start, /help, a declined question, a throttled burst and buttons, per client language."""

    async def scenario():
        seen = {}
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for number, client in enumerate(LANGUAGES):
                    asker = 400 + number
                    say_as = {"user_id": asker, "language": client}
                    (start,) = await ask(api, message("/start", **say_as), asker)
                    (help_,) = await ask(api, message("/help", **say_as), asker)
                    (declined,) = await ask(
                        api, message("How do I bake sourdough bread?", **say_as), asker
                    )
                    (answer,) = await ask(api, message("French ambassador", **say_as), asker)
                    api.push(callback(buttons(answer)[say(LANGUAGES[client], "button_more")],
                                      user_id=asker, language=client))  # fmt: skip
                    api.push(callback(buttons(answer)["👍"], user_id=asker, language=client))
                    pressed = 2 * (number + 1)
                    await wait_for(lambda n=pressed: len(api.calls_to("answerCallbackQuery")) == n)
                    burst = await ask(api, message("Tokaev", **say_as), asker, count=1)
                    for _ in range(9):
                        burst += await ask(api, message("Tokaev", **say_as), asker)
                    seen[client] = start, help_, declined, answer, burst
            return seen, api

    seen, api = asyncio.run(scenario())
    toasts = [c.params.get("text") for c in api.calls_to("answerCallbackQuery")]
    for client, (start, help_, declined, answer, burst) in seen.items():
        lang = LANGUAGES[client]
        for reply in (start, help_, declined, answer, *burst):
            check_html(reply["text"])
        assert start["text"].startswith(catalogue(lang)["start"].split("<b>")[0])
        assert help_["text"].startswith(catalogue(lang)["help"].split("</b>")[0])
        assert declined["text"].startswith(say(lang, "nothing_found"))
        assert say(lang, "attribution_paragraph", number=18) in answer["text"]
        labels = buttons(answer)
        assert say(lang, "button_context", number=18) in labels
        assert say(lang, "feedback_thanks") in toasts
        assert say(lang, "slow_down") in [r["text"] for r in burst]
        for quote in check_html(answer["text"]):
            assert_verbatim(quote)  # quotes stay in the document's language
    assert "Вы спрашиваете быстрее" in say("ru", "slow_down")

    menus = {c.params.get("language_code"): c.params for c in api.calls_to("setMyCommands")}
    descriptions = {c.params.get("language_code") for c in api.calls_to("setMyDescription")}
    short = {c.params.get("language_code") for c in api.calls_to("setMyShortDescription")}
    assert set(menus) == descriptions == short == {None, "ru", "kk"}
    assert {"command": "sources", "description": "Документы архива"} in menus["ru"]["commands"]
    assert {"command": "sources", "description": "Мұрағаттағы құжаттар"} in menus["kk"]["commands"]


def test_button_presses_share_the_askers_throttle(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                (reply,) = await ask(api, message("French ambassador", user_id=95), 95)
                for _ in range(30):
                    api.push(callback(buttons(reply)["Context ¶ 18"], user_id=95))
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 30)
                await asyncio.sleep(0.5)
            return api

    api = asyncio.run(scenario())
    contexts = replies(api, 95)[1:]
    assert 1 <= len(contexts) <= 8  # the rest were refused, politely
    alerts = [c.params for c in api.calls_to("answerCallbackQuery") if c.params.get("text")]
    assert len(alerts) == 30 - len(contexts)
    assert all(a["text"] == say("en", "buttons_slow_down") for a in alerts)


@pytest.mark.parametrize(
    ("language", "question"),
    [("ru", "Кто был послом Франции в Казахстане?"), ("kk", "Франция елшісі кім болды?")],
)
def test_russian_and_kazakh_questions_quote_the_english_letter(
    data_dir: Path, language: str, question: str
):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                return await ask(api, message(question, user_id=97, language=language), 97)

    (reply,) = asyncio.run(scenario())
    quotes = check_html(reply["text"])
    assert any("Serge Smesov" in quote for quote in quotes)
    for quote in quotes:
        assert_verbatim(quote)  # quoted in English, as the letter stands
    assert say(language, "button_more") in buttons(reply)  # the bot's own words: the asker's
