"""Hybrid search: dense (FAISS) and keyword (FTS5 BM25) candidates, fused, merged, decided.

question -> fold -> embedding + keyword query -> candidates -> fused ranking
         -> neighbouring parts merged -> top k hits + `found`
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from index.embed import DEFAULT_MODEL, Embedder, load_embedder
from index.errors import ArchiveError
from index.normalize import tokens
from index.passages import sentence_spans
from index.store import IndexStore, StoredPassage, read_manifest

Mode = Literal["hybrid", "dense", "keyword"]
Fusion = Literal["weighted", "rrf"]

CANDIDATES = 50  # from each retriever, before fusion
# Query words held by more than this share of the passages (and by more than COMMON_MIN
# passages) are left out of the keyword search: see Searcher.telling_words.
COMMON_SHARE = 0.05
COMMON_MIN = 1000
RRF_K = 60
# Parts of one paragraph among the hits are quoted as one, up to this many characters (a
# Telegram message holds 4,096); beyond it each part stays a quote of its own, so the work
# per answer is bounded by what is shown, however long the paragraph.
MERGED_LIMIT = 6000
DENSE_WEIGHT = 0.8  # weighted fusion: share of the cosine similarity against normalised BM25
# When the archive is taken to answer a question (calibrated on the question sets, see
# BENCHMARKS.md: in-scope questions reach a cosine similarity of 0.33-0.77, unrelated ones
# 0.00-0.22, and one-letter gibberish up to 0.30):
FOUND_SIMILARITY = 0.40  # close in meaning, whatever the words;
FOUND_WITH_KEYWORDS = 0.25  # or fairly close and sharing a word with a keyword hit;
FOUND_WORD_LENGTH = 3  # or one passage holds every content word of this length or more.

# Words that carry no topic: kept out of the keyword query so that "what is the" matches nothing.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves s t d ll m re ve
    """.split()
)


@dataclass(frozen=True)
class Hit:
    """One passage returned for a question."""

    passage: StoredPassage
    score: float  # the fused score that ranks the hits
    similarity: float  # cosine similarity of question and passage
    best_sentence: tuple[int, int] | None = None  # offsets in passage.text, for highlighting


@dataclass(frozen=True)
class SearchResult:
    """The answer to one question: ranked hits and whether they really answer it."""

    query: str
    found: bool
    hits: list[Hit]


def content_words(query: str, min_length: int = 1) -> list[str]:
    """Return the distinct folded words of `query` that are not stopwords."""
    return list(
        dict.fromkeys(t for t in tokens(query) if t not in STOPWORDS and len(t) >= min_length)
    )


def match_expression(words: list[str], operator: Literal["OR", "AND"] = "OR") -> str:
    """Return the FTS5 MATCH expression for `words` ("" when there are none)."""
    return f" {operator} ".join(f'"{word}"' for word in words)


def best_sentence(text: str, query: str) -> tuple[int, int] | None:
    """Return the span of the sentence of `text` that shares most content words with `query`.

    Words match on their first five letters (a cheap stem: "extradite" ~ "extradition").
    None when no sentence shares a word, or the text is a single sentence.
    """
    wanted = {t[:5] for t in tokens(query) if t not in STOPWORDS}
    spans = sentence_spans(text)
    if not wanted or len(spans) < 2:
        return None
    overlaps = [len(wanted & {t[:5] for t in tokens(text[s:e])}) for s, e in spans]
    best = max(range(len(spans)), key=lambda i: (overlaps[i], -i))
    return spans[best] if overlaps[best] else None


class Searcher:
    """Answers questions from one loaded index with one loaded model."""

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        if store.manifest["model"] != embedder.name:
            raise ArchiveError(
                f"the index was built with the model {store.manifest['model']!r}, not "
                f"{embedder.name!r}: run `archive-bot index --full` to rebuild it"
            )
        self.store = store
        self.embedder = embedder

    @classmethod
    def open(cls, data_dir: Path, model: str = DEFAULT_MODEL) -> Searcher:
        """Load the index of `data_dir` and the model; fail fast, before the slow model load.

        Raises:
            ArchiveError: the index is missing, damaged, or built with another model.
        """
        built_with = read_manifest(data_dir)["model"]
        if built_with != model:
            raise ArchiveError(
                f"the index in {data_dir} was built with the model {built_with!r}, not "
                f"{model!r}: run `archive-bot index --full` to rebuild it"
            )
        store = IndexStore(data_dir)
        return cls(store, load_embedder(model))

    def search(
        self, query: str, top_k: int = 3, mode: Mode = "hybrid", fusion: Fusion = "weighted"
    ) -> SearchResult:
        """Return the `top_k` best passages for `query`.

        Args:
            query: the question as the asker wrote it.
            top_k: how many hits to return.
            mode: "hybrid" fuses both retrievers; "dense" and "keyword" use one (for benchmarks).
            fusion: "weighted" (cosine plus normalised BM25) or "rrf" (reciprocal rank fusion).
        """
        vector = self.embedder.encode_query(query)
        dense = self.store.dense(vector, CANDIDATES)[0] if mode != "keyword" else []
        match = match_expression(self.telling_words(query)) if mode != "dense" else ""
        keyword = self.store.keyword(match, CANDIDATES) if match else []
        rows = list(dict.fromkeys([row for row, _ in dense] + [row for row, _ in keyword]))
        if not rows:
            return SearchResult(query, False, [])
        similarity = dict(zip(rows, (self.store.vectors(rows) @ vector[0]).tolist(), strict=True))
        by_similarity = sorted(similarity.items(), key=lambda item: -item[1])
        scores = _fuse(by_similarity if mode != "keyword" else [], keyword, fusion)
        ranked = sorted(rows, key=lambda row: (-scores[row], row))
        passages = self.store.passages(ranked[: top_k * 3])
        hits = [Hit(passages[row], scores[row], similarity[row]) for row in ranked[: top_k * 3]]
        hits = [
            replace(hit, best_sentence=best_sentence(hit.passage.text, query))
            for hit in self._merge_neighbours(hits)[:top_k]
        ]
        found = self._found(query, max(similarity.values()), bool(keyword))
        return SearchResult(query, found, hits)

    def _found(self, query: str, similarity: float, keyword_hit: bool) -> bool:
        """Whether the archive answers `query`, given the best similarity and keyword hits.

        A bare name ("Tokaev", "WATCH") is a fair question with a low similarity: it counts
        when one passage holds all its words.
        """
        if similarity >= FOUND_SIMILARITY or (similarity >= FOUND_WITH_KEYWORDS and keyword_hit):
            return True
        every_word = match_expression(content_words(query, FOUND_WORD_LENGTH), "AND")
        return bool(every_word) and self.store.holds(every_word)

    def telling_words(self, query: str) -> list[str]:
        """Return the content words of `query`, without those common in a large archive.

        FTS5 scores every passage that holds a query word; a word found in a large share of a
        large archive costs the most and tells the least. When every word is common, none is
        left: dense search alone ranks the question (scoring even the rarest of them took the
        p95 at a million passages to 314 ms, BENCHMARKS.md).
        """
        words = content_words(query)
        limit = max(COMMON_MIN, COMMON_SHARE * self.store.manifest["passages"])
        if self.store.manifest["passages"] <= limit:
            return words  # no word can be held by more passages than there are
        frequencies = self.store.document_frequencies(words)
        return [w for w in words if frequencies.get(w, 0) <= limit]

    def _merge_neighbours(self, hits: list[Hit]) -> list[Hit]:
        """Merge hits that are parts of one paragraph into one quote; drop repeated texts.

        Parts too far apart to merge within MERGED_LIMIT characters stay separate quotes.
        """
        merged: list[Hit] = []
        seen_texts: set[str] = set()
        for hit in hits:
            p = hit.passage
            twin = next(
                (
                    i
                    for i, m in enumerate(merged)
                    if m.passage.document["id"] == p.document["id"]
                    and m.passage.paragraph == p.paragraph
                ),
                None,
            )
            first = merged[twin].passage if twin is not None else None
            if first and max(first.end, p.end) - min(first.start, p.start) <= MERGED_LIMIT:
                start, end = min(first.start, p.start), max(first.end, p.end)
                text = self.store.document_slice(p.document["id"], start, end)
                merged[twin] = replace(
                    merged[twin],
                    passage=replace(
                        first, start=start, end=end, text=text, part=min(first.part, p.part)
                    ),
                )
            elif p.text not in seen_texts:
                merged.append(hit)
                seen_texts.add(p.text)
        return merged


def _fuse(
    dense: list[tuple[int, float]], keyword: list[tuple[int, float]], fusion: Fusion
) -> dict[int, float]:
    """Return each candidate row's fused score (higher is better).

    Both lists are (row, score) pairs, best first: cosine similarities and BM25 scores.
    """
    scores: dict[int, float] = {}
    if fusion == "rrf":
        for ranking in (dense, keyword):
            for rank, (row, _) in enumerate(ranking):
                scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        return scores
    best_keyword = keyword[0][1] if keyword else 1.0
    for row, cosine in dense:
        scores[row] = DENSE_WEIGHT * cosine
    for row, bm25 in keyword:
        scores[row] = scores.get(row, 0.0) + (1 - DENSE_WEIGHT) * bm25 / best_keyword
    return scores
