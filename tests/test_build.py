import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from index import store
from index.build import build_index, build_lock
from index.errors import ArchiveError
from index.search import Searcher
from index.store import CURRENT, FORMAT_VERSION, IndexStore

from .support.archive import CORPUS, LETTER_ID, damage


@pytest.fixture
def own_corpus(corpus: Path) -> Path:
    shutil.copy(CORPUS / LETTER_ID, corpus)
    shutil.copy(CORPUS / "catalogue.toml", corpus)
    return corpus


def test_manifest_describes_the_index(index_dir: Path):
    manifest = json.loads((index_dir / CURRENT / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["models"] == ["all-MiniLM-L6-v2", "multilingual-e5-small"]
    assert manifest["dimensions"] == [384, 384]
    assert manifest["documents"] == 1
    assert manifest["passages"] == 33
    assert manifest["built_at"]
    assert (index_dir / CURRENT).is_symlink()


def test_incremental_add_change_remove(own_corpus: Path, tmp_path: Path, embedder):
    data_dir = tmp_path / "data"
    first = build_index(own_corpus, data_dir, embedder=embedder)
    assert first.added == [LETTER_ID] and first.passages_embedded == 33

    again = build_index(own_corpus, data_dir, embedder=embedder)
    assert (again.unchanged, again.passages_embedded, again.passages_total) == (1, 0, 33)

    (own_corpus / "note.txt").write_text("A maintainer's note.\n\nSecond paragraph.", "utf-8")
    added = build_index(own_corpus, data_dir, embedder=embedder)
    assert (added.added, added.unchanged, added.passages_embedded) == (["note.txt"], 1, 2)

    (own_corpus / "note.txt").write_text("A maintainer's changed note.", "utf-8")
    changed = build_index(own_corpus, data_dir, embedder=embedder)
    assert (changed.changed, changed.passages_embedded, changed.passages_total) == (
        ["note.txt"],
        1,
        34,
    )
    (own_corpus / "note.txt").unlink()
    removed = build_index(own_corpus, data_dir, embedder=embedder)
    assert (removed.removed, removed.passages_embedded, removed.passages_total) == (
        ["note.txt"],
        0,
        33,
    )
    # Reused vectors are the ones a full build computes.
    full = build_index(own_corpus, tmp_path / "full", embedder=embedder, full=True)
    assert full.passages_embedded == 33
    reused, fresh = IndexStore(data_dir), IndexStore(tmp_path / "full")
    assert (reused.vectors(list(range(33))) == fresh.vectors(list(range(33)))).all()
    # Only the current and the previous index directories are kept.
    assert len([p for p in data_dir.iterdir() if p.name.startswith("index-")]) == 2


def test_a_metadata_change_embeds_nothing(own_corpus: Path, tmp_path: Path, embedder):
    data_dir = tmp_path / "data"
    build_index(own_corpus, data_dir, embedder=embedder)
    catalogue = own_corpus / "catalogue.toml"
    catalogue.write_text(
        catalogue.read_text("utf-8").replace(
            'author = "Viktor Khrapunov"', 'author = "V. Khrapunov"'
        ),
        "utf-8",
    )
    edited = build_index(own_corpus, data_dir, embedder=embedder)
    assert (edited.metadata_changed, edited.changed, edited.passages_embedded) == (
        [LETTER_ID],
        [],
        0,
    )
    assert edited.summary()["metadata_changed"] == [LETTER_ID]
    store = IndexStore(data_dir)
    assert store.documents()[0]["author"] == "V. Khrapunov"
    assert store.passage(f"{LETTER_ID}#1.1").document["author"] == "V. Khrapunov"
    again = build_index(own_corpus, data_dir, embedder=embedder)
    assert (again.unchanged, again.metadata_changed) == (1, [])


def test_an_edited_document_embeds_only_its_new_passages(
    own_corpus: Path, tmp_path: Path, embedder
):
    data_dir = tmp_path / "data"
    build_index(own_corpus, data_dir, embedder=embedder)
    letter = own_corpus / LETTER_ID
    text = letter.read_text("utf-8")
    letter.write_text(text + "\nA postscript added later.\n", "utf-8")
    edited = build_index(own_corpus, data_dir, embedder=embedder)
    assert (edited.changed, edited.passages_embedded, edited.passages_total) == ([LETTER_ID], 1, 34)
    # The reused vectors are the ones a full build computes.
    full = build_index(own_corpus, tmp_path / "full", embedder=embedder, full=True)
    reused, fresh = IndexStore(data_dir), IndexStore(tmp_path / "full")
    for model in (0, 1):  # equal up to the float noise of batching passages differently
        before, after = (
            reused.vectors(list(range(34)), model),
            fresh.vectors(list(range(34)), model),
        )
        assert abs(before - after).max() < 1e-4, model
    assert full.passages_embedded == 34


def test_a_failed_build_leaves_the_previous_index_searchable(
    data_dir: Path, own_corpus: Path, embedder, monkeypatch
):
    before = (data_dir / CURRENT).resolve()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(ArchiveError, match="no space left on device"):
        build_index(own_corpus, data_dir, embedder=embedder, full=True)
    assert (data_dir / CURRENT).resolve() == before
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".")]
    result = Searcher(IndexStore(data_dir), embedder).search("Who was the French ambassador?")
    assert "Serge Smesov" in result.hits[0].passage.text


def test_a_second_build_is_refused_while_one_runs(data_dir: Path, own_corpus: Path, embedder):
    with build_lock(data_dir):
        with pytest.raises(ArchiveError, match="another `archive-bot index` is running"):
            build_index(own_corpus, data_dir, embedder=embedder)


def test_a_waiting_build_runs_after_the_first_and_sees_its_changes(
    data_dir: Path, own_corpus: Path, embedder
):
    with ThreadPoolExecutor(1) as pool:
        with build_lock(data_dir):
            waiting = pool.submit(build_index, own_corpus, data_dir, embedder=embedder, wait=True)
            time.sleep(0.5)
            assert not waiting.done()
            (own_corpus / "note.txt").write_text("Added while the first build ran.\n")
        assert waiting.result(timeout=60).added == ["note.txt"]


def test_missing_index(tmp_path: Path):
    with pytest.raises(ArchiveError, match=r"no index in .*: run `archive-bot index`"):
        IndexStore(tmp_path)


def _edit_manifest(data_dir: Path, **changes) -> None:
    path = data_dir / CURRENT / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(manifest | changes))


def test_index_of_another_model_is_refused(data_dir: Path):
    _edit_manifest(data_dir, models=["another-model", "multilingual-e5-small"])
    with pytest.raises(
        ArchiveError, match=r"built with the models \['another-model'.*run `archive-bot index` to"
    ):
        Searcher.open(data_dir)


def test_index_of_another_format_version_is_refused(data_dir: Path):
    _edit_manifest(data_dir, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ArchiveError, match=r"format version .*run `archive-bot index` to"):
        IndexStore(data_dir)


@pytest.mark.parametrize("name", ["vectors.faiss", "passages.db", "manifest.json"])
def test_a_corrupt_file_is_reported(data_dir: Path, name: str):
    (data_dir / CURRENT / name).write_bytes(b"garbage")
    with pytest.raises(ArchiveError, match="run `archive-bot index` to rebuild it"):
        IndexStore(data_dir)


def test_an_empty_corpus_is_refused(corpus: Path, tmp_path: Path, embedder):
    with pytest.raises(ArchiveError, match="no readable documents"):
        build_index(corpus, tmp_path / "data", embedder=embedder)
    with pytest.raises(ArchiveError, match="no corpus directory"):
        build_index(tmp_path / "nowhere", tmp_path / "data", embedder=embedder)


def test_a_document_that_cannot_be_read_any_more_keeps_its_indexed_version(
    own_corpus: Path, tmp_path: Path, embedder
):
    data_dir = tmp_path / "data"
    (own_corpus / "note.txt").write_text("The river floods the valley every spring.\n")
    build_index(own_corpus, data_dir, embedder=embedder)
    (own_corpus / "note.txt").write_bytes(b"\xff\xfe broken \x81 bytes")  # not UTF-8 any more
    report = build_index(own_corpus, data_dir, embedder=embedder)
    assert report.removed == [] and report.unchanged == 2
    (problem,) = report.problems
    assert problem.path == "note.txt" and "keeps its previous version" in problem.reason
    store = IndexStore(data_dir)
    kept = store.document("note.txt")
    assert kept.text == "The river floods the valley every spring.\n"
    assert kept.title and store.manifest["documents"] == 2
    (own_corpus / "note.txt").unlink()  # deleted, not broken: it leaves the index
    assert build_index(own_corpus, data_dir, embedder=embedder).removed == ["note.txt"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 512 KiB tmpfs, where the test may mount one (root on Linux); else the test skips."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_ends_the_build_with_one_clear_line(small_disk: Path, index_dir: Path):
    data_dir = small_disk / "data"
    shutil.copytree(index_dir, data_dir, symlinks=True)
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - 16 * 1024))  # 16 KiB left
    runner = CliRunner()
    result = runner.invoke(
        cli, ["index", "--full", "--corpus", str(CORPUS), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 1
    assert "no space left on device" in result.stderr
    assert "the previous index is unchanged" in result.stderr
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith(".staging")) == []
    (small_disk / "filler").unlink()
    ask = runner.invoke(cli, ["ask", "Tokaev", "--json", "--data-dir", str(data_dir)])
    assert ask.exit_code == 0 and json.loads(ask.stdout)["found"]


def test_a_damaged_index_is_refused_clearly_and_rebuilt_by_a_plain_index(data_dir: Path, caplog):
    damage(data_dir, 40_000)  # the middle of the file: the header still reads
    runner = CliRunner()
    asked = runner.invoke(cli, ["ask", "Tokaev", "--data-dir", str(data_dir)])
    assert asked.exit_code == 1 and "is damaged" in asked.stderr
    assert isinstance(asked.exception, SystemExit)  # a message, not a traceback
    rebuilt = runner.invoke(cli, ["index", "--corpus", str(CORPUS), "--data-dir", str(data_dir)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilding everything: the index" in caplog.text and "is damaged" in caplog.text
    again = runner.invoke(cli, ["ask", "Tokaev", "--json", "--data-dir", str(data_dir)])
    assert again.exit_code == 0 and json.loads(again.stdout)["found"]


def test_a_new_index_format_reuses_the_vectors_it_would_compute_the_same(
    data_dir: Path, embedder, monkeypatch
):
    before = IndexStore(data_dir)
    rows = list(range(before.manifest["passages"]))
    minilm, e5 = before.vectors(rows, 0), before.vectors(rows, 1)
    monkeypatch.setattr(store, "FORMAT_VERSION", store.FORMAT_VERSION + 1)  # the next version
    monkeypatch.setattr(store, "VECTORS_VALID_SINCE", (4, store.FORMAT_VERSION))  # e5's changed
    with pytest.raises(ArchiveError, match="has format version"):
        IndexStore(data_dir)  # the older format is refused for searching, as before
    report = build_index(CORPUS, data_dir, embedder=embedder)
    after = IndexStore(data_dir)
    assert after.manifest["format_version"] == store.FORMAT_VERSION
    assert report.added == [LETTER_ID] and report.passages_embedded == len(rows)  # e5 only
    assert (after.vectors(rows, 0) == minilm).all()  # MiniLM's vectors kept as they were
    assert np.allclose(after.vectors(rows, 1), e5, atol=1e-5)
    monkeypatch.setattr(store, "FORMAT_VERSION", store.FORMAT_VERSION + 1)
    monkeypatch.setattr(store, "VECTORS_VALID_SINCE", (4, 5))  # nothing the next one changed
    again = build_index(CORPUS, data_dir, embedder=embedder)
    assert again.passages_embedded == 0 and again.passages_total == len(rows)


def test_a_renamed_file_embeds_nothing_and_its_labels_follow(tmp_path: Path, embedder):
    from bot.querylog import QueryLog

    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    shutil.copy(CORPUS / LETTER_ID, corpus / "letter.txt")
    build_index(corpus, data_dir, embedder=embedder)
    log = QueryLog(data_dir)
    asked = log.record(query="Who was the French ambassador?", found=True, passages=[],
                       latency_ms=1, chat_type="private")  # fmt: skip
    log.label(asked, "letter.txt#18.1")
    log.close()
    (corpus / "letters").mkdir()
    (corpus / "letter.txt").rename(corpus / "letters" / "khrapunov.txt")
    result = CliRunner().invoke(
        cli, ["index", "--corpus", str(corpus), "--data-dir", str(data_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["renamed"] == [{"from": "letter.txt", "to": "letters/khrapunov.txt"}]
    assert (summary["added"], summary["removed"], summary["passages_embedded"]) == ([], [], 0)
    assert "labels moved with their passages' text: 1" in result.stderr
    (label,) = QueryLog(data_dir).labels()
    assert label["passage_id"] == "letters/khrapunov.txt#18.1"
    assert "Serge Smesov" in IndexStore(data_dir).passage(label["passage_id"]).text


def test_a_label_follows_its_text_when_an_edit_moves_it_and_is_named_stale_when_it_is_gone(
    tmp_path: Path, embedder
):
    from bot.querylog import QueryLog

    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    shutil.copy(CORPUS / LETTER_ID, corpus / "letter.txt")
    build_index(corpus, data_dir, embedder=embedder)
    labelled = IndexStore(data_dir).passage("letter.txt#18.1").text
    assert "Serge Smesov" in labelled
    log = QueryLog(data_dir)
    asked = log.record(query="Who was the French ambassador?", found=True, passages=[],
                       latency_ms=1, chat_type="private")  # fmt: skip
    log.label(asked, "letter.txt#18.1")  # as a log made before labels kept their text
    log.close()

    def index() -> str:
        result = CliRunner().invoke(cli, ["index", "--corpus", str(corpus), "--data-dir",
                                          str(data_dir)])  # fmt: skip
        assert result.exit_code == 0, result.output
        return result.stderr

    def export() -> tuple[str, str]:
        out = tmp_path / "eval.jsonl"
        result = CliRunner().invoke(
            cli, ["logs", "export-eval", "--output", str(out), "--data-dir", str(data_dir)]
        )
        return out.read_text(encoding="utf-8"), result.stderr

    # A paragraph above it removed: ¶ 18 is now ¶ 17, and the label goes with its text.
    text = (corpus / "letter.txt").read_text(encoding="utf-8")
    second = IndexStore(data_dir).passage("letter.txt#2.1").text
    (corpus / "letter.txt").write_text(text.replace(second + "\n", "", 1), encoding="utf-8")
    assert "labels moved with their passages' text: 1" in index()
    (label,) = QueryLog(data_dir).labels()
    assert (label["passage_id"], label["text"]) == ("letter.txt#17.1", labelled)
    written, _ = export()
    assert json.loads(written)["gold"] == [labelled]

    # The paragraph itself rewritten: the label is stale, said by index and by export-eval.
    edited = labelled.replace("Serge Smesov", "the ambassador")
    text = (corpus / "letter.txt").read_text(encoding="utf-8")
    (corpus / "letter.txt").write_text(text.replace(labelled, edited), encoding="utf-8")
    said = index()
    assert "stale label: 'Who was the French ambassador?' → letter.txt#17.1" in said
    assert "archive-bot logs label ID" in said  # a command that exists (was `logs review`)
    written, said = export()
    assert written == "" and "stale" in said


def test_a_renamed_file_keeps_its_catalogue_entry_until_the_entry_is_moved(
    tmp_path: Path, embedder, caplog: pytest.LogCaptureFixture
):
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    (corpus / "letter.txt").write_text("A short letter.\n\nIt asks for support.\n", "utf-8")
    catalogue = '["letter.txt"]\ntitle = "Open letter"\nauthor = "Viktor Khrapunov"\n'
    (corpus / "catalogue.toml").write_text(catalogue, encoding="utf-8")
    build_index(corpus, data_dir, embedder=embedder)
    (corpus / "letter.txt").rename(corpus / "khrapunov.txt")

    def indexed() -> dict:
        (document,) = IndexStore(data_dir).documents()
        return document

    renamed = build_index(corpus, data_dir, embedder=embedder)
    assert renamed.renamed == [("letter.txt", "khrapunov.txt")] and renamed.passages_embedded == 0
    assert (indexed()["title"], indexed()["author"]) == ("Open letter", "Viktor Khrapunov")
    assert 'khrapunov.txt is described by the entry ["letter.txt"]' in caplog.text
    assert 'rename that table to ["khrapunov.txt"]' in caplog.text
    caplog.clear()
    again = build_index(corpus, data_dir, embedder=embedder)  # the entry not moved yet
    assert (again.changed, again.metadata_changed, again.unchanged) == ([], [], 1)
    assert indexed()["title"] == "Open letter" and "rename that table" in caplog.text
    (corpus / "catalogue.toml").write_text(catalogue.replace("letter.txt", "khrapunov.txt"))
    caplog.clear()
    moved = build_index(corpus, data_dir, embedder=embedder)
    assert moved.passages_embedded == 0 and indexed()["title"] == "Open letter"
    assert indexed()["catalogue_id"] is None and "rename that table" not in caplog.text


def test_an_index_copied_as_a_directory_is_taken_back_as_a_link(
    data_dir: Path, tmp_path: Path, embedder, caplog
):
    """`cp -rL` or `scp -r` of a data dir copies the `index` link's target in its place."""
    target = (data_dir / CURRENT).resolve()
    (data_dir / CURRENT).unlink()
    shutil.copytree(target, data_dir / CURRENT)
    shutil.rmtree(target)
    backup = runner_backup(data_dir, tmp_path / "backup")  # a backup of it works too
    assert (backup / CURRENT).is_symlink()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    for number in range(3):  # every build succeeds and leaves no extra index
        (corpus / "note.txt").write_text(f"A maintainer's note, version {number}.")
        report = build_index(corpus, data_dir, embedder=embedder)
        assert report.passages_embedded == 1
        assert (data_dir / CURRENT).is_symlink()
        assert len([p for p in data_dir.iterdir() if p.name.startswith(f"{CURRENT}-")]) <= 2
    assert "was a directory, not a link" in caplog.text
    assert IndexStore(data_dir).manifest["documents"] == 2


def runner_backup(data_dir: Path, dest: Path) -> Path:
    made = CliRunner().invoke(cli, ["backup", str(dest), "--data-dir", str(data_dir)])
    assert made.exit_code == 0, made.output
    return dest
