import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answering import MAX_QUESTION_CHARS, answer
from index.build import build_index
from index.cards import named_documents, title_words
from index.evaluate import evaluate, load_questions
from index.normalize import fold
from index.search import MERGED_LIMIT, Searcher, best_sentence
from index.store import IndexStore

from .support.archive import (
    CORPUS,
    DEV_QUESTIONS,
    EXPECTED_ANSWERS,
    LETTER,
    OWN_QUESTIONS,
    verbatim,
)


def _assert_verbatim(result) -> None:
    for hit in result.hits:
        source = (CORPUS / hit.passage.document["id"]).read_text(encoding="utf-8")
        assert verbatim(hit.passage.text, source)
        if hit.passage.paragraph:  # not a catalogue card: a slice at its offsets
            assert source[hit.passage.start : hit.passage.end] == hit.passage.text


@pytest.mark.parametrize("path", [DEV_QUESTIONS, OWN_QUESTIONS], ids=["dev", "own"])
def test_every_quote_of_the_question_sets_is_verbatim(searcher: Searcher, path: Path):
    for question in load_questions(path):
        _assert_verbatim(searcher.search(question.q, top_k=5))


def test_random_queries_quote_verbatim(searcher: Searcher):
    words = re.findall(r"\w+", LETTER)
    rng = random.Random(7)
    for _ in range(40):
        _assert_verbatim(searcher.search(" ".join(rng.sample(words, rng.randint(1, 12))), 5))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_arbitrary_text_never_fails(searcher: Searcher, text: str):
    result = answer(searcher, text).result
    _assert_verbatim(result)
    assert len(result.hits) <= 3


def test_retrieval_quality_on_the_dev_set(searcher: Searcher):
    report = evaluate(searcher, load_questions(DEV_QUESTIONS))
    # txtai 9.14 hybrid scores 0.80 / 0.93 / 0.86 here. MiniLM alone scored 0.87 at hit@1:
    # fusing e5 (chosen on the tuning halves of three languages, BENCHMARKS.md) costs one
    # question of this set.
    assert report.hit_at_1 >= 0.8
    assert report.hit_at_3 >= 0.93
    assert report.mrr_at_5 >= 0.85
    # The fitted judgement (index.answerable) declines two of the 15 in-scope questions: one
    # whose right passage is third, and "Whose support in France does the author rely on?"
    # (confidence 0.24). The thresholds it replaced answered all 15, but had been set on
    # these very questions and declined 0-30 % of fresh near-topic ones (BENCHMARKS.md).
    assert report.answered >= 0.85
    assert report.declined == 1.0


def test_retrieval_quality_on_our_own_questions(searcher: Searcher):
    report = evaluate(searcher, load_questions(OWN_QUESTIONS))
    assert report.hit_at_3 >= 0.9
    assert report.answered >= 0.9  # "Political prisoners" and one like it fall below the cut
    assert report.declined == 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("WATCH report", "HUMAN RIGHTS WATСH report"),  # Cyrillic С in the source
        ("Tokaev", "К. Tokaev"),
        ("M. Ablyazov political prisoner", "М. Ablyazov"),
        ("Idrisov warranty letter", "Е. Idrisov"),
        ("facade democracy", "façade democracy"),
        ('"justice" by the Kazakh authorities', "illegal “justice”"),
    ],
)
def test_plain_latin_finds_lookalikes_and_typography(searcher: Searcher, query, expected):
    result = searcher.search(query, top_k=3)
    assert any(expected in hit.passage.text for hit in result.hits)


def test_questions_answered_by_a_heading_find_the_paragraph_under_it(searcher: Searcher):
    top = searcher.search("elections of 1999", top_k=1).hits[0].passage
    assert top.paragraph == 12 and top.section == "General › Elections of 1999"


@pytest.mark.parametrize(
    "query", ["How do I bake sourdough bread?", "hi there", "Ы", "asdfgh", "?", "weather in Paris"]
)
def test_unrelated_questions_are_declined(searcher: Searcher, query: str):
    assert not searcher.search(query).found


def test_a_passage_that_only_names_what_a_question_asks_about_does_not_answer_it(
    searcher: Searcher,
):
    """The letter names France and Kazakhstan on every page and says nothing of a currency or
    a language: its passages are not an answer (offered as the closest, or not at all)."""
    for question in ["What currency does France use?", "На каких языках говорят в Казахстане?"]:
        assert searcher.search(question).outcome in ("closest", "none"), question
    for question in ["When was Ablyazov arrested in France?", "Кто был послом Франции?"]:
        assert searcher.search(question).outcome == "answered", question


def test_a_question_is_not_answered_by_passages_lacking_the_fact_it_asks_for(
    searcher: Searcher,
):
    """The letter speaks of Nazarbaev and Kazakhstan throughout but never of a birth or a
    population; it does speak of wives. No word list says so: the fitted judgement does
    (index.answerable; it misses many near-topic questions still, BENCHMARKS.md)."""
    for question in [
        "Where was Nursultan Nazarbaev born?",
        "Сколько людей живёт в Казахстане?",
        "Назарбаев қай жерде туған?",
        "Францияда қанша адам тұрады?",  # close in meaning, though no word is shared with it
    ]:
        assert searcher.search(question).outcome == "closest", question
    assert searcher.search("What happened to Zhakiyanov's wife?").found


def test_a_question_about_a_time_the_archive_cannot_speak_of_is_not_answered(
    searcher: Searcher,
):
    """The letter is of 2013: what happened to Ablyazov in 2018 it cannot say, nor who is
    president now."""
    for question in [
        "What happened to Ablyazov after 2016?",
        "2018 жылы Аблязовпен не болды?",
        "Who is the current president of Kazakhstan?",
        "Кто сейчас президент Казахстана?",
    ]:
        assert searcher.search(question).outcome == "closest", question
    assert searcher.search("What happened on May 31, 2013?").found
    assert searcher.search("Что теперь решают французские судебные органы?").found


def test_empty_and_huge_questions_are_marked_for_a_note(searcher: Searcher):
    empty = answer(searcher, "  \n\t ")
    assert not empty.result.query and not empty.result.found and empty.result.hits == []
    huge = answer(searcher, "Who was the French ambassador? " + "blah " * 2000)
    assert len(huge.result.query) == huge.cut_to <= MAX_QUESTION_CHARS
    assert huge.result.hits


def test_best_sentence_is_the_one_sharing_most_words():
    text = "Nothing here. The ambassador was Serge Smesov. Other words."
    start, end = best_sentence(text, "Who was the French ambassador?")
    assert text[start:end] == "The ambassador was Serge Smesov."
    assert best_sentence("One sentence only.", "sentence") == (0, 18)  # the whole of it
    assert best_sentence("One sentence only.", "ambassador") is None


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("Что сделали с родственниками Жакиянова?", "inflicted bodily harm to Zhakiyanov’s"),
        ("Кому принадлежали казахстанские СМИ?", "owned by Dariga Nazarbaeva"),
    ],
)
def test_where_words_cannot_tell_the_highlight_is_the_sentence_closest_in_meaning(
    searcher: Searcher, query: str, answer: str
):
    """Asked in Russian, the English letter's sentences share one word ("Жакиянов") at most:
    the multilingual model chooses the sentence in bold of the first passage."""
    hit = searcher.search(query, 3).hits[0]
    start, end = hit.best_sentence
    assert answer in hit.passage.text[start:end]
    assert answer not in hit.passage.text[slice(*best_sentence(hit.passage.text, query))]


def test_parts_of_one_paragraph_come_back_as_one_quote(tmp_path: Path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sentences = [
        f"The river {name} floods the valley every spring and the farmers move their herds."
        for name in ["Ural", "Ili", "Irtysh", "Syr", "Chu", "Talas", "Tobol", "Ishim"] * 6
    ]
    (corpus / "rivers.txt").write_text(" ".join(sentences), encoding="utf-8")
    build_index(corpus, tmp_path / "data", embedder=embedder)
    store = IndexStore(tmp_path / "data")
    assert store.manifest["passages"] > 1
    hits = Searcher(store, embedder).search("river floods the valley farmers herds", 3).hits
    assert len(hits) == 1  # one paragraph, one quote
    source = (corpus / "rivers.txt").read_text(encoding="utf-8")
    assert source[hits[0].passage.start : hits[0].passage.end] == hits[0].passage.text
    assert len(hits[0].passage.text) > len(source) // 2


def test_question_vectors_match_passage_vectors_and_are_kept(embedder, monkeypatch):
    import numpy as np

    question, sentence = "Who was the French ambassador?", "Ablyazov was detained in France."
    embedder.clear_cache()
    single = embedder.encode_query(question)
    expected = embedder.encode([question, "Ablyazov", sentence])
    assert np.allclose(single, expected[:1], atol=1e-5)
    passes = []
    encode = embedder._encode_prepared
    monkeypatch.setattr(embedder, "_encode_prepared", lambda *a: passes.append(a) or encode(*a))
    # The same folded text is kept; a new one and a passage's sentence go in one pass each, and
    # the rows come in the order asked.
    again = embedder.encode_kept(["Ablyazov", "who was the french  AMBASSADOR?"], True).result()
    assert np.array_equal(again[1], single[0])
    assert np.allclose(again[0], expected[1], atol=1e-5)
    kept = embedder.encode_kept([sentence, sentence], False).result()
    assert np.allclose(kept, expected[[2, 2]], atol=1e-5)
    assert embedder.encode_kept([sentence], False).result().shape == (1, embedder.dimension)
    assert [texts for texts, _ in passes] == [["ablyazov"], [fold(sentence)]]


def test_words_common_in_a_large_archive_leave_the_keyword_search(searcher, monkeypatch):
    import index.search

    def words(query: str) -> list[str]:
        return [term for group in searcher.keyword_query(query).groups for term in group]

    assert words("Kazakhstan Magnitsky") == ["kazakhstan", "magnitsky"]
    assert words("Kazakstan Magnitsky") == ["kazakstan", "kazakhstan", "magnitsky"]  # spelled so
    # As if the letter were a large archive: words in over 10 % of passages are common.
    monkeypatch.setattr(index.search, "COMMON_MIN", 1)
    monkeypatch.setattr(index.search, "COMMON_SHARE", 0.1)
    assert words("Kazakhstan Magnitsky") == ["magnitsky"]
    assert words("Kazakstan Magnitsky") == ["kazakstan", "magnitsky"]  # the common spelling too
    frequencies = searcher.store.document_frequencies(["kazakhstan", "nazarbaev"])
    assert min(frequencies.values()) > 0.1 * searcher.store.manifest["passages"]
    assert not searcher.keyword_query("Kazakhstan Nazarbaev")  # dense search alone ranks it
    assert searcher.search("Kazakhstan Nazarbaev").hits
    assert searcher.search("Magnitsky").found


def test_a_long_paragraph_is_quoted_in_parts_of_bounded_size(tmp_path: Path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rivers = ["Ural", "Ili", "Irtysh", "Syr", "Chu", "Talas", "Tobol", "Ishim", "Emba", "Nura"]
    sentences = [
        f"In year {year} the river {river} flooded the valley and the farmers of {year} moved."
        for year in range(1900, 1920) for river in rivers
    ]  # fmt: skip
    text = " ".join(sentences)  # about 16,000 characters in one paragraph: 4 Telegram messages
    (corpus / "rivers.txt").write_text(text, encoding="utf-8")
    build_index(corpus, tmp_path / "data", embedder=embedder)
    store = IndexStore(tmp_path / "data")
    result = Searcher(store, embedder).search("river flooded the valley farmers moved", 3)
    assert result.hits
    for hit in result.hits:
        assert text[hit.passage.start : hit.passage.end] == hit.passage.text
        assert len(hit.passage.text) <= MERGED_LIMIT
    around = store.paragraph("rivers.txt", 1)
    assert around.text == text[around.start : around.end] and len(around.text) < 10_000


def test_every_example_question_of_the_catalogue_is_answered_from_the_right_passage(
    searcher: Searcher,
):
    examples = searcher.store.manifest["examples"]
    assert set(examples) == {"en", "ru", "kk"}
    for questions in examples.values():
        for question in questions:
            result = searcher.search(question, 1)
            assert result.found, question
            assert EXPECTED_ANSWERS[question] in result.hits[0].passage.text, question


def test_a_question_names_a_document_by_its_kind_not_by_its_subject():
    documents = title_words([
        {"id": "letter.txt", "title": "Open letter on the extradition of Mukhtar Ablyazov"},
        {"id": "report.pdf", "title": "Annual report on detention conditions"},
        {"id": "udhr.md", "title": "Всеобщая декларация прав человека"},
    ])  # fmt: skip
    assert named_documents(["report", "letter", "quote"], documents) == (
        {"letter.txt", "report.pdf"}, {"report", "letter"}
    )  # fmt: skip
    assert named_documents(["ablyazov", "extradition"], documents) == (set(), set())
    assert named_documents(["письмо"], documents) == (set(), set())  # no Russian title says so
