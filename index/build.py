"""Building the index from the corpus, re-embedding only what changed.

    corpus/ files -> documents -> passages -> vectors -> index store (atomically replaced)

A document whose content hash (text and metadata) is the one recorded in the current index keeps
its passages and vectors, and so does one whose metadata alone changed; added and changed
documents are split, and only passages whose text is new are embedded (a renamed or moved
file, whose text is a removed document's, embeds nothing); removed ones are dropped; a
document whose file cannot be read any more keeps its indexed version.
`full=True`, another model or an unreadable old index rebuild everything.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from index.answerable import background_vectors
from index.documents import (
    CATALOGUE,
    Document,
    Problem,
    ProgressFactory,
    load_corpus,
    printable,
    with_entry,
)
from index.embed import DEFAULT_MODEL, MULTILINGUAL_MODEL, Embedder, load_embedder
from index.errors import ArchiveError
from index.passages import Passage, split_passages
from index.readers import FORMATS
from index.store import (
    CURRENT,
    FORMAT_VERSION,
    REBUILD_HINT,
    IndexStore,
    StoredPassage,
    current_manifest,
    database_url,
    format_version,
    open_index,
    remove_stale,
    reusable_vectors,
    write_index,
)

if TYPE_CHECKING:
    from index.postgres import PostgresStore

logger = logging.getLogger(__name__)

LOCK = "index.lock"


@dataclass
class BuildReport:
    """What a build did: the summary that `archive-bot index --json` prints."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    metadata_changed: list[str] = field(default_factory=list)  # nothing re-embedded
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (before, after), same text
    unchanged: int = 0
    passages_embedded: int = 0
    passages_total: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "added": self.added,
            "changed": self.changed,
            "metadata_changed": self.metadata_changed,
            "removed": self.removed,
            "renamed": [{"from": before, "to": after} for before, after in self.renamed],
            "unchanged": self.unchanged,
            "passages_embedded": self.passages_embedded,
            "passages_total": self.passages_total,
            "seconds": round(self.seconds, 3),
            "unreadable": [{"id": p.path, "reason": p.reason} for p in self.problems],
            "skipped": [{"id": p.path, "reason": p.reason} for p in self.skipped],
        }


def lock_file(data_dir: Path, name: str) -> TextIO:
    """Open (or create) the lock file `name` of a data dir, making the data dir first (0700:
    the query log lives there too).

    Raises:
        ArchiveError: the data dir cannot be written (a read-only file system, a file in its
            place).
    """
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return open(data_dir / name, "a")  # the caller holds it while it works
    except OSError as error:
        raise ArchiveError(f"cannot write in {data_dir}: {error.strerror or error}") from None


@contextmanager
def build_lock(data_dir: Path, wait: bool = False, url: str | None = None) -> Iterator[None]:
    """Hold the data dir's build lock, and the database's at `url` if given (builds on other
    machines); if another build holds one, wait or fail at once.

    Raises:
        ArchiveError: another build runs (and `wait` is false), or the data dir cannot be
            written.
    """
    with lock_file(data_dir, LOCK) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise ArchiveError(
                    f"another `archive-bot index` is running on {data_dir}; wait for it to "
                    "finish, or pass --wait"
                ) from None
            logger.warning("another `archive-bot index` is running; waiting for it to finish")
            fcntl.flock(file, fcntl.LOCK_EX)
        if url is None:
            yield
            return
        from index import postgres

        with postgres.build_lock(url, wait):
            yield


def _previous(data_dir: Path, models: list[str], full: bool) -> IndexStore | PostgresStore | None:
    """Return the current index when its passages can be reused, else None."""
    url = database_url()
    if full or (url is None and not (data_dir / CURRENT).exists()):
        return None
    if url is not None:
        from index import postgres

        if (build := postgres.current_build(url)) is None:
            return None
        version, place = build["manifest"].get("format_version"), postgres.where(url)
    else:
        version, place = format_version(data_dir), data_dir
    if version not in (None, FORMAT_VERSION):
        logger.warning(
            "the index in %s has format version %s, this version reads %s: rebuilding it, "
            "keeping every stored vector this version computes the same", place, version,
            FORMAT_VERSION,
        )  # fmt: skip
        return None
    try:
        if current_manifest(data_dir)["models"] != models:
            logger.warning("the index was built with other models; rebuilding everything")
            return None
        return open_index(data_dir)
    except ArchiveError as error:
        logger.warning("rebuilding everything: %s", str(error).removesuffix(f": {REBUILD_HINT}"))
        return None


def build_index(
    corpus_dir: Path,
    data_dir: Path,
    *,
    model: str = DEFAULT_MODEL,
    full: bool = False,
    dry_run: bool = False,
    embedder: Embedder | None = None,
    progress: ProgressFactory | None = None,
    wait: bool = False,
) -> BuildReport:
    """Build or update the index of `corpus_dir` in `data_dir`.

    Args:
        corpus_dir: the archive's documents.
        data_dir: where the index lives.
        model: the primary model's name (ignored when `embedder` is given); the index holds
            the multilingual model's vectors too.
        full: re-embed every document even when it did not change.
        dry_run: only report what would change; write nothing.
        embedder: the primary model, already loaded; else loaded when something needs it.
        progress: makes the callbacks that report reading and embedding progress.
        wait: when another build is running, wait for it instead of failing (the corpus is
            read after it has finished, so this build sees every change).

    Returns:
        What changed, with the files that could not be read in `problems`.

    Raises:
        ArchiveError: the corpus is missing or empty, or another build is running.
    """
    started = time.perf_counter()
    models = [embedder.name if embedder else model, MULTILINGUAL_MODEL]
    url = database_url()
    with build_lock(data_dir, wait, url):
        documents, problems, examples, skipped, orphans = load_corpus(corpus_dir, progress=progress)
        if not documents:
            raise ArchiveError(
                f"no readable documents ({', '.join(sorted(FORMATS))}) in {corpus_dir}"
            )
        report = BuildReport(problems=problems, skipped=skipped)
        if url is None:
            remove_stale(data_dir)  # what a killed build left behind
        previous = _previous(data_dir, models, full)
        documents, keep, fresh = _compare(previous, documents, orphans, report)
        unchanged = previous and not fresh and not report.metadata_changed and not report.removed
        unchanged = unchanged and previous.manifest.get("examples") == examples
        # An index without the background texts' vectors (built before they were stored, from
        # other texts, or with a damaged file) is written anew with them; its passages'
        # vectors are kept.
        background = previous.background() if previous else None
        if dry_run or (unchanged and background is not None):
            report.passages_total = previous.manifest["passages"] if previous else 0
            report.seconds = time.perf_counter() - started
            return report
        # An index of an older format: its vectors this version would compute the same.
        reuse = []
        if previous is None and not full:
            if url is None:
                reuse = reusable_vectors(data_dir, models)
            else:
                from index import postgres

                reuse = postgres.reusable_vectors(url, models)
        passages, vectors, report.passages_embedded = _passages_and_vectors(
            previous, keep, fresh, report, models, embedder, reuse, progress
        )
        order = sorted(range(len(passages)), key=lambda i: passages[i].sort_key)
        index = (
            documents,
            [passages[i] for i in order],
            [v[order] for v in vectors],
            models,
            examples,
            background if background is not None else background_vectors(
                load_embedder(MULTILINGUAL_MODEL)
            ),
        )  # fmt: skip
        if url is None:
            write_index(data_dir, *index)
        else:
            from index import postgres

            postgres.write_index(url, *index)
    report.passages_total = len(passages)
    report.seconds = time.perf_counter() - started
    return report


def transfer_index(data_dir: Path, url: str, into_database: bool) -> dict:
    """Copy the current index as it is (no model runs) from `data_dir`'s files into the
    database at `url`, or back; return the manifest of the copy, which becomes the current
    index there.

    Raises:
        ArchiveError: there is no index to copy, a build is running, or the copy failed (the
            destination's index is then unchanged).
    """
    from index import postgres

    with build_lock(data_dir, url=url):
        source = IndexStore(data_dir) if into_database else postgres.PostgresStore(url, data_dir)
        documents = [source.document(d["id"]) for d in source.documents()]
        stored = source.passages_of([d.id for d in documents]) if documents else []
        models = source.manifest["models"]
        rows = [s.row for s in stored]
        background = source.background()
        index = (
            documents,
            [_passage(s) for s in stored],
            [source.vectors(rows, number) for number in range(len(models))],
            models,
            source.manifest.get("examples", {}),
            background if background is not None else background_vectors(
                load_embedder(MULTILINGUAL_MODEL)
            ),
        )  # fmt: skip
        if into_database:
            return postgres.write_index(url, *index)
        return write_index(data_dir, *index)


def _compare(
    previous: IndexStore | PostgresStore | None,
    documents: list[Document],
    orphans: dict[str, dict],
    report: BuildReport,
) -> tuple[list[Document], list[Document], list[Document]]:
    """Compare the corpus's `documents` with the `previous` index: fill `report` (added,
    changed, renamed, metadata changed, removed, unchanged) and return the documents of the
    new index, those whose passages and vectors are kept, and those to split and embed."""
    problems = report.problems
    indexed = previous.documents() if previous else []
    old = {d["id"]: d["sha256"] for d in indexed}
    # A file that can no longer be read keeps the version the index has: a failing disk
    # or a half-copied file must not take a document out of the archive.
    for number, problem in enumerate(problems):
        if problem.path in old:
            documents.append(previous.document(problem.path))
            problems[number] = replace(
                problem, reason=f"{problem.reason}; the index keeps its previous version"
            )
    removed = sorted(set(old) - {d.id for d in documents})
    # A file moved or renamed: its text is that of a removed document (nothing re-embedded).
    texts = {previous.document(doc_id).text: doc_id for doc_id in removed}
    report.renamed = [
        (texts[d.text], d.id) for d in documents if d.id not in old and d.text in texts
    ]
    renamed = dict(report.renamed)
    # A file keeps the meaning of the catalogue entry it was indexed under (renamed, that
    # of its old path) while that entry names no file: until the entry is moved.
    described = {d["id"]: d["catalogue_id"] for d in indexed}
    described |= {after: described.get(before) or before for before, after in report.renamed}
    documents = [
        with_entry(d, source, orphans[source]) if (source := described.get(d.id)) in orphans else d
        for d in documents
    ]
    for document in documents:
        if document.catalogue_id:
            logger.warning(
                "%s: %s is described by the entry [%s] (renamed): rename that table to [%s]",
                CATALOGUE, printable(document.id),
                json.dumps(printable(document.catalogue_id), ensure_ascii=False),
                json.dumps(printable(document.id), ensure_ascii=False),
            )  # fmt: skip
    fresh = [d for d in documents if old.get(d.id) != d.sha256]
    # A document whose text is the indexed one changed its metadata only: its passages
    # and vectors stay, the new metadata is written with them.
    retagged = {d.id for d in fresh if d.id in old and previous.document(d.id).text == d.text}
    keep = [d for d in documents if old.get(d.id) == d.sha256 or d.id in retagged]
    fresh = [d for d in fresh if d.id not in retagged]
    report.added = [d.id for d in fresh if d.id not in old and d.id not in renamed.values()]
    report.changed = [d.id for d in fresh if d.id in old]
    report.metadata_changed = sorted(retagged)
    report.removed = [doc_id for doc_id in removed if doc_id not in renamed]
    report.unchanged = len(keep) - len(retagged)
    return documents, keep, fresh


def _passages_and_vectors(
    previous: IndexStore | PostgresStore | None,
    keep: list[Document],
    fresh: list[Document],
    report: BuildReport,
    models: list[str],
    embedder: Embedder | None,
    reuse: list,
    progress: ProgressFactory | None,
) -> tuple[list[Passage], list, int]:
    """Return the new index's passages, unordered, with their vectors per model, and how many
    passages were embedded: those of `keep` as `previous` holds them, those of `fresh` split
    anew, embedded only where their text was not indexed before."""
    import numpy as np

    kept = previous.passages_of([d.id for d in keep]) if previous and keep else []
    passages = [_passage(s) for s in kept]
    rows = [s.row for s in kept]
    new: list[Passage] = []
    if fresh:
        primary = embedder or load_embedder(models[0])
        # In a changed or renamed document, a passage whose text was indexed before keeps
        # its vectors (a vector depends on the text alone).
        earlier = report.changed + [before for before, _ in report.renamed]
        stored = previous.passages_of(earlier) if previous and earlier else []
        known = {_passage(s).search_text: s.row for s in stored}
        for document in fresh:
            for passage in split_passages(document, primary.count_tokens, primary.max_tokens):
                row = known.get(passage.search_text)
                if row is None:
                    new.append(passage)
                else:
                    passages.append(passage)
                    rows.append(row)
    vectors = [previous.vectors(rows, n) for n in range(len(models))] if previous else None
    embedded = 0
    if new:
        new_vectors, embedded = _embed(new, models, primary, reuse, progress)
        vectors = new_vectors if vectors is None else [
            np.vstack(pair) for pair in zip(vectors, new_vectors, strict=True)
        ]  # fmt: skip
    return passages + new, vectors, embedded


def upgrade_index(
    corpus_dir: Path, data_dir: Path, model: str = DEFAULT_MODEL
) -> BuildReport | None:
    """Rebuild an index of another format version, as `archive-bot index` would; return its
    report (None: the index is of this version, or there is none).

    What an upgrade of archive-bot needs before the bot can start: every stored vector this
    version would compute the same is kept (`reusable_vectors`), so only what the format
    change touched is embedded.

    Raises:
        ArchiveError: the rebuild failed (no corpus, say); the old index is left as it was.
    """
    if format_version(data_dir) in (None, FORMAT_VERSION):
        return None
    return build_index(corpus_dir, data_dir, model=model, wait=True)


def _embed(
    new: list[Passage],
    models: list[str],
    primary: Embedder,
    reuse: list[dict],
    progress: ProgressFactory | None,
) -> tuple[list, int]:
    """Return each model's vectors of the `new` passages, and how many passages were encoded.

    A vector that an index of an older format holds for the same text (`reuse`, see
    `index.store.reusable_vectors`) is taken as it is; the rest are encoded.
    """
    import numpy as np

    known = reuse or [{} for _ in models]
    missing = [[i for i, p in enumerate(new) if p.search_text not in k] for k in known]
    bar = progress("Embedding", sum(map(len, missing))) if progress and any(missing) else None
    result = []
    for number, (name, vectors, todo) in enumerate(zip(models, known, missing, strict=True)):
        encoded = None
        if todo:
            embedder = primary if number == 0 else load_embedder(name)
            encoded = embedder.encode([new[i].search_text for i in todo], bar)
        dimension = encoded.shape[1] if encoded is not None else len(next(iter(vectors.values())))
        matrix = np.empty((len(new), dimension), dtype=np.float32)
        for i, passage in enumerate(new):
            if passage.search_text in vectors:
                matrix[i] = vectors[passage.search_text]
        if encoded is not None:
            matrix[todo] = encoded
        result.append(matrix)
    reused = len(new) - len(set().union(*missing))
    if reuse and reused:
        logger.info("reused the vectors of %d passages from the index of an older format", reused)
    return result, len(set().union(*missing))


def _passage(stored: StoredPassage) -> Passage:
    """Return a passage read back from the index as the `Passage` it was built from."""
    return Passage(
        stored.document["id"],
        stored.paragraph,
        stored.part,
        stored.section,
        stored.start,
        stored.end,
        stored.text,
        stored.heading,
        stored.page,
        stored.scanned,
    )
