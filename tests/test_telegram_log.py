"""The query log and moderation, end to end through the bot."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.querylog import LOG_FILE, QueryLog
from bot.texts import text as say

from .support.botapi import (
    BotAPI,
    ask,
    buttons,
    callback,
    check_html,
    message,
    replies,
    running_bot,
    wait_for,
)

ASKER_ID = 987_654_321_123
USERNAME = "distinctive_username_zq"
MODERATOR = 555_000_111


def test_the_log_never_holds_who_asked(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                who = {"user_id": ASKER_ID, "username": USERNAME}
                (answer,) = await ask(
                    api, message("Who was the French ambassador?", **who), ASKER_ID
                )
                api.push(callback(buttons(answer)["👎"], user_id=ASKER_ID))
                await wait_for(lambda: api.calls_to("answerCallbackQuery"))
                await ask(api, message("How do I bake bread?", **who), ASKER_ID)
                group = {"chat_id": -100777, "chat_type": "group"}
                await ask(api, message("@archive_test_bot Tokaev", **who, **group), -100777)

    asyncio.run(scenario())
    rows = QueryLog(data_dir).rows(oldest_first=True)
    assert [(r["query"], r["found"], r["chat_type"]) for r in rows] == [
        ("Who was the French ambassador?", True, "private"),
        ("How do I bake bread?", False, "private"),
        ("Tokaev", True, "group"),
    ]
    assert rows[0]["feedback"] == "down" and rows[0]["language"] == "en"
    assert rows[0]["top_passage"].startswith("khrapunov-open-letter-ablyazov.txt#")
    for path in data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in (str(ASKER_ID), USERNAME, "-100777", "Readers", "Ann"):
                assert secret.encode() not in content, (secret, path.name)


def test_forget_asks_first_then_deletes_only_the_askers_questions(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for text in ("Tokaev", "Idrisov"):
                    await ask(api, message(text, user_id=31), 31)
                await ask(api, message("Tokaev", user_id=32), 32)
                (confirm,) = await ask(api, message("/forget", user_id=31), 31)
                assert QueryLog(data_dir).rows(limit=10)  # nothing deleted before confirming
                api.push(callback(buttons(confirm)["No"], user_id=31))
                await wait_for(lambda: len(api.calls_to("editMessageText")) == 1)
                assert len(QueryLog(data_dir).rows()) == 3
                api.push(callback(buttons(confirm)["Yes, delete them"], user_id=31))
                await wait_for(lambda: len(api.calls_to("editMessageText")) == 2)
                return [c.params["text"] for c in api.calls_to("editMessageText")]

    edits = asyncio.run(scenario())
    assert edits == ["Nothing was deleted.", "Deleted 2 logged questions of yours."]
    assert [r["query"] for r in QueryLog(data_dir).rows()] == ["Tokaev"]


def test_only_the_sender_of_forget_can_confirm_it(data_dir: Path, caplog):
    group = {"chat_id": -300, "chat_type": "supergroup"}
    not_modified = (
        b'{"ok": false, "error_code": 400, "description": "Bad Request: message is not modified"}'
    )

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for asker in (41, 42):
                    await ask(
                        api, message("@archive_test_bot Tokaev", user_id=asker, **group), -300
                    )
                (confirm,) = await ask(api, message("/forget", user_id=41, **group), -300)
                yes = buttons(confirm)["Yes, delete them"]
                api.push(callback(yes, user_id=42))  # another member of the group
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 1)
                assert len(QueryLog(data_dir).rows()) == 2 and not api.calls_to("editMessageText")
                api.fail("editMessageText", 400, body=not_modified)
                api.push(callback(buttons(confirm)["No"], user_id=41))
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 2)
                api.push(callback(yes, user_id=41))
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 3)
                await asyncio.sleep(0.3)
            return api.calls_to("answerCallbackQuery")

    refused, kept, deleted = asyncio.run(scenario())
    assert refused.params["text"] == say("en", "forget_not_yours")
    assert refused.params["show_alert"] == "true"
    assert kept.params["text"] == "Nothing was deleted."
    assert deleted.params["text"] == "Deleted 1 logged question of yours."
    assert len(QueryLog(data_dir).rows()) == 1  # the other member's question stays
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_only_the_asker_rates_an_answer_in_a_group(data_dir: Path):
    group = {"chat_id": -301, "chat_type": "supergroup"}

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                (answer,) = await ask(
                    api, message("@archive_test_bot Tokaev", user_id=41, **group), -301
                )
                await wait_for(lambda: QueryLog(data_dir).rows())
                api.push(callback(buttons(answer)["👎"], user_id=42))  # another member
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 1)
                api.push(callback(buttons(answer)["👍"], user_id=41))  # the asker
                await wait_for(lambda: len(api.calls_to("answerCallbackQuery")) == 2)
                await wait_for(lambda: QueryLog(data_dir).rows()[0]["feedback"])
            return api.calls_to("answerCallbackQuery")

    stranger, asker = asyncio.run(scenario())
    assert stranger.params["text"] == say("en", "feedback_not_yours", html=False)
    assert stranger.params["show_alert"] == "true"
    assert asker.params["text"] == say("en", "feedback_thanks", html=False)
    assert QueryLog(data_dir).rows()[0]["feedback"] == "up"


def test_anonymous_admins_of_different_groups_are_different_askers_and_never_logged(
    data_dir: Path,
):
    anonymous = 1087968824  # GroupAnonymousBot: one user id for every anonymous admin

    def as_group(chat_id: int) -> dict:
        chat = {"id": chat_id, "type": "supergroup", "title": "Readers"}
        return {"chat_id": chat_id, "chat_type": "supergroup", "sender_chat": chat}

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for _ in range(10):
                    await ask(api, message("@archive_test_bot Tokaev", user_id=anonymous,
                                           **as_group(-401)), -401)  # fmt: skip
                (first,) = await ask(
                    api,
                    message("@archive_test_bot Tokaev", user_id=anonymous, **as_group(-402)),
                    -402,
                )
                (forget,) = await ask(
                    api, message("/forget", user_id=anonymous, **as_group(-402)), -402
                )
                member = {"chat_id": -402, "chat_type": "supergroup"}  # the same admin, as self
                await ask(api, message("@archive_test_bot Idrisov", user_id=77, **member), -402)
                await wait_for(lambda: QueryLog(data_dir).rows())
                (own,) = await ask(api, message("/forget", user_id=77, **member), -402)
                api.push(callback(buttons(own)["Yes, delete them"], user_id=77))
                await wait_for(lambda: api.calls_to("editMessageText"))
                return first, forget, api.calls_to("editMessageText")[0].params["text"]

    first, forget, deleted = asyncio.run(scenario())
    assert "К. Tokaev" in first["text"]  # not "slow down": another group's admin asked before
    # Asked as the group: no one person could /forget it, so it is never logged, and /forget
    # says so instead of offering buttons the admin's own id could never confirm.
    assert forget["text"] == say("en", "forget_anonymous") and "reply_markup" not in forget
    assert deleted == "Deleted 1 logged question of yours."
    database = sqlite3.connect(data_dir / LOG_FILE)
    assert database.execute("select count(*) from queries").fetchone()[0] == 0


def test_moderator_commands_answer_moderators_only(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, moderators=frozenset({MODERATOR})):
                await ask(api, message("Tokaev", user_id=33), 33)
                await ask(api, message("How do I bake bread?", user_id=33), 33)
                (stats_,) = await ask(api, message("/stats", user_id=MODERATOR), MODERATOR)
                (recent,) = await ask(api, message("/recent", user_id=MODERATOR), MODERATOR)
                (refused,) = await ask(api, message("/stats", user_id=33), 33)
                (refused_recent,) = await ask(api, message("/recent", user_id=33), 33)
                # a moderator's id does not make a group's other members moderators
                group = {"chat_id": -5, "chat_type": "group"}
                (in_group,) = await ask(
                    api, message("/stats@archive_test_bot", user_id=34, **group), -5
                )
                # and a moderator's commands never post the log into a group
                (moderator_in_group,) = await ask(
                    api, message("/recent@archive_test_bot", user_id=MODERATOR, **group), -5
                )
                assert "private chat" in moderator_in_group["text"]
                assert "bread" not in moderator_in_group["text"]
            scoped = [c for c in api.calls_to("setMyCommands") if "scope" in c.params]
            return stats_, recent, refused, refused_recent, in_group, scoped

    stats_, recent, refused, refused_recent, in_group, scoped = asyncio.run(scenario())
    check_html(stats_["text"])
    assert "2 questions, 50% answered" in stats_["text"]
    check_html(recent["text"])
    assert "✓" in recent["text"] and "✗" in recent["text"] and "bread" in recent["text"]
    unknown = say("en", "unknown_command")
    assert refused["text"] == refused_recent["text"] == in_group["text"] == unknown
    assert scoped and "stats" in str(scoped[0].params["commands"])


def test_a_crowd_of_askers_loses_no_log_row(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for asker in range(100):
                    api.push(message("Tokaev", user_id=7000 + asker))
                await wait_for(lambda: len(replies(api)) >= 100, timeout=120)
                await wait_for(lambda: len(QueryLog(data_dir).rows()) >= 100, timeout=30)

    asyncio.run(scenario())
    rows = QueryLog(data_dir).rows()
    assert len(rows) == 100
    assert len({r["id"] for r in rows}) == 100


def test_a_locked_log_costs_no_answer(data_dir: Path, caplog):
    QueryLog(data_dir)  # create it, then lock it from another connection
    blocker = sqlite3.connect(data_dir / LOG_FILE)
    blocker.execute("begin exclusive")

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, moderators=frozenset({MODERATOR})):
                for asker in range(150):
                    api.push(message("Tokaev", user_id=8000 + asker))
                await wait_for(lambda: len(replies(api)) >= 150, timeout=60)
                (answer,) = replies(api, 8000)
                api.push(callback(buttons(answer)["👎"], user_id=8000))
                await wait_for(lambda: api.calls_to("answerCallbackQuery"), timeout=10)
                (recent,) = await ask(api, message("/recent", user_id=MODERATOR), MODERATOR)
                (confirm,) = await ask(api, message("/forget", user_id=8001), 8001)
                api.push(callback(buttons(confirm)["Yes, delete them"], user_id=8001))
                await wait_for(lambda: api.calls_to("editMessageText"), timeout=30)
                return replies(api), recent, api.calls_to("editMessageText")[0].params["text"]

    try:
        answers, recent, forgot = asyncio.run(scenario())  # all while the lock is held
    finally:
        blocker.rollback()
    assert all("Tokaev" in a["text"] for a in answers[:150])
    assert "No questions logged yet" in recent["text"]  # WAL: reading goes on beside the lock
    assert forgot == say("en", "forget_later")
    assert caplog.text.count("cannot be written") == 1
