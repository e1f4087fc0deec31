"""Each format: text, headings as sections, metadata, and broken files reported."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import docx
import matplotlib
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from index.build import build_index
from index.documents import load_corpus
from index.passages import split_passages
from index.search import Searcher
from index.store import IndexStore

from .support.archive import CORPUS, LETTER_ID
from .support.documents import epub, make_pdf, odt


def passages_of(corpus: Path, embedder, doc_id: str):
    documents = {d.id: d for d in load_corpus(corpus).documents}
    document = documents[doc_id]
    passages = split_passages(document, embedder.count_tokens, embedder.max_tokens)
    for p in passages:
        assert document.text[p.start : p.end] == p.text
    return document, passages


def test_html_main_text_headings_and_meta(corpus: Path, embedder):
    (corpus / "article.html").write_text(
        """<!doctype html><html><head><title>Court ruling on extradition</title>
        <meta name="author" content="A. Reporter"><meta name="date" content="2014-03-01">
        <style>p { color: red }</style><script>var tracking = "do not index";</script></head>
        <body><header><a href="/">Home</a> Site menu</header><nav>Archive · About</nav>
        <h1>Ruling</h1><p>The court refused the   extradition
        request &amp; released him.</p><h2>Reasons</h2><p>Guarantees were not credible.</p>
        <footer>© News site</footer></body></html>""",
        encoding="utf-8",
    )
    document, passages = passages_of(corpus, embedder, "article.html")
    assert (document.title, document.author, document.date) == (
        "Court ruling on extradition", "A. Reporter", "2014-03-01",
    )  # fmt: skip
    assert [(p.section, p.text) for p in passages] == [
        ("Ruling", "The court refused the extradition request & released him."),
        ("Reasons", "Guarantees were not credible."),
    ]
    for chrome in ("tracking", "Site menu", "Archive · About", "News site", "color"):
        assert chrome not in document.text


def test_html_title_falls_back_to_the_first_h1(corpus: Path):
    (corpus / "page.htm").write_text("<h1>Only a heading</h1><p>Text.</p>", encoding="utf-8")
    (document,) = load_corpus(corpus).documents
    assert document.title == "Only a heading"


def test_pdf_pages_paragraphs_and_info(corpus: Path, embedder):
    (corpus / "ruling.pdf").write_bytes(
        make_pdf(
            [
                [
                    "The Court of Appeal of Aix-en-Provence examined",
                    "the request at length.",
                    "It heard both parties.",
                ],
                ["The extradition to Russia was refused."],
            ],
            title="Ruling of the Court of Appeal",
            author="Court of Appeal",
        )  # fmt: skip
    )
    document, passages = passages_of(corpus, embedder, "ruling.pdf")
    assert (document.title, document.author) == ("Ruling of the Court of Appeal", "Court of Appeal")
    assert [(p.page, p.text) for p in passages] == [
        (1, "The Court of Appeal of Aix-en-Provence examined the request at length."),
        (1, "It heard both parties."),
        (2, "The extradition to Russia was refused."),
    ]


def test_docx_headings_and_core_properties(corpus: Path, embedder):
    word = docx.Document()
    word.core_properties.title = "Report on detentions"
    word.core_properties.author = "Rights Group"
    word.add_heading("Findings", level=1)
    word.add_paragraph("Three politicians were detained.")
    word.add_heading("Method", level=2)
    word.add_paragraph("We interviewed   relatives.")
    word.save(corpus / "report.docx")
    document, passages = passages_of(corpus, embedder, "report.docx")
    assert (document.title, document.author) == ("Report on detentions", "Rights Group")
    assert [(p.section, p.text) for p in passages] == [
        ("Findings", "Three politicians were detained."),
        ("Method", "We interviewed relatives."),
    ]


def test_docx_table_rows_carry_their_header_labels(corpus: Path, embedder):
    word = docx.Document()
    table = word.add_table(rows=3, cols=3)
    for row, cells in enumerate([("Region", "Cases 2022", "Cases 2023"),
                                 ("Shymkent", "870", "610"), ("Almaty", "1 204", "")]):  # fmt: skip
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    plain = word.add_table(rows=2, cols=2)  # numbers in the first row: no header
    for row, cells in enumerate([("2022", "870"), ("2023", "610")]):
        for column, text in enumerate(cells):
            plain.cell(row, column).text = text
    word.save(corpus / "stats.docx")
    _, passages = passages_of(corpus, embedder, "stats.docx")
    assert [p.text for p in passages] == [
        "Region: Shymkent | Cases 2022: 870 | Cases 2023: 610",
        "Region: Almaty | Cases 2022: 1 204",
        "2022 | 870",
        "2023 | 610",
    ]


def test_docx_tables_are_read_row_by_row_in_reading_order(corpus: Path, embedder):
    word = docx.Document()
    word.add_heading("Detentions", level=1)
    word.add_paragraph("The table lists each case.")
    table = word.add_table(rows=3, cols=3)
    for row, cells in enumerate([("Name", "Year", "Event"), ("G. Zhakiyanov", "2002", ""),
                                 ("", "", "")]):  # fmt: skip
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    table.cell(1, 1).merge(table.cell(1, 2)).text = "2002, arrested in  Pavlodar"
    word.add_paragraph("Sources follow.")
    word.save(corpus / "cases.docx")
    document, passages = passages_of(corpus, embedder, "cases.docx")
    assert [p.text for p in passages] == [
        "The table lists each case.",
        "Name: G. Zhakiyanov | Year: 2002, arrested in Pavlodar",  # the merged cell once
        "Sources follow.",
    ]
    assert all(p.section == "Detentions" for p in passages)
    assert all(document.text[p.start : p.end] == p.text for p in passages)


def test_catalogue_overrides_any_format(corpus: Path):
    (corpus / "a.html").write_text("<title>From the page</title><p>x</p>", encoding="utf-8")
    (corpus / "catalogue.toml").write_text('["a.html"]\ntitle = "From the catalogue"\n', "utf-8")
    (document,) = load_corpus(corpus).documents
    assert document.title == "From the catalogue"


def test_broken_files_are_reported_one_line_each(corpus: Path):
    (corpus / "good.md").write_text("# Title\n\nFine text.", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    encrypted = PdfWriter()
    encrypted.append(PdfReader(io.BytesIO(make_pdf([["Secret text."]]))))
    encrypted.encrypt("password", algorithm="RC4-40")
    with open(corpus / "locked.pdf", "wb") as file:
        encrypted.write(file)
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (corpus / "scan.pdf").write_bytes(make_pdf([[]]))
    (corpus / "bad.html").write_bytes(b"<p>caf\xe9</p>")
    documents, problems, *_ = load_corpus(corpus)
    assert [d.id for d in documents] == ["good.md"]
    reasons = {p.path: p.reason for p in problems}
    assert set(reasons) == {"broken.pdf", "locked.pdf", "broken.docx", "scan.pdf", "bad.html"}
    assert reasons["locked.pdf"].startswith("encrypted PDF: it needs a password")
    assert "no text" in reasons["scan.pdf"]
    assert "UTF-8" in reasons["bad.html"]
    assert all("\n" not in reason for reason in reasons.values())


@pytest.mark.parametrize("name", ["notes.txt", "notes.md"])
def test_language_from_front_matter(corpus: Path, name: str):
    (corpus / name).write_text("---\ntitle: T\nlanguage: ru\n---\nТекст.", encoding="utf-8")
    (document,) = load_corpus(corpus).documents
    if name.endswith(".md"):
        assert (document.title, document.language) == ("T", "ru")
    else:  # a plain text's "front matter" is text, not metadata
        assert document.title != "T" and document.language != "ru"


def ruling_pdf(title: str = "untitled", author: str = "anonymous") -> bytes:
    """A Russian court ruling as a word processor prints it: header, headings in capitals."""
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    for line in RULING_HEADER:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 6, "ПРИГОВОР", align="C", new_x="LMARGIN", new_y="NEXT")
    for heading, paragraph in RULING_BODY:
        if heading:
            pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, paragraph, align="J")
    return bytes(pdf.output())


RULING_HEADER = [
    "Специализированный межрайонный суд по уголовным делам г. Алматы",
    "12 марта 2024 года",
    "Дело № 1-234/2024",
]
RULING_BODY = [
    (None, "Суд в составе председательствующего судьи Ахметова Б. К., при секретаре судебного "
           "заседания Омаровой А. С., рассмотрев в открытом судебном заседании уголовное дело "
           "по обвинению гражданина Республики Казахстан, ранее не судимого,"),
    ("УСТАНОВИЛ:", "Подсудимый обвиняется в том, что в период с января по март 2023 года "
                   "организовал незаконное собрание на площади города Жанаозен, чем нарушил "
                   "порядок проведения мирных собраний, установленный законом."),
    ("ПРИГОВОРИЛ:", "Признать подсудимого виновным и назначить ему наказание в виде штрафа "
                    "в размере ста месячных расчётных показателей."),
]  # fmt: skip


def test_a_court_ruling_in_pdf_keeps_its_header_and_headings(corpus: Path, embedder, caplog):
    (corpus / "prigovor-1-234.pdf").write_bytes(ruling_pdf())
    document, passages = passages_of(corpus, embedder, "prigovor-1-234.pdf")
    # A tool's "untitled, anonymous" is no metadata: the first heading names the document.
    assert (document.title, document.author) == ("ПРИГОВОР", None)
    assert "'untitled' is a tool's or a file's name" in caplog.text
    assert [(p.section, p.text) for p in passages] == [
        (None, "\n".join(RULING_HEADER)),  # court, date, case number: their own paragraph
        ("ПРИГОВОР", RULING_BODY[0][1]),
        ("УСТАНОВИЛ", RULING_BODY[1][1]),  # the heading is not glued to the paragraph above
        ("ПРИГОВОРИЛ", RULING_BODY[2][1]),
    ]


def test_a_court_ruling_in_word_has_the_same_sections(corpus: Path, embedder):
    word = docx.Document()
    for line in RULING_HEADER:
        word.add_paragraph(line)
    word.add_paragraph("ПРИГОВОР")
    for heading, paragraph in RULING_BODY:
        if heading:
            word.add_paragraph(heading)  # in the Normal style, as court clerks type them
        word.add_paragraph(paragraph)
    word.save(corpus / "ruling.docx")
    document, passages = passages_of(corpus, embedder, "ruling.docx")
    # No title, and python-docx's default author: the first heading names it, no author.
    assert (document.title, document.author) == ("ПРИГОВОР", None)
    assert [(p.section, p.text) for p in passages][-3:] == [
        ("ПРИГОВОР", RULING_BODY[0][1]),
        ("УСТАНОВИЛ", RULING_BODY[1][1]),
        ("ПРИГОВОРИЛ", RULING_BODY[2][1]),
    ]


def test_a_pdf_with_an_owner_password_only_is_read(corpus: Path, embedder):
    locked = PdfWriter(clone_from=PdfReader(io.BytesIO(ruling_pdf("Приговор по делу 1-234"))))
    locked.encrypt(user_password="", owner_password="no printing", algorithm="RC4-128")
    with open(corpus / "ruling.pdf", "wb") as file:
        locked.write(file)
    document, passages = passages_of(corpus, embedder, "ruling.pdf")
    assert document.title == "Приговор по делу 1-234"
    assert passages[-1].text == RULING_BODY[2][1]


@pytest.mark.parametrize(
    ("title", "h1", "expected"),
    [
        ("Суд отказал в экстрадиции | Новости", "Суд отказал в экстрадиции",
         "Суд отказал в экстрадиции"),
        ("Суд отказал в экстрадиции — Радио Азаттык", "", "Суд отказал в экстрадиции"),
        ("Court refuses extradition - BBC News", "BBC News", "Court refuses extradition"),
        ("Kazakhstan - the trial and what we know about the defendants so far", "",
         "Kazakhstan - the trial and what we know about the defendants so far"),
    ],
)  # fmt: skip
def test_an_html_title_loses_its_site_name(corpus: Path, title: str, h1: str, expected: str):
    page = f"<title>{title}</title><body>{f'<h1>{h1}</h1>' if h1 else ''}<p>Text.</p></body>"
    (corpus / "page.html").write_text(page, encoding="utf-8")
    (document,) = load_corpus(corpus).documents
    assert document.title == expected


def test_a_cp1251_file_is_named_with_the_command_that_converts_it(corpus: Path):
    text = "Открытое письмо о судьбе политических заключённых в Казахстане.\n" * 3
    (corpus / "pismo.txt").write_bytes(text.encode("cp1251"))
    (problem,) = load_corpus(corpus).problems
    assert "looks like cp1251" in problem.reason
    assert "iconv -f cp1251 -t utf-8" in problem.reason


def test_a_russian_ruling_is_found_across_word_forms_and_scripts(tmp_path: Path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prigovor.pdf").write_bytes(ruling_pdf("Приговор по делу 1-234", "Суд"))
    shutil.copy(CORPUS / LETTER_ID, corpus)
    build_index(corpus, tmp_path / "data", embedder=embedder)
    searcher = Searcher(IndexStore(tmp_path / "data"), embedder)
    for question in ("судья Ахметов", "Zhanaozen", "Жанаозен", "незаконные собрания"):
        result = searcher.search(question)
        assert result.found, question
        top = result.hits[0].passage
        assert top.document["id"] == "prigovor.pdf", question
        assert top.text in RULING_BODY[0][1] + RULING_BODY[1][1], question
    assert "Ахметова" in searcher.search("судья Ахметов").hits[0].passage.text


RULING_RTF = (
    r"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0 Times New Roman;}}\f0 "
    r"\'cf\'d0\'c8\'c3\'ce\'c2\'ce\'d0\par "  # ПРИГОВОР
    r"\'c8\'cc\'c5\'cd\'c5\'cc \'d0\'c5\'d1\'cf\'d3\'c1\'cb\'c8\'ca\'c8 "  # ИМЕНЕМ РЕСПУБЛИКИ
    r"\'ca\'c0\'c7\'c0\'d5\'d1\'d2\'c0\'cd\par "
    r"\u1057?\u1091?\u1076? \u1087?\u1088?\u1080?\u1079?\u1085?\u1072?\u1083? "  # Суд признал
    r"\'c1\'e5\'ea\'ee\'e2\'e0 \'e2\'e8\'ed\'ee\'e2\'ed\'fb\'ec.\par}"  # Бекова виновным.
)


def test_an_rtf_ruling_is_read_in_its_code_page(corpus: Path):
    (corpus / "ruling.rtf").write_text(RULING_RTF, encoding="ascii")
    (document,) = load_corpus(corpus).documents
    assert document.text == (
        "ПРИГОВОР\n\nИМЕНЕМ РЕСПУБЛИКИ КАЗАХСТАН\n\nСуд признал Бекова виновным."
    )
    assert document.title == "ПРИГОВОР"  # its first heading, without a catalogue entry


def test_an_odt_memo_keeps_headings_spacing_and_its_notes_after_their_paragraph(
    corpus: Path, embedder
):
    (corpus / "memo.odt").write_bytes(odt([
        ("h", "Findings"),
        ("p", "The court<text:s/>heard<text:tab/>three<text:line-break/>witnesses."
              '<text:note><text:note-citation>1</text:note-citation><text:note-body>'
              "<text:p>A footnote.</text:p></text:note-body></text:note>"),
        ("p", "Nothing else was said."),
    ]))  # fmt: skip
    document, passages = passages_of(corpus, embedder, "memo.odt")
    assert (document.title, document.author) == ("Memo", "A. Author")
    assert [p.text for p in passages] == [
        "The court heard three witnesses.", "[1] A footnote.", "Nothing else was said."
    ]  # fmt: skip
    assert passages[0].section == "Findings"


def test_an_epub_is_read_in_spine_order_with_chapters_as_sections(corpus: Path, embedder):
    first = "<html><body><h1>Second chapter</h1><p>Read last.</p></body></html>"
    second = "<html><body><h1>First chapter</h1><p>Read first.</p></body></html>"
    (corpus / "book.epub").write_bytes(epub([first, second]))  # the spine lists them reversed
    document, passages = passages_of(corpus, embedder, "book.epub")
    assert (document.title, document.author) == ("A Book", "B. Writer")
    assert [(p.section, p.text) for p in passages] == [
        ("First chapter", "Read first."), ("Second chapter", "Read last.")
    ]  # fmt: skip


def test_declared_charsets_and_byte_order_marks_are_honoured(corpus: Path, caplog):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=windows-1251"><title>Новость</title></head><body><p>Суд вынес '
            "приговор.</p></body></html>")  # fmt: skip
    (corpus / "news.html").write_bytes(page.encode("cp1251"))
    (corpus / "short.html").write_bytes(
        '<meta charset="koi8-r"><p>Решение суда.</p>'.encode("koi8-r")
    )
    (corpus / "utf16.txt").write_bytes("Текст в UTF-16.".encode("utf-16"))
    (corpus / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 an old Word file")
    (corpus / "catalogue.toml").write_text('["old.doc"]\ntitle = "A memo"\n', "utf-8")
    with caplog.at_level(logging.WARNING):
        documents, problems, _, skipped, _ = load_corpus(corpus)
    assert "not in the corpus" not in caplog.text  # it is there, skipped: not a lost entry
    texts = {d.id: d.text for d in documents}
    assert texts == {"news.html": "Суд вынес приговор.", "short.html": "Решение суда.",
                     "utf16.txt": "Текст в UTF-16."}  # fmt: skip
    assert problems == []
    (doc,) = skipped
    assert "save it as .docx" in doc.reason and "libreoffice --headless" in doc.reason


@pytest.mark.parametrize("name", ["broken.odt", "broken.epub", "broken.rtf"])
def test_broken_new_formats_are_named_in_one_line(corpus: Path, name: str):
    (corpus / name).write_bytes(b"PK\x03\x04 not a zip" if name != "broken.rtf" else b"plain")
    (corpus / "good.txt").write_text("Fine.", encoding="utf-8")
    documents, problems, *_ = load_corpus(corpus)
    assert [d.id for d in documents] == ["good.txt"]
    ((path, reason),) = [(p.path, p.reason) for p in problems]
    assert path == name and "\n" not in reason and reason
