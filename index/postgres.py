"""The index in PostgreSQL with pgvector: what `index.store` keeps in files, for several machines.

Chosen by `ARCHIVE_BOT_DATABASE_URL=postgresql://…` (`index.store.open_index`). Each build
writes a schema of its own and then, in the same transaction, marks it current:

    archive_builds                      one row per build: build id, schema, manifest, the
                                        background texts' vectors, which build is current
    archive_<build id>.documents        as in passages.db
    archive_<build id>.passages         as in passages.db
    archive_<build id>.vectors_<n>      each model's vectors (pgvector)
    archive_<build id>.postings         the keyword index: each passage's stemmed words with
                                        their counts (FTS5's doclists, as rows)
    archive_<build id>.lexemes          each stemmed word's number of passages
    archive_<build id>.terms, .names    as in passages.db

Every process sees a new build at its next look at `archive_builds` (the manifest's role in
files), and the previous build stays until the next one, so a process still reading it is not
cut off. Keyword search scores with the same BM25 as SQLite's FTS5 (k1 1.2, b 0.75) over the
same words, stemmed by the same Porter algorithm, so both backends rank alike. Vector search is
exact up to `EXACT_LIMIT` passages, as in files; above it an inverted file (pgvector's IVFFlat,
as FAISS's in files) over half-precision copies of the vectors picks the candidates and the
stored vectors score them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from index.answerable import background_key, background_texts
from index.errors import ArchiveError, first_line
from index.normalize import words
from index.store import (
    CARD_ID,
    EXACT_LIMIT,
    FORMAT_VERSION,
    PASSAGE_FIELDS,
    REBUILD_HINT,
    Keywords,
    StoredPassage,
    card,
    database_rows,
    new_build_id,
    new_manifest,
    reusable,
    stored_passage,
)

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import psycopg

    from index.documents import Document
    from index.passages import Passage

logger = logging.getLogger(__name__)

BUILDS = "archive_builds"
CALIBRATION = "archive_calibration"  # the archive's own calibration (`archive-bot calibrate`)
SCHEMA_PREFIX = "archive_"
BUILD_MEMORY = "1GB"  # for an inverted file's build: its k-means takes 200 bytes x lists²
# Inverted lists: the square root of the passages, as pgvector advises (1,000 at a million), at
# most so many that the k-means fits BUILD_MEMORY. A search reads PROBES of them: at a million
# passages recall@10 against exact search is 0.963 with 4, 0.980 with 8, 0.986 with 16, and
# the time grows with them (3, 7, 14 ms p50; measured, BENCHMARKS.md "Scale").
MAX_LISTS = 2000
PROBES = 8
QUERY_MEMORY = "64MB"  # per sort or hash of one search, at most (PostgreSQL's work_mem)
BM25_K1, BM25_B = 1.2, 0.75  # SQLite's FTS5 bm25() defaults
PORTER_BYTES = (3, 64)  # FTS5's Porter tokenizer stems words of this many UTF-8 bytes only
LOCK_KEY = 0x61726368  # the advisory lock of a build ("arch")
SETUP_KEY = LOCK_KEY + 2  # the advisory lock of making tables (`setting_up`)
# The types of a passage row (index.store.database_rows) and its number of words.
PASSAGE_TYPES = ["int4", "text", "text", "int4", "int4", "text", "text", "int4", "int4", "int4",
                 "int4", "text", "text", "int4", "int4"]  # fmt: skip
PASSAGE_COLUMNS = (
    "p.id, p.passage_id, p.doc_id, p.paragraph, p.part, p.section, p.heading, p.page, "
    'p.scanned, p.start, p."end", p.text, d.title, d.author, d.date, d.source'
)


def where(url: str) -> str:
    """The database a URL names, for messages: host and database, never a password."""
    parts = urlsplit(url)
    host = parts.hostname or "a local socket"
    return f"{parts.path.lstrip('/') or 'the default database'} on {host}"


def connect(url: str) -> psycopg.Connection:
    """Open a connection (autocommit, rows as dicts, pgvector's types known).

    Raises:
        ArchiveError: the server cannot be reached, refuses the login, or lacks pgvector.
    """
    try:
        import psycopg
        from pgvector.psycopg import register_vector
        from psycopg.rows import dict_row
    except ImportError as error:
        raise ArchiveError(
            f"ARCHIVE_BOT_DATABASE_URL is set but {error.name} is not installed: run `make install`"
        ) from error
    try:
        connection = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
    except psycopg.Error as error:
        raise ArchiveError(f"cannot connect to {where(url)}: {first_line(error)}") from error
    try:
        register_vector(connection)
    except psycopg.ProgrammingError:  # the type is not there yet: create it (needs the right)
        try:
            connection.execute("create extension if not exists vector")
            register_vector(connection)
        except psycopg.Error as error:
            connection.close()
            raise ArchiveError(
                f"{where(url)} lacks the pgvector extension ({first_line(error)}): "
                "a superuser runs `create extension vector` in it once (docs/operators.md)"
            ) from error
    return connection


class Session:
    """One connection that a long-running process holds, used by one statement at a time from
    any thread, and made again once when it was lost (a restarted server, a dropped network)."""

    def __init__(self, open_connection: Callable[[], psycopg.Connection]) -> None:
        """Raises ArchiveError when the first connection cannot be made."""
        self._open = open_connection
        self._lock = threading.Lock()
        self.connection = open_connection()

    def run(
        self, sql: str, parameters: tuple | list | dict = (), binary: bool = False
    ) -> list[dict]:
        """Return the rows of one statement ([{"rows": n}] for one that returns none).

        Raises:
            psycopg.Error: the statement failed, or the connection was lost and could not be
                made again (an OperationalError).
        """
        import psycopg

        with self._lock:
            try:
                return self._execute(sql, parameters, binary)
            except psycopg.OperationalError:  # lost: one new connection, one new try
                self.connection.close()
                try:
                    self.connection = self._open()
                except ArchiveError as error:
                    raise psycopg.OperationalError(str(error)) from error
            return self._execute(sql, parameters, binary)

    def _execute(self, sql: str, parameters: tuple | list | dict, binary: bool) -> list[dict]:
        cursor = self.connection.execute(sql, parameters, binary=binary)
        return cursor.fetchall() if cursor.description else [{"rows": cursor.rowcount}]

    def close(self) -> None:
        with self._lock:
            self.connection.close()


def porter_words(text: str) -> list[str]:
    """The keyword index's terms of a text that is already folded (`store.keyword_text`): its
    words as FTS5's tokenizer makes them (Latin letters without their accents, then stemmed
    by the Porter algorithm)."""
    low, high = PORTER_BYTES
    plain = ("".join(map(_unaccented, word)) for word in words(text))
    return [_stem(word) if low <= len(word.encode()) <= high else word for word in plain]


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    import snowballstemmer

    return snowballstemmer.stemmer("porter").stemWord(word)  # a stemmer object is not shared


@functools.lru_cache(maxsize=4096)
def _unaccented(letter: str) -> str:
    """A letter as FTS5's `remove_diacritics 2` reads it: a Latin letter with accents (ç, ǘ)
    is its plain letter; any other (ø, й, ә) stays as it is."""
    base, *marks = unicodedata.normalize("NFD", letter)
    plain = base.isascii() and marks and all(unicodedata.combining(mark) for mark in marks)
    return base if plain else letter


def _phrase(term: str) -> tuple[str, bool] | None:
    """A query term as (its first word stemmed, is a prefix); None when it holds no word."""
    stemmed = porter_words(term.removesuffix("*"))
    return (stemmed[0], term.endswith("*")) if stemmed else None


def _groups(keywords: Keywords) -> list[list[tuple[str, bool]]]:
    """The query's groups of phrases, without the terms that hold no word."""
    return [[p for term in group if (p := _phrase(term))] for group in keywords.groups]


def phrases(keywords: Keywords) -> list[tuple[str, bool]]:
    """Each term of a keyword query as (stemmed term, is a prefix), in order, repeats kept:
    FTS5's bm25() sums over the query's phrases so."""
    return [phrase for group in _groups(keywords) for phrase in group]


def read_manifest(url: str) -> dict:
    """Return the manifest of the current build in the database.

    Raises:
        ArchiveError: the database cannot be reached, holds no index, or one of another format.
    """
    with contextlib.closing(connect(url)) as connection:
        return _current(connection, url)["manifest"]


def current_build(url: str) -> dict | None:
    """Return the current build's row (build_id, schema, manifest); None when there is none.

    Raises:
        ArchiveError: the database cannot be reached or read.
    """
    with contextlib.closing(connect(url)) as connection:
        return _current_row(connection, url)


def _current_row(connection: psycopg.Connection, url: str) -> dict | None:
    import psycopg

    try:
        return connection.execute(
            f"select build_id, schema, manifest from {BUILDS} where current"
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    except psycopg.Error as error:
        raise ArchiveError(f"cannot read the index in {where(url)}: {first_line(error)}") from error


def _current(connection: psycopg.Connection, url: str) -> dict:
    row = _current_row(connection, url)
    if row is None:
        raise ArchiveError(f"no index in {where(url)}: run `archive-bot index` to build it")
    version = row["manifest"].get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"the index in {where(url)} has format version {version}, this archive-bot reads "
            f"version {FORMAT_VERSION}: {REBUILD_HINT}"
        )
    return row


def reusable_vectors(url: str, models: list[str]) -> list[dict[str, np.ndarray]]:
    """`index.store.reusable` for the current build in the database; nothing when there is
    none or it cannot be read."""
    import psycopg

    try:
        with contextlib.closing(connect(url)) as connection:
            if (row := _current_row(connection, url)) is None:
                return [{} for _ in models]
            schema = row["schema"]

            def passage_rows() -> list[tuple]:
                found = connection.execute(f"select {PASSAGE_FIELDS} from {schema}.passages")
                return [tuple(passage.values()) for passage in found]

            def vectors_of(number: int) -> dict[int, np.ndarray]:
                found = connection.execute(f"select id, v from {schema}.vectors_{number}")
                return {vector["id"]: vector["v"].to_numpy() for vector in found}

            return reusable(row["manifest"], models, passage_rows, vectors_of)
    except (ArchiveError, psycopg.Error, KeyError, TypeError, ValueError):
        return [{} for _ in models]


@contextlib.contextmanager
def setting_up(connection: psycopg.Connection) -> Iterator[None]:
    """A transaction that makes tables or schemas, one process at a time: two processes
    starting together would both make them, and one fail ("create … if not exists" is no
    guard against another transaction doing the same)."""
    with connection.transaction():
        connection.execute("select pg_advisory_xact_lock(%s)", (SETUP_KEY,))
        yield


def read_calibration(url: str) -> str | None:
    """The archive's own calibration kept in the database (JSON), None when it has none.

    Raises:
        ArchiveError: the database cannot be reached or read.
    """
    import psycopg

    with contextlib.closing(connect(url)) as connection:
        try:
            row = connection.execute(f"select calibration from {CALIBRATION}").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        except psycopg.Error as error:
            raise ArchiveError(
                f"cannot read the calibration in {where(url)}: {first_line(error)}"
            ) from error
    return row["calibration"] if row else None


def write_calibration(url: str, text: str | None) -> None:
    """Make `text` (JSON) the archive's own calibration in the database; None removes it.

    Raises:
        ArchiveError: the database cannot be reached or written.
    """
    import psycopg

    try:
        with contextlib.closing(connect(url)) as connection, setting_up(connection):
            connection.execute(
                f"create table if not exists {CALIBRATION} (calibration text not null, "
                "written_at timestamptz not null default now())"
            )
            connection.execute(f"grant select on {CALIBRATION} to public")
            connection.execute(f"delete from {CALIBRATION}")
            if text is not None:
                connection.execute(f"insert into {CALIBRATION} (calibration) values (%s)", (text,))
    except psycopg.Error as error:
        raise ArchiveError(
            f"cannot write the calibration in {where(url)}: {first_line(error)}"
        ) from error


@contextlib.contextmanager
def build_lock(url: str, wait: bool = False) -> Iterator[None]:
    """Hold the database's build lock (a session advisory lock): one build at a time, from
    whichever machine. Without `wait`, fail at once when another build holds it.

    Raises:
        ArchiveError: another build is running and `wait` is False.
    """
    with contextlib.closing(connect(url)) as connection:
        got = connection.execute("select pg_try_advisory_lock(%s) as got", (LOCK_KEY,)).fetchone()
        if not got["got"]:
            if not wait:
                raise ArchiveError(
                    f"another `archive-bot index` is building the index in {where(url)}; "
                    "run this one when it has finished"
                )
            logger.warning("another `archive-bot index` is running; waiting for it to finish")
            connection.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        yield  # the lock ends with the session


def write_index(
    url: str,
    documents: list[Document],
    passages: list[Passage],
    vectors: list[np.ndarray],
    models: list[str],
    examples: dict[str, list[str]],
    background: np.ndarray,
) -> dict:
    """Write a complete index into the database and make it the current one in one transaction
    (the arguments as `index.store.write_index`'s). Keeps the build it replaces, for processes
    still reading it, and drops older ones.

    Returns:
        The manifest of the new index.
    """
    import numpy as np
    import psycopg

    build_id = new_build_id()
    schema = SCHEMA_PREFIX + build_id.lower().replace("-", "_")
    lists = min(int(len(passages) ** 0.5), MAX_LISTS)
    searched = "exact" if len(passages) <= EXACT_LIMIT else f"ivfflat{lists} (halfvec)"
    manifest = new_manifest(build_id, documents, passages, vectors, models, examples, searched)
    dimensions = manifest["dimensions"]
    document_rows, passage_rows, terms, names = database_rows(documents, passages)
    try:
        with contextlib.closing(connect(url)) as connection, connection.transaction():
            connection.execute(
                f"create table if not exists {BUILDS} (build_id text primary key, schema text "
                "not null, manifest jsonb not null, background bytea, current boolean not null "
                "default false, written_at timestamptz not null default now())"
            )
            connection.execute(f"create schema {schema}")
            connection.execute(
                f"create table {schema}.documents (id text primary key, title text, author "
                "text, date text, source text, note text, language text, text text not null, "
                "sha256 text, passages integer, catalogue_id text)"
            )
            connection.execute(
                f"create table {schema}.passages (id integer primary key, passage_id text not "
                "null, doc_id text not null, paragraph integer, part integer, section text, "
                'heading text, page integer, scanned integer, start integer, "end" integer, '
                "text text not null, folded text, cyrillic integer, tokens integer)"
            )
            for number, dimension in enumerate(dimensions):
                # A table per model, its vectors kept in the row: stored apart (TOAST), each
                # comparison of an exact search read one back (10 x slower, measured).
                table = f"{schema}.vectors_{number}"
                connection.execute(
                    f"create table {table} (id integer primary key, v vector({dimension}))"
                )
                connection.execute(f"alter table {table} alter column v set storage plain")
            # The keyword index: each passage's terms with their counts and its length
            # (FTS5's doclists, as rows), and each term's number of passages.
            connection.execute(
                f'create table {schema}.postings (lexeme text collate "C" not null, id integer '
                "not null, tf integer not null, tokens integer not null)"
            )
            connection.execute(
                f'create table {schema}.lexemes (lexeme text collate "C" primary key, '
                "df integer not null)"
            )
            connection.execute(f"create table {schema}.terms (term text primary key, df integer)")
            connection.execute(f"create table {schema}.names (name text primary key)")
            # Any role that may connect reads the index (the archive's own text, quoted to
            # anyone who asks): bots need no more than a login (docs/operators.md).
            connection.execute(f"grant usage on schema {schema} to public")
            connection.execute(f"grant select on all tables in schema {schema} to public")
            connection.execute(f"grant select on {BUILDS} to public")
            # Written frozen (the tables are new in this transaction), so that their visibility
            # maps hold every page: the keyword search reads the postings' covering index alone,
            # not a table page per posting (at a million passages, 33,000 pages for three
            # common words, seconds from a cold disk).
            with connection.cursor() as cursor:
                _copy(cursor, f"{schema}.documents", document_rows)
                _copy(cursor, f"{schema}.terms", [{"term": t, "df": n} for t, n in terms.items()])
                _copy(cursor, f"{schema}.names", [{"name": name} for name in names])
                lexemes: Counter = Counter()
                tokens = []  # each passage's number of words, which the passages row keeps
                with cursor.copy(
                    f"copy {schema}.postings (lexeme, id, tf, tokens) from stdin "
                    "with (format binary, freeze)"
                ) as copy:
                    copy.set_types(["text", "int4", "int4", "int4"])
                    for row in passage_rows:
                        stemmed = porter_words(row["folded"])
                        tokens.append(len(stemmed))
                        counts = Counter(stemmed)
                        lexemes.update(counts.keys())
                        for lexeme, count in counts.items():
                            copy.write_row([lexeme, row["id"], count, len(stemmed)])
                with cursor.copy(
                    f"copy {schema}.passages (id, passage_id, doc_id, paragraph, part, section, "
                    'heading, page, scanned, start, "end", text, folded, cyrillic, tokens) '
                    "from stdin with (format binary, freeze)"
                ) as copy:
                    copy.set_types(PASSAGE_TYPES)
                    for row, count in zip(passage_rows, tokens, strict=True):
                        copy.write_row([*row.values(), count])
                with cursor.copy(
                    f"copy {schema}.lexemes (lexeme, df) from stdin "
                    "with (format binary, freeze)"
                ) as copy:
                    copy.set_types(["text", "int4"])
                    for lexeme, df in lexemes.items():
                        copy.write_row([lexeme, df])
                for number, model_vectors in enumerate(vectors):
                    with cursor.copy(  # binary: 14 x faster than text for vectors (measured)
                        f"copy {schema}.vectors_{number} (id, v) from stdin "
                        "with (format binary, freeze)"
                    ) as copy:
                        copy.set_types(["int4", "vector"])
                        for row, vector in enumerate(model_vectors):
                            copy.write_row([row, vector])
            connection.execute(f"create unique index on {schema}.passages (passage_id)")
            connection.execute(f"create index on {schema}.passages (doc_id, paragraph)")
            connection.execute(
                f"create unique index on {schema}.postings (lexeme, id) include (tf, tokens)"
            )
            if len(passages) > EXACT_LIMIT:
                connection.execute(f"set local maintenance_work_mem = '{BUILD_MEMORY}'")
                for number, dimension in enumerate(dimensions):
                    connection.execute(
                        f"create index on {schema}.vectors_{number} using ivfflat "
                        f"((v::halfvec({dimension})) halfvec_ip_ops) with (lists = {lists})"
                    )
            models = [f"vectors_{number}" for number in range(len(vectors))]
            for table in ["passages", "postings", "lexemes", *models]:
                connection.execute(f"analyze {schema}.{table}")
            connection.execute(
                f"insert into {BUILDS} (build_id, schema, manifest, background) "
                "values (%s, %s, %s, %s)",
                (build_id, schema, json.dumps(manifest),
                 np.ascontiguousarray(background, dtype=np.float32).tobytes()),
            )  # fmt: skip
            old = connection.execute(
                f"select build_id, schema from {BUILDS} where build_id <> %s "
                "order by current desc, written_at desc",
                (build_id,),
            ).fetchall()
            connection.execute(f"update {BUILDS} set current = (build_id = %s)", (build_id,))
            for stale in old[1:]:  # the build just replaced stays for readers that have it
                connection.execute(f"drop schema if exists {stale['schema']} cascade")
                build = stale["build_id"]
                connection.execute(f"delete from {BUILDS} where build_id = %s", (build,))
    except psycopg.Error as error:
        raise ArchiveError(
            f"cannot write the new index in {where(url)} ({first_line(error)}); "
            "the previous index is unchanged"
        ) from error
    return manifest


def _copy(cursor: psycopg.Cursor, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"copy {table} ({quoted}) from stdin with (freeze)") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _add_lexemes(connection: psycopg.Connection, schema: str, url: str) -> None:
    """Bring a build written by archive-bot 0.8.0 up to date: it has no lexemes table, made
    here from its postings, once, by whichever process opens it first (its tsvector, no
    longer read, stays until the next build).

    Raises:
        ArchiveError: the table cannot be made (a role that may not write the build's schema).
    """
    import psycopg

    table = f"{schema}.lexemes"
    if connection.execute("select to_regclass(%s) as found", (table,)).fetchone()["found"]:
        return
    try:
        with setting_up(connection):
            connection.execute(
                f'create table if not exists {table} (lexeme text collate "C" primary key, '
                "df integer not null)"
            )
            connection.execute(
                f"insert into {table} select lexeme, count(*) from {schema}.postings "
                f"where not exists (select 1 from {table}) group by lexeme"
            )
            connection.execute(f"grant select on {table} to public")
        connection.execute(f"analyze {table}")
    except psycopg.Error as error:
        raise ArchiveError(
            f"the index in {where(url)} was written by an older archive-bot and cannot be "
            f"brought up to date here ({first_line(error)}): {REBUILD_HINT}"
        ) from error
    logger.info("the index in %s is brought up to date (its words' counts)", where(url))


def _with_settings(connection: psycopg.Connection) -> psycopg.Connection:
    """A search's session settings: inverted lists read per search, and memory enough for the
    keyword search's sums over a common word's passages (on disk, they took 10 x longer)."""
    connection.execute(f"set ivfflat.probes = {PROBES}")
    connection.execute(f"set work_mem = '{QUERY_MEMORY}'")
    return connection


class PostgresStore:
    """A loaded index in PostgreSQL: the current build when it was opened, read as
    `index.store.IndexStore` reads files, behind the same methods. Safe to use from several
    threads (one connection, one query at a time)."""

    def __init__(self, url: str, data_dir: Path) -> None:
        """Open the current build of the database at `url`; `data_dir` holds what stays local
        (the calibration, the query log).

        Raises:
            ArchiveError: the database cannot be reached, or holds no index of this format.
        """
        self.url = url
        self.data_dir = data_dir
        self._session = Session(lambda: _with_settings(connect(url)))
        current = _current(self._session.connection, url)
        self.manifest = current["manifest"]
        self.schema = current["schema"]
        _add_lexemes(self._session.connection, self.schema, url)
        self.indexed = self.manifest["passages"] > EXACT_LIMIT
        if (problem := self.check()) is not None:
            raise ArchiveError(f"the index in {where(url)} is damaged ({problem}): {REBUILD_HINT}")

    def latest_build(self) -> str:
        """The build id that is current in the database now (another process may have built).

        Raises:
            ArchiveError: the database cannot be read, or holds no index.
        """
        found = self._query(f"select build_id from {BUILDS} where current")
        if not found:
            raise ArchiveError(f"no index in {where(self.url)}: run `archive-bot index`")
        return found[0]["build_id"]

    def _query(
        self, sql: str, parameters: tuple | list | dict = (), binary: bool = False
    ) -> list[dict]:
        import psycopg

        try:
            return self._session.run(sql, parameters, binary)
        except psycopg.OperationalError as error:
            raise ArchiveError(f"lost {where(self.url)}: {first_line(error)}") from error
        except psycopg.Error as error:
            raise ArchiveError(
                f"the index in {where(self.url)} cannot be read ({first_line(error)}): "
                f"{REBUILD_HINT}"
            ) from error

    def check(self) -> str | None:
        """Return what is wrong with the build in use (None when it is sound)."""
        try:
            stored = self._query(f"select count(*) as n from {self.schema}.passages")[0]["n"]
        except ArchiveError as error:
            return str(error)
        if stored != self.manifest["passages"]:
            return f"{stored} passages stored, {self.manifest['passages']} built"
        return None

    def background(self) -> np.ndarray | None:
        """The stored vectors of the background texts, as `IndexStore.background`."""
        import numpy as np

        if self.manifest.get("background") != background_key():
            return None
        (row,) = self._query(
            f"select background from {BUILDS} where build_id = %s", (self.manifest["build_id"],)
        )
        dimension = (self.manifest.get("dimensions") or [None])[-1]
        vectors = np.frombuffer(row["background"] or b"", dtype=np.float32)
        if not dimension or vectors.size != len(background_texts()) * dimension:
            logger.warning("the index's background vectors are not those expected")
            return None
        return vectors.reshape(-1, dimension).copy()

    def dense(
        self, vectors: np.ndarray, limit: int, model: int = 0
    ) -> list[list[tuple[int, float]]]:
        """Return, per query vector, up to `limit` (row, cosine similarity) pairs, best first."""
        dimension = self.manifest["dimensions"][model]
        # Exact: every vector compared, ties by row as FAISS; approximate: the inverted file's
        # order (it serves only a plain ORDER BY distance), scored by the stored vectors.
        order = "v <#> %(q)s, id" if not self.indexed else (
            f"v::halfvec({dimension}) <#> %(q)s::halfvec({dimension})"
        )  # fmt: skip
        results = []
        for vector in vectors:
            rows = self._query(
                f"select id, -(v <#> %(q)s) as score from {self.schema}.vectors_{model} "
                f"order by {order} limit %(limit)s",
                {"q": vector.astype("float32"), "limit": limit},
            )
            results.append(sorted(((r["id"], float(r["score"])) for r in rows),
                                  key=lambda pair: (-pair[1], pair[0])))  # fmt: skip
        return results

    def keyword(self, keywords: Keywords, limit: int) -> list[tuple[int, float]]:
        """Return up to `limit` (row, BM25 score) pairs for a keyword query, best first, scored
        as SQLite's FTS5 scores them."""
        found = phrases(keywords)
        if not found:
            return []
        schema = self.schema
        terms = {"terms": [term for term, _ in found], "prefixes": [p for _, p in found]}
        phrase = """
            select number, term collate "C" as term, prefix
            from unnest(%(terms)s::text[], %(prefixes)s::boolean[])
                 with ordinality as u(term, prefix, number)
        """
        counts = self._query(  # how many passages hold each phrase
            f"""
            with phrase as ({phrase})
            select number, (select count(distinct po.id) from {schema}.postings po
                            where po.lexeme >= ph.term and po.lexeme < ph.term || chr(1114111))
                           as n
            from phrase ph where prefix
            union all
            select number, coalesce((select df from {schema}.lexemes l where l.lexeme = ph.term), 0)
            from phrase ph where not prefix
            """,
            terms,
        )
        passages = self.manifest["passages"]
        idf = {row["number"]: max(math.log((passages - row["n"] + 0.5) / (row["n"] + 0.5)), 1e-6)
               for row in counts}  # fmt: skip
        rows = self._query(
            f"""
            with phrase as ({phrase})
            select id, sum(idf * tf * (%(k1)s + 1) / (tf + %(k1)s * (1 - %(b)s + %(b)s
                   * tokens / %(average)s))) as score
            from (
                select (%(idf)s::float8[])[ph.number] as idf, po.id, po.tokens, po.tf::float8 as tf
                from phrase ph join {schema}.postings po on po.lexeme = ph.term
                where not ph.prefix
                union all
                select (%(idf)s::float8[])[ph.number], po.id, po.tokens, sum(po.tf)::float8
                from phrase ph join {schema}.postings po
                  on po.lexeme >= ph.term and po.lexeme < ph.term || chr(1114111)
                where ph.prefix
                group by ph.number, po.id, po.tokens
            ) hits
            group by id order by score desc, id limit %(limit)s
            """,
            terms
            | {
                "idf": [idf[number] for number in range(1, len(found) + 1)],
                "k1": BM25_K1,
                "b": BM25_B,
                "average": self._average_tokens(),
                "limit": limit,
            },
        )
        return [(row["id"], float(row["score"])) for row in rows]

    def _average_tokens(self) -> float:
        if not hasattr(self, "_average"):
            (row,) = self._query(f"select avg(tokens) as a from {self.schema}.passages")
            self._average = float(row["a"] or 1.0)
        return self._average

    def holds(self, keywords: Keywords) -> bool:
        """Whether any passage matches a keyword query (nothing is scored).

        With every group required, the passages of the group held by fewest are walked in
        order and each is looked up in the others' postings, stopping at the first that holds
        them all: the cost is the rarest group's passages at most, not the common ones'.
        """
        groups = [group for group in _groups(keywords) if group]
        if not groups:
            return False
        lexemes = [self._lexemes(group) for group in groups]
        if not keywords.every:
            return any(lexemes)
        if not all(lexemes):
            return False
        rarest, *others = sorted(lexemes, key=lambda found: sum(found.values()))
        held = " ".join(
            f"and exists (select 1 from {self.schema}.postings o where o.id = p.id "
            f"and o.lexeme = any(%(group{number})s))"
            for number in range(len(others))
        )
        return bool(self._query(
            f"select 1 from {self.schema}.postings p where p.lexeme = any(%(rarest)s) {held} "
            "limit 1",
            {"rarest": list(rarest)} | {f"group{n}": list(g) for n, g in enumerate(others)},
        ))  # fmt: skip

    def _lexemes(self, group: list[tuple[str, bool]]) -> dict[str, int]:
        """The archive's stemmed words a group of phrases matches, with their passages."""
        words = [word for word, prefix in group if not prefix]
        starts = [word for word, prefix in group if prefix]
        lexemes = f"{self.schema}.lexemes"
        rows = self._query(
            f"""
            select lexeme, df from {lexemes} where lexeme = any(%(words)s)
            union
            select l.lexeme, l.df from unnest(%(starts)s::text[]) s(start), lateral (
                select lexeme, df from {lexemes}
                where lexeme >= s.start collate "C" and lexeme < s.start || chr(1114111)
            ) l
            """,
            {"words": words, "starts": starts},
        )
        return {row["lexeme"]: row["df"] for row in rows}

    def _passages_where(self, condition: str, parameters: tuple | list | dict) -> list[dict]:
        return self._query(
            f"select {PASSAGE_COLUMNS} from {self.schema}.passages p join "
            f"{self.schema}.documents d on d.id = p.doc_id where {condition}",
            parameters,
        )

    def passages(self, rows: list[int]) -> dict[int, StoredPassage]:
        """Return the passages stored at `rows`, with their documents' metadata."""
        return {r["id"]: stored_passage(r) for r in self._passages_where("p.id = any(%s)", (rows,))}

    def paragraph(self, doc_id: str, paragraph: int, max_parts: int = 3) -> StoredPassage | None:
        """Return one paragraph as a single passage, as `IndexStore.paragraph`."""
        found = self._passages_where(
            "p.doc_id = %s and p.paragraph = %s order by p.part limit %s",
            (doc_id, paragraph, max_parts),
        )
        if not found:
            return None
        first, last = stored_passage(found[0]), stored_passage(found[-1])
        if len(found) == 1:
            return first
        return replace(first, end=last.end, text=self.document_slice(doc_id, first.start, last.end))

    def term_count(self) -> int:
        return self._query(f"select count(*) as n from {self.schema}.terms")[0]["n"]

    def terms(self) -> list[str]:
        return [row["term"] for row in self._query(f"select term from {self.schema}.terms")]

    def names(self) -> list[str]:
        return [row["name"] for row in self._query(f"select name from {self.schema}.names")]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        if not terms:
            return {}
        rows = self._query(
            f"select term, df from {self.schema}.terms where term = any(%s)", (terms,)
        )
        return {row["term"]: row["df"] for row in rows}

    def passage(self, passage_id: str) -> StoredPassage | None:
        """Return the passage with this stable id (a document's card for `<id>#card`)."""
        if passage_id.endswith(CARD_ID):
            doc_id = passage_id.removesuffix(CARD_ID)
            return next((card(d) for d in self.documents() if d["id"] == doc_id), None)
        found = self._passages_where("p.passage_id = %s", (passage_id,))
        return stored_passage(found[0]) if found else None

    def passage_ids_with_text(self, text: str) -> list[str]:
        rows = self._query(
            f"select passage_id from {self.schema}.passages where text = %s order by id", (text,)
        )
        return [row["passage_id"] for row in rows]

    def documents(self) -> list[dict]:
        return self._query(
            "select id, title, author, date, source, note, language, sha256, passages, "
            f"catalogue_id from {self.schema}.documents order by id"
        )

    def document(self, doc_id: str) -> Document:
        from index.documents import METADATA_FIELDS, Document

        (row,) = self._query(
            f"select id, text, sha256, catalogue_id, {', '.join(METADATA_FIELDS)} "
            f"from {self.schema}.documents where id = %s",
            (doc_id,),
        )
        return Document(**row)

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        query = f"select substr(text, %s, %s) as part from {self.schema}.documents where id = %s"
        return self._query(query, (start + 1, end - start, doc_id))[0]["part"]

    def passages_of(self, doc_ids: list[str]) -> list[StoredPassage]:
        found = self._passages_where("p.doc_id = any(%s) order by p.id", (doc_ids,))
        return [stored_passage(row) for row in found]

    def documents_of(self, rows: list[int]) -> dict[int, str]:
        found = self._query(
            f"select id, doc_id from {self.schema}.passages where id = any(%s)", (rows,)
        )
        return {row["id"]: row["doc_id"] for row in found}

    def cyrillic(self, rows: list[int]) -> set[int]:
        found = self._query(
            f"select id from {self.schema}.passages where cyrillic = 1 and id = any(%s)", (rows,)
        )
        return {row["id"] for row in found}

    def vectors(self, rows: list[int], model: int = 0) -> np.ndarray:
        import numpy as np

        dimension = self.manifest["dimensions"][model]
        if not rows:
            return np.zeros((0, dimension), dtype=np.float32)
        found = self._query(
            f"select id, v from {self.schema}.vectors_{model} where id = any(%s)",
            (rows,),
            binary=True,  # read as numbers, not parsed from text (3 x faster, measured)
        )
        by_row = {row["id"]: row["v"].to_numpy() for row in found}
        return np.asarray([by_row[row] for row in rows], dtype=np.float32)

    def __del__(self) -> None:
        """Close the connection with the store: a process that switched to a newer build drops
        the old store when the last question reading it is answered."""
        if (session := getattr(self, "_session", None)) is not None:
            session.close()
