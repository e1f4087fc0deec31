"""Hybrid search: dense (FAISS) and keyword (FTS5 BM25) candidates, fused, merged, decided.

question -> fold -> embedding + keyword query -> candidates -> fused ranking
         -> neighbouring parts merged -> top k hits
         -> evidence about the first hits -> confidence (index.answerable) -> `found`
"""

from __future__ import annotations

import functools
import logging
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.answerable import Calibration, Evidence, background_texts, background_vectors
from index.cards import ArchiveQuestion, archive_question, cards, named_documents, title_words
from index.embed import DEFAULT_MODEL, MULTILINGUAL_MODEL, Embedder, load_embedder
from index.errors import ArchiveError
from index.languages import (
    STOPWORDS,
    is_cyrillic,
    mostly_cyrillic,
    query_terms,
    transliterate,
    word_list,
)
from index.names import Names
from index.normalize import tokens
from index.passages import sentence_spans
from index.spelling import Vocabulary
from index.store import IndexStore, Keywords, StoredPassage, current_manifest, open_index

if TYPE_CHECKING:
    from collections.abc import Collection

    import numpy as np

    from index.postgres import PostgresStore

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "keyword"]
Fusion = Literal["weighted", "rrf"]

CANDIDATES = 50  # from each retriever, before fusion
# Query words held by more than this share of the passages (and by more than COMMON_MIN
# passages) are left out of the keyword search: see Searcher.keyword_query.
COMMON_SHARE = 0.05
COMMON_MIN = 1000
RRF_K = 60
# Added to the fused score of the passages of a document the question names by its kind ("the
# letter"): twice the whole weight of the keyword side, so the named document's passage comes
# first unless another document's is clearly closer in meaning. No question set tells values
# apart (one document of each set's archive has such a title); 0.1 left a memo's footnote on
# "reports" before the letter's paragraph (BENCHMARKS.md, "Documents as they really arrive").
NAMED_DOCUMENT = 0.2
# Parts of one paragraph among the hits are quoted as one, up to this many characters (a
# Telegram message holds 4,096); beyond it each part stays a quote of its own, so the work
# per answer is bounded by what is shown, however long the paragraph.
MERGED_LIMIT = 6000
DENSE_WEIGHT = 0.9  # weighted fusion: share of the similarity against normalised BM25
# Latin questions: share of the English model's cosine against the multilingual model's,
# whose cosines are compressed (unrelated texts reach 0.75, the archive's best 0.87) and are
# first stretched to [0, 1] among the candidates. Chosen on the tuning halves (BENCHMARKS.md).
MINILM_WEIGHT = 0.8
# A "hub" passage is close to every question in the multilingual model's eyes: a short one
# naming Kazakhstan and Ablyazov led a third of the Kazakh questions, whatever they asked. Each
# candidate's multilingual cosine loses this share of its mean cosine to the unrelated
# background texts, its closeness to questions in general. Chosen on the tuning halves
# (0.2–0.35 equally good; BENCHMARKS.md).
HUB_WEIGHT = 0.25
# The passages the judgement looks at: the first an asker sees, however many the caller asked
# for (the bot shows 3; `eval` ranks 5).
DECIDED_BY = 3
# A question about a time the archive cannot speak of is not answered, however close its
# passages are: a year that no passage names ("What happened to Ablyazov after 2016?"), or the
# present (words beginning so: "Who is the current president?"; documents speak of their own
# time). "Now" and "теперь" are left out: the letter itself says "now it is up to…".
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
PRESENT_WORDS = tuple(
    word_list("present-en") | word_list("present-ru") | word_list("present-kk")
)  # beginnings of words, in index/words/
# Distinct words in the index up to which misspellings are corrected: a look-up takes a few
# milliseconds there (scripts/bench_spelling.py), and the vocabulary about 100 MB of memory.
SPELLING_LIMIT = 1_000_000
# The question's words the judgement weighs (coverage, every word in one passage) are its
# content words of this length or more; they match on their first STEM letters.
FOUND_WORD_LENGTH = 3
STEM = 5
STEMS_CACHE = 2048  # passages whose words' stems are kept (`stems_of`): a few KB each


@dataclass(frozen=True)
class Hit:
    """One passage returned for a question."""

    passage: StoredPassage
    score: float  # the fused score that ranks the hits
    best_sentence: tuple[int, int] | None = None  # offsets in passage.text, for highlighting


Outcome = Literal["answered", "closest", "none"]
# Why a question is not answered: its first passages are too unlikely to answer it ("far"), or
# it asks about a time the archive cannot speak of ("time").
Reason = Literal["far", "time"]


@dataclass(frozen=True)
class SearchResult:
    """The answer to one question: ranked hits and whether they really answer it."""

    query: str
    found: bool  # a passage answers the question
    hits: list[Hit]
    related: bool = False  # none answers, but the hits are on its subject (see `outcome`)
    confidence: float | None = None  # that the first hits answer it (index.answerable)
    reason: Reason | None = None  # why it is not answered
    evidence: Evidence | None = None  # what the confidence was computed from

    @property
    def outcome(self) -> Outcome:
        """ "answered"; "closest": the archive holds passages on the question's subject but
        none that answers it, offered only as the closest; or "none": nothing related."""
        if self.found:
            return "answered"
        return "closest" if self.related and self.hits else "none"


def content_words(query: str, min_length: int = 1) -> list[str]:
    """Return the distinct folded words of `query` that are not stopwords (in any language)."""
    return list(
        dict.fromkeys(t for t in tokens(query) if t not in STOPWORDS and len(t) >= min_length)
    )


def match_expression(
    words: list[str],
    operator: Literal["OR", "AND"] = "OR",
    corrections: dict[str, list[str]] | None = None,
) -> Keywords:
    """Return the keyword query for `words` (false when there are none).

    Each Russian or Kazakh word also matches its stems and Latin forms (`index.languages`),
    and a misspelled word the archive's words spelled like it (`corrections`); with "AND",
    every word must match in one of its forms.
    """
    corrections = corrections or {}
    groups = tuple(tuple(query_terms(w) + corrections.get(w, [])) for w in words)
    return Keywords(groups, every=operator == "AND")


def best_sentence(text: str, query: str) -> tuple[int, int] | None:
    """Return the span of the sentence of `text` that shares most content words with `query`
    (the first on a tie; `sentence_overlaps`). A text of one sentence is that sentence, whole.
    None when no sentence shares a word."""
    span, shared = max(sentence_overlaps(text, query), key=lambda item: item[1], default=(None, 0))
    return span if shared else None


def sentence_overlaps(text: str, query: str) -> list[tuple[tuple[int, int], int]]:
    """Return each sentence's span in `text` with how many of `query`'s content words it holds.

    Words match on their first five letters (a cheap stem: "extradite" ~ "extradition"); a
    Cyrillic word also in Latin letters ("Жакиянов" ~ "Zhakiyanov").
    """
    words = content_words(query)
    wanted = {w[:5] for w in words} | {transliterate(w)[:5] for w in words if is_cyrillic(w)}
    spans = sentence_spans(text)
    return [
        (span, len(wanted & {t[:5] for t in tokens(text[span[0] : span[1]])})) for span in spans
    ]


@functools.lru_cache(maxsize=STEMS_CACHE)
def stems_of(text: str) -> tuple[tuple[frozenset[str], ...], frozenset[str]]:
    """Return the beginnings (STEM letters) of the words of each sentence of a passage's `text`
    and of all of it, each word also in Latin letters: what the judgement's coverage compares
    a question's words with. Kept for the passages recently found: they recur, and this was
    half the cost of a search beyond the models (measured, BENCHMARKS.md)."""

    def stems(piece: str) -> frozenset[str]:
        return frozenset(form[:STEM] for t in tokens(piece) for form in (t, transliterate(t)))

    spans = sentence_spans(text) or [(0, len(text))]
    return tuple(stems(text[a:b]) for a, b in spans), stems(text)


def check_models(built_with: list[str], model: str, index: str) -> None:
    """Refuse an index not built with `model` and the multilingual model (ArchiveError)."""
    expected = [model, MULTILINGUAL_MODEL]
    if built_with != expected:
        raise ArchiveError(
            f"{index} was built with the models {built_with}, not {expected}: "
            "run `archive-bot index` to rebuild it"
        )


class Searcher:
    """Answers questions from one loaded index with its models: the primary one (given) and the
    multilingual one (loaded here, once per process)."""

    def __init__(self, store: IndexStore | PostgresStore, embedder: Embedder) -> None:
        check_models(store.manifest["models"], embedder.name, "the index")
        self.store = store
        self.embedder = embedder
        self.multilingual = load_embedder(MULTILINGUAL_MODEL)
        self.background = store.background()
        if self.background is None:  # an index built before they were stored, or damaged
            logger.info("encoding the background texts; `archive-bot index` stores them")
            self.background = background_vectors(self.multilingual)
        cyrillic = [mostly_cyrillic(text) for text in background_texts()]
        self.background_in = {  # by script: written in Cyrillic letters or not
            script: self.background[[i for i, c in enumerate(cyrillic) if c == script]]
            for script in (True, False)
        }
        # A passage's mean cosine to the background texts is its dot product with their mean: one
        # vector product per question (a matrix one made every answer 4 ms slower, measured).
        self.background_mean = self.background.mean(axis=0)
        # Spelling correction looks words up in memory: only for archives of moderate size.
        terms = store.term_count()
        self.vocabulary = Vocabulary(store.terms()) if terms <= SPELLING_LIMIT else None
        # The words of the documents' titles, for questions about them (index.cards).
        self.titles = title_words(store.documents())
        self.title_words = frozenset().union(*self.titles.values())
        self.names = Names(store.names())
        self.calibration = Calibration.for_archive(store.data_dir)

    @classmethod
    def open(cls, data_dir: Path, model: str = DEFAULT_MODEL) -> Searcher:
        """Load the index of `data_dir` and the models; fail fast, before the slow model load.

        Raises:
            ArchiveError: the index is missing, damaged, or built with other models.
        """
        check_models(current_manifest(data_dir)["models"], model, "the index")
        # The models load while the index is read: ONNX Runtime builds its session without
        # holding Python's lock, so a cold start overlaps the two.
        with ThreadPoolExecutor(2, thread_name_prefix="load") as pool:
            loading = [pool.submit(load_embedder, name) for name in (model, MULTILINGUAL_MODEL)]
            store = open_index(data_dir)
            embedder, _ = (future.result() for future in loading)
        return cls(store, embedder)

    def search(
        self, query: str, top_k: int = 3, mode: Mode = "hybrid", fusion: Fusion = "weighted"
    ) -> SearchResult:
        """Return the `top_k` best passages for `query`.

        A question in Latin letters is compared with the passages by both models (the English
        one is the stronger there); a question in Cyrillic letters by the multilingual model
        alone (the English one only adds noise: measured, BENCHMARKS.md). The multilingual
        model runs for every question: the judgement weighs its closeness to the background
        texts (it once skipped English questions where the English model and the keywords
        agreed, which left the judgement without that evidence for them).

        Args:
            query: the question as the asker wrote it.
            top_k: how many hits to return.
            mode: "hybrid" fuses meaning and words; "dense" and "keyword" use one (benchmarks).
            fusion: "weighted" (similarity plus normalised BM25) or "rrf" (reciprocal rank).
        """
        asked = content_words(query)
        if kind := archive_question(asked, self.title_words):
            return self._about_archive(query, kind, top_k)
        latin = not any(is_cyrillic(word) for word in tokens(query))
        # The question and its names (index.names) in one pass per model, the multilingual
        # one running while the English one's neighbours and the keywords are looked up.
        names = self.names.of(query)
        asked_texts = [query, names] if names else [query]
        by_english = self.embedder.encode_kept(asked_texts, True) if latin else None
        by_e5 = self.multilingual.encode_kept(asked_texts, True)
        minilm = by_english.result() if by_english else None
        by_minilm = []
        if mode != "keyword" and minilm is not None:
            by_minilm = [row for row, _ in self.store.dense(minilm[:1], CANDIDATES, 0)[0]]
        # "the letter" names a document: its passages count more, and the word is no keyword
        # (the warranty letter of ¶ 24 is not what "which report does the letter quote?" asks).
        named, naming = named_documents(asked, self.titles)
        match = self.keyword_query(query, naming) if mode != "dense" else None
        keyword = self.store.keyword(match, CANDIDATES) if match else []
        by_words = [row for row, _ in keyword]
        e5 = by_e5.result()
        candidates = by_minilm
        if mode != "keyword":
            candidates = [row for row, _ in self.store.dense(e5[:1], CANDIDATES, 1)[0]] + by_minilm
        rows = list(dict.fromkeys(candidates + by_words))
        if not rows:
            return SearchResult(query, False, [])
        meaning = self._meaning(rows, e5, minilm)
        by_meaning = sorted(zip(rows, meaning, strict=True), key=lambda item: -item[1])
        scores = _fuse(by_meaning if mode != "keyword" else [], keyword, fusion)
        if named:
            for row, doc_id in self.store.documents_of(rows).items():
                if doc_id in named:
                    scores[row] = scores.get(row, 0.0) + NAMED_DOCUMENT
        ranked = sorted(rows, key=lambda row: (-scores[row], row))
        passages = self.store.passages(ranked[: top_k * 3])
        hits = [Hit(passages[row], scores[row]) for row in ranked[: top_k * 3]]
        hits = [
            replace(hit, best_sentence=self._highlight(hit.passage.text, e5, query) if not rank
                    else best_sentence(hit.passage.text, query))  # the first passage by meaning
            for rank, hit in enumerate(self._merge_neighbours(hits)[:top_k])
        ]  # fmt: skip
        return self._judge(query, hits, e5, minilm, naming)

    def _highlight(self, text: str, e5: np.ndarray, query: str) -> tuple[int, int] | None:
        """The sentence of the first passage to show in bold: the passage itself when it is
        one sentence; else the one sharing most of the question's words, or, where words
        cannot tell (no sentence shares one, or two share as many: the letter in English asked
        in Russian or Kazakh), the one closest in meaning to the question by the multilingual
        model, shared words adding to it. Only the first passage is read so (its sentences in
        one pass, about 20 ms each on this machine, kept: `Embedder.encode_kept`): it is the
        one that answers."""
        overlaps = sentence_overlaps(text, query)
        if len(overlaps) <= 1:
            return overlaps[0][0] if overlaps else None  # the passage is the sentence
        most = sorted((shared for _, shared in overlaps), reverse=True)
        if most[0] > most[1]:
            return next(span for span, shared in overlaps if shared == most[0])
        spans = [span for span, _ in overlaps]
        vectors = self.multilingual.encode_kept([text[a:b] for a, b in spans], False).result()
        closeness = (vectors @ e5[0]).tolist()
        scores = [shared / (most[0] or 1) + close
                  for (_, shared), close in zip(overlaps, closeness, strict=True)]  # fmt: skip
        return spans[max(range(len(spans)), key=scores.__getitem__)]

    def _meaning(self, rows: list[int], e5, minilm) -> list[float]:
        """Return how close in meaning each of `rows` is to the question (its vectors `e5` and
        `minilm`, the latter None for a question in Cyrillic letters), in [0, 1] among them."""
        e5_vectors = self.store.vectors(rows, 1)
        e5_similarity = (e5_vectors @ e5[0]).tolist()
        hubness = (e5_vectors @ self.background_mean).tolist()
        adjusted = [s - HUB_WEIGHT * h for s, h in zip(e5_similarity, hubness, strict=True)]
        low, high = min(adjusted), max(adjusted)  # e5's cosines are compressed
        meaning = [(s - low) / ((high - low) or 1.0) for s in adjusted]
        if minilm is not None:  # and only for passages in Latin letters, where it helps
            minilm_similarity = (self.store.vectors(rows, 0) @ minilm[0]).tolist()
            cyrillic = self.store.cyrillic(rows)
            meaning = [
                e if r in cyrillic else MINILM_WEIGHT * m + (1 - MINILM_WEIGHT) * e
                for r, m, e in zip(rows, minilm_similarity, meaning, strict=True)
            ]
        return meaning

    def _judge(self, query: str, hits: list[Hit], e5, minilm, naming: set[str]) -> SearchResult:
        """Decide whether the first `hits` answer `query` (its vectors `e5` and `minilm`, the
        latter None for a question in Cyrillic letters, each with its names' vector as a second
        row when it names any; `naming`: its words that name a document, "the letter", not what
        it asks).

        Both decisions are fitted (index.answerable). Off the question's subject, nothing is
        related ("none"). On it, the question is answered when the confidence reaches its cut,
        it has a content word, and it does not ask about a time the archive cannot speak of;
        else the hits are offered as the closest.
        """
        evidence = self._evidence(query, hits, e5, minilm, naming)
        features = evidence.features()
        confidence = self.calibration.confidence(features)
        related = self.calibration.on_subject(features) and evidence.content_words > 0
        reason: Reason | None = None
        if not related or confidence < self.calibration.cut:
            reason = "far"  # a question of stopwords and letters alone ("hi", "Ы") asks nothing
        elif self._asks_beyond_the_archive(query):
            reason = "time"
        return SearchResult(
            query, reason is None, hits, related=related,
            confidence=round(confidence, 3), reason=reason, evidence=evidence,
        )  # fmt: skip

    def _evidence(self, query: str, hits: list[Hit], e5, minilm, naming: set[str]) -> Evidence:
        """Gather what the judgement weighs about `query` and its first `hits`."""
        rows = [hit.passage.row for hit in hits[:DECIDED_BY]]
        e5_similarity = float((self.store.vectors(rows, 1) @ e5[0]).max())
        minilm_similarity = None
        if minilm is not None:
            minilm_similarity = float((self.store.vectors(rows, 0) @ minilm[0]).max())
        added = self._added_to_names(rows, e5, minilm) if len(e5) > 1 else {}
        words = [w for w in content_words(query, FOUND_WORD_LENGTH) if w not in naming]
        sentence, passage = self._coverage(words, [hit.passage.text for hit in hits[:DECIDED_BY]])
        every_word = match_expression(words, "AND", self._corrections(words))
        first_cyrillic = bool(self.store.cyrillic(rows[:1]))
        # Across languages e5's cosines run lower: the margin over the background texts in the
        # first passage's letters compares like with like.
        like = self.background_in[first_cyrillic]
        return Evidence(
            e5_similarity=e5_similarity,
            e5_margin=e5_similarity - float((self.background @ e5[0]).max()),
            e5_margin_script=e5_similarity - float((like @ e5[0]).max()),
            minilm_similarity=minilm_similarity,
            score_gap=hits[0].score - (hits[1].score if len(hits) > 1 else 0.0),
            sentence_coverage=sentence,
            passage_coverage=passage,
            every_word=bool(every_word) and self.store.holds(every_word),
            names_added_e5=added.get(1),
            names_added_minilm=added.get(0),
            content_words=len(words),
            other_script=first_cyrillic == (minilm is not None),
        )

    def _coverage(self, words: list[str], texts: list[str]) -> tuple[float, float]:
        """Return the share of `words` that the best sentence of `texts` holds, and that its
        whole text holds (like the closeness, the best of the first passages). Each word
        weighs its rarity in the archive (inverse document frequency) and matches on its first
        STEM letters, in Latin letters too for a Cyrillic word of the question or the passage
        ("Zhanaozen" ~ "Жанаозен")."""
        if not words:
            return 0.0, 0.0
        frequencies = self.store.document_frequencies(words)
        passages = self.store.manifest["passages"]
        weight = {w: math.log((passages + 1) / (frequencies.get(w, 0) + 1)) + 1.0 for w in words}
        total = sum(weight.values())

        def share(stems: frozenset[str]) -> float:
            held = [v for w, v in weight.items()
                    if w[:STEM] in stems or transliterate(w)[:STEM] in stems]  # fmt: skip
            return sum(held) / total

        def covered(text: str) -> tuple[float, float]:
            sentences, whole = stems_of(text)
            return max(share(stems) for stems in sentences), share(whole)

        return max(covered(text) for text in texts)

    def _about_archive(self, query: str, kind: ArchiveQuestion, top_k: int) -> SearchResult:
        """Answer a question about the archive itself from the catalogue cards (index.cards).

        Asked who wrote a document, the passage where its author names themself follows the
        card ("By saying this I, Khrapunov Viktor, …", the letter's ¶ 29).
        """
        found = cards(self.store, query, kind)
        hits = [Hit(card, 1.0) for card in found]
        author = found[0].document["author"] if kind == "card" and len(found) == 1 else None
        if author and (words := content_words(author, FOUND_WORD_LENGTH)):
            rows = [row for row, _ in self.store.keyword(match_expression(words, "AND"), 10)]
            named = self.store.passages(rows) if rows else {}
            own = [named[r] for r in rows if named[r].document["id"] == found[0].document["id"]]
            if own:
                hits.append(Hit(own[0], 0.5, best_sentence(own[0].text, author)))
        return SearchResult(query, True, hits if kind == "list" else hits[: max(top_k, 2)])

    def _asks_beyond_the_archive(self, query: str) -> bool:
        """Whether `query` asks about a time the archive cannot speak of: the present, or a
        year that no passage names."""
        if any(word.startswith(PRESENT_WORDS) for word in tokens(query)):
            return True
        return any(not self.store.holds(Keywords(((year,),))) for year in YEAR.findall(query))

    def _added_to_names(self, rows: list[int], e5, minilm) -> dict[int, float]:
        """Return, per model number, how much closer the passages at `rows` are to the question
        than to its names alone (the two rows of `e5` and `minilm`, the vectors by each model it
        was encoded with): whether they answer what it asks of them, not only mention them
        (index.names)."""
        added = {}
        for model, vectors in ((1, e5), (0, minilm)):
            if vectors is not None:
                passages = self.store.vectors(rows, model)
                added[model] = float((passages @ vectors[0]).max() - (passages @ vectors[1]).max())
        return added

    def _corrections(self, words: list[str]) -> dict[str, list[str]]:
        """Return, per word the archive does not hold, the archive's words spelled like it."""
        if self.vocabulary is None:
            return {}
        return {w: fixed for w in words if (fixed := self.vocabulary.corrections(w))}

    def keyword_query(self, query: str, leaving: Collection[str] = ()) -> Keywords:
        """Return the keyword query of the content words of `query` (but those in `leaving`),
        a misspelled word matching the archive's words spelled like it, without the words and
        spellings common in a large archive.

        FTS5 scores every passage that holds a query term; a term found in a large share of a
        large archive costs the most and tells the least. When every word is common, none is
        left: dense search alone ranks the question (scoring even the rarest of them took the
        p95 at a million passages to 314 ms, BENCHMARKS.md).
        """
        words = [w for w in content_words(query) if w not in leaving]
        corrections = self._corrections(words)
        limit = max(COMMON_MIN, COMMON_SHARE * self.store.manifest["passages"])
        if self.store.manifest["passages"] > limit:  # else no term can be held by more
            spelled = [c for fixed in corrections.values() for c in fixed]
            frequencies = self.store.document_frequencies(words + spelled)
            words = [w for w in words if frequencies.get(w, 0) <= limit]
            corrections = {w: [c for c in fixed if frequencies.get(c, 0) <= limit]
                           for w, fixed in corrections.items()}  # fmt: skip
        return match_expression(words, corrections=corrections)

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

    Both lists are (row, score) pairs, best first: similarities in meaning and BM25 scores.
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
