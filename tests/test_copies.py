"""No copy of the query log outlives what made it: interrupted backups, browsing, exports."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answering import answer
from bot.cli import cli
from bot.copies import partial_dir, sweep
from bot.querylog import LOG_FILE, QueryLog
from index.build import build_lock

from .support.archive import ROOT

QUESTION = "Who was the French ambassador?"


def logged(data_dir: Path, searcher, questions: int = 3) -> None:
    log = QueryLog(data_dir)
    for asker in range(questions):
        log.record_answer(answer(searcher, QUESTION), "private", asker=asker)
    log.close()


def wait_for_file(pattern: str, folder: Path, seconds: float = 60) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := sorted(folder.glob(pattern)):
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no {pattern} in {folder}")


def as_at_a_terminal() -> None:
    """Give the child Ctrl-C's default meaning: a test suite started from a script in the
    background inherits SIGINT ignored, and Python keeps it ignored (so a SIGINT case hung)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_an_interrupted_backup_leaves_nothing(data_dir: Path, searcher, tmp_path: Path, stop):
    logged(data_dir, searcher)
    dest = tmp_path / "backups" / "today"
    command = [sys.executable, "-m", "bot", "backup", str(dest), "--data-dir", str(data_dir)]
    with build_lock(data_dir):  # the backup waits for it with its partial copy begun
        backup = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  preexec_fn=as_at_a_terminal)  # fmt: skip
        try:
            wait_for_file(".today.partial-*", dest.parent)
            time.sleep(0.5)  # inside the lock's wait, not before it
            backup.send_signal(stop)
            out, err = backup.communicate(timeout=60)
        finally:  # never left running by a failing test
            backup.kill()
            backup.communicate()
    assert backup.returncode != 0
    assert "Traceback" not in err, err
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_the_next_backup_removes_what_a_killed_one_left(data_dir: Path, searcher, tmp_path: Path):
    logged(data_dir, searcher)
    backups = tmp_path / "backups"
    left = backups / f".yesterday.partial-{dead_pid()}"  # SIGKILLed after copying the log
    left.mkdir(parents=True)
    (left / LOG_FILE).write_bytes((data_dir / LOG_FILE).read_bytes())
    running = backups / f".other.partial-{os.getpid()}"  # a backup still at work: kept
    running.mkdir()
    made = CliRunner().invoke(cli, ["backup", str(backups / "today"), "--data-dir", str(data_dir)])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in backups.iterdir()) == [running.name, "today"]


def test_a_partial_dir_is_removed_on_an_error_and_kept_when_renamed(tmp_path: Path):
    with pytest.raises(OSError), partial_dir(tmp_path, "copy") as folder:
        (folder / LOG_FILE).write_text("questions")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        raise OSError("the disk is full")
    assert list(tmp_path.iterdir()) == []
    with partial_dir(tmp_path, "copy") as folder:
        folder.rename(tmp_path / "copy")
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]
    assert sweep(tmp_path / "missing") == []


def fake_datasette(folder: Path) -> Path:
    """A `datasette` that holds its database open and serves nothing, until it is stopped."""
    folder.mkdir()
    script = folder / "datasette"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n"
                      "database = open(sys.argv[2], 'rb')\ntime.sleep(600)\n")  # fmt: skip
    script.chmod(0o700)
    return folder


def browse(data_dir: Path, tmp_path: Path) -> subprocess.Popen:
    environment = os.environ | {"PATH": f"{fake_datasette(tmp_path / 'bin')}:{os.environ['PATH']}"}
    return subprocess.Popen(
        [sys.executable, "-m", "scripts.browse_logs", "--data-dir", str(data_dir),
         "--port", "8999"],
        env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_at_a_terminal,
    )  # fmt: skip


def server_of(process: subprocess.Popen) -> int:
    """The pid of the datasette that `process` started (once its copy is open)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        if children and LOG_FILE in open_files(int(children[0])):
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("datasette did not start")


def open_files(pid: int) -> str:
    """The paths `pid` holds open, one per line ("" while it starts: its files come and go)."""
    paths = []
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            paths.append(os.readlink(fd))
    except OSError:
        pass
    return "\n".join(paths)


def gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()[:80]:
            return True
        time.sleep(0.05)
    return False


def browsed_until(stop: int, data_dir: Path, tmp_path: Path, look) -> None:
    """Start the browser view of `data_dir`, `look` at its copy (the folder) once datasette
    serves it, then `stop` the script: nothing of it may be left, datasette included."""
    script = browse(data_dir, tmp_path)
    try:
        server = server_of(script)
        look(wait_for_file(".browse-logs.partial-*", data_dir))
        script.send_signal(stop)
        _, err = script.communicate(timeout=60)
    finally:  # never left running by a failing test
        script.kill()
        script.communicate()
    assert "Traceback" not in err, err
    assert not list(data_dir.glob(".*partial*")) and gone(server)


@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_the_browser_views_copy_goes_with_the_script(data_dir: Path, searcher, tmp_path, stop):
    logged(data_dir, searcher)

    def look(copy: Path) -> None:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700 and (copy / LOG_FILE).exists()

    browsed_until(stop, data_dir, tmp_path, look)  # an SSH session dropped, systemd, Ctrl-C


def test_a_killed_browser_view_leaves_a_copy_that_the_next_log_command_removes(
    data_dir: Path, searcher, tmp_path: Path
):
    logged(data_dir, searcher)
    script = browse(data_dir, tmp_path)
    try:
        server = server_of(script)
    finally:
        script.kill()
        script.communicate(timeout=60)
    assert gone(server)  # datasette does not serve on without it
    assert list(data_dir.glob(".browse-logs.partial-*"))  # SIGKILL leaves no time to clean up
    purged = CliRunner().invoke(cli, ["logs", "purge", "--yes", "--data-dir", str(data_dir)])
    assert purged.exit_code == 0 and "Deleted 0" in purged.output, purged.output
    assert not list(data_dir.glob(".*partial*"))


def test_a_missing_datasette_is_named(data_dir: Path, searcher):
    logged(data_dir, searcher)
    environment = os.environ | {"PATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.browse_logs", "--data-dir", str(data_dir)],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "make browse-logs" in result.stderr
    assert "Traceback" not in result.stderr and not list(data_dir.glob(".*partial*"))


@pytest.mark.parametrize("command", [["logs", "export"], ["logs", "export", "--format", "csv"],
                                     ["logs", "export-eval"]])  # fmt: skip
def test_exports_are_owner_only(data_dir: Path, searcher, tmp_path: Path, command):
    logged(data_dir, searcher)
    fresh, existing = tmp_path / "fresh.out", tmp_path / "existing.out"
    existing.write_text("an earlier export, world-readable")
    existing.chmod(0o644)
    for output in (fresh, existing):
        made = CliRunner().invoke(
            cli, [*command, "--output", str(output), "--data-dir", str(data_dir)]
        )
        assert made.exit_code == 0, made.output
        assert stat.S_IMODE(output.stat().st_mode) == 0o600, output
    assert "earlier export" not in existing.read_text()


def test_a_log_in_the_database_is_browsed_from_files_that_go_with_the_script(
    index_dir: Path, searcher, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", "a-test-key-of-forty-characters-000000000")
    copied = CliRunner().invoke(cli, ["database", "copy-in", "--data-dir", str(index_dir)])
    assert copied.exit_code == 0, copied.output
    data_dir = tmp_path / "data"  # a machine of the bot: nothing in files
    logged(data_dir, searcher)

    def look(copy: Path) -> None:
        assert (copy / "files" / "index" / "passages.db").exists()  # beside the log's pages
        with sqlite3.connect(f"file:{copy / LOG_FILE}?mode=ro", uri=True) as served:
            columns = [row[1] for row in served.execute("pragma table_info(queries)")]
            asked = served.execute("select query from queries").fetchall()
        assert "asker" not in columns and asked == [(QUESTION,)] * 3

    browsed_until(signal.SIGTERM, data_dir, tmp_path, look)
