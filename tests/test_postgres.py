"""The index in PostgreSQL (index.postgres) against a real server: builds, reindexing, the
switch a running process sees, copies between files and the database, and a careless
operator's mistakes. Search itself runs on both backends in test_search.py and the others
(conftest.BACKENDS)."""

from __future__ import annotations

import itertools
import json
import shutil
import signal
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner

from bot.cli import cli
from index import postgres
from index.build import build_index
from index.errors import ArchiveError
from index.postgres import PostgresStore
from index.search import Searcher
from index.store import IndexStore, Keywords

from .support.archive import CORPUS, LETTER_ID, ROOT


def questions() -> list[str]:
    files = ["questions.jsonl", "questions_multilingual.jsonl", "questions_near_topic.jsonl"]
    return [
        json.loads(line)["q"]
        for name in files
        for line in (ROOT / "tests" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_a_build_in_postgres_ranks_as_the_files_do(
    index_dir: Path, embedder, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    report = build_index(CORPUS, tmp_path / "data", embedder=embedder)
    assert report.added == [LETTER_ID] and report.passages_embedded == report.passages_total
    assert not (tmp_path / "data" / "index").exists()  # the index is in the database only
    files, database = IndexStore(index_dir), PostgresStore(database_url, tmp_path / "data")
    (postings,) = database._query(
        "select relpages, relallvisible from pg_class where oid = %s::regclass",
        (f"{database.schema}.postings",),
    )
    # Written frozen: pages visible to all (not those a write batch left part-filled; at a
    # million passages, all but a few), so its covering index is read alone.
    assert postings["relallvisible"] > postings["relpages"] / 2
    assert database.documents() == files.documents()
    rows = list(range(files.manifest["passages"]))
    assert database.passages(rows) == files.passages(rows)
    for model in (0, 1):
        assert np.allclose(database.vectors(rows, model), files.vectors(rows, model), atol=1e-6)
    searcher = Searcher(files, embedder)
    for question in questions():  # the same keyword candidates, in the same order
        keywords = searcher.keyword_query(question)
        expected = [row for row, _ in files.keyword(keywords, 50)] if keywords else []
        assert [row for row, _ in database.keyword(keywords, 50)] == expected, question
        every = replace(keywords, every=True)
        assert database.holds(every) == files.holds(every), question
    vector = searcher.multilingual.encode_query("Who was detained in France?")
    (expected,), (found,) = files.dense(vector, 10, 1), database.dense(vector, 10, 1)
    assert [row for row, _ in found] == [row for row, _ in expected]
    assert [score for _, score in found] == pytest.approx([score for _, score in expected])


def test_a_reindex_embeds_what_changed_and_a_running_process_switches(
    embedder, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data_dir = tmp_path / "data"
    first = build_index(corpus, data_dir, embedder=embedder)
    running = PostgresStore(database_url, data_dir)  # a bot process on another machine
    (corpus / "memo.txt").write_text("The memo was filed in Almaty in 2014.", encoding="utf-8")
    second = build_index(corpus, data_dir, embedder=embedder)
    assert second.added == ["memo.txt"] and second.unchanged == 1
    assert second.passages_embedded == 1 and second.passages_total == first.passages_total + 1
    assert running.latest_build() != running.manifest["build_id"]  # it sees the new build…
    assert running.check() is None and running.passages([0])  # …and can still read its own
    switched = PostgresStore(database_url, data_dir)
    assert "memo.txt" in {d["id"] for d in switched.documents()}
    (corpus / "memo.txt").unlink()
    third = build_index(corpus, data_dir, embedder=embedder)
    assert third.removed == ["memo.txt"] and third.passages_embedded == 0
    # Two builds on, the first is dropped: a process still on it is told, in one line.
    assert "cannot be read" in (running.check() or "")
    with pytest.raises(ArchiveError, match="rebuild"):
        running.passages([0])
    with psycopg.connect(database_url) as connection:
        schemas = connection.execute(
            "select count(*) from information_schema.schemata where schema_name like 'archive_%'"
        ).fetchone()[0]
    assert schemas == 2  # the current build and the one before it


def test_the_index_copies_into_the_database_and_back_unchanged(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    runner = CliRunner()
    refused = runner.invoke(cli, ["database", "copy-in", "--data-dir", str(index_dir)])
    assert refused.exit_code != 0 and "ARCHIVE_BOT_DATABASE_URL" in refused.output
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    copied_in = runner.invoke(cli, ["database", "copy-in", "--data-dir", str(index_dir)])
    assert copied_in.exit_code == 0, copied_in.output
    assert "33 passages" in copied_in.output and "password" not in copied_in.output
    back = tmp_path / "back"
    copied_out = runner.invoke(cli, ["database", "copy-out", "--data-dir", str(back)])
    assert copied_out.exit_code == 0, copied_out.output
    original, returned = IndexStore(index_dir), IndexStore(back)
    rows = list(range(original.manifest["passages"]))
    assert returned.passages(rows) == original.passages(rows)
    assert [returned.document(d["id"]) for d in returned.documents()] == [
        original.document(d["id"]) for d in original.documents()
    ]
    assert np.array_equal(returned.vectors(rows, 1), original.vectors(rows, 1))
    assert np.array_equal(returned.background(), original.background())
    asked = runner.invoke(cli, ["ask", "--json", "--data-dir", str(back), "Who was detained?"])
    assert asked.exit_code == 0 and json.loads(asked.stdout)["passages"]


def test_above_the_exact_limit_an_inverted_file_finds_the_nearest_passages(
    index_dir: Path, embedder, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setattr(postgres, "EXACT_LIMIT", 10)  # the letter's 33 passages: 5 lists
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    copied = CliRunner().invoke(cli, ["database", "copy-in", "--data-dir", str(index_dir)])
    assert copied.exit_code == 0, copied.output
    files, database = IndexStore(index_dir), PostgresStore(database_url, tmp_path)
    assert database.manifest["faiss_index"] == "ivfflat5 (halfvec)"
    made = database._query(
        "select indexdef from pg_indexes where schemaname = %s and indexdef like %s",
        (database.schema, "%ivfflat%"),
    )
    assert len(made) == 2  # one per model
    vectors = Searcher(files, embedder).multilingual.encode(["Who was detained in France?"])
    for model in (0, 1):  # PROBES reach every list of so small an archive: the exact order
        query = files.vectors([7], model) if model == 0 else vectors
        (expected,), (found,) = files.dense(query, 10, model), database.dense(query, 10, model)
        assert [row for row, _ in found] == [row for row, _ in expected]


def test_a_new_index_format_in_the_database_reuses_the_vectors_it_would_compute_the_same(
    embedder, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from index import store

    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    data_dir = tmp_path / "data"
    first = build_index(CORPUS, data_dir, embedder=embedder)
    before = PostgresStore(database_url, data_dir)
    rows = list(range(before.manifest["passages"]))
    minilm, e5 = before.vectors(rows, 0), before.vectors(rows, 1)
    version = store.FORMAT_VERSION + 1  # the next version, whose input to e5 changed
    for module in (store, postgres):
        monkeypatch.setattr(module, "FORMAT_VERSION", version)
    monkeypatch.setattr(store, "VECTORS_VALID_SINCE", (4, version))
    with pytest.raises(ArchiveError, match="has format version"):
        PostgresStore(database_url, data_dir)  # the older build is refused for searching
    report = build_index(CORPUS, data_dir, embedder=embedder)
    after = PostgresStore(database_url, data_dir)
    assert after.manifest["format_version"] == store.FORMAT_VERSION
    assert report.passages_embedded == len(rows) == first.passages_total  # e5's only
    assert (after.vectors(rows, 0) == minilm).all()  # MiniLM's kept as they were
    assert np.allclose(after.vectors(rows, 1), e5, atol=1e-5)


def test_a_lost_connection_is_made_again_and_the_inbox_keeps_its_updates_own(
    index_dir: Path, database_url: str, tmp_path: Path
):
    from bot.shared import DEAD_AFTER, SharedInbox
    from index.build import transfer_index

    transfer_index(index_dir, database_url, into_database=True)
    store, inbox = PostgresStore(database_url, tmp_path), SharedInbox(database_url, 1)
    other = SharedInbox(database_url, 1)  # another process of the same bot
    assert inbox.receive(5, "{}") and not other.receive(5, "{}")  # once, whoever receives it
    with psycopg.connect(database_url, autocommit=True) as admin:  # a restart, a dropped link
        admin.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                      "where pid <> pg_backend_pid() and datname = current_database()")  # fmt: skip
    assert store.documents() and store.latest_build() == store.manifest["build_id"]
    assert other.pending() == []  # the receiver's lock is free, but not for long enough
    assert inbox.count() == 1  # its next statement connects again, and takes its lock again
    time.sleep(DEAD_AFTER)
    assert other.pending() == []  # alive
    inbox.close()  # it dies: its update is another's, once, DEAD_AFTER after its lock is free
    died, taken = time.monotonic(), []
    while not taken and time.monotonic() - died < DEAD_AFTER + 10:
        taken = other.pending()
        time.sleep(0.1)
    assert taken == [(5, "{}")] and time.monotonic() - died >= DEAD_AFTER
    third = SharedInbox(database_url, 1)
    assert third.pending() == [] and other.pending() == []
    other.close()
    third.close()


def test_a_build_written_by_0_8_0_is_brought_up_to_date_when_opened(
    index_dir: Path, database_url: str, tmp_path: Path
):
    from index.build import transfer_index

    transfer_index(index_dir, database_url, into_database=True)
    expected = PostgresStore(database_url, tmp_path).keyword(Keywords((("tokaev",),)), 10)
    with psycopg.connect(database_url, autocommit=True) as admin:  # 0.8.0 had no lexemes
        (schema,) = admin.execute("select schema from archive_builds where current").fetchone()
        admin.execute(f"drop table {schema}.lexemes")
    store = PostgresStore(database_url, tmp_path)
    assert expected and store.keyword(Keywords((("tokaev",),)), 10) == expected
    assert store.holds(Keywords((("tokaev",), ("prime",)), every=True))


def test_the_archives_own_calibration_is_in_the_database_for_every_machine(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from index.answerable import ARCHIVE_FILE, SHIPPED, Calibration

    own = replace(Calibration.load(SHIPPED), cut=0.5)
    own.save(index_dir / ARCHIVE_FILE)
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)
    runner = CliRunner()
    copied = runner.invoke(cli, ["database", "copy-in", "--data-dir", str(index_dir)])
    assert copied.exit_code == 0 and "own calibration" in copied.output, copied.output
    (index_dir / ARCHIVE_FILE).unlink()
    elsewhere = tmp_path / "another-machine"
    assert Calibration.for_archive(elsewhere) == own
    status = runner.invoke(cli, ["status", "--data-dir", str(elsewhere)])
    assert "this archive's own calibration" in status.output, status.output
    backup = runner.invoke(cli, ["backup", str(tmp_path / "b"), "--data-dir", str(elsewhere)])
    assert backup.exit_code == 0, backup.output
    assert Calibration.load(tmp_path / "b" / ARCHIVE_FILE) == own
    reset = runner.invoke(cli, ["calibrate", "--reset", "--data-dir", str(elsewhere)])
    assert reset.exit_code == 0 and "shipped calibration serves" in reset.output
    assert Calibration.for_archive(index_dir) == Calibration.load(SHIPPED)
    back = runner.invoke(cli, ["database", "copy-out", "--data-dir", str(tmp_path / "back")])
    assert back.exit_code == 0 and not (tmp_path / "back" / ARCHIVE_FILE).exists()


def test_an_operators_mistakes_get_one_clear_line_without_the_password(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    runner = CliRunner()
    wrong = "postgresql://archive:s3cret-pass@/nowhere?host=/nonexistent/socket"
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", wrong)
    for args in (["ask", "Tokaev"], ["index", "--corpus", str(CORPUS)], ["status"]):
        result = runner.invoke(cli, [*args, "--data-dir", str(tmp_path / "d")])
        assert "s3cret" not in result.output, args
        assert "Traceback" not in result.output and not isinstance(result.exception, KeyError)
    asked = runner.invoke(cli, ["ask", "Tokaev", "--data-dir", str(tmp_path / "d")])
    assert asked.exit_code == 1 and "cannot connect to nowhere" in asked.output
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)  # reachable, but empty
    empty = runner.invoke(cli, ["ask", "Tokaev", "--data-dir", str(index_dir)])
    assert empty.exit_code == 1 and "no index in" in empty.output
    assert "archive-bot index" in empty.output


def test_one_build_at_a_time_whichever_machine_runs_it(
    embedder, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    with postgres.build_lock(database_url):  # another machine's build
        with pytest.raises(ArchiveError, match="another `archive-bot index`"):
            build_index(CORPUS, tmp_path / "elsewhere", embedder=embedder)
    assert build_index(CORPUS, tmp_path / "elsewhere", embedder=embedder).passages_total == 33


def test_a_backup_holds_the_databases_index_as_files(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from index.build import transfer_index

    transfer_index(index_dir, database_url, into_database=True)
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", "a-test-key-of-forty-characters-000000000")
    dest = tmp_path / "backup"
    result = CliRunner().invoke(cli, ["backup", str(dest), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("ARCHIVE_BOT_DATABASE_URL")
    assert IndexStore(dest).documents() == IndexStore(index_dir).documents()


def test_two_processes_one_bot_the_survivor_of_a_sigkill_answers_every_question_once(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from bot.shared import processes
    from index.build import transfer_index

    from .support.botapi import BotAPI, message, replies, start_bot, wait_until

    transfer_index(index_dir, database_url, into_database=True)
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)  # one log, one key, for both processes
    askers = range(7000, 7030)
    with BotAPI() as api:
        first = start_bot(api, tmp_path / "first")
        second = None
        try:
            api.push(message("Tokaev", user_id=6999))
            wait_until(lambda: replies(api, 6999))  # the first process polls
            second = start_bot(api, tmp_path / "second")  # another machine, say
            wait_until(lambda: sorted(p.get("standby") for p in processes(database_url)) == [
                False, True])  # the second is ready to take over
            # A burst the first process receives (Telegram is told) but cannot answer yet.
            api.fail("sendMessage", 429, retry_after=60, times=10_000)
            for asker in askers:
                api.push(message("Tokaev", user_id=asker))
            wait_until(lambda: api.unconfirmed() == 0)
            first.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            first.communicate(timeout=30)
            api.clear_failures()
            wait_until(lambda: all(replies(api, asker) for asker in askers), timeout=60)
            took_over = time.monotonic() - killed
            api.push(message("Who was the French ambassador?", user_id=7100))
            wait_until(lambda: replies(api, 7100), timeout=30)
            time.sleep(1.0)  # a second reply to anyone would arrive now
            second.send_signal(signal.SIGTERM)
            output, _ = second.communicate(timeout=30)
        finally:
            first.kill()
            if second is not None:
                second.kill()
    assert second.returncode == 0, output
    assert took_over < 10, took_over  # the standby had its index and models loaded
    for asker in askers:
        (reply,) = replies(api, asker)  # exactly once
        assert "К. Tokaev" in reply["text"]
    assert "Serge Smesov" in replies(api, 7100)[0]["text"]
    assert "standing by: another process polls this bot" in output
    assert "this process polls the bot now" in output and "Traceback" not in output
    with psycopg.connect(database_url) as connection:  # one log: every question once
        logged = connection.execute(
            "select query, count(*) from archive_bot.queries group by query order by query"
        ).fetchall()
        assert logged == [("Tokaev", len(askers) + 1), ("Who was the French ambassador?", 1)]
        assert not connection.execute(  # the handled updates' texts and ids are erased
            "select 1 from archive_bot.bot_inbox where body is not null"
        ).fetchall()


def test_two_processes_on_webhooks_each_receive_and_the_survivor_answers_the_dead_ones_share(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import socket
    import urllib.error
    import urllib.request

    from bot.app import webhook_secret
    from bot.shared import processes
    from index.build import transfer_index

    from .support.botapi import TOKEN, BotAPI, message, replies, start_bot, wait_until

    transfer_index(index_dir, database_url, into_database=True)
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)
    with socket.socket() as one, socket.socket() as two:  # both open: two different ports
        for free in (one, two):
            free.bind(("127.0.0.1", 0))
        ports = [one.getsockname()[1], two.getsockname()[1]]
    update_ids = itertools.count(900_000)

    def deliver(port: int, update: dict, secret: str = webhook_secret(TOKEN)) -> int:
        """POST an update as Telegram would, through the reverse proxy; the HTTP status."""
        body = json.dumps(update).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/hook", body,
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code
        except OSError:
            return 0  # not listening yet

    def update(text: str, asker: int) -> dict:
        return {"update_id": next(update_ids), **message(text, user_id=asker)}

    askers = range(7200, 7210)
    with BotAPI() as api:
        bots = [
            start_bot(api, tmp_path / name, ARCHIVE_BOT_WEBHOOK_URL="https://bot.example.org/hook",
                      ARCHIVE_BOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}")
            for name, port in zip(("first", "second"), ports, strict=True)
        ]  # fmt: skip
        try:
            for port, asker in zip(ports, (7300, 7301), strict=True):
                wait_until(lambda port=port, asker=asker: deliver(port, update("Tokaev", asker))
                           == 200)  # fmt: skip
                wait_until(lambda asker=asker: replies(api, asker))  # both receive and answer
            assert sorted(p.get("webhook") for p in processes(database_url)) == [True, True]
            status = CliRunner().invoke(cli, ["status", "--data-dir", str(tmp_path / "second")])
            assert status.exit_code == 0, status.output  # healthy, though it never polls
            assert "receiving updates by webhook" in status.output
            assert status.output.count(": receiving webhooks") == 2
            assert deliver(ports[1], update("Tokaev", 7302), secret="wrong") == 403
            twice = update("Tokaev", 7303)  # Telegram delivers it again after a timeout
            assert deliver(ports[0], twice) == deliver(ports[1], twice) == 200
            wait_until(lambda: replies(api, 7303))
            # A burst the first process receives but cannot answer yet; then it is killed.
            api.fail("sendMessage", 429, retry_after=60, times=10_000)
            for asker in askers:
                assert deliver(ports[0], update("Tokaev", asker)) == 200
            bots[0].send_signal(signal.SIGKILL)
            killed = time.monotonic()
            bots[0].communicate(timeout=30)
            api.clear_failures()
            wait_until(lambda: all(replies(api, asker) for asker in askers), timeout=60)
            took_over = time.monotonic() - killed
            time.sleep(1.0)  # a second reply to anyone would arrive now
            bots[1].send_signal(signal.SIGTERM)
            output, _ = bots[1].communicate(timeout=30)
        finally:
            for bot in bots:
                bot.kill()
                bot.communicate()
    assert bots[1].returncode == 0, output
    assert took_over < 10, took_over
    for asker in [*askers, 7300, 7301, 7303]:
        (reply,) = replies(api, asker)  # exactly once
        assert "К. Tokaev" in reply["text"]
    assert not replies(api, 7302)  # no secret, no answer
    assert api.calls_to("setWebhook") and not api.calls_to("getUpdates")
    assert "Traceback" not in output and TOKEN not in output
    with psycopg.connect(database_url) as connection:
        (logged,) = connection.execute("select count(*) from archive_bot.queries").fetchone()
        assert logged == len(askers) + 3


def test_a_webhook_must_be_an_https_address_and_listen_host_and_port():
    result = CliRunner().invoke(cli, ["run", "--webhook", "http://bot.example.org/hook"])
    assert result.exit_code == 2 and "https addresses only" in result.output
    result = CliRunner().invoke(
        cli, ["run", "--webhook", "https://bot.example.org/hook", "--listen", "8443"]
    )
    assert result.exit_code == 2 and "host:port" in result.output


KEY = "a-test-key-of-forty-characters-000000000"


def test_the_query_log_in_the_database_needs_a_shared_key_and_knows_its_schema(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from bot.querylog import SCHEMA_VERSION, QueryLog

    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    with pytest.raises(ArchiveError, match="set ARCHIVE_BOT_LOG_SECRET"):
        QueryLog(tmp_path)
    assert not (tmp_path / "logs.db").exists() and not (tmp_path / "log-secret").exists()
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)
    here, there = QueryLog(tmp_path / "one"), QueryLog(tmp_path / "two")  # two processes
    here.record(query="Tokaev", found=True, passages=[], latency_ms=1, chat_type="private",
                asker=7)  # fmt: skip
    there.record(query="Smesov", found=True, passages=[], latency_ms=1, chat_type="private",
                 asker=8)  # fmt: skip
    assert there.forget(7) == 1  # /forget reaches what another process logged
    assert [row["query"] for row in here.rows()] == ["Smesov"]
    (tmp_path / "files").mkdir()
    files = QueryLog(tmp_path / "files", in_database=False)  # the same columns in both
    for table in ("queries", "labels"):
        in_files = {c.name for c in files.db[table].columns}
        in_database = {row["column_name"] for row in here.store.read(
            "select column_name from information_schema.columns where table_name = ? "
            "and table_schema = 'archive_bot'", [table]
        )}  # fmt: skip
        assert in_database == in_files, table
    for log in (here, there, files):
        log.close()
    with psycopg.connect(database_url) as connection:
        connection.execute(f"insert into archive_bot.log_schema values ({SCHEMA_VERSION + 1})")
    with pytest.raises(ArchiveError, match="newer archive-bot"):
        QueryLog(tmp_path)


def test_a_backup_of_a_log_in_the_database_is_a_data_dir_that_runs_anywhere(
    index_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from bot.querylog import QueryLog
    from index.build import transfer_index

    transfer_index(index_dir, database_url, into_database=True)
    monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)
    log = QueryLog(tmp_path / "d")
    log.record(query="Tokaev", found=True, passages=[], latency_ms=1, chat_type="private",
               asker=7)  # fmt: skip
    log.close()
    dest = tmp_path / "backup"
    result = CliRunner().invoke(cli, ["backup", str(dest), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "the query log (1 question)" in result.output
    monkeypatch.delenv("ARCHIVE_BOT_DATABASE_URL")  # the backup, elsewhere, on files
    copy = QueryLog(dest)
    assert [row["query"] for row in copy.rows()] == ["Tokaev"]
    assert copy.forget(7) == 1  # the same key, the same pseudonyms
    copy.close()


def test_copy_in_brings_the_query_log_along_with_its_askers_only_under_the_same_key(
    data_dir: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch
):
    from bot.querylog import QueryLog

    from .support.postgres import fresh_database

    for key, kept in ((KEY, True), (None, False)):  # the database's key, or the dir's own
        for name in ("logs.db", "log-secret"):
            (data_dir / name).unlink(missing_ok=True)
        if key:
            monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", key)
        log = QueryLog(data_dir)
        first = log.record(query="Tokaev", found=True, passages=[("p#1.1", 0.9, None)],
                           latency_ms=1, chat_type="private", asker=7)  # fmt: skip
        log.record(query="Smesov", found=True, passages=[], latency_ms=1, chat_type="private",
                   asker=8)  # fmt: skip
        log.label(first, "p#1.1", text="a passage")
        log.close()
        with fresh_database(postgres_server) as url:
            monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", url)
            monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", KEY)
            result = CliRunner().invoke(cli, ["database", "copy-in", "--data-dir", str(data_dir)])
            assert result.exit_code == 0, result.output
            assert "copied the query log (2 questions)" in result.output
            assert ("without the askers' pseudonyms" in result.output) is not kept
            database = QueryLog(data_dir)
            asked = [row["query"] for row in database.rows(oldest_first=True)]
            assert asked == ["Tokaev", "Smesov"]
            assert database.labels()[0]["passage_id"] == "p#1.1"
            assert database.forget(7) == (1 if kept else 0)
            later = database.record(query="new", found=False, passages=[], latency_ms=1,
                                    chat_type="private")  # fmt: skip
            assert later == 3  # ids continue after the copied ones
            database.close()
            again = CliRunner().invoke(cli, ["database", "copy-in", "--data-dir", str(data_dir)])
            assert again.exit_code == 1 and "is not empty" in again.output
        monkeypatch.delenv("ARCHIVE_BOT_DATABASE_URL")
        monkeypatch.delenv("ARCHIVE_BOT_LOG_SECRET")
