"""Running on a server: status, backups, the key, settings that stop the bot, the units."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import __version__
from bot.cli import cli
from bot.querylog import LOG_FILE, SECRET_FILE, QueryLog
from index.errors import ArchiveError

from .support.archive import ROOT
from .support.botapi import (
    TOKEN,
    BotAPI,
    ask,
    message,
    replies,
    running_bot,
    start_bot,
    wait_for,
    wait_until,
)

DEPLOY = ROOT / "deploy"


def status(data_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "status", "--data-dir", str(data_dir), *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_status_start_up_line_and_an_outage_in_two_lines(data_dir: Path):
    assert status(data_dir).returncode == 1  # no bot has run here
    with BotAPI() as api:
        bot = start_bot(api, data_dir)
        try:
            wait_until(lambda: status(data_dir).returncode == 0, timeout=90)
            report = json.loads(status(data_dir, "--json").stdout)
            api.push(message("Tokaev", user_id=31))
            wait_until(lambda: replies(api, 31))
            api.refuse_connections(10)  # Telegram unreachable for 10 s
            api.push(message("Tokaev", user_id=32))
            wait_until(lambda: replies(api, 32))
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
        finally:
            bot.kill()
    assert report["running"] and report["healthy"] and report["version"] == __version__
    assert report["bot"] == "archive_test_bot" and report["index"]["passages"] == 33
    assert report["log"] is True and report["inbox_pending"] == 0
    after = status(data_dir)
    assert after.returncode == 1 and "bot: not running (it stopped" in after.stdout
    assert "index: 1 document, 33 passages" in after.stdout
    lines = output.strip().splitlines()
    assert f"archive-bot {__version__} is @archive_test_bot: 1 document, 33 passages" in output
    assert "query log on, kept 90 days" in output
    assert "Traceback" not in output and len(lines) <= 12, output
    assert sum("cannot reach the Bot API" in line for line in lines) == 1, output
    assert sum("reachable again" in line for line in lines) == 1, output


def test_a_backup_while_the_bot_answers_equals_the_live_log(data_dir: Path, tmp_path: Path):
    runner = CliRunner()
    backup = tmp_path / "backup"

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                for asker in range(5):
                    await ask(api, message("Who was the French ambassador?", user_id=asker), asker)
                old = QueryLog(data_dir, clock=lambda: time.time() - 200 * 86400)
                old.record(query="Asked long ago", found=True, passages=[], latency_ms=1,
                           chat_type="private")  # fmt: skip
                old.close()  # past retention, not yet purged: a backup must not hold it
                for asker in range(5, 25):  # still arriving while the backup runs
                    api.push(message("Tokaev", user_id=asker))
                made = await asyncio.to_thread(
                    runner.invoke, cli, ["backup", str(backup), "--data-dir", str(data_dir)]
                )
                await wait_for(lambda: len(replies(api)) == 25)
        return made

    made = asyncio.run(scenario())
    assert made.exit_code == 0, made.output
    assert "the query log (" in made.stdout
    assert not (backup / "inbox.db").exists() and (backup / SECRET_FILE).exists()
    assert backup.stat().st_mode & 0o777 == 0o700
    for path in backup.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o600, path
    copied = recent(runner, backup)
    live = [row for row in recent(runner, data_dir) if row["query"] != "Asked long ago"]
    assert 5 <= len(copied) <= 25 and copied == live[: len(copied)]
    assert "Asked long ago" not in json.dumps(copied)
    answer = runner.invoke(cli, ["ask", "Tokaev", "--json", "--data-dir", str(backup)])
    assert json.loads(answer.stdout)["found"], answer.output
    again = runner.invoke(cli, ["backup", str(backup), "--data-dir", str(data_dir)])
    assert again.exit_code == 2 and "not empty" in again.output


def recent(runner: CliRunner, data_dir: Path) -> list[dict]:
    result = runner.invoke(cli, ["logs", "recent", "--json", "--limit", "100", "--data-dir",
                                 str(data_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()][::-1]


def test_a_log_without_its_key_is_refused_and_no_key_is_made(data_dir: Path):
    QueryLog(data_dir).close()
    (data_dir / SECRET_FILE).unlink()
    result = CliRunner().invoke(cli, ["logs", "recent", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and f"{SECRET_FILE} is missing" in result.stderr
    assert not (data_dir / SECRET_FILE).exists()
    copy = data_dir.parent / "copy"
    refused = CliRunner().invoke(cli, ["backup", str(copy), "--data-dir", str(data_dir)])
    assert refused.exit_code == 1 and f"{SECRET_FILE} is missing" in refused.stderr
    assert not copy.exists() and not list(data_dir.parent.glob(".copy.partial-*"))  # no half

    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir):
                pass

    with pytest.raises(ArchiveError, match="restore the key from the backup"):
        asyncio.run(scenario())
    assert not (data_dir / SECRET_FILE).exists()
    (data_dir / LOG_FILE).rename(data_dir / "old-logs.db")  # moved away: a new, empty log
    QueryLog(data_dir).close()
    assert (data_dir / SECRET_FILE).exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"ARCHIVE_BOT_MODERATORS": "12 34"}, "'12 34' is not one"),
        ({"ARCHIVE_BOT_MODERATORS": "12,@alice"}, "a username"),
        ({"ARCHIVE_BOT_LOG_RETENTION_DAYS": "³"}, "whole number of days"),
        ({"ARCHIVE_BOT_LOG_SECRET": "short"}, "ARCHIVE_BOT_LOG_SECRET is shorter than 32"),
        ({"inbox": "a directory"}, "the inbox"),
    ],
)
def test_misconfiguration_stops_run_in_one_line(data_dir: Path, setting: dict, message: str):
    if setting.pop("inbox", None):
        (data_dir / "inbox.db").mkdir()  # cannot be opened as a database
    with BotAPI() as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
               "ARCHIVE_BOT_DATA_DIR": str(data_dir), "NO_PROXY": "127.0.0.1,localhost",
               **setting}  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert not api.calls_to("getUpdates")  # it never started to take questions
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert TOKEN not in result.stderr


def test_no_log_runs_without_a_log_when_the_operator_says_so(data_dir: Path):
    async def scenario():
        with BotAPI() as api:
            async with running_bot(api, data_dir, log=False) as application:
                (answer,) = await ask(api, message("Tokaev", user_id=5), 5)
                return answer, application.bot_data["state"].log

    answer, log = asyncio.run(scenario())
    assert "К. Tokaev" in answer["text"] and log is None
    assert not (data_dir / LOG_FILE).exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_systemd_units_verify(tmp_path: Path):
    """The units as shipped, their paths pointed at this checkout (verify needs them to exist)."""
    units = []
    for unit in DEPLOY.glob("archive-bot*"):
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/archive-bot/.venv/bin/", f"{Path(sys.executable).parent}/")
        text = text.replace("/opt/archive-bot", str(ROOT))
        text = text.replace("/srv/archive-bot/corpus", str(ROOT / "corpus"))
        text = text.replace("/etc/archive-bot/env", str(DEPLOY / "env.example"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
        units.append(str(tmp_path / unit.name))
    assert len(units) == 7  # the bot, the index and its watch, backup and health with timers
    comment = (DEPLOY / "archive-bot.service").read_text(encoding="utf-8").split("[Unit]")[0]
    named = set(re.findall(r"archive-bot[\w.*-]*\.(?:service|path|timer)", comment))
    shipped = {unit.name for unit in DEPLOY.glob("archive-bot*")}
    assert {n for n in named if "*" not in n} <= shipped  # the install comment names real units
    for pattern in (n for n in named if "*" in n):  # and its globs copy every one of them
        shipped -= set(fnmatch.filter(shipped, pattern))
    assert not shipped, shipped
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for unit in DEPLOY.glob("archive-bot*"):  # the operator's corpus is not in the checkout
        assert "/opt/archive-bot/corpus" not in unit.read_text(encoding="utf-8"), unit.name
    service = (DEPLOY / "archive-bot.service").read_text(encoding="utf-8")
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=on-failure",
                      "StateDirectory=archive-bot", "EnvironmentFile=", "UMask=0077"):  # fmt: skip
        assert hardening in service


def test_index_on_a_data_dir_it_cannot_write_says_so_in_one_line(tmp_path: Path):
    (tmp_path / "a-file").write_text("not a directory", encoding="utf-8")
    data_dir = tmp_path / "a-file" / "data"  # cannot be made: as on a read-only file system
    result = CliRunner().invoke(cli, ["index", "--data-dir", str(data_dir)])
    assert (
        result.exit_code == 1
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert result.stderr.strip() == f"Error: cannot write in {data_dir}: Not a directory"


def test_timestamps_start_each_log_line_for_plain_log_files(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "untitled.txt").write_text("A document without a title.", encoding="utf-8")
    command = [sys.executable, "-m", "bot", "--timestamps", "index", "--dry-run",
               "--corpus", str(corpus), "--data-dir", str(tmp_path / "data")]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    (line,) = [line for line in result.stderr.splitlines() if "has no title" in line]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING index.documents: ", line), line


def test_an_upgrade_across_an_index_format_change_rebuilds_by_itself(data_dir: Path):
    """`git pull && make install`, then the unit starts `run` on the old index: no crash loop."""
    from index.store import CURRENT, FORMAT_VERSION

    manifest = data_dir / CURRENT / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"format_version": 6}))
    assert FORMAT_VERSION > 6
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--corpus", str(ROOT / "corpus"),
         "--data-dir", str(data_dir)],
        input="Who was the French ambassador?\n", capture_output=True, text=True, cwd=ROOT,
        timeout=300, env={k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "has format version 6" in done.stderr and "--full" not in done.stderr
    assert "33 passages, 0 of them embedded anew" in done.stderr  # every vector kept
    assert "Serge Smesov" in done.stdout and "Traceback" not in done.stderr
    assert json.loads(manifest.read_text())["format_version"] == FORMAT_VERSION


def test_an_upgrade_without_its_corpus_says_what_to_run(data_dir: Path, tmp_path: Path):
    from index.store import CURRENT

    manifest = data_dir / CURRENT / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"format_version": 6}))
    refused = CliRunner().invoke(
        cli, ["run", "--corpus", str(tmp_path / "nowhere"), "--data-dir", str(data_dir)],
        env={"TELEGRAM_BOT_TOKEN": "1:x"},
    )  # fmt: skip
    assert refused.exit_code == 1 and "could not be rebuilt" in refused.stderr
    assert "nowhere" in refused.stderr and "--full" not in refused.stderr


def without_root_powers(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run `command` as this user, but without root's right to read anyone's files."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to play a user who owns none of the files")
    without = "--bounding-set=-dac_override,-dac_read_search"
    return subprocess.run(
        [setpriv, without, *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        **kwargs,
    )


def test_a_backup_restored_by_another_user_is_one_line_naming_chown(data_dir: Path, tmp_path):
    QueryLog(data_dir).close()
    restored = tmp_path / "restored"
    made = CliRunner().invoke(cli, ["backup", str(restored), "--data-dir", str(data_dir)])
    assert made.exit_code == 0, made.output
    for path in [*restored.rglob("*")]:
        os.chown(path, 12345, 12345, follow_symlinks=False)  # `cp -a` by root: not ours
    environment = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    for command in (["status"], ["run"], ["logs", "recent"], ["ask", "Tokaev"]):
        done = without_root_powers(
            [sys.executable, "-m", "bot", *command, "--data-dir", str(restored)],
            env=environment | {"TELEGRAM_BOT_TOKEN": "1:x"} if command == ["run"] else environment,
        )
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        (line,) = done.stderr.strip().splitlines()  # one line
        assert f"chown -R root: {restored}`" in line and "belongs to uid 12345" in line, line


def test_a_wrong_token_is_one_line(data_dir: Path):
    unauthorized = b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'
    with BotAPI() as api:
        api.fail("getMe", 401, times=100, body=unauthorized)
        bot = start_bot(api, data_dir)
        output, _ = bot.communicate(timeout=120)
    assert bot.returncode == 1 and "Traceback" not in output, output
    assert "Telegram rejected the token" in output and len(output.strip().splitlines()) <= 3
    assert TOKEN not in output


def test_a_blocked_asker_a_migrated_group_and_a_killed_bot_are_one_line_each(data_dir: Path):
    blocked = (
        b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}'
    )
    migrated = (
        b'{"ok": false, "error_code": 400, "description": "Bad Request: group chat was '
        b'upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": -100500}}'
    )
    with BotAPI() as api:
        bot = start_bot(api, data_dir)
        try:
            wait_until(lambda: status(data_dir).returncode == 0, timeout=90)
            api.fail("sendMessage", 403, body=blocked)
            api.push(message("Tokaev", user_id=41))
            wait_until(lambda: api.failures_left("sendMessage") == 0)
            api.fail("sendMessage", 400, body=migrated)
            api.push(message("@archive_test_bot Tokaev", user_id=42, chat_id=-500,
                             chat_type="group"))  # fmt: skip
            wait_until(lambda: replies(api, -100500))  # the answer reached the new chat
            api.push(message("Idrisov", user_id=43))
            wait_until(lambda: replies(api, 43))
            bot.send_signal(signal.SIGKILL)
            output, _ = bot.communicate(timeout=30)
        finally:
            bot.kill()
    assert "Traceback" not in output and "ERROR" not in output, output
    assert sum("could not be delivered" in line for line in output.splitlines()) == 1, output
    assert sum("supergroup" in line for line in output.splitlines()) == 1, output
    after = status(data_dir)
    assert (
        "ended without stopping, killed or crashed" in after.stdout and "never" not in after.stdout
    )


def test_a_wall_clock_set_back_neither_stops_status_writes_nor_fakes_health(
    data_dir: Path, monkeypatch
):
    from bot import health
    from bot.health import run_lock

    state = health.Health()
    assert state.status_due()
    monkeypatch.setattr(health, "STATUS_EVERY", 0.2)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)  # NTP steps the clock back an hour
    time.sleep(0.3)
    assert state.status_due()  # the status file is still rewritten
    monkeypatch.undo()
    # A bot that last polled 20 minutes ago, whose wall clock was an hour ahead then.
    (data_dir / "status.json").write_text(json.dumps({
        "pid": os.getpid(), "version": __version__, "bot": "archive_test_bot",
        "last_poll": time.time() + 3600 - 1200, "polled_monotonic": time.monotonic() - 1200,
    }))  # fmt: skip
    with run_lock(data_dir):
        seen = status(data_dir)
    assert seen.returncode == 1 and re.search(r"last poll 120\d s ago: NOT HEALTHY", seen.stdout)


def test_the_version_its_changelog_section_and_the_formats_are_in_step():
    """A new index format or log schema is a new version whose CHANGELOG section says so."""
    from bot.querylog import SCHEMA_VERSION
    from index.store import FORMAT_VERSION

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d\d-\d\d$", changelog, re.M)
    assert versions and versions[0] == __version__, (versions[:1], __version__)
    section = changelog.split(f"## [{__version__}]")[1].split("\n## [")[0]
    assert f"Index format {FORMAT_VERSION} " in section, "a format change needs a new version"
    assert f"query log schema {SCHEMA_VERSION} " in section, "so does a schema change"


def test_a_servers_install_leaves_the_test_tools_out():
    def names(path: Path) -> set[str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return {re.split(r"[\[=]", line)[0].lower() for line in lines if line and line[0] != "#"}

    runtime, dev = names(ROOT / "requirements.lock"), names(ROOT / "requirements-dev.lock")
    assert {"pytest", "ruff", "hypothesis"} <= dev and not runtime & dev
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    install = re.search(r"^install: (.*)$", makefile, re.M)[1]
    assert "$(DEV)" not in install and re.search(r"^test: \$\(DEV\)", makefile, re.M)


def test_an_outage_says_why_once(caplog):
    from telegram.error import NetworkError

    from bot.health import Health

    health = Health()
    for _ in range(3):  # every failed poll of one outage
        health.poll_ended(NetworkError("httpx.ConnectError: All connection attempts failed"))
    (line,) = [r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage()]
    assert "NetworkError: httpx.ConnectError: All connection attempts failed" in line
    assert health.last_error.startswith("getUpdates: NetworkError: httpx.ConnectError")
