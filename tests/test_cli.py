import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from index.store import CURRENT, IndexStore

from .support.archive import CORPUS, DEV_QUESTIONS, LETTER, LETTER_ID, ROOT
from .support.documents import scan_png


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_index_json_summary_is_the_last_stdout_line(runner, tmp_path: Path):
    result = runner.invoke(
        cli, ["index", "--corpus", str(CORPUS), "--data-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["added"] == [LETTER_ID]
    assert (summary["changed"], summary["removed"], summary["unchanged"]) == ([], [], 0)
    assert summary["passages_embedded"] == summary["passages_total"] == 33
    assert summary["seconds"] >= 0
    again = runner.invoke(cli, ["index", "--corpus", str(CORPUS), "--data-dir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "passages              0  embedded, 33 in the index" in again.stdout
    assert "unchanged             1" in again.stdout
    (corpus := tmp_path / "corpus").mkdir()
    (corpus / "new.txt").write_text("A new document.", encoding="utf-8")
    dry = runner.invoke(
        cli, ["index", "--corpus", str(corpus), "--data-dir", str(tmp_path), "--dry-run", "--json"]
    )
    summary = json.loads(dry.stdout.strip().splitlines()[-1])
    assert (summary["added"], summary["removed"], summary["dry_run"]) == (
        ["new.txt"],
        [LETTER_ID],
        True,
    )
    assert IndexStore(tmp_path).documents()[0]["id"] == LETTER_ID  # nothing written


def test_index_lists_every_file_with_verbose_and_counts_without(runner, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(8):  # more than the five the summary used to show
        (corpus / f"note-{number}.txt").write_text(f"Note number {number}.", encoding="utf-8")
    args = ["index", "--corpus", str(corpus), "--data-dir", str(tmp_path / "d"), "--dry-run"]
    counts = runner.invoke(cli, args)
    assert "would be added                 8" in counts.stdout
    assert "note-0.txt" not in counts.stdout and "…" not in counts.stdout
    assert "--verbose lists the files" in counts.stdout
    listed = runner.invoke(cli, [*args, "--verbose"])
    assert [line.strip() for line in listed.stdout.splitlines() if "note-" in line] == [
        f"note-{number}.txt" for number in range(8)
    ]


def test_index_reports_broken_files_and_exits_1(runner, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("A readable paragraph.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    env = {"ARCHIVE_BOT_CORPUS": str(corpus), "ARCHIVE_BOT_DATA_DIR": str(tmp_path / "d")}
    result = runner.invoke(cli, ["index", "--json"], env=env)
    assert result.exit_code == 1
    assert "cannot read bad.txt:" in result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["added"] == ["good.txt"]


def test_ask_json_follows_the_contract(runner, index_dir: Path):
    result = runner.invoke(
        cli, ["ask", "--json", "--data-dir", str(index_dir), "Who was the French ambassador?"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["query"] == "Who was the French ambassador?"
    assert answer["found"] is True and answer["outcome"] == "answered"
    assert 0 <= answer["confidence"] <= 1 and answer["reason"] is None
    assert len(answer["passages"]) == 3
    first = answer["passages"][0]
    assert set(first) == {
        "text", "score", "highlight", "document", "section", "paragraph", "passage_id"
    }  # fmt: skip
    assert "Serge Smesov" in first["text"] and first["text"] in LETTER
    start, end = first["highlight"]  # the sentence that answers, as offsets into the text
    assert 0 <= start < end <= len(first["text"]) and "Serge Smesov" in first["text"][start:end]
    assert all(p["highlight"] is None or len(p["highlight"]) == 2 for p in answer["passages"])
    assert first["document"] == {
        "id": LETTER_ID,
        "title": "Open letter on the extradition of Mukhtar Ablyazov",
        "author": "Viktor Khrapunov",
        "date": "2013",
        "source": None,
    }
    assert first["section"] == "Political Prisoners"
    assert first["passage_id"] == f"{LETTER_ID}#{first['paragraph']}.1"


def test_ask_text_quotes_and_attributes(runner, index_dir: Path):
    result = runner.invoke(
        cli, ["ask", "--top-k", "1", "--data-dir", str(index_dir), "French ambassador"]
    )
    assert result.exit_code == 0, result.output
    assert "Serge Smesov" in result.stdout
    assert "Viktor Khrapunov, 2013, section “Political Prisoners”, ¶ " in result.stdout


def test_ask_reads_one_question_per_line(runner, index_dir: Path):
    questions = "Tokaev\n\nHow do I bake sourdough bread?\n" + "x" * 10_000 + "\n"
    env = {"ARCHIVE_BOT_DATA_DIR": str(index_dir)}
    result = runner.invoke(cli, ["ask", "--json", "-"], input=questions, env=env)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["query"][:6] for a in answers] == ["Tokaev", "", "How do", "xxxxxx"]
    assert [a["found"] for a in answers] == [True, False, False, False]
    assert [a["outcome"] for a in answers] == ["answered", "none", "none", "none"]
    assert "empty" in answers[1]["note"] and "first" in answers[3]["note"]
    near = "Where was Nursultan Nazarbaev born?"  # the letter names him, not his birth
    answer = json.loads(runner.invoke(cli, ["ask", "--json", near], env=env).stdout)
    assert (answer["found"], answer["outcome"]) == (False, "closest") and answer["passages"]
    assert answer["reason"] == "far" and answer["confidence"] < 0.5
    text = runner.invoke(cli, ["ask", near], env=env)
    assert text.stdout.startswith("Nothing in the archive answers this directly.")
    far = json.loads(runner.invoke(cli, ["ask", "--json", "Who painted The Starry Night?"],
                                   env=env).stdout)  # fmt: skip
    assert (far["found"], far["outcome"], far["reason"]) == (False, "none", "far")


def test_ask_refuses_an_empty_question(runner, index_dir: Path):
    result = runner.invoke(cli, ["ask", "--data-dir", str(index_dir), "   "])
    assert result.exit_code == 2
    assert "question is empty" in result.stderr


@pytest.mark.parametrize("damage", ["missing", "model", "corrupt"])
def test_index_problems_end_in_one_line_and_a_command(runner, index_dir, tmp_path, damage):
    data_dir = tmp_path / "data"
    if damage != "missing":
        shutil.copytree(index_dir, data_dir, symlinks=True)
    if damage == "model":
        manifest = data_dir / CURRENT / "manifest.json"
        manifest.write_text(manifest.read_text().replace("all-MiniLM-L6-v2", "other-model"))
    if damage == "corrupt":
        (data_dir / CURRENT / "vectors.faiss").write_bytes(b"\x00" * 10)
    result = runner.invoke(cli, ["ask", "--data-dir", str(data_dir), "Tokaev"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "run `archive-bot index" in line


def test_eval_prints_the_scores(runner, index_dir: Path):
    result = runner.invoke(cli, ["eval", str(DEV_QUESTIONS), "--data-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    for name in ("hit_at_1", "hit_at_3", "mrr_at_5", "answered", "declined"):
        assert name in result.stdout
    data = runner.invoke(cli, ["eval", str(DEV_QUESTIONS), "--json", "--data-dir", str(index_dir)])
    scores = json.loads(data.stdout)
    assert scores["questions"] == 17 and scores["declined"] == 1.0


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('{"question": "wrong key"}', '"q" must be'),
        ('{"q": "Tokaev?", "gold": "Tokaev"}', '"gold" must be a list'),
        ('{"q": "Tokaev?", "gold": {"a": "Tokaev"}}', '"gold" must be a list'),
        ('{"q": "Tokaev?", "gold": [""]}', "non-empty phrases"),
        ('{"q": "Tokaev?", "gold": []}', "either"),
        ('{"q": "Bread?", "out_of_scope": "no"}', '"out_of_scope" must be true or false'),
        ('{"q": "Bread?", "out_of_scope": true, "gold": ["x"]}', "either"),
        ('["Tokaev?"]', "must be an object"),
        ("{not json", "bad.jsonl:2"),
    ],
)
def test_eval_rejects_a_malformed_question_file(
    runner, index_dir: Path, tmp_path: Path, line: str, complaint: str
):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "fine", "gold": ["x"]}\n' + line + "\n")
    result = runner.invoke(cli, ["eval", str(bad), "--data-dir", str(index_dir)])
    assert result.exit_code == 2, result.output
    assert "bad.jsonl:2" in result.stderr and complaint in result.stderr


def test_help_does_not_import_torch_or_faiss():
    code = (
        "import sys\n"
        "from bot.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'torch', 'faiss', 'sentence_transformers', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)


@pytest.mark.slow
def test_run_without_a_token_is_a_terminal_chat(index_dir: Path):
    env = {**os.environ, "ARCHIVE_BOT_DATA_DIR": str(index_dir)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="Who was the French ambassador?\n/help\nWhat did the guarantee letter say?\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Serge Smesov" in done.stdout
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
    # Piped, each answer follows its question; /help is the chat's help, not a search.
    first, help_, last = done.stdout.split("\n? ")
    assert first.startswith("? Who was the French ambassador?\n") and "Serge Smesov" in first
    assert help_.startswith("/help\nType a question") and "“" not in help_
    assert last.startswith("What did the guarantee letter say?\n")


def test_settings_out_of_range_are_one_clear_line(runner, index_dir: Path):
    backend = runner.invoke(
        cli, ["ask", "--data-dir", str(index_dir), "Tokaev"], env={"ARCHIVE_BOT_BACKEND": "gpu"}
    )
    assert backend.exit_code == 1
    assert "unknown model backend 'gpu': use one of onnx, torch" in backend.stderr
    bot = {"TELEGRAM_BOT_TOKEN": "1:x", "ARCHIVE_BOT_BACKEND": "gpu"}
    refused = runner.invoke(cli, ["run", "--data-dir", str(index_dir)], env=bot)
    assert refused.exit_code == 1  # before connecting to Telegram
    assert "unknown model backend 'gpu'" in refused.stderr
    rate = runner.invoke(cli, ["run", "--max-rate", "0"], env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert rate.exit_code == 2
    assert "--max-rate" in rate.stderr


def test_index_lists_unreadable_and_skipped_files_in_its_json(runner, tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / os.fsdecode(b"r\xe9sum\xe9.txt")).write_text("A summary.", encoding="utf-8")
    (corpus / "drawing.svg").write_bytes(b"<svg/>")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    result = runner.invoke(
        cli, ["index", "--corpus", str(corpus), "--data-dir", str(tmp_path / "d"), "--json"]
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["added"] == [LETTER_ID]
    ((unreadable),) = summary["unreadable"]
    assert unreadable["id"] == "r\ufffdsum\ufffd.txt" and "UTF-8" in unreadable["reason"]
    assert {s["id"] for s in summary["skipped"]} == {"drawing.svg", "passwd.txt"}
    assert "skipped passwd.txt: a link to a file outside the corpus" in result.stderr


def test_eval_lists_unrelated_questions_it_answered(runner, index_dir: Path, tmp_path: Path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"q": "Who was the French ambassador?", "out_of_scope": true}\n')
    result = runner.invoke(cli, ["eval", str(questions), "--data-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "answered, should decline: Who was the French ambassador?" in result.stdout


@pytest.mark.skipif(shutil.which("script") is None, reason="no `script` (util-linux) here")
def test_index_shows_reading_ocr_and_embedding_progress_on_a_terminal_only(tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "protocol.png").write_bytes(scan_png("en"))
    index = [sys.executable, "-m", "bot", "index", "--corpus", str(corpus)]
    # `script` gives the command a terminal of no reported size, as `docker exec -t` does.
    shown = subprocess.run(
        ["script", "-qc", " ".join([*index, "--data-dir", str(tmp_path / "a")]), "/dev/null"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Reading  : 100%" in shown.stdout and "Embedding: 100%" in shown.stdout, shown.stdout
    assert "OCR      : 100%" in shown.stdout and "1/1 [" in shown.stdout
    assert "passages/s" in shown.stdout and "pages/s" in shown.stdout
    piped = subprocess.run([*index, "--data-dir", str(tmp_path / "b")], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Reading" not in piped.stderr and "Embedding" not in piped.stderr
    assert "OCR" not in piped.stderr


def test_every_setting_is_read_in_one_place_and_documented():
    """index/settings.py reads the environment; click reads the variables flags stand for."""
    from index.settings import SETTINGS

    operators = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", operators.split("## Configuration")[1], re.M))
    assert table == set(SETTINGS)
    commands = [cli, *cli.commands.values(), *cli.commands["logs"].commands.values()]
    envvars = {param.envvar for command in commands for param in command.params if param.envvar}
    assert envvars <= set(SETTINGS), envvars - set(SETTINGS)
    for path in [*(ROOT / "bot").glob("*.py"), *(ROOT / "index").glob("*.py")]:
        if path.name != "settings.py":
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"environ(\.get)?\(?\[?\"(ARCHIVE_BOT|TELEGRAM|XDG)", text), path
