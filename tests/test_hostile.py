"""Hostile and broken files: each is named once and skipped; the rest of the archive is indexed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from index.build import build_index
from index.documents import load_catalogue, load_corpus, printable
from index.limits import Limits
from index.store import IndexStore

from .support.documents import hostile_corpus, make_pdf, zip_bomb


def test_one_good_document_is_indexed_beside_every_kind_of_bad_file(
    corpus: Path, tmp_path: Path, embedder, caplog
):
    hostile_corpus(corpus)
    with caplog.at_level(logging.WARNING):
        report = build_index(corpus, tmp_path / "data", embedder=embedder)
    assert report.added == ["good.txt"]
    reasons = {p.path: p.reason for p in report.problems}
    assert sorted(reasons) == ["aliases.md", "bomb.docx", "entities.docx", "malformed.docx"]
    assert "aliases" in reasons["aliases.md"]
    assert "zip bomb" in reasons["bomb.docx"]
    (document,) = IndexStore(tmp_path / "data").documents()
    assert document["title"] == "A good document"
    assert "[archive.examples] en must be" not in caplog.text  # named with its key, below
    assert 'catalogue.toml: ["archive"] examples en: must be a list' in caplog.text
    assert 'catalogue.toml: ["malformed.docx"] cannot be read (nested too deeply)' in caplog.text


def test_the_index_command_names_each_bad_file_once_without_a_traceback(corpus: Path, tmp_path):
    hostile_corpus(corpus)
    result = CliRunner().invoke(
        cli, ["index", "--corpus", str(corpus), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("cannot read")]
    assert len(lines) == 4 and len({line.split(":")[0] for line in lines}) == 4
    assert "added                 1" in result.stdout


def test_a_file_that_takes_too_long_is_stopped_and_the_next_is_read(corpus: Path, monkeypatch):
    pages = [[f"Line {n} of page {p}, with more words." for n in range(50)] for p in range(600)]
    (corpus / "a-slow.pdf").write_bytes(make_pdf(pages))
    (corpus / "b-quick.txt").write_text("Read after the slow one.", "utf-8")
    monkeypatch.setenv("ARCHIVE_BOT_READ_LIMITS", "seconds=1")
    documents, problems, *_ = load_corpus(corpus)
    assert [d.id for d in documents] == ["b-quick.txt"]
    assert [(p.path, p.reason) for p in problems] == [
        ("a-slow.pdf", "reading it took longer than 1 s (seconds in ARCHIVE_BOT_READ_LIMITS)")
    ]


def test_a_file_that_needs_too_much_memory_is_stopped_and_the_next_is_read(corpus: Path):
    (corpus / "a-huge.txt").write_text("Абв где. " * 8_000_000, "utf-8")  # 128 MB
    (corpus / "b-small.txt").write_text("Read after the huge one.", "utf-8")
    documents, problems, *_ = load_corpus(corpus, Limits(memory_mb=300))
    assert [d.id for d in documents] == ["b-small.txt"]
    ((path, reason),) = [(p.path, p.reason) for p in problems]
    assert path == "a-huge.txt" and "more than 300 MB of memory" in reason


def test_files_over_the_size_limits_are_refused_before_parsing(corpus: Path):
    (corpus / "big.txt").write_bytes(b"x" * (2 * 1024 * 1024))
    (corpus / "unpacks.docx").write_bytes(zip_bomb(3))
    (corpus / "ok.txt").write_text("Small.", "utf-8")
    documents, problems, *_ = load_corpus(corpus, Limits(file_mb=1, unzipped_mb=2))
    reasons = {p.path: p.reason for p in problems}
    assert [d.id for d in documents] == ["ok.txt"]
    assert reasons["big.txt"].startswith("the file is 2 MB, over the limit of 1 MB")
    assert "inflates" in reasons["unpacks.docx"] or "unpacks to 3 MB" in reasons["unpacks.docx"]


@pytest.mark.parametrize(
    "value", ["seconds", "seconds=0", "seconds=-1", "secs=5", "memory_mb=1e9", "seconds=³"]
)
def test_malformed_read_limits_are_refused_with_their_names(corpus: Path, monkeypatch, value: str):
    from index.errors import ArchiveError

    monkeypatch.setenv("ARCHIVE_BOT_READ_LIMITS", value)
    with pytest.raises(ArchiveError, match="ARCHIVE_BOT_READ_LIMITS: .* one of file_mb"):
        load_corpus(corpus)


def test_the_catalogue_is_validated_table_by_table(corpus: Path, caplog):
    (corpus / "catalogue.toml").write_text(
        '["a.txt"]\ntitle = "A"\nauthor = ["two", "authors"]\nyear = 2013\n\n'
        '["b.txt"]\ntitle = "B" = broken\n\n'
        '["c.txt"]\ntitle = "C"\ndate = 2013-07-31\n\n'
        '[archive]\nexamples = { en = ["Who?"], ru = 5 }\n',
        "utf-8",
    )
    with caplog.at_level(logging.WARNING):
        catalogue = load_catalogue(corpus)
    assert catalogue["a.txt"] == {"title": "A"}
    assert "b.txt" not in catalogue
    assert str(catalogue["c.txt"]["date"]) == "2013-07-31"
    assert catalogue["archive"] == {}
    lines = caplog.text
    assert 'catalogue.toml: ["a.txt"] author must be text, not a list' in lines
    assert "catalogue.toml: [\"a.txt\"] has an unknown key 'year'" in lines
    assert 'catalogue.toml: ["b.txt"] cannot be read' in lines
    assert 'catalogue.toml: ["archive"] examples ru: must be a list of questions' in lines


def test_names_that_lie_are_escaped_in_reports_and_titles(corpus: Path, tmp_path: Path):
    forged = "x.txt: not a real line\ncannot read khrapunov-open-letter-ablyazov.txt"
    (corpus / f"{forged}.pdf").write_bytes(b"%PDF-1.4 broken")
    (corpus / "report\u202etxt.exe.txt").write_text("Text with no heading.", "utf-8")
    result = CliRunner().invoke(
        cli, ["index", "--corpus", str(corpus), "--data-dir", str(tmp_path / "d"), "--dry-run"]
    )
    (line,) = [line for line in result.stderr.splitlines() if "cannot read" in line]
    assert line.startswith("cannot read x.txt: not a real line\\u000acannot read khrapunov")
    (document,) = load_corpus(corpus).documents
    assert document.title == "report\\u202etxt.exe" and "\u202e" not in document.title
    assert printable("a\tb\u200fc") == "a\\u0009b\\u200fc"
