import re

import pytest

from index.documents import Document, load_corpus
from index.embed import Embedder
from index.headings import first_heading, heading
from index.passages import fit_window, sentence_spans, split_passages

from .support.archive import CORPUS, LETTER

LETTER_LINES = LETTER.split("\n")


@pytest.fixture(scope="module")
def letter():
    (document,) = load_corpus(CORPUS).documents
    return document


@pytest.fixture(scope="module")
def passages(letter, embedder: Embedder):
    return split_passages(letter, embedder.count_tokens, embedder.max_tokens)


def test_every_passage_is_a_verbatim_slice_of_the_source(passages):
    for passage in passages:
        assert LETTER[passage.start : passage.end] == passage.text


def test_headings_are_not_passages_and_name_sections(passages):
    texts = {p.text for p in passages}
    assert "Section: General" not in texts
    assert "Elections of 1999:" not in texts
    # 36 lines, 3 of them headings: 33 body paragraphs, numbered 1..33 without gaps.
    assert len(LETTER_LINES) == 36
    assert [p.paragraph for p in passages] == list(range(1, 34))
    by_number = {p.paragraph: p for p in passages}
    assert by_number[11].section is None
    assert by_number[12].section == "General › Elections of 1999"
    assert by_number[12].heading == "General. Elections of 1999"
    assert by_number[13].section == "General › Elections of 1999"
    assert by_number[13].heading is None
    assert by_number[14].section == "Political Prisoners"
    assert by_number[33].section == "Political Prisoners"


def test_heading_rules():
    assert heading("Section: General") == (1, "General")
    assert heading("Elections of 1999:") == (2, "Elections of 1999")
    assert heading("# Findings", markdown=True) == (1, "Findings")
    assert heading("# Findings") is None
    long_line = "Kazakh civil society raises a natural question about many things here:"
    assert heading(long_line) is None
    # Court rulings head their parts with lines in capitals.
    assert heading("ПРИГОВОР") == (1, "ПРИГОВОР")
    assert heading("УСТАНОВИЛ:") == (1, "УСТАНОВИЛ")
    assert heading("ИМЕНЕМ РЕСПУБЛИКИ КАЗАХСТАН") == (1, "ИМЕНЕМ РЕСПУБЛИКИ КАЗАХСТАН")
    assert heading("UN") is None and heading("OSCE, 2024.") == (1, "OSCE, 2024.")
    assert heading("THE COURT FOUND THAT THE DEFENDANT HAD NO CHANCE TO SPEAK AT ALL") is None
    assert first_heading("Дело № 2-1\n\nПРИГОВОР\n\nТекст.") == "ПРИГОВОР"
    assert first_heading("Just text.") is None
    # A heading that only numbers a part gives way to its name right under it.
    assert first_heading("# Chapter 1\n\n# What is Earth Science?\n\nText.", True) == (
        "What is Earth Science?"
    )
    assert first_heading("ГЛАВА 3\n\nО ПРАВАХ ГРАЖДАН\n\nТекст.") == "О ПРАВАХ ГРАЖДАН"
    assert first_heading("# Chapter 1\n\nText.", True) == "Chapter 1"  # nothing names it


def test_sentences_do_not_end_at_initials_or_abbreviations():
    text = "It was N. Nazarbaev who spoke. Mr. Serge Smesov refused! Then М. Ablyazov left."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "It was N. Nazarbaev who spoke.",
        "Mr. Serge Smesov refused!",
        "Then М. Ablyazov left.",
    ]


def _assert_parts_cover(parts, source, start, end, window, embedder):
    """The parts are in order, within the window, and lose nothing but the spaces between."""
    assert len({p.paragraph for p in parts}) == 1
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert parts[0].start == start and parts[-1].end == end
    for before, after in zip(parts, parts[1:], strict=False):
        assert source[before.end : after.start].isspace()
    assert max(embedder.count_tokens([p.text for p in parts])) <= window


def test_line_14_of_the_letter_fits_the_window_whole(letter, passages, embedder):
    # The "paragraph 14" is line 14 of the file (body paragraph 12, after two
    # headings): 220 word pieces, within MiniLM's 254, so it stays one passage.
    line = LETTER_LINES[13]
    assert line.startswith("In the past five years")
    (passage,) = [p for p in passages if p.paragraph == 12]
    assert passage.text == line
    assert embedder.count_tokens([line])[0] <= embedder.max_tokens


def test_line_14_splits_at_sentences_under_a_smaller_window(letter, embedder):
    window = 100
    parts = [p for p in split_passages(letter, embedder.count_tokens, window) if p.paragraph == 12]
    assert len(parts) > 1
    start = LETTER.index(LETTER_LINES[13])
    _assert_parts_cover(parts, LETTER, start, start + len(LETTER_LINES[13]), window, embedder)
    assert all(p.text.endswith(".") for p in parts)  # cut at sentence ends


def test_a_2000_word_paragraph_is_split_and_nothing_is_lost(embedder):
    words = [f"word{i % 97} about Ablyazov{i % 13}" for i in range(700)]
    sentences = [" ".join(words[i : i + 20]).capitalize() + "." for i in range(0, 700, 20)]
    paragraph = " ".join(sentences)
    assert len(paragraph.split()) >= 2000
    text = f"Intro line.\n{paragraph}\nLast line."
    document = Document(id="long.txt", text=text, title="Long")
    passages = split_passages(document, embedder.count_tokens, embedder.max_tokens)
    parts = [p for p in passages if p.paragraph == 2]
    assert len(parts) >= 5
    start = text.index(paragraph)
    _assert_parts_cover(parts, text, start, start + len(paragraph), embedder.max_tokens, embedder)
    assert [p.paragraph for p in passages] == [1] + [2] * len(parts) + [3]


def test_a_sentence_longer_than_the_window_is_cut_between_words(embedder):
    paragraph = " ".join(f"token{i}" for i in range(600))  # one "sentence", no punctuation
    document = Document(id="run-on.txt", text=paragraph, title="Run-on")
    parts = split_passages(document, embedder.count_tokens, embedder.max_tokens)
    assert len(parts) > 1
    _assert_parts_cover(parts, paragraph, 0, len(paragraph), embedder.max_tokens, embedder)
    assert " ".join(p.text for p in parts) == paragraph


def test_blank_line_paragraphs_and_markdown_headings(embedder):
    text = (
        "---\ntitle: T\n---\n# Findings\n\nFirst paragraph\nwraps here.\n\n"
        "## Detail\nSecond paragraph.\n"
    )
    document = Document(id="r.md", text=text, title="T", body_start=text.index("# Findings"))
    passages = split_passages(document, embedder.count_tokens, embedder.max_tokens)
    assert [(p.paragraph, p.section, p.text) for p in passages] == [
        (1, "Findings", "First paragraph\nwraps here."),
        (2, "Detail", "Second paragraph."),
    ]
    assert not any(re.search("title:", p.text) for p in passages)


def test_a_huge_paragraph_without_punctuation_is_cut_in_bounded_steps(embedder: Embedder):
    text = ("word " * 200_000).strip()  # 1 MB: one "sentence", no line break
    spans = fit_window(text, 0, len(text), embedder.count_tokens, embedder.max_tokens)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(text[b:c].isspace() for (_, b), (c, _) in zip(spans, spans[1:], strict=False))
    counts = embedder.count_tokens([text[a:b] for a, b in spans])
    assert max(counts) <= embedder.max_tokens and sum(counts) == 200_000


def test_russian_abbreviations_do_not_end_a_sentence():
    text = (
        "Суд признал его виновным по ч. 2 ст. 307 УК РК и назначил штраф в 100 тыс. тенге. "
        "Приговор обжалован в обл. суд."
    )
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Суд признал его виновным по ч. 2 ст. 307 УК РК и назначил штраф в 100 тыс. тенге.",
        "Приговор обжалован в обл. суд.",
    ]
