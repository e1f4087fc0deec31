"""Shared fixtures: the real model (loaded once), a real index of the shipped corpus."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from index.build import build_index, transfer_index
from index.embed import Embedder, load_embedder
from index.postgres import PostgresStore
from index.search import Searcher
from index.settings import SETTINGS
from index.store import IndexStore

from .support import postgres
from .support.archive import CORPUS, RUSSIAN_CORPUS

# The index's two backends: the search, storage and log suites run on both.
BACKENDS = ["files", "postgres"]


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
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server with pgvector for the session: the URL of its default database."""
    server = postgres.start(tmp_path_factory.mktemp("postgres"))
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database for one test."""
    with postgres.fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def log_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the test's query log (and index) live: the data dir, or a new database holding
    a copy of the shipped corpus's index (the log's suites run on both)."""
    if request.param == "postgres":
        url = request.getfixturevalue("database_url")
        transfer_index(request.getfixturevalue("index_dir"), url, into_database=True)
        monkeypatch.setenv("ARCHIVE_BOT_DATABASE_URL", url)
        monkeypatch.setenv("ARCHIVE_BOT_LOG_SECRET", "a-test-key-of-forty-characters-000000000")
    return request.param


def searcher_on(backend: str, data_dir: Path, embedder: Embedder, server: str | None) -> Searcher:
    """A searcher of the index in `data_dir`, or of its copy in a new database of `server`."""
    if backend == "files":
        return Searcher(IndexStore(data_dir), embedder)
    name = f"archive_{data_dir.name.replace('-', '_')}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"create database {name}")
    url = postgres.database_url(server, name)
    transfer_index(data_dir, url, into_database=True)
    return Searcher(PostgresStore(url, data_dir), embedder)


@pytest.fixture(scope="session", params=BACKENDS)
def searcher(request: pytest.FixtureRequest, index_dir: Path, embedder: Embedder) -> Searcher:
    """The shipped corpus's index, in files and in PostgreSQL."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    return searcher_on(request.param, index_dir, embedder, server)


@pytest.fixture(scope="session", params=BACKENDS)
def multilingual_searcher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Searcher:
    """The shipped corpus plus a Russian document (articles of the UDHR), indexed once."""
    corpus = tmp_path_factory.mktemp("corpus-multilingual")
    for path in [*CORPUS.iterdir(), *RUSSIAN_CORPUS.iterdir()]:
        shutil.copy(path, corpus)
    data_dir = tmp_path_factory.mktemp("data-multilingual")
    build_index(corpus, data_dir, embedder=embedder)
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    return searcher_on(request.param, data_dir, embedder, server)


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
