"""The inbox: a question Telegram delivered is answered even when the bot is killed first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot import inbox as inbox_module
from bot.inbox import INBOX_FILE, Inbox

from .botapi import TOKEN, BotAPI, message
from .conftest import ROOT
from .test_telegram import replies

ASKERS = 60


def start_bot(api: BotAPI, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
           "ARCHIVE_BOT_DATA_DIR": str(data_dir), "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_until(condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


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
    assert f"answering {ASKERS} questions received before the last stop" in output
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
    assert inbox.pending() == ['{"update_id": 2}']
    assert (tmp_path / INBOX_FILE).stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(inbox_module, "HANDLED_FOR", -1)  # a day later
    assert inbox.receive(1, '{"update_id": 1}')  # Telegram may use an old id again
    inbox.close()
