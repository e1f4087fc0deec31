"""The question encoder: questions that arrive together share one pass of the model."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from index.embed import QueryBatcher

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

    def encode(texts: list[str]) -> np.ndarray:
        passes.append(texts)
        release.wait(10)  # the model is busy with the first question
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    batcher = QueryBatcher(encode)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher.encode, "first")
        _wait_until(lambda: passes)
        later = [pool.submit(batcher.encode, t) for t in ["a", "bb", "a", "ccc"]]
        _wait_until(lambda: batcher._waiting.qsize() == 4)
        release.set()
        assert first.result().tolist() == [[5.0, 1.0]]
        assert [f.result().tolist() for f in later] == [[[1, 1]], [[2, 1]], [[1, 1]], [[3, 1]]]
    assert passes == [["first"], ["a", "bb", "ccc"]]  # the waiting four in one pass, "a" once


def test_a_failing_pass_fails_its_askers_and_the_next_pass_works():
    calls = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return np.ones((len(texts), 2), dtype=np.float32)

    batcher = QueryBatcher(encode)
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.encode("first")
    assert batcher.encode("second").shape == (1, 2)
