"""Security properties that SECURITY.md points to."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

from bot.app import RedactToken
from index.build import build_index
from index.errors import ArchiveError
from index.search import Searcher

from .support.archive import CORPUS
from .support.botapi import TOKEN, BotAPI, ask, message, running_bot


def test_the_token_is_redacted_from_log_lines_and_exceptions(caplog):
    logger = logging.getLogger("test.redaction")
    redact = RedactToken(TOKEN)
    caplog.handler.addFilter(redact)
    try:
        logger.warning("request to https://api.telegram.org/bot%s/getMe failed", TOKEN)
        try:
            raise RuntimeError(f"connection error for /bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("sending failed")
    finally:
        caplog.handler.removeFilter(redact)
    assert TOKEN not in caplog.text
    assert "getMe failed" in caplog.text
    assert "RuntimeError: connection error for /bot[token]/sendMessage" in caplog.text


def test_a_new_data_dir_is_private(tmp_path: Path, embedder):
    data_dir = tmp_path / "new" / "data"
    build_index(CORPUS, data_dir, embedder=embedder)
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700


def test_a_deleted_index_keeps_serving_from_memory_and_a_restart_says_why(data_dir: Path, caplog):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir) as application:
                for path in data_dir.iterdir():
                    if path.name.startswith("index"):
                        shutil.rmtree(
                            path
                        ) if path.is_dir() and not path.is_symlink() else path.unlink()
                (reply,) = await ask(api, message("Who was the French ambassador?", user_id=51), 51)
                state = application.bot_data["state"]
                problems = [await asyncio.to_thread(state.reload) for _ in range(3)]
                return reply, problems

    reply, problems = asyncio.run(scenario())
    assert "Serge Smesov" in reply["text"]
    assert all("no index" in p for p in problems)
    assert caplog.text.count("kept the current index") == 1  # logged once, not at every check
    with pytest.raises(ArchiveError, match="run `archive-bot index`"):
        Searcher.open(data_dir)
