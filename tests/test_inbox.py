"""The inbox: a question Telegram delivered is answered even when the bot is killed first."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from pathlib import Path

import pytest

from bot import inbox as inbox_module
from bot.inbox import INBOX_FILE, Inbox

from .support import botapi
from .support.botapi import (
    BotAPI,
    ask,
    message,
    replies,
    running_bot,
    start_bot,
    wait_for,
    wait_until,
)

ASKERS = 60


def test_a_killed_bot_answers_every_received_question_after_a_restart(data_dir: Path):
    with BotAPI() as api:
        api.fail("sendMessage", 429, retry_after=60, times=10_000)  # no reply leaves before
        for asker in range(ASKERS):
            api.push(message("Tokaev", user_id=6000 + asker))
        bot = start_bot(api, data_dir)
        try:
            wait_until(lambda: api.unconfirmed() == 0)  # Telegram would never send them again
            bot.send_signal(signal.SIGKILL)
            bot.communicate(timeout=30)
        finally:
            bot.kill()
        assert replies(api) == []
        api.clear_failures()
        bot = start_bot(api, data_dir)
        try:
            wait_until(lambda: len(replies(api)) >= ASKERS)
            time.sleep(1.0)  # a second reply to anyone would arrive now
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
        finally:
            bot.kill()
    assert bot.returncode == 0, output
    for asker in range(ASKERS):
        (reply,) = replies(api, 6000 + asker)
        assert "К. Tokaev" in reply["text"]
    assert f"answering {ASKERS} questions received before a stop" in output
    inbox = Inbox(data_dir)
    assert inbox.pending() == []
    inbox.close()
    for path in data_dir.rglob("*"):  # no chat or user id is left behind in any file
        if path.is_file():
            assert b'"id": 60' not in path.read_bytes(), path.name


def test_re_deliveries_are_kept_once_and_handled_ones_dropped(tmp_path: Path, monkeypatch):
    inbox = Inbox(tmp_path)
    assert inbox.receive(1, '{"update_id": 1}') and inbox.receive(2, '{"update_id": 2}')
    assert not inbox.receive(1, '{"update_id": 1}')  # delivered again: already kept
    inbox.handled(1)
    assert not inbox.receive(1, '{"update_id": 1}')  # delivered again: already answered
    assert inbox.pending() == [(2, '{"update_id": 2}')]
    assert (tmp_path / INBOX_FILE).stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(inbox_module, "HANDLED_FOR", -1)  # a day later
    assert inbox.receive(1, '{"update_id": 1}')  # Telegram may use an old id again
    inbox.close()


def waiting_inbox(data_dir: Path, questions: int) -> None:
    """An inbox holding `questions` received updates, and one that is not valid JSON, first.

    Their ids come from the stand-in's counter, as Telegram's grow: an id a later test pushes
    again would be taken for a re-delivery and dropped.
    """
    inbox = Inbox(data_dir)
    inbox.receive(next(botapi._update_ids), "{not json")
    for asker in range(questions):
        update_id = next(botapi._update_ids)
        update = {"update_id": update_id, **message("Tokaev", user_id=7000 + asker)}
        inbox.receive(update_id, json.dumps(update))
    inbox.close()  # the last connection checkpoints the WAL into the file


def test_a_damaged_inbox_page_costs_that_page_only(data_dir: Path, caplog):
    waiting_inbox(data_dir, 80)
    path = data_dir / INBOX_FILE
    pages = path.stat().st_size // 1024
    with open(path, "r+b") as file:  # one page of the table's leaves, past its middle
        file.seek(1024 * (pages * 2 // 3))
        file.write(bytes(range(256)) * 4)

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                await wait_for(lambda: len(replies(api)) >= 64, timeout=120)
                await asyncio.sleep(1.0)  # the rest of what was recovered
                (answer,) = await ask(api, message("Tokaev", user_id=8000), 8000)
                return api, answer

    with caplog.at_level(logging.WARNING):
        api, answer = asyncio.run(scenario())
    assert "К. Tokaev" in answer["text"]
    answered = {int(reply["chat_id"]) for reply in replies(api)} - {8000}
    assert len(answered) >= 64 and answered <= {7000 + n for n in range(80)}
    assert "the inbox was damaged" in caplog.text
    assert "1 waiting updates could not be read back" in caplog.text
    (moved,) = data_dir.glob("inbox.db.damaged-*[0-9]")
    inbox = Inbox(data_dir)
    assert inbox.aside() == ["1 updates set aside in inbox.db", moved.name]
    inbox.close()


@pytest.mark.parametrize("garbage", [b"not a database at all" * 100, b""])
def test_an_unreadable_inbox_is_moved_aside_and_the_bot_answers(data_dir: Path, garbage, caplog):
    (data_dir / INBOX_FILE).write_bytes(garbage or bytes(range(256)) * 64)

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir) as application:
                (answer,) = await ask(api, message("Tokaev", user_id=8001), 8001)
                return answer, application.bot_data["state"].inbox

    with caplog.at_level(logging.WARNING):
        answer, inbox = asyncio.run(scenario())
    assert "К. Tokaev" in answer["text"] and inbox is not None  # still protected from crashes
    assert "the inbox was damaged" in caplog.text and "0 waiting updates recovered" in caplog.text
    assert len(list(data_dir.glob("inbox.db.damaged-*[0-9]"))) == 1
