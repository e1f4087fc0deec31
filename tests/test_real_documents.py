"""Documents as they really arrive (tests/support/documents.py): the article, not the website; the
report's text, not its page furniture; and each found by a question about it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.render import attribution_of
from index.build import build_index
from index.documents import load_corpus
from index.passages import split_passages
from index.readers.ocr import OCR_INSTALL
from index.search import Searcher
from index.store import IndexStore

from .support.archive import CORPUS, EXPECTED_ANSWERS, LETTER_ID, verbatim
from .support.documents import (
    ARTICLES,
    LAYOUTS,
    MEMO,
    OTHER_FORMATS,
    REPORT,
    SCAN_QUESTIONS,
    SCANS,
    TWO_COLUMNS,
    character_accuracy,
    furniture,
    memo_docx,
    news_page,
    report_pdf,
    scan_pdf,
    scan_png,
    two_column_pdf,
)


def passages(corpus: Path, embedder, doc_id: str):
    document = {d.id: d for d in load_corpus(corpus).documents}[doc_id]
    return document, split_passages(document, embedder.count_tokens, embedder.max_tokens)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_news_page_gives_its_article_without_the_site(
    corpus: Path, embedder, lang: str, layout: str
):
    (corpus / "page.html").write_text(news_page(lang, layout), encoding="utf-8")
    document, found = passages(corpus, embedder, "page.html")
    for paragraph in ARTICLES[lang].paragraphs:
        assert paragraph in document.text
    texts = [p.text for p in found]
    for item in furniture(lang):
        # A menu item is one word or two ("Home", "Басты бет"): it must not stand alone.
        alone = len(item.split()) <= 2
        assert not any(text == item if alone else item in text for text in texts), item
    assert document.title == ARTICLES[lang].title
    assert len(found) == len(ARTICLES[lang].paragraphs)  # ¶ numbers count the article only


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_long_report_loses_its_running_header_and_page_numbers(corpus: Path, embedder, lang: str):
    (corpus / "report.pdf").write_bytes(report_pdf(lang, chapters=6))
    document, found = passages(corpus, embedder, "report.pdf")
    header, number = REPORT[lang]["header"], REPORT[lang]["number"].format(n=2)
    assert len(document.pages) > 2
    assert header not in document.text and number not in document.text
    # Every paragraph whole, though some run on from one page to the next; chapters are sections.
    assert document.text.count("\n\n") + 1 == 6 * 9
    assert {p.section for p in found} == {REPORT[lang]["chapter"].format(n=n) for n in range(1, 7)}
    answer = next(p for p in found if REPORT[lang]["answer"] in p.text)
    assert answer.page == 2


def test_a_two_column_bulletin_reads_as_its_paragraphs(corpus: Path, embedder):
    (corpus / "bulletin.pdf").write_bytes(two_column_pdf())
    document, found = passages(corpus, embedder, "bulletin.pdf")
    # Hyphenated words joined, line breaks gone, the title a heading, header and number gone.
    assert [p.text for p in found] == TWO_COLUMNS["paragraphs"]
    assert {p.section for p in found} == {TWO_COLUMNS["title"]}
    assert [p.page for p in found] == [1, 1, 2, 2, 3, 3]
    assert TWO_COLUMNS["header"] not in document.text and "стр." not in document.text


def test_word_foot_and_endnotes_follow_the_paragraph_they_annotate(corpus: Path, embedder):
    (corpus / "memo.docx").write_bytes(memo_docx())
    _, found = passages(corpus, embedder, "memo.docx")
    first, second = MEMO["paragraphs"]
    assert [p.text for p in found] == [
        first,
        f"[1] {MEMO['footnotes'][0]}",
        second,
        f"[2] {MEMO['footnotes'][1]}",
        f"[i] {MEMO['endnote']}",
    ]


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_scan_is_read_by_ocr_and_its_quotes_say_so(corpus: Path, embedder, lang: str):
    (corpus / "protocol.png").write_bytes(scan_png(lang))
    names = ["protocol.png"]
    if lang == "ru":  # a scanned PDF page is rendered, then read the same way
        (corpus / "protocol.pdf").write_bytes(scan_pdf(lang))
        names.append("protocol.pdf")
    for name in names:
        document, found = passages(corpus, embedder, name)
        assert character_accuracy(SCANS[lang], document.text) >= 0.98, document.text
        assert document.scanned == (1,)
        assert found and all(p.scanned and p.page == 1 for p in found)


def test_without_tesseract_a_scan_says_what_to_install(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    (corpus / "protocol.png").write_bytes(scan_png("ru"))
    (corpus / "letter.txt").write_text("A letter typed, not scanned.", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    result = load_corpus(corpus)
    assert [d.id for d in result.documents] == ["letter.txt"]
    [problem] = result.problems
    assert problem.path == "protocol.png"
    assert OCR_INSTALL in problem.reason and "tesseract-ocr-kaz" in OCR_INSTALL


@pytest.fixture(scope="module")
def real_archive(tmp_path_factory: pytest.TempPathFactory, embedder) -> Searcher:
    """The letter among news pages in three layouts and languages, a long report in Russian,
    a two-column bulletin, a scanned protocol, a Word memo with footnotes, an RTF ruling, an
    ODT memo, an EPUB book and a UTF-16 note, indexed once."""
    corpus = tmp_path_factory.mktemp("real-corpus")
    shutil.copy(CORPUS / LETTER_ID, corpus)
    shutil.copy(CORPUS / "catalogue.toml", corpus)
    for lang, layout in zip(["en", "ru", "kk"], LAYOUTS, strict=True):
        (corpus / f"news-{lang}.html").write_text(news_page(lang, layout), encoding="utf-8")
    (corpus / "report-ru.pdf").write_bytes(report_pdf("ru", chapters=6))
    (corpus / "bulletin.pdf").write_bytes(two_column_pdf())
    (corpus / "protocol-ru.png").write_bytes(scan_png("ru"))
    (corpus / "memo.docx").write_bytes(memo_docx())
    for name, (make, _, _) in OTHER_FORMATS.items():
        (corpus / name).write_bytes(make())
    data_dir = tmp_path_factory.mktemp("real-data")
    build_index(corpus, data_dir, embedder=embedder)
    return Searcher(IndexStore(data_dir), embedder)


def test_a_question_about_each_document_finds_its_sentence(real_archive: Searcher):
    asked = [q for article in ARTICLES.values() for q in article.questions[:2]]
    asked += [(REPORT["ru"]["question"], REPORT["ru"]["answer"][:40])]
    asked += [(TWO_COLUMNS["question"], TWO_COLUMNS["answer"]), SCAN_QUESTIONS["ru"]]
    asked += [(MEMO["question"], MEMO["answer"])]
    asked += [(question, answer) for _, question, answer in OTHER_FORMATS.values()]
    for question, sentence in asked:
        hits = real_archive.search(question, 3).hits
        assert any(sentence in hit.passage.text for hit in hits), question
        for hit in hits:
            document = real_archive.store.document(hit.passage.document["id"])
            assert verbatim(hit.passage.text, document.text)


def test_the_catalogue_examples_still_quote_the_letter_among_real_documents(
    real_archive: Searcher,
):
    # "Which report does the letter quote?" had the memo's footnote "[1] Visit reports of …"
    # first, until "the letter" was read as naming a document (index.cards.named_documents).
    for questions in real_archive.store.manifest["examples"].values():
        for question in questions:
            result = real_archive.search(question, 1)
            assert result.found, question
            assert result.hits[0].passage.document["id"] == LETTER_ID, question
            assert EXPECTED_ANSWERS[question] in result.hits[0].passage.text, question
    top = real_archive.search("Tokaev", 1).hits[0].passage
    assert top.document["id"] == LETTER_ID


def test_a_quote_from_a_scan_is_attributed_as_recognised_text(real_archive: Searcher):
    question, sentence = SCAN_QUESTIONS["ru"]
    hit = next(h for h in real_archive.search(question, 3).hits if sentence in h.passage.text)
    assert hit.passage.scanned
    assert attribution_of(hit.passage, "ru").endswith("с. 1, скан страницы, распознанный текст")
    assert attribution_of(hit.passage, "en").endswith("p. 1, scanned page, recognised text")
