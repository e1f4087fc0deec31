"""Maintainers' side: reindexing under a running bot, and killed reindexes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.build import build_index
from index.search import Searcher
from index.store import CURRENT, IndexStore

from .support.archive import CORPUS, LETTER_ID, ROOT, damage
from .support.botapi import BotAPI, ask, message, running_bot

MODERATOR = 4711
NEW_DOCUMENT = (
    "The Court of Appeal of Aix-en-Provence ruled on the extradition request in 2014.\n\n"
    "The judges found the guarantees of the requesting states insufficient."
)


@pytest.fixture
def own_corpus(corpus: Path) -> Path:
    shutil.copy(CORPUS / LETTER_ID, corpus)
    shutil.copy(CORPUS / "catalogue.toml", corpus)
    return corpus


def test_the_running_bot_switches_to_a_new_index_without_a_restart(
    own_corpus: Path, tmp_path: Path, embedder, caplog
):
    data_dir = tmp_path / "data"
    build_index(own_corpus, data_dir, embedder=embedder)

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, moderators=frozenset({MODERATOR})):
                (before,) = await ask(
                    api, message("Court of Appeal of Aix-en-Provence", user_id=1), 1
                )
                (own_corpus / "ruling.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
                report = await asyncio.to_thread(
                    build_index, own_corpus, data_dir, embedder=embedder
                )
                assert (report.added, report.passages_embedded) == (["ruling.txt"], 2)

                async def answered_from_new_document():
                    (reply,) = await ask(
                        api, message("Court of Appeal of Aix-en-Provence", user_id=2), 2
                    )
                    return "Aix-en-Provence" in reply["text"]

                deadline = time.monotonic() + 20
                while not await answered_from_new_document():
                    assert time.monotonic() < deadline, "the bot never switched"
                    await asyncio.sleep(1)

                # Another model's index is refused; the bot keeps serving the one it has.
                _fake_other_model_index(data_dir)
                (refused,) = await ask(api, message("/reload", user_id=MODERATOR), MODERATOR)
                (still,) = await ask(
                    api, message("Court of Appeal of Aix-en-Provence", user_id=3), 3
                )
                (not_for_you,) = await ask(api, message("/reload", user_id=3), 3)
            return before, refused, still, not_for_you

    before, refused, still, not_for_you = asyncio.run(scenario())
    assert "Aix-en-Provence" not in before["text"]
    assert "kept the current index" in refused["text"] and "other-model" in refused["text"]
    assert "Aix-en-Provence" in still["text"]
    assert "don't know that command" in not_for_you["text"]
    assert "built with the models ['other-model', 'multilingual-e5-small']" in caplog.text


def test_an_index_damaged_under_the_running_bot_is_reported_in_one_line(data_dir: Path, caplog):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, moderators=frozenset({MODERATOR})):
                await ask(api, message("Tokaev", user_id=5), 5)
                damage(data_dir, 0, 4096)  # garbage over the file's head, in place
                (after,) = await ask(api, message("Who was the French ambassador?", user_id=6), 6)
                (reload,) = await ask(api, message("/reload", user_id=MODERATOR), MODERATOR)
            return after, reload

    after, reload = asyncio.run(scenario())
    assert after["text"]  # one reply: the apology
    assert "kept the current index: the index in use is damaged" in reload["text"]
    assert "the index cannot be read" in caplog.text and "Traceback" not in caplog.text


def _fake_other_model_index(data_dir: Path) -> None:
    """Make the current index look built by another model, swapping it in as a build would."""
    current = (data_dir / CURRENT).resolve()
    other = data_dir / "index-other-model"
    shutil.copytree(current, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest |= {"models": ["other-model", "multilingual-e5-small"], "build_id": "other-model"}
    (other / "manifest.json").write_text(json.dumps(manifest))
    (data_dir / ".swap").symlink_to(other.name)
    os.replace(data_dir / ".swap", data_dir / CURRENT)


def _staging(data_dir: Path) -> bool:
    return any(p.name.startswith(".staging-") for p in data_dir.iterdir())


@pytest.mark.slow
def test_killing_a_reindex_at_any_moment_leaves_the_previous_index(
    own_corpus: Path, tmp_path: Path, embedder
):
    data_dir = tmp_path / "data"
    build_index(own_corpus, data_dir, embedder=embedder)
    for i in range(20):  # enough text that embedding takes a few seconds
        (own_corpus / f"extra-{i}.txt").write_text(
            "\n\n".join(f"Paragraph {j} of document {i} about the archive." for j in range(10)),
            encoding="utf-8",
        )
    full = 33 + 20 * 10
    env = {
        **os.environ,
        "ARCHIVE_BOT_DATA_DIR": str(data_dir),
        "ARCHIVE_BOT_CORPUS": str(own_corpus),
    }
    # Kill while starting, loading the model, embedding, and writing the new index (as soon
    # as its staging directory appears, and moments later while files are written or swapped).
    for moment in (0.5, 4.0, 8.5, "writing", 0.02):
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "index", "--full"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if isinstance(moment, float) and moment > 0.2:
            time.sleep(moment)
        else:
            deadline = time.monotonic() + 120
            while not _staging(data_dir) and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.002)
            time.sleep(moment if isinstance(moment, float) else 0)
        process.send_signal(signal.SIGKILL)
        process.wait()
        store = IndexStore(data_dir)  # complete and consistent, whichever index it is
        assert store.manifest["passages"] in (33, full)
        hits = Searcher(store, embedder).search("Who was the French ambassador?").hits
        assert "Serge Smesov" in hits[0].passage.text
    report = build_index(own_corpus, data_dir, embedder=embedder)
    assert report.passages_total == full
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".")]
    assert len([p for p in data_dir.iterdir() if p.name.startswith("index-")]) <= 2
