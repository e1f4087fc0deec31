"""The embedding model: ONNX Runtime and PyTorch agree; questions asked together share a pass."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from index.embed import DEFAULT_MODEL, ModelLane, load_embedder, model_location
from index.errors import ArchiveError
from index.models import ONNX_FILE, WEIGHTS_FILE, cache_dir, export_key, load_onnx

from .support.archive import LETTER, ROOT

QUESTIONS = [
    "Who was the French ambassador?",
    "What happened on May 31, 2013?",
    "Tokaev",
    "How were Zhakiyanov's relatives treated?",
    "Which convention had Kazakhstan not signed with France?",
    "Magnitsky Act",
    "Where was Ablyazov arrested?",
    "Elections of 1999",
]


def test_questions_asked_at_once_get_the_vectors_they_get_alone(embedder):
    embedder.clear_cache()
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        together = list(pool.map(embedder.encode_query, QUESTIONS))
    alone = embedder.encode(QUESTIONS)
    for vector, expected in zip(together, alone, strict=True):
        assert vector.shape == (1, embedder.dimension)
        assert np.allclose(vector[0], expected, atol=1e-5)


def _wait_until(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_questions_waiting_for_the_model_share_its_next_pass():
    passes: list[list[str]] = []
    release = threading.Event()

    def encode(texts: list[str], query: bool) -> np.ndarray:
        passes.append(texts)
        release.wait(10)  # the model is busy with the first question
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    lane = ModelLane()
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(lane.encode, encode, ["first"], True)
        _wait_until(lambda: passes)
        later = [pool.submit(lane.encode, encode, [t], True) for t in ["a", "bb", "a", "ccc"]]
        _wait_until(lambda: lane._waiting.qsize() == 4)
        release.set()
        assert first.result().tolist() == [[5.0, 1.0]]
        assert [f.result().tolist() for f in later] == [[[1, 1]], [[2, 1]], [[1, 1]], [[3, 1]]]
    assert passes == [["first"], ["a", "bb", "ccc"]]  # the waiting four in one pass, "a" once


def test_every_pass_of_every_model_runs_on_the_one_lane_thread_one_at_a_time():
    passes: list[tuple[str, list[str], bool, int]] = []
    running = []  # passes under way: never more than one
    release = threading.Event()

    def model(name: str):
        def encode(texts: list[str], query: bool) -> np.ndarray:
            running.append(name)
            passes.append((name, texts, query, threading.get_ident()))
            assert len(running) == 1
            release.wait(10)
            running.pop()
            return np.array([[float(len(t)), float(query)] for t in texts], dtype=np.float32)

        return encode

    minilm, e5 = model("minilm"), model("e5")
    lane = ModelLane()
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(lane.encode, minilm, ["busy"], True)
        _wait_until(lambda: passes)
        waiting = [
            pool.submit(lane.encode, minilm, ["q1"], True),
            pool.submit(lane.encode, e5, ["q1"], True),
            pool.submit(lane.encode, minilm, ["a passage", "another", "a passage"], False),
            pool.submit(lane.encode, minilm, ["q22"], True),
            pool.submit(lane.encode, e5, ["q333"], True),
        ]
        _wait_until(lambda: lane._waiting.qsize() == 5)
        release.set()
        first.result()
        assert waiting[2].result().tolist() == [[9, 0], [7, 0], [9, 0]]
        assert waiting[3].result().tolist() == [[3, 1]]
        assert waiting[4].result().tolist() == [[4, 1]]
    assert [(name, texts, query) for name, texts, query, _ in passes] == [
        ("minilm", ["busy"], True),
        ("minilm", ["q1", "q22"], True),  # the questions waiting for one model, together
        ("e5", ["q1", "q333"], True),
        ("minilm", ["a passage", "another"], False),  # passages: a pass of their own
    ]
    assert len({thread for *_, thread in passes}) == 1
    assert passes[0][3] != threading.get_ident()


def test_a_failing_pass_fails_its_askers_and_the_next_pass_works():
    calls = []

    def encode(texts: list[str], query: bool) -> np.ndarray:
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return np.ones((len(texts), 2), dtype=np.float32)

    lane = ModelLane()
    with pytest.raises(RuntimeError, match="out of memory"):
        lane.encode(encode, ["first"], True)
    assert lane.encode(encode, ["second"], True).shape == (1, 2)


def test_onnx_runtime_computes_the_vectors_and_token_counts_of_pytorch(embedder):
    assert embedder.backend == "onnx"
    on_torch = load_embedder(backend="torch")
    paragraphs = [line for line in LETTER.splitlines() if line.strip()]
    texts = QUESTIONS + paragraphs + ["", "Ы", "word " * 400]  # empty, tiny, over the window
    assert np.allclose(embedder.encode(texts), on_torch.encode(texts), atol=1e-5)
    assert embedder.count_tokens(texts) == on_torch.count_tokens(texts)
    assert embedder.count_tokens(["word " * 400]) == [400]  # counting is never cut


def test_an_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ARCHIVE_BOT_BACKEND", "tensorflow")
    with pytest.raises(ArchiveError, match="unknown model backend 'tensorflow'"):
        load_embedder()


@pytest.mark.parametrize("damaged", [ONNX_FILE, WEIGHTS_FILE])
def test_a_damaged_export_is_made_again(tmp_path, monkeypatch, damaged):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    location = model_location(DEFAULT_MODEL)
    first = load_onnx(location).encode(["Tokaev"])
    exported = cache_dir() / export_key(location) / damaged
    assert exported.is_file() and str(tmp_path) in str(exported)
    size = exported.stat().st_size
    exported.write_bytes(b"not a model" if damaged == ONNX_FILE else exported.read_bytes()[:1000])
    earlier = cache_dir() / "0123456789abcdef"  # the export of a version before an upgrade
    earlier.mkdir()
    (earlier / "meta.json").write_text(json.dumps({"source": location}), encoding="utf-8")
    other = cache_dir() / "fedcba9876543210"  # another model's: kept
    other.mkdir()
    (other / "meta.json").write_text(json.dumps({"source": "/elsewhere"}), encoding="utf-8")
    assert np.allclose(load_onnx(location).encode(["Tokaev"]), first, atol=1e-6)
    assert exported.stat().st_size == size
    assert not earlier.exists() and other.exists()


def test_answering_with_an_exported_model_never_imports_torch(embedder):
    code = (
        "import sys; from index.embed import load_embedder; "
        "e = load_embedder(); e.encode_query('Tokaev'); "
        "print(e.backend, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout.split() == ["onnx", "False", "False"], run.stderr


def test_a_reinstalled_model_keeps_its_export_and_a_changed_one_gets_a_new_one(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(model_location(DEFAULT_MODEL), model)
    before = export_key(str(model))
    for path in model.rglob("*"):  # `pip install --force-reinstall`: new files, new times
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert export_key(str(model)) == before
    weights = max(model.rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)
    with open(weights, "r+b") as file:  # an upgrade: other weights of the same size
        file.seek(-10, os.SEEK_END)
        file.write(b"0123456789")
    assert export_key(str(model)) != before
