import logging
import os
from pathlib import Path

from index.documents import load_corpus

from .support.archive import CORPUS, LETTER, LETTER_ID


def test_letter_metadata_comes_from_the_catalogue():
    documents, problems, examples, skipped, orphans = load_corpus(CORPUS)
    assert problems == []
    assert len(examples["en"]) >= 3
    assert skipped == [] and orphans == {}
    (letter,) = documents
    assert letter.id == LETTER_ID
    assert letter.text == LETTER
    assert letter.title == "Open letter on the extradition of Mukhtar Ablyazov"
    assert letter.author == "Viktor Khrapunov"
    assert letter.date == "2013"  # the letter gives its year, not its day
    assert "Political Freedoms in Kazakhstan" in letter.note
    assert "April 2004" in letter.note


def test_example_questions_per_language(corpus: Path):
    (corpus / "a.txt").write_text("Body text.\n", encoding="utf-8")
    (corpus / "catalogue.toml").write_text(
        '[archive.examples]\nen = ["Who?"]\nru = ["Кто?"]\nkk = ["Кім?"]\n', encoding="utf-8"
    )
    assert load_corpus(corpus).examples == {"en": ["Who?"], "ru": ["Кто?"], "kk": ["Кім?"]}


def test_markdown_front_matter_and_catalogue_precedence(corpus: Path):
    (corpus / "a.md").write_text(
        "---\ntitle: From front matter\nauthor: Someone\ndate: 2020-01-02\n---\nBody text.\n",
        encoding="utf-8",
    )
    (corpus / "catalogue.toml").write_text('["a.md"]\nauthor = "Catalogue"\n', encoding="utf-8")
    (document,) = load_corpus(corpus).documents
    assert (document.title, document.author, document.date) == (
        "From front matter",
        "Catalogue",
        "2020-01-02",
    )
    assert document.text[document.body_start :] == "Body text.\n"


def test_missing_title_falls_back_to_the_file_name(corpus: Path, caplog):
    (corpus / "notes-2024.txt").write_text("Some text.", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        (document,) = load_corpus(corpus).documents
    assert document.title == "notes-2024"
    assert "no title" in caplog.text


def test_unreadable_files_are_reported_and_the_rest_is_read(corpus: Path):
    (corpus / "good.txt").write_text("Readable.", encoding="utf-8")
    (corpus / "empty.txt").write_text("  \n", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (corpus / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (corpus / "picture.jpg").write_bytes(b"\xff\xd8")  # a scan cut short
    (corpus / "sheet.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    documents, problems, _, skipped, _ = load_corpus(corpus)
    assert [d.id for d in documents] == ["good.txt"]
    ((path, reason),) = [(p.path, p.reason) for p in skipped]
    assert path == "sheet.xls" and reason.startswith("not a supported format: a spreadsheet")
    assert reason.endswith(
        "(supported: .docx, .epub, .htm, .html, .jpeg, .jpg, .md, .odt, .pdf, .png, .rtf, .tif, "
        ".tiff, .txt)"
    )
    reasons = {p.path: p.reason for p in problems}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "picture.jpg"}
    assert "UTF-8" in reasons["latin1.txt"]
    assert reasons["picture.jpg"].startswith("not a readable image")


def test_content_hash_changes_with_text_and_metadata(corpus: Path):
    (corpus / "a.txt").write_text("One.", encoding="utf-8")
    (first,) = load_corpus(corpus).documents
    (corpus / "catalogue.toml").write_text('["a.txt"]\ntitle = "A"\n', encoding="utf-8")
    (second,) = load_corpus(corpus).documents
    (corpus / "a.txt").write_text("Two.", encoding="utf-8")
    (third,) = load_corpus(corpus).documents
    assert len({first.sha256, second.sha256, third.sha256}) == 3


def test_links_out_of_the_corpus_and_undecodable_names_are_reported(corpus: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Not part of the archive.", encoding="utf-8")
    (corpus / "good.txt").write_text("Readable.", encoding="utf-8")
    (corpus / "inside-link.txt").symlink_to(corpus / "good.txt")
    (corpus / "outside-link.txt").symlink_to(outside / "secret.txt")
    (corpus / "folder-link").symlink_to(outside)
    bad_name = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 name on a UTF-8 file system
    (corpus / bad_name).write_text("Readable too.", encoding="utf-8")
    documents, problems, _, skipped, _ = load_corpus(corpus)
    assert [d.id for d in documents] == ["good.txt", "inside-link.txt"]
    assert [(p.path, p.reason) for p in skipped] == [
        ("outside-link.txt", "a link to a file outside the corpus")
    ]
    ((name, reason),) = [(p.path, p.reason) for p in problems]
    assert name == "caf\ufffd.txt" and "not valid UTF-8" in reason
    name.encode("utf-8")  # printable


def test_archiveignore_skips_files_in_gitignore_syntax(corpus: Path):
    (corpus / "scans").mkdir()
    (corpus / "scans" / "page-001.pdf").write_bytes(b"%PDF-1.4 an image only")
    (corpus / "draft.txt").write_text("Not for the archive yet.", encoding="utf-8")
    (corpus / "letter.txt").write_text("The archive's text.", encoding="utf-8")
    (corpus / ".archiveignore").write_text("# scanned, no text layer\nscans/\ndraft.*\n", "utf-8")
    documents, problems, _, skipped, _ = load_corpus(corpus)
    assert [d.id for d in documents] == ["letter.txt"]
    assert problems == []  # the scanned PDF no longer makes every run exit 1
    assert [(p.path, p.reason) for p in skipped] == [
        ("draft.txt", "matched by .archiveignore"),
        ("scans/page-001.pdf", "matched by .archiveignore"),
    ]


def test_a_misspelt_catalogue_key_is_a_warning_naming_file_and_key(corpus: Path, caplog):
    (corpus / "a.txt").write_text("Text.", encoding="utf-8")
    (corpus / "catalogue.toml").write_text(
        '[archive]\nexampels = ["Who?"]\n\n["a.txt"]\ntitel = "A"\nauthor = "B"\n', "utf-8"
    )
    with caplog.at_level(logging.WARNING):
        (document,) = load_corpus(corpus).documents
    assert document.author == "B"
    assert "catalogue.toml: [\"a.txt\"] has an unknown key 'titel'" in caplog.text
    assert "catalogue.toml: [\"archive\"] has an unknown key 'exampels'" in caplog.text


def test_pdf_warnings_name_their_document(corpus: Path, caplog):
    from .test_formats import make_pdf

    (corpus / "truncated.pdf").write_bytes(make_pdf([["Readable text."]]).replace(b"%%EOF", b""))
    with caplog.at_level(logging.WARNING):
        load_corpus(corpus)
    assert "truncated.pdf: EOF marker not found" in caplog.text
    assert all(record.name == "index.documents" for record in caplog.records)


def test_a_documents_language_is_detected_when_the_catalogue_gives_none(corpus: Path):
    (corpus / "kk.txt").write_text("Сот үкім шығарды. Қазақстан Республикасы атынан.", "utf-8")
    (corpus / "ru.txt").write_text("Суд вынес приговор именем Республики Казахстан.", "utf-8")
    (corpus / "en.txt").write_text("The court delivered its judgment in the case.", "utf-8")
    (corpus / "given.txt").write_text("The court delivered its judgment in the case.", "utf-8")
    (corpus / "catalogue.toml").write_text('["given.txt"]\nlanguage = "ru"\n', "utf-8")
    languages = {d.id: d.language for d in load_corpus(corpus).documents}
    assert languages == {"kk.txt": "kk", "ru.txt": "ru", "en.txt": "en", "given.txt": "ru"}
