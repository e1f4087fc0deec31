"""Shared fixtures: the real model (loaded once), a real index of the shipped corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.embed import Embedder, load_embedder
from index.search import Searcher
from index.settings import SETTINGS
from index.store import IndexStore

from .support.archive import CORPUS, RUSSIAN_CORPUS


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own bot token, data directory or any other setting."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once per session (shared with CLI calls in-process)."""
    return load_embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A data directory holding the index of the shipped corpus; tests must not change it."""
    data_dir = tmp_path_factory.mktemp("data")
    build_index(CORPUS, data_dir, embedder=embedder)
    return data_dir


@pytest.fixture(scope="session")
def searcher(index_dir: Path, embedder: Embedder) -> Searcher:
    return Searcher(IndexStore(index_dir), embedder)


@pytest.fixture(scope="session")
def multilingual_searcher(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Searcher:
    """The shipped corpus plus a Russian document (articles of the UDHR), indexed once."""
    corpus = tmp_path_factory.mktemp("corpus-multilingual")
    for path in [*CORPUS.iterdir(), *RUSSIAN_CORPUS.iterdir()]:
        shutil.copy(path, corpus)
    data_dir = tmp_path_factory.mktemp("data-multilingual")
    build_index(corpus, data_dir, embedder=embedder)
    return Searcher(IndexStore(data_dir), embedder)


@pytest.fixture
def data_dir(tmp_path: Path, index_dir: Path) -> Path:
    """A private copy of the shipped corpus's index, for tests that change it or log to it."""
    target = tmp_path / "data"
    shutil.copytree(index_dir, target, symlinks=True)
    return target


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """An empty corpus directory for a test to fill."""
    path = tmp_path / "corpus"
    path.mkdir()
    return path
