"""The index on disk: vectors in FAISS, passages and documents in SQLite, a manifest beside them.

    data/index -> index-<build id>/      a symlink, swapped atomically by each build
        manifest.json                    model, dimension, counts, build time, format version
        vectors.faiss                    exact inner-product index; vector i is passage row i
        background.npy                   the multilingual model's vectors of the background
                                         texts (index.answerable), computed once per build
        passages.db                      documents, passages, passages_fts (FTS5 on folded text),
                                         terms (how many passages hold each folded word),
                                         names (words written with a capital: index.names)

A build writes a new `index-<build id>` directory and then replaces the symlink in one
`os.replace`, so readers see either the old index or the new one, never a half-written one.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from index.answerable import background_key, background_texts
from index.errors import ArchiveError, first_line
from index.languages import index_terms, mostly_cyrillic
from index.names import archive_names
from index.normalize import fold, words
from index.settings import value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import numpy as np

    from index.documents import Document
    from index.passages import Passage
    from index.postgres import PostgresStore

logger = logging.getLogger(__name__)

# 4: a vector file per model; 5: e5 reads text cleaned, not folded; 6: passages say whether
# OCR read them, documents which catalogue entry describes them; 7: the names its passages
# write with a capital (`index.names`)
FORMAT_VERSION = 7
# By model number: the oldest index format whose vectors of that model are what this version
# computes (the same model fed the same text). An index of an older format, rebuilt, keeps
# these vectors for passages whose text is unchanged (`reusable_vectors`): a format change
# re-embeds only what it changed. Raise a model's number when its input changes.
VECTORS_VALID_SINCE = (4, 5)
CURRENT = "index"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"  # the first model's; the others' are vectors-1.faiss, …
BACKGROUND = "background.npy"
DATABASE = "passages.db"
# Porter stemming over the folded text: "extradite" finds "extradition".
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
REBUILD_HINT = "run `archive-bot index` to rebuild it"
# Exact search up to this many passages, an approximate index above. Measured (BENCHMARKS.md,
# "Scale"): exact search costs about 0.15 us per passage here, 1 ms at 10k, 12-23 ms at 100k;
# at 50k it stays under a 10 ms share of the 30 ms budget.
EXACT_LIMIT = 50_000
NPROBE = 48  # inverted lists searched per question: recall@10 against exact search >= 0.95


@dataclass(frozen=True)
class StoredPassage:
    """A passage as read back from the index, with its document's metadata."""

    row: int
    passage_id: str
    paragraph: int
    part: int
    section: str | None
    heading: str | None
    page: int | None
    start: int
    end: int
    text: str
    document: dict[str, str | None]
    scanned: bool = False  # read by OCR from a scanned page


@dataclass(frozen=True)
class Keywords:
    """A keyword query, the same for every backend: groups of terms, each a folded word (one
    ending in "*" matches the words it begins). Any term of any group matches, or with
    `every`, a term of each group."""

    groups: tuple[tuple[str, ...], ...]
    every: bool = False

    def __bool__(self) -> bool:
        return any(self.groups)

    def fts5(self) -> str:
        """The FTS5 MATCH expression of this query."""

        def term(word: str) -> str:
            quoted = '"' + word.removesuffix("*").replace('"', '""') + '"'
            return quoted + "*" if word.endswith("*") else quoted

        if not self.every:
            return " OR ".join(term(w) for group in self.groups for w in group)
        return " AND ".join(f"({' OR '.join(map(term, group))})" for group in self.groups)


CARD_PARAGRAPH = 0  # a catalogue card's paragraph number: before the document's first
CARD_FIELDS = ("title", "author", "date", "source", "note")
CARD_ID = "#card"  # a card's passage id: the document's id and this


def card(document: dict) -> StoredPassage:
    """The catalogue card of a document (a row of `IndexStore.documents`) as a passage.

    Its text is the document's metadata values, one per line, exactly as the catalogue (or
    the file) gives them; its id is `<document id>#card`. It is not a row of the index.
    """
    return StoredPassage(
        row=-1,
        passage_id=document["id"] + CARD_ID,
        paragraph=CARD_PARAGRAPH,
        part=1,
        section=None,
        heading=None,
        page=None,
        start=0,
        end=0,
        text="\n".join(str(document[name]) for name in CARD_FIELDS if document.get(name)),
        document={k: document.get(k) for k in ("title", "author", "date", "source")}
        | {"id": document["id"]},
    )


def write_index(
    data_dir: Path,
    documents: list[Document],
    passages: list[Passage],
    vectors: list[np.ndarray],
    models: list[str],
    examples: dict[str, list[str]],
    background: np.ndarray,
) -> dict:
    """Write a complete index and make it the current one atomically.

    Args:
        data_dir: where the index lives (created if missing).
        documents: every document of the new index.
        passages: every passage, in the order of `vectors`' rows.
        vectors: per model, (len(passages), dimension) float32 unit vectors.
        models: the names of the models that made them, in the same order.
        examples: questions the archive answers well, by language (from the catalogue).
        background: the multilingual model's vectors of the background texts
            (`index.answerable`): fixed data, stored under their key so that no start of the
            bot computes them.

    Returns:
        The manifest of the new index.
    """
    import faiss
    import numpy as np

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the log will live here too
    build_id = new_build_id()
    target = data_dir / f"index-{build_id}"
    staging = data_dir / f".staging-{build_id}"
    staging.mkdir()
    try:
        for number, model_vectors in enumerate(vectors):
            index, kind = vector_index(model_vectors)
            faiss.write_index(index, str(staging / vector_file(number)))

        write_database(staging / DATABASE, documents, passages)
        np.save(staging / BACKGROUND, background, allow_pickle=False)

        manifest = new_manifest(build_id, documents, passages, vectors, models, examples, kind)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for path in staging.iterdir():
            with open(path, "rb") as file:
                os.fsync(file.fileno())
        staging.rename(target)
        link = data_dir / f".{CURRENT}-{build_id}"
        link.symlink_to(target.name)
        adopt_copied_index(data_dir)
        previous = (data_dir / CURRENT).resolve() if (data_dir / CURRENT).is_symlink() else None
        os.replace(link, data_dir / CURRENT)
    except (OSError, RuntimeError, sqlite3.Error) as error:  # faiss raises RuntimeErrors
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)  # never one more index per failed build
        raise ArchiveError(
            f"cannot write the new index in {data_dir} ({write_error(error)}); "
            "the previous index is unchanged"
        ) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    remove_stale(data_dir, keep={target.name, previous.name if previous else ""})
    return manifest


def database_rows(
    documents: list[Document], passages: list[Passage]
) -> tuple[list[dict], list[dict], Counter, list[str]]:
    """Return what an index's database holds, whatever holds it: the documents with their
    texts, the passages (`id` = vector row) with their folded text, each folded word's document
    frequency, and the names the archive writes with a capital."""
    counts = {d.id: 0 for d in documents}
    for passage in passages:
        counts[passage.doc_id] += 1
    document_rows = [
        {
            **d.metadata(),
            "text": d.text,
            "sha256": d.sha256,
            "passages": counts[d.id],
            "catalogue_id": d.catalogue_id,
        }  # fmt: skip
        for d in documents
    ]
    folded = [keyword_text(p.search_text) for p in passages]
    document_frequency = Counter(word for text in folded for word in set(words(text)))
    passage_rows = [
        {
            "id": row,
            "passage_id": p.passage_id,
            "doc_id": p.doc_id,
            "paragraph": p.paragraph,
            "part": p.part,
            "section": p.section,
            "heading": p.heading,
            "page": p.page,
            "scanned": int(p.scanned),
            "start": p.start,
            "end": p.end,
            "text": p.text,
            "folded": folded[row],
            "cyrillic": int(mostly_cyrillic(p.text)),
        }
        for row, p in enumerate(passages)
    ]
    names = archive_names(p.text for p in passages)
    return document_rows, passage_rows, document_frequency, names


def new_build_id() -> str:
    """A new build's id: its time and a random part (`20261207T221500-3dd309a9`)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def new_manifest(
    build_id: str,
    documents: list[Document],
    passages: list[Passage],
    vectors: list[np.ndarray],
    models: list[str],
    examples: dict[str, list[str]],
    vector_index: str,
) -> dict:
    """The manifest of a new build, whichever backend holds it (`vector_index` names how its
    vectors are searched)."""
    return {
        "format_version": FORMAT_VERSION,
        "build_id": build_id,
        "models": models,
        "dimensions": [int(v.shape[1]) for v in vectors],
        "documents": len(documents),
        "passages": len(passages),
        "faiss_index": vector_index,
        "examples": examples,
        "background": background_key(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_database(path: Path, documents: list[Document], passages: list[Passage]) -> None:
    """Write an index's SQLite database at `path` (`database_rows`), with the full-text index
    of the passages' folded text."""
    import sqlite_utils

    document_rows, passage_rows, document_frequency, names = database_rows(documents, passages)
    db = sqlite_utils.Database(path)
    db["documents"].insert_all(document_rows, pk="id", columns={"catalogue_id": str})
    db["terms"].insert_all(
        ({"term": term, "df": df} for term, df in document_frequency.items()),
        pk="term",
        columns={"term": str, "df": int},
    )
    db["names"].create({"name": str}, pk="name")  # an empty archive has none
    db["names"].insert_all({"name": name} for name in names)
    db["passages"].insert_all(
        passage_rows,
        pk="id",
        columns={"section": str, "heading": str, "page": int, "scanned": int, "cyrillic": int},
    )
    db["passages"].create_index(["passage_id"], unique=True)
    db["passages"].create_index(["doc_id", "paragraph"])
    db["passages"].enable_fts(["folded"], tokenize=FTS_TOKENIZER)
    db.close()


def adopt_copied_index(data_dir: Path) -> None:
    """Turn an `index` that is a directory (a data dir restored by `cp -rL` or `scp -r`, which
    copy the link's target in its place) back into a link to an index directory.

    A new index replaces the link atomically; a directory cannot be replaced that way.
    """
    current = data_dir / CURRENT
    if current.is_symlink() or not current.is_dir():
        return
    adopted = data_dir / f"{CURRENT}-copied-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    current.rename(adopted)
    current.symlink_to(adopted.name)
    logger.warning("%s was a directory, not a link (a copy?): it is now %s", current, adopted.name)


def write_error(error: Exception) -> str:
    """Return why a write failed in a few words: a full disk as such, else the first line."""
    if getattr(error, "errno", None) == errno.ENOSPC or "space left" in str(error):
        return "no space left on device"
    if "disk is full" in str(error):
        return "the disk is full"
    return first_line(error)


def keyword_text(text: str) -> str:
    """Return what the keyword index holds for a passage: its folded text, and for each
    Russian or Kazakh word its stems and Latin forms (`index.languages`)."""
    folded = fold(text)
    extra = index_terms(words(folded))
    return f"{folded} {' '.join(extra)}" if extra else folded


def vector_file(model: int) -> str:
    """The file holding the vectors of the index's model number `model`."""
    return VECTORS if model == 0 else f"vectors-{model}.faiss"


def vector_index(vectors: np.ndarray):
    """Return a FAISS inner-product index holding `vectors` and its description.

    Exact search up to EXACT_LIMIT vectors; beyond it an inverted file with 8-bit scalar
    quantisation: a quarter of the memory, and a search that scans only NPROBE of its lists.
    """
    import faiss
    import numpy as np

    count, dimension = vectors.shape
    if count <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        return index, "IndexFlatIP"
    lists = int(4 * count**0.5)
    kind = f"IVF{lists},SQ8"
    index = faiss.index_factory(dimension, kind, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, 64 * lists), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    return index, kind


def remove_stale(data_dir: Path, keep: set[str] | None = None) -> None:
    """Delete leftovers of interrupted builds and, given `keep`, the index directories not in it.

    Call it only while holding the build lock.
    """
    for path in data_dir.iterdir():
        if path.name == CURRENT or path.name in (keep or ()):
            continue
        if path.name.startswith((".staging-", f".{CURRENT}-")) or (
            keep is not None and path.name.startswith(f"{CURRENT}-") and path.is_dir()
        ):
            if path.is_symlink() or path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path, ignore_errors=True)


def copy_index(data_dir: Path, dest: Path) -> dict:
    """Copy the current index of `data_dir` into `dest` as its current index; return its manifest.

    The copy is owner-only. Call it while holding the build lock (`index.build.build_lock`),
    so that no build replaces or removes the index being copied.
    """
    manifest = read_manifest(data_dir)
    source = (data_dir / CURRENT).resolve()
    target = dest / (source.name if source.name != CURRENT else f"{CURRENT}-{manifest['build_id']}")
    shutil.copytree(source, target)
    for path in [target, *target.iterdir()]:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    (dest / CURRENT).symlink_to(target.name)
    return manifest


# A stored passage's fields as `index.passages.Passage` takes them, after its row number: what
# `reusable` reads back from an older index of either backend.
PASSAGE_FIELDS = 'id, doc_id, paragraph, part, section, start, "end", text, heading, page'


def reusable(
    manifest: dict,
    models: list[str],
    passage_rows: Callable[[], list[tuple]],
    vectors_of: Callable[[int], Mapping[int, np.ndarray] | np.ndarray],
) -> list[dict[str, np.ndarray]]:
    """Return, per model, the vectors of the index that `manifest` describes when it is of an
    older format that this version would compute the same (see VECTORS_VALID_SINCE), by the
    text they embed; each dict empty when nothing can be reused (the current format, other
    models, a model's input changed since). The passages (`passage_rows`: PASSAGE_FIELDS) and
    a model's vectors by row (`vectors_of`) are read only when they are reused: for files,
    `reusable_vectors`; for the database, `index.postgres.reusable_vectors`."""
    from index.passages import Passage

    found: list[dict] = [{} for _ in models]
    old = manifest["format_version"]
    if manifest["models"] != models or not min(VECTORS_VALID_SINCE) <= old < FORMAT_VERSION:
        return found
    keys = {row[0]: Passage(*row[1:]).search_text for row in passage_rows()}
    for number, since in enumerate(VECTORS_VALID_SINCE[: len(models)]):
        if old >= since:
            vectors = vectors_of(number)
            found[number] = {key: vectors[row] for row, key in keys.items()}
    return found


def reusable_vectors(data_dir: Path, models: list[str]) -> list[dict[str, np.ndarray]]:
    """`reusable` for the index in files of `data_dir`; nothing when there is none, its layout
    is older than a vector file per model, or a file cannot be read."""
    import faiss

    directory = (data_dir / CURRENT).resolve()

    def passage_rows() -> list[tuple]:
        with sqlite3.connect(f"file:{directory / DATABASE}?mode=ro", uri=True) as db:
            return db.execute(f"select {PASSAGE_FIELDS} from passages").fetchall()

    def vectors_of(number: int) -> np.ndarray:
        index = faiss.read_index(str(directory / vector_file(number)))
        if manifest.get("faiss_index", "").startswith("IVF"):
            faiss.extract_index_ivf(index).make_direct_map()
        return index.reconstruct_n(0, index.ntotal)

    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        return reusable(manifest, models, passage_rows, vectors_of)
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError, sqlite3.Error):
        return [{} for _ in models]


def format_version(data_dir: Path) -> int | None:
    """Return the format version of the current index (None: no index, or not readable)."""
    try:
        version = json.loads((data_dir / CURRENT / MANIFEST).read_text(encoding="utf-8"))
        return version["format_version"] if isinstance(version["format_version"], int) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_manifest(data_dir: Path) -> dict:
    """Return the manifest of the current index.

    Raises:
        ArchiveError: there is no index, or its manifest is unreadable.
    """
    path = data_dir / CURRENT / MANIFEST
    if not path.exists():
        raise ArchiveError(f"no index in {data_dir}: run `archive-bot index` to build it")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["format_version"], manifest["models"], manifest["passages"]  # noqa: B018
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ArchiveError(f"the index manifest {path} is unreadable: {REBUILD_HINT}") from error
    if manifest["format_version"] != FORMAT_VERSION:
        raise ArchiveError(
            f"the index in {data_dir} has format version {manifest['format_version']}, "
            f"this archive-bot reads version {FORMAT_VERSION}: {REBUILD_HINT}"
        )
    return manifest


def database_url() -> str | None:
    """The PostgreSQL database holding the index (`index.postgres`), None for files."""
    return value("ARCHIVE_BOT_DATABASE_URL") or None


def current_manifest(data_dir: Path) -> dict:
    """Return the manifest of the current index: in the database when one is configured,
    else in `data_dir` (ArchiveError as `read_manifest`)."""
    if (url := database_url()) is None:
        return read_manifest(data_dir)
    from index.postgres import read_manifest as read_database_manifest

    return read_database_manifest(url)


def open_index(data_dir: Path) -> IndexStore | PostgresStore:
    """Load the current index: from the database when one is configured, else from `data_dir`
    (which holds the query log and the calibration either way)."""
    if (url := database_url()) is None:
        return IndexStore(data_dir)
    from index.postgres import PostgresStore

    return PostgresStore(url, data_dir)


class IndexStore:
    """A read-only, loaded index: FAISS vectors in memory, passages in SQLite.

    Safe to use from several threads.
    """

    def __init__(self, data_dir: Path) -> None:
        """Load the current index of `data_dir`.

        Raises:
            ArchiveError: the index is missing, of another format, or damaged.
        """
        import faiss

        self.data_dir = data_dir
        self.manifest = read_manifest(data_dir)
        directory = (data_dir / CURRENT).resolve()
        try:
            self.indexes = [
                faiss.read_index(str(directory / vector_file(number)))
                for number in range(len(self.manifest["models"]))
            ]
            if self.manifest.get("faiss_index", "").startswith("IVF"):
                for index in self.indexes:
                    ivf = faiss.extract_index_ivf(index)
                    ivf.nprobe = NPROBE
                    ivf.make_direct_map()  # reconstruct() for keyword-only candidates, reuse
            uri = f"file:{directory / DATABASE}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            stored = self._db.execute("select count(*) from passages").fetchone()[0]
            if (problem := self.check()) is not None:
                raise sqlite3.DatabaseError(problem)
        except (RuntimeError, sqlite3.Error) as error:
            raise ArchiveError(
                f"the index in {data_dir} is damaged ({error}): {REBUILD_HINT}"
            ) from error
        vector_counts = {index.ntotal for index in self.indexes}
        if vector_counts != {stored} or stored != self.manifest["passages"]:
            raise ArchiveError(
                f"the index in {data_dir} is inconsistent ({sorted(vector_counts)} vectors, "
                f"{stored} passages): {REBUILD_HINT}"
            )
        self._lock = threading.Lock()

    def latest_build(self) -> str:
        """The build id of the data dir's current index now (a build may have replaced it)."""
        return read_manifest(self.data_dir)["build_id"]

    def background(self) -> np.ndarray | None:
        """Return the stored vectors of the background texts (`index.answerable`); None when
        this index was built before they were stored, from other texts, or its file is
        damaged."""
        import numpy as np

        if self.manifest.get("background") != background_key():
            return None
        try:
            vectors = np.load((self.data_dir / CURRENT).resolve() / BACKGROUND)
        except (OSError, ValueError, EOFError) as error:
            logger.warning("the index's %s cannot be read (%s)", BACKGROUND, error)
            return None
        expected = (len(background_texts()), (self.manifest.get("dimensions") or [None])[-1])
        if vectors.dtype != np.float32 or vectors.shape != expected:
            logger.warning("the index's %s holds other vectors than expected", BACKGROUND)
            return None
        return vectors

    def check(self) -> str | None:
        """Return what is wrong with the database's file (None when it is sound).

        SQLite's quick_check reads every page once (see BENCHMARKS.md for its cost at scale):
        a file damaged in the middle is found before any question meets it.
        """
        try:
            result = self._db.execute("pragma quick_check(1)").fetchone()[0]
        except sqlite3.DatabaseError as error:
            return str(error)
        return None if result == "ok" else " ".join(result.split())

    def _query(self, sql: str, parameters: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def dense(
        self, vectors: np.ndarray, limit: int, model: int = 0
    ) -> list[list[tuple[int, float]]]:
        """Return, per query vector of model number `model`, up to `limit` (row, cosine
        similarity) pairs, best first."""
        index = self.indexes[model]
        scores, rows = index.search(vectors, min(limit, index.ntotal))
        return [
            [(int(r), float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
            for row, score in zip(rows, scores, strict=True)
        ]

    def keyword(self, keywords: Keywords, limit: int) -> list[tuple[int, float]]:
        """Return up to `limit` (row, BM25 score) pairs for a keyword query, best first."""
        rows = self._query(
            "select rowid, -bm25(passages_fts) as score from passages_fts "
            "where passages_fts match ? order by score desc, rowid limit ?",
            (keywords.fts5(), limit),
        )
        return [(row["rowid"], row["score"]) for row in rows]

    def holds(self, keywords: Keywords) -> bool:
        """Whether any passage matches a keyword query (nothing is scored)."""
        return bool(self._query("select 1 from passages_fts where passages_fts match ? limit 1",
                                (keywords.fts5(),)))  # fmt: skip

    def passages(self, rows: list[int]) -> dict[int, StoredPassage]:
        """Return the passages stored at `rows`, with their documents' metadata."""
        found = self._query(
            "select p.*, d.title, d.author, d.date, d.source from passages p "
            f"join documents d on d.id = p.doc_id where p.id in ({','.join('?' * len(rows))})",
            rows,
        )
        return {row["id"]: stored_passage(row) for row in found}

    def paragraph(self, doc_id: str, paragraph: int, max_parts: int = 3) -> StoredPassage | None:
        """Return one paragraph as a single passage (None when there is no such paragraph).

        A paragraph split into parts is returned from its first part to the end of part
        `max_parts` at most: a verbatim slice of bounded length, however long the paragraph.
        """
        found = self._query(
            "select p.*, d.title, d.author, d.date, d.source from passages p "
            "join documents d on d.id = p.doc_id where p.doc_id = ? and p.paragraph = ? "
            "order by p.part limit ?",
            (doc_id, paragraph, max_parts),
        )
        if not found:
            return None
        first, last = stored_passage(found[0]), stored_passage(found[-1])
        if len(found) == 1:
            return first
        text = self.document_slice(doc_id, first.start, last.end)
        return replace(first, end=last.end, text=text)

    def term_count(self) -> int:
        """Return how many distinct words the keyword index holds."""
        return self._query("select count(*) as n from terms")[0]["n"]

    def terms(self) -> list[str]:
        """Return every distinct word of the keyword index."""
        return [row["term"] for row in self._query("select term from terms")]

    def names(self) -> list[str]:
        """Return the names the passages write with a capital (`index.names`)."""
        return [row["name"] for row in self._query("select name from names")]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """Return how many passages hold each of `terms` (folded words), if indexed."""
        if not terms:
            return {}
        rows = self._query(
            f"select term, df from terms where term in ({','.join('?' * len(terms))})", terms
        )
        return {row["term"]: row["df"] for row in rows}

    def passage(self, passage_id: str) -> StoredPassage | None:
        """Return the passage with this stable id, or None when the index has no such passage.

        `<document id>#card` is the document's catalogue card (see `card`).
        """
        if passage_id.endswith(CARD_ID):
            doc_id = passage_id.removesuffix(CARD_ID)
            return next((card(d) for d in self.documents() if d["id"] == doc_id), None)
        found = self._query(
            "select p.*, d.title, d.author, d.date, d.source from passages p "
            "join documents d on d.id = p.doc_id where p.passage_id = ?",
            (passage_id,),
        )
        return stored_passage(found[0]) if found else None

    def passage_ids_with_text(self, text: str) -> list[str]:
        """Return the ids of the passages whose text is exactly `text`, in index order."""
        rows = self._query("select passage_id from passages where text = ? order by id", [text])
        return [row["passage_id"] for row in rows]

    def documents(self) -> list[dict]:
        """Return every document's metadata, hash and passage count (not its text)."""
        rows = self._query(
            "select id, title, author, date, source, note, language, sha256, passages, "
            "catalogue_id from documents order by id"
        )
        return [dict(row) for row in rows]

    def document(self, doc_id: str) -> Document:
        """Return the document `doc_id` as it was indexed: text, metadata and hash."""
        from index.documents import METADATA_FIELDS, Document  # the readers: only a build's

        (row,) = self._query(
            f"select id, text, sha256, catalogue_id, {', '.join(METADATA_FIELDS)} from documents "
            "where id = ?",
            (doc_id,),
        )
        return Document(**dict(row))

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        """Return `text[start:end]` of the document `doc_id`, without reading all of it."""
        query = "select substr(text, ?, ?) as part from documents where id = ?"
        return self._query(query, (start + 1, end - start, doc_id))[0]["part"]

    def passages_of(self, doc_ids: list[str]) -> list[StoredPassage]:
        """Return every passage of the given documents, in index order."""
        found = self._query(
            "select p.*, d.title, d.author, d.date, d.source from passages p join documents d "
            f"on d.id = p.doc_id where p.doc_id in ({','.join('?' * len(doc_ids))}) order by p.id",
            doc_ids,
        )
        return [stored_passage(row) for row in found]

    def documents_of(self, rows: list[int]) -> dict[int, str]:
        """Return the document id of each of `rows`."""
        found = self._query(
            f"select id, doc_id from passages where id in ({','.join('?' * len(rows))})", rows
        )
        return {row["id"]: row["doc_id"] for row in found}

    def cyrillic(self, rows: list[int]) -> set[int]:
        """Return which of `rows` hold passages written mostly in Cyrillic letters."""
        found = self._query(
            f"select id from passages where cyrillic and id in ({','.join('?' * len(rows))})",
            rows,
        )
        return {row["id"] for row in found}

    def vectors(self, rows: list[int], model: int = 0) -> np.ndarray:
        """Return the vectors of model number `model` stored at `rows`."""
        import numpy as np

        index = self.indexes[model]
        if not rows:
            return np.zeros((0, index.d), dtype=np.float32)
        return index.reconstruct_batch(np.asarray(rows, dtype=np.int64))


def stored_passage(row: sqlite3.Row | dict) -> StoredPassage:
    """A passage read back from a row of either backend's passages joined with documents."""
    return StoredPassage(
        row=row["id"],
        passage_id=row["passage_id"],
        paragraph=row["paragraph"],
        part=row["part"],
        section=row["section"],
        heading=row["heading"],
        page=row["page"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
        document={k: row[k] for k in ("title", "author", "date", "source")} | {"id": row["doc_id"]},
        scanned=bool(row["scanned"]),
    )
