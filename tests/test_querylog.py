import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from bot.answering import answer
from bot.cli import cli
from bot.moderation import stats_text
from bot.querylog import LOG_FILE, SCHEMA_VERSION, SECRET_FILE, QueryLog, public_copy
from bot.querylog import log as querylog
from bot.querylog.migrations import MIGRATIONS
from index.errors import ArchiveError

from .support.archive import LETTER_ID


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_pseudonyms_are_stable_distinct_and_keyed(tmp_path: Path, monkeypatch):
    log = QueryLog(tmp_path)
    assert log.pseudonym(42) == log.pseudonym(42)
    assert log.pseudonym(42) != log.pseudonym(43)
    assert QueryLog(tmp_path).pseudonym(42) == log.pseudonym(42)  # the key is kept
    assert QueryLog(tmp_path / "other").pseudonym(42) != log.pseudonym(42)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", "a key from the environment, 32 or more long")
    assert QueryLog(tmp_path).pseudonym(42) != log.pseudonym(42)


def test_files_are_private(tmp_path: Path):
    QueryLog(tmp_path / "data")
    for name in (LOG_FILE, SECRET_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700


def test_record_feedback_forget(log_in, tmp_path: Path):
    log = QueryLog(tmp_path)
    first = log.record(query="q1", found=True, passages=[("p#1.1", 0.9, None)], latency_ms=12.3,
                       chat_type="private", asker=7, language="en")  # fmt: skip
    log.record(query="q2", found=False, passages=[], latency_ms=5, chat_type="group", asker=8)
    log.record(query="q3", found=True, passages=[], latency_ms=5, chat_type="private", asker=7)
    assert log.feedback(first, "down")
    assert not log.feedback(9999, "up")
    (disliked,) = log.rows(disliked=True)
    assert disliked["query"] == "q1" and disliked["top_passage"] == "p#1.1"
    assert disliked["passages"] == [{"id": "p#1.1", "score": 0.9}]
    assert "asker" not in disliked
    assert [r["query"] for r in log.rows(unanswered=True)] == ["q2"]
    assert log.forget(7) == 2
    assert [r["query"] for r in log.rows()] == ["q2"]


def test_retention_purge_follows_the_clock(log_in, tmp_path: Path):
    clock = Clock()
    log = QueryLog(tmp_path, retention_days=90, clock=clock)
    log.record(query="old", found=True, passages=[], latency_ms=1, chat_type="private")
    clock.now += 89 * 86400
    log.record(query="recent", found=True, passages=[], latency_ms=1, chat_type="private")
    assert log.purge() == 0
    clock.now += 2 * 86400
    assert log.purge() == 1
    assert [r["query"] for r in log.rows()] == ["recent"]
    assert log.purge(older_than_days=0) == 1


def test_stats(log_in, tmp_path: Path):
    clock = Clock()
    log = QueryLog(tmp_path, clock=clock)
    asked = [
        ("Tokaev?", True, "ru", "private"),
        ("tokaev", True, "en", "group"),
        ("Tokaev?", True, "ru", "private"),
        ("К какому наказанию?", False, "ru", "group"),
    ]
    for i, (query, found, language, chat_type) in enumerate(asked):
        log.record(
            query=query,
            found=found,
            passages=[],
            latency_ms=10 * (i + 1),
            chat_type=chat_type,
            language=language,
            confidence=0.91 if found else 0.12,
            reason=None if found else "far",
        )
        clock.now += 86400 if i == 0 else 0  # the first question a day earlier
    log.feedback(2, "down")
    summary = log.stats(days=7)
    assert summary["questions"] == 4
    assert summary["answered_share"] == pytest.approx(3 / 4)
    assert summary["latency_ms_median"] == 25
    # In the askers' own words: the most common wording, never the folded text.
    assert summary["top_questions"] == [("Tokaev?", 3), ("К какому наказанию?", 1)]
    assert summary["top_unanswered"] == [("К какому наказанию?", 1)]
    days = list(summary["per_day"].values())
    assert len(days) == 7 and [d["questions"] for d in days[-2:]] == [1, 3]
    assert days[-1]["answered_share"] == pytest.approx(2 / 3) and days[-1]["thumbs_down"] == 1
    assert days[-1]["latency_ms_median"] == 30 and days[0]["answered_share"] is None
    assert sum(w["questions"] for w in summary["per_week"].values()) == 4
    assert all(week.startswith("20") and "-W" in week for week in summary["per_week"])
    by_language = summary["per_language"]
    assert (by_language["ru"]["questions"], by_language["en"]["questions"]) == (3, 1)
    assert by_language["ru"]["answered_share"] == pytest.approx(2 / 3)
    assert summary["per_chat_type"]["group"]["thumbs_down"] == 1
    assert summary["per_confidence"]["0.9–1.0"] == {
        "questions": 3, "answered": 3, "closest": 0, "none": 0, "thumbs_up": 0, "thumbs_down": 1,
    }  # fmt: skip
    assert summary["per_confidence"]["0.1–0.2"]["none"] == 1
    assert "0.9–1.0" in stats_text(summary) and "Confidence" in stats_text(summary)


def test_a_locked_database_warns_once_and_loses_no_answer(tmp_path: Path, caplog):
    log = QueryLog(tmp_path)
    blocker = sqlite3.connect(tmp_path / LOG_FILE)
    blocker.execute("begin exclusive")
    log.db.conn.execute("pragma busy_timeout = 50")
    for _ in range(3):
        assert (
            log.record(query="q", found=True, passages=[], latency_ms=1, chat_type="private")
            is None
        )
    assert caplog.text.count("cannot be written") == 1
    blocker.rollback()
    assert log.record(query="q", found=True, passages=[], latency_ms=1, chat_type="private")
    assert "writable again" in caplog.text


def test_cli_review_label_and_eval_round_trip(log_in, data_dir: Path, searcher):
    log = QueryLog(data_dir)
    for text in ["Who was the French ambassador?", "Tokaev", "How do I bake bread?"]:
        log.record_answer(answer(searcher, text), "private", asker=1)
    runner = CliRunner()
    env = {"ARCHIVE_BOT_DATA_DIR": str(data_dir)}

    recent = runner.invoke(cli, ["logs", "recent", "--json"], env=env)
    assert recent.exit_code == 0, recent.output
    rows = [json.loads(line) for line in recent.stdout.splitlines()]
    assert [r["query"] for r in rows] == [
        "How do I bake bread?",
        "Tokaev",
        "Who was the French ambassador?",
    ]
    assert {"time", "query", "found", "feedback", "top_passage"} <= set(rows[0])
    assert [r["found"] for r in rows] == [False, True, True]
    text = runner.invoke(cli, ["logs", "recent", "--unanswered"], env=env).stdout
    assert "✗" in text and "bread" in text and "Tokaev" not in text

    stats = runner.invoke(cli, ["logs", "stats", "--json", "--days", "3"], env=env)
    assert json.loads(stats.stdout)["questions"] == 3
    assert (
        "Last 3 days: 3 questions, 67% answered"
        in runner.invoke(cli, ["logs", "stats", "--days", "3"], env=env).stdout
    )

    csv_out = runner.invoke(cli, ["logs", "export", "--format", "csv"], env=env).stdout
    assert (
        csv_out.splitlines()[0].startswith("id,time,chat_type") and len(csv_out.splitlines()) == 4
    )
    jsonl = runner.invoke(cli, ["logs", "export", "--since", "2000-01-01"], env=env).stdout
    assert len(jsonl.splitlines()) == 3

    ambassador, tokaev, bread = rows[2]["id"], rows[1]["id"], rows[0]["id"]
    passage = f"{LETTER_ID}#18.1"
    assert runner.invoke(cli, ["logs", "label", str(ambassador), passage], env=env).exit_code == 0
    assert (
        runner.invoke(cli, ["logs", "label", str(bread), "--out-of-scope"], env=env).exit_code == 0
    )
    unknown = runner.invoke(cli, ["logs", "label", str(tokaev), "nope.txt#1.1"], env=env)
    assert unknown.exit_code == 1 and "no passage" in unknown.stderr
    missing = runner.invoke(cli, ["logs", "label", "999", "--out-of-scope"], env=env)
    assert missing.exit_code == 1 and "no logged question" in missing.stderr

    questions = data_dir / "logged.jsonl"
    exported = runner.invoke(cli, ["logs", "export-eval", "--output", str(questions)], env=env)
    assert exported.exit_code == 0, exported.output
    items = [json.loads(line) for line in questions.read_text().splitlines()]
    assert (
        items[0]["q"] == "Who was the French ambassador?" and "Serge Smesov" in items[0]["gold"][0]
    )
    assert items[1] == {"q": "How do I bake bread?", "out_of_scope": True}
    scores = runner.invoke(cli, ["eval", str(questions), "--json"], env=env)
    summary = json.loads(scores.stdout)
    assert summary["hit_at_1"] == 1.0 and summary["declined"] == 1.0

    purged = runner.invoke(cli, ["logs", "purge", "--older-than", "0", "--yes"], env=env)
    assert "Deleted 3 logged questions older than 0 days." in purged.stdout


def test_a_bad_answer_from_finding_it_to_labelling_the_right_passage(log_in,
    data_dir: Path, searcher, monkeypatch, tmp_path: Path
):
    log = QueryLog(data_dir)
    question = "Who was the French ambassador?"
    answered = answer(searcher, question)
    query_id = log.record_answer(answered, "group", asker=1, language="en")
    # Which span of each quote was shown in bold, as offsets into it.
    logged = log.row(query_id)["passages"]
    assert [p.get("highlight") for p in logged] == [
        list(hit.best_sentence) if hit.best_sentence else None for hit in answered.result.hits
    ]
    start, end = logged[0]["highlight"]
    assert "Serge Smesov" in answered.result.hits[0].passage.text[start:end]
    log.close()
    runner = CliRunner()
    env = {"ARCHIVE_BOT_DATA_DIR": str(data_dir)}

    # What was quoted: each passage's rank, id, score, attribution and verbatim text.
    shown = runner.invoke(cli, ["logs", "show", str(query_id)], env=env)
    assert shown.exit_code == 0, shown.output
    top = searcher.search(question).hits[0]
    assert f"#{query_id} " in shown.stdout and "group en: answered" in shown.stdout
    assert f"[1] {top.passage.passage_id} score {top.score:.3f}" in shown.stdout
    assert "Open letter on the extradition of Mukhtar Ablyazov, Viktor Khrapunov" in shown.stdout
    assert top.passage.text.splitlines()[0] in shown.stdout
    one = runner.invoke(cli, ["logs", "passage", f"{LETTER_ID}#18.1"], env=env)
    assert one.exit_code == 0 and "Serge Smesov" in one.stdout and "¶ 18" in one.stdout
    assert "no passage" in runner.invoke(cli, ["logs", "passage", "x#1.1"], env=env).stderr
    assert "no logged question" in runner.invoke(cli, ["logs", "show", "999"], env=env).stderr

    # Without a passage id, `label` searches the index; in a script it shows what to run.
    listed = runner.invoke(cli, ["logs", "label", str(query_id), "--search", "Smesov"], env=env)
    assert listed.exit_code == 0, listed.output
    assert f"[1] {LETTER_ID}#18.1" in listed.stdout
    assert f"Label with: archive-bot logs label {query_id} PASSAGE_ID" in listed.stderr
    assert QueryLog(data_dir).row(query_id)["label"] is None
    # On a terminal, the moderator picks a candidate by its number.
    monkeypatch.setattr("bot.cli.logs.on_terminal", lambda: True)
    picked = runner.invoke(
        cli, ["logs", "label", str(query_id), "--search", "Smesov"], env=env, input="1\n"
    )
    assert picked.exit_code == 0, picked.output
    assert f"Labelled question {query_id}: {LETTER_ID}#18.1." in picked.stdout
    assert QueryLog(data_dir).labels()[0]["passage_id"] == f"{LETTER_ID}#18.1"
    wrong = runner.invoke(cli, ["logs", "label", str(query_id)], env=env, input="9\n")
    assert wrong.exit_code == 1 and "neither a number shown nor a passage id" in wrong.stderr


def test_stats_per_day_as_json_text_and_a_png_chart(log_in, data_dir: Path, tmp_path: Path):
    log = QueryLog(data_dir)
    for query, found in [("Tokaev?", True), ("tokaev", True), ("Рецепт борща", False)]:
        log.record(query=query, found=found, passages=[], latency_ms=12, chat_type="private",
                   language="ru")  # fmt: skip
    log.close()
    runner = CliRunner()
    env = {"ARCHIVE_BOT_DATA_DIR": str(data_dir)}
    piped = runner.invoke(cli, ["logs", "stats", "--days", "7"], env=env).stdout
    assert "Most asked, unanswered:\n     1 × Рецепт борща" in piped
    assert "Language      asked  answered   up  down    median" in piped
    assert "ru                3       67%    0     0     12 ms" in piped
    today = [line for line in piped.splitlines() if line.startswith("20")][-1]  # per-day rows
    assert today.split()[1:3] == ["3", "67%"]
    chart = tmp_path / "stats.png"
    drawn = runner.invoke(cli, ["logs", "stats", "--plot", str(chart)], env=env)
    assert drawn.exit_code == 0, drawn.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    nowhere = runner.invoke(
        cli, ["logs", "stats", "--plot", str(tmp_path / "no" / "x.png")], env=env
    )
    assert nowhere.exit_code == 1 and "cannot write" in nowhere.stderr
    full = runner.invoke(cli, ["logs", "stats", "--plot", "/dev/full"], env=env)
    assert full.exit_code == 1 and "No space left on device" in full.stderr


def test_terminal_questions_are_logged_only_with_log(data_dir: Path):
    runner = CliRunner()
    env = {"ARCHIVE_BOT_DATA_DIR": str(data_dir)}
    assert runner.invoke(cli, ["ask", "Tokaev"], env=env).exit_code == 0
    assert not (data_dir / LOG_FILE).exists()
    assert runner.invoke(cli, ["ask", "--log", "Tokaev"], env=env).exit_code == 0
    (row,) = QueryLog(data_dir).rows()
    assert row["chat_type"] == "terminal" and row["query"] == "Tokaev"


def test_bad_settings_are_explained(data_dir: Path):
    QueryLog(data_dir).close()  # a data dir the bot has logged to
    runner = CliRunner()
    env = {"ARCHIVE_BOT_DATA_DIR": str(data_dir), "ARCHIVE_BOT_LOG_RETENTION_DAYS": "ninety"}
    result = runner.invoke(cli, ["logs", "purge"], env=env)
    assert result.exit_code == 1 and "whole number of days" in result.stderr


def test_a_full_disk_warns_once_and_answers_go_on(tmp_path: Path, caplog):
    log = QueryLog(tmp_path)
    pages = log.db.execute("pragma page_count").fetchone()[0]
    log.db.execute(f"pragma max_page_count = {pages}")  # the file cannot grow: SQLITE_FULL
    results = [
        log.record(query="q" * 5000, found=True, passages=[], latency_ms=1, chat_type="private")
        for _ in range(20)
    ]
    assert None in results
    assert caplog.text.count("cannot be written") == 1


def test_a_read_only_database_warns_once_and_can_still_be_read(tmp_path: Path, caplog):
    log = QueryLog(tmp_path)
    log.record(query="q", found=True, passages=[], latency_ms=1, chat_type="private")
    log.close()
    # Root writes through file modes, so the file is made immutable instead (where allowed).
    if subprocess.run(["chattr", "+i", str(tmp_path / LOG_FILE)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        log = QueryLog(tmp_path)
        for _ in range(3):
            record = log.record(query="q", found=True, passages=[], latency_ms=1, chat_type="group")
            assert record is None
        assert caplog.text.count("cannot be written") == 1
        assert [row["query"] for row in log.rows()] == ["q"]  # moderators can still review
        log.close()
    finally:
        subprocess.run(["chattr", "-i", str(tmp_path / LOG_FILE)], check=True)


def files_holding(directory: Path, needle: str) -> list[str]:
    """The files under `directory` whose bytes contain `needle` (UTF-8)."""
    return [
        p.name for p in directory.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()
    ]


def test_forgotten_and_purged_questions_leave_no_trace_on_disk(tmp_path: Path):
    clock = Clock()
    log = QueryLog(tmp_path, retention_days=30, clock=clock)
    for number in range(3):
        log.record(query=f"Where is Zhanaozen-secret-{number}?", found=False, passages=[],
                   latency_ms=1, chat_type="private", asker=7)  # fmt: skip
    log.record(query="Old Atyrau-secret", found=False, passages=[], latency_ms=1,
               chat_type="private", asker=8)  # fmt: skip
    log.record(query="kept question", found=False, passages=[], latency_ms=1,
               chat_type="private", asker=9)  # fmt: skip
    assert files_holding(tmp_path, "Zhanaozen-secret")  # the bot is running: WAL and db
    assert log.forget(7) == 3
    assert files_holding(tmp_path, "Zhanaozen-secret") == []
    log.db.execute("update queries set time = '2000-01-01T00:00:00Z' where asker = ?",
                   [log.pseudonym(8)])  # fmt: skip
    assert log.purge() == 1
    assert files_holding(tmp_path, "Atyrau-secret") == []
    assert [r["query"] for r in log.rows()] == ["kept question"]


@pytest.mark.parametrize("content", ["", "   \n", "00ff", "not hex at all"])
def test_an_empty_or_short_pseudonym_key_is_refused(tmp_path: Path, content: str):
    (tmp_path / SECRET_FILE).write_text(content)
    with pytest.raises(ArchiveError, match="log-secret"):
        QueryLog(tmp_path)
    assert not (tmp_path / LOG_FILE).exists()  # nothing is logged under a weak key


def test_a_short_key_in_the_environment_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", "short")
    with pytest.raises(ArchiveError, match="ARCHIVE_BOT_LOG_SECRET"):
        QueryLog(tmp_path)


def test_the_key_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch):
    """A write that fails (a full disk) leaves no key file behind, so none is half-made."""
    real_write = os.write

    def full_disk(descriptor, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(ArchiveError, match="No space"):
        QueryLog(tmp_path)
    monkeypatch.setattr(os, "write", real_write)
    assert [p.name for p in tmp_path.iterdir()] == []
    key = QueryLog(tmp_path).pseudonym(1)
    assert len((tmp_path / SECRET_FILE).read_text().strip()) == 64
    assert QueryLog(tmp_path).pseudonym(1) == key


def test_impossible_ids_and_unwritable_outputs_are_explained(data_dir: Path):
    log = QueryLog(data_dir)
    first = log.record(query="Bread?", found=False, passages=[], latency_ms=1, chat_type="private")
    log.label(first, None, out_of_scope=True)
    runner = CliRunner()
    huge = runner.invoke(
        cli, ["logs", "label", "9223372036854775808", "--out-of-scope", "--data-dir", data_dir]
    )
    assert huge.exit_code == 2 and "range" in huge.stderr and huge.exception.__class__ is SystemExit
    for command in (
        ["logs", "export"],
        ["logs", "export", "--format", "csv"],
        ["logs", "export-eval"],
    ):
        full = runner.invoke(cli, [*command, "--output", "/dev/full", "--data-dir", str(data_dir)])
        assert full.exit_code == 1, full.output
        assert "cannot write /dev/full: No space left on device" in full.stderr
        assert isinstance(full.exception, SystemExit)


def test_submitted_writes_never_wait_for_a_locked_database(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr(querylog, "WRITE_QUEUE", 5)
    monkeypatch.setattr(querylog, "BUSY_TIMEOUT", 0.2)
    log = QueryLog(tmp_path)
    blocker = sqlite3.connect(tmp_path / LOG_FILE)
    blocker.execute("begin exclusive")
    try:
        futures = [
            log.submit(
                log.record,
                query=f"q{n}",
                found=True,
                passages=[],
                latency_ms=1,
                chat_type="private",
            )  # fmt: skip
            for n in range(30)
        ]  # returns at once: the writer thread meets the lock, not the caller
        assert sum(f.done() for f in futures) >= 30 - 5 - 1  # beyond the queue: dropped at once
        assert all(f.result(timeout=10) is None for f in futures)
    finally:
        blocker.rollback()
    assert log.dropped == 30
    assert caplog.text.count("cannot be written") == 1
    later = log.submit(log.record, query="after", found=True, passages=[], latency_ms=1,
                       chat_type="private")  # fmt: skip
    assert later.result(timeout=10) is not None
    assert "writable again (30 entries lost)" in caplog.text
    log.close()
    assert [r["query"] for r in QueryLog(tmp_path).rows()] == ["after"]


def test_an_unwritable_shared_memory_file_is_refused_at_open(tmp_path: Path):
    QueryLog(tmp_path).close()
    shm = tmp_path / (LOG_FILE + "-shm")
    shm.write_bytes(b"\0" * 32768)
    if subprocess.run(["chattr", "+i", str(shm)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        with pytest.raises(ArchiveError, match="logs.db-shm cannot be written"):
            QueryLog(tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(shm)], check=True)


def test_reviewing_a_data_dir_without_a_log_is_refused_and_creates_nothing(tmp_path: Path):
    typo = tmp_path / "typo"
    for command in (["recent"], ["stats"], ["export"], ["purge"], ["export-eval"]):
        result = CliRunner().invoke(cli, ["logs", *command, "--data-dir", str(typo)])
        assert result.exit_code == 2, result.output
        assert "holds no query log" in result.stderr
    assert not typo.exists()


def test_exports_as_one_json_array_with_one_value_for_not_out_of_scope(log_in, data_dir: Path):
    log = QueryLog(data_dir)
    log.record(query="Tokaev", found=True, passages=[], latency_ms=1, chat_type="private")
    assert log.store.read("select out_of_scope from queries") == [{"out_of_scope": 0}]
    result = CliRunner().invoke(cli, ["logs", "export", "--format", "json", "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["query"] == "Tokaev" and row["out_of_scope"] is False


def test_purge_counts_first_asks_on_a_terminal_and_needs_yes_elsewhere(
    log_in, data_dir, monkeypatch
):
    log = QueryLog(data_dir)
    for number in range(3):
        log.record(query=f"q{number}", found=True, passages=[], latency_ms=1, chat_type="group")
    log.close()
    runner, where = CliRunner(), ["--data-dir", str(data_dir), "--older-than", "0"]
    dry = runner.invoke(cli, ["logs", "purge", "--dry-run", *where])
    assert dry.exit_code == 0 and "Would delete 3 logged questions" in dry.stdout
    refused = runner.invoke(cli, ["logs", "purge", *where])  # not a terminal, no --yes
    assert refused.exit_code == 2 and "add --yes" in refused.stderr
    monkeypatch.setattr("bot.cli.logs.on_terminal", lambda: True)
    kept = runner.invoke(cli, ["logs", "purge", *where], input="n\n")
    assert kept.exit_code == 1 and "Delete 3 logged questions" in kept.stdout
    assert len(QueryLog(data_dir).rows()) == 3
    deleted = runner.invoke(cli, ["logs", "purge", *where], input="y\n")
    assert deleted.exit_code == 0 and "Deleted 3" in deleted.stdout
    assert QueryLog(data_dir).rows() == []


def test_labels_outlive_retention_and_go_with_forget(log_in, data_dir: Path):
    clock = Clock()
    log = QueryLog(data_dir, retention_days=30, clock=clock)
    asked = {
        asker: log.record(
            query=q, found=True, passages=[], latency_ms=1, chat_type="private", asker=asker
        )  # fmt: skip
        for asker, q in (
            (7, "Who was the French ambassador?"),
            (8, "How do I bake bread?"),
            (9, "Tokaev"),
        )  # fmt: skip
    }
    log.label(asked[7], f"{LETTER_ID}#18.1")
    log.label(asked[8], None, out_of_scope=True)
    log.label(asked[9], f"{LETTER_ID}#18.1")
    assert log.forget(9) == 1  # while the question is logged, /forget takes its label along
    clock.now += 100 * 86400
    assert log.purge() == 2 and log.rows() == []
    labels = log.labels()
    assert [(x["query"], x["out_of_scope"]) for x in labels] == [
        ("Who was the French ambassador?", False), ("How do I bake bread?", True)
    ]  # fmt: skip
    assert all(len(x["day"]) == 10 for x in labels)  # the day, no finer time
    columns = set(log.store.read("select * from labels")[0])
    assert "asker" not in columns and "time" not in columns
    log.close()
    result = CliRunner().invoke(cli, ["logs", "export-eval", "--data-dir", str(data_dir)])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2


def older_log(data_dir: Path, version: int) -> sqlite_utils.Database:
    """A log as archive-bot made it at schema `version`, before the steps had names."""
    QueryLog(data_dir).close()  # its key
    (data_dir / LOG_FILE).unlink()
    db = sqlite_utils.Database(data_dir / LOG_FILE)
    steps = MIGRATIONS.pending(db)
    if version < SCHEMA_VERSION:
        MIGRATIONS.apply(db, stop_before=steps[version].name)
    else:
        MIGRATIONS.apply(db)
    db.execute("drop table _sqlite_migrations")
    db.execute(f"pragma user_version = {version}")
    return db


def schema(path: Path) -> set:
    with sqlite3.connect(path) as db:
        tables = db.execute("select name, sql from sqlite_master where type != 'table'").fetchall()
        columns = {
            (table, column[1])
            for (table,) in db.execute("select name from sqlite_master where type = 'table'")
            for column in db.execute(f"pragma table_info({table})")
        }
    return set(tables) | columns


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_a_log_of_every_older_schema_becomes_the_schema_of_a_new_log(tmp_path: Path, version):
    QueryLog(tmp_path / "new").close()
    db = older_log(tmp_path / "old", version)
    db["queries"].insert({"time": "2026-01-01T00:00:00Z", "query": "Tokaev", "found": 1,
                          "label": "x#1.1", "out_of_scope": None, "passages": "[]"})  # fmt: skip
    db.close()
    log = QueryLog(tmp_path / "old")
    if version == 1:
        assert log.labels()[0]["passage_id"] == "x#1.1"  # a label of schema 1 is kept
    assert log.rows()[0]["outcome"] == "answered" and not log.rows()[0]["out_of_scope"]
    log.close()
    assert schema(tmp_path / "old" / LOG_FILE) == schema(tmp_path / "new" / LOG_FILE)
    with sqlite3.connect(tmp_path / "old" / LOG_FILE) as db:
        assert db.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_log_of_a_newer_archive_bot_is_refused_and_left_alone(tmp_path: Path):
    older_log(tmp_path, SCHEMA_VERSION).execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ArchiveError, match=f"schema version {SCHEMA_VERSION + 1} is of a newer"):
        QueryLog(tmp_path)
    with sqlite3.connect(tmp_path / LOG_FILE) as db:
        assert db.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_the_datasette_view_hides_pseudonyms_and_every_canned_query_runs(
    data_dir: Path, searcher, tmp_path: Path
):
    log = QueryLog(data_dir)
    first = log.record_answer(answer(searcher, "Tokaev"), "private", asker=7, language="en")
    log.record_answer(answer(searcher, "Рецепт борща"), "group", asker=8, language="ru")
    log.record_answer(answer(searcher, "tokaev "), "inline", asker=9, language="kk")
    log.feedback(first, "down")
    log.close()
    metadata = yaml.safe_load((Path(__file__).parent.parent / "bot" / "datasette.yml").read_text())
    logs = metadata["databases"]["logs"]
    assert logs["tables"]["queries"] == {"hidden": True}
    with sqlite3.connect(data_dir / LOG_FILE) as live:
        pseudonyms = {row[0] for row in live.execute("select asker from queries")}
    # Datasette gets a copy with no pseudonym column: no SQL can reach one.
    public_copy(data_dir, tmp_path / LOG_FILE)
    assert (tmp_path / LOG_FILE).stat().st_mode & 0o777 == 0o600
    # As `--crossdb` opens them: the log's copy and the index's passages side by side.
    db = sqlite3.connect(":memory:")
    db.execute("attach ? as logs", [str(tmp_path / LOG_FILE)])
    db.execute("attach ? as passages", [str(data_dir / "index" / "passages.db")])
    with pytest.raises(sqlite3.OperationalError, match="no such column: asker"):
        db.execute("select asker from logs.queries")
    assert len(pseudonyms) == 3
    view = db.execute("select * from logs.questions order by id")
    columns = [column[0] for column in view.description]
    rows = view.fetchall()
    assert "asker" not in columns and not pseudonyms & {v for row in rows for v in row}
    assert [row[columns.index("outcome")] for row in rows] == ["answered", "none", "answered"]
    assert rows[0][columns.index("feedback")] == "disliked"
    assert rows[0][columns.index("passages")].count("\n") == 2  # three ids, one per line
    canned = {**logs["queries"], **metadata["databases"]["_memory"]["queries"]}
    assert set(canned) == {"unanswered_this_week", "disliked", "most_asked", "by_language",
                           "with_passages"}  # fmt: skip
    for name, query in canned.items():
        sql = (
            query["sql"]
            if name == "with_passages"
            else query["sql"].replace(" queries", " logs.queries")
        )
        result = db.execute(sql, {"id": ""})
        found = result.fetchall()
        assert "asker" not in [c[0] for c in result.description], name
        assert not pseudonyms & {v for row in found for v in row}, name
        assert found, name
    (top,) = db.execute(canned["with_passages"]["sql"], {"id": str(first)}).fetchall()[:1]
    assert top[3] == 1 and top[6] == searcher.search("Tokaev").hits[0].passage.text


def test_a_damaged_passages_column_never_stops_a_review(data_dir: Path, caplog):
    log = QueryLog(data_dir)
    ids = [
        log.record(query=f"q{n}", found=True, passages=[], latency_ms=1, chat_type="private")
        for n in range(4)
    ]
    for query_id, damage in zip(ids, ["{not json", '{"id": 1}', "[1, 2]", '"text"'], strict=True):
        log.db.execute("update queries set passages = ? where id = ?", [damage, query_id])
    log.db.conn.commit()
    assert [row["passages"] for row in log.rows()] == [[], [], [], []]
    assert caplog.text.count("damaged passages") == 4
    log.close()
    runner = CliRunner()
    for command in (["logs", "show", str(ids[0])], ["logs", "recent"], ["logs", "export"]):
        result = runner.invoke(cli, [*command, "--data-dir", str(data_dir)])
        assert result.exit_code == 0 and result.exception is None, (command, result.output)


def test_questions_logged_under_a_clock_set_ahead_do_not_outlive_retention(log_in, tmp_path: Path):
    clock = Clock()
    log = QueryLog(tmp_path, retention_days=90, clock=clock)
    clock.now += 365 * 86400  # the clock runs a year ahead for a while
    log.record(query="asked ahead", found=True, passages=[], latency_ms=1, chat_type="private")
    clock.now -= 365 * 86400  # and is put right
    assert log.purge() == 0  # not past retention yet, but dated now, no longer next year
    clock.now += 91 * 86400
    assert log.purge() == 1 and log.rows() == []
