"""Documents as they really arrive: web pages, a long report, a two-column bulletin, a scan,
a Word memo with footnotes (tests/support/documents.py builds them all).

1. Main text of news pages in three layouts and three languages, three ways: the rules of
   our own HTML reader alone (before trafilatura), trafilatura alone, and what the archive
   now does (trafilatura picks the article's blocks, our reader keeps their structure, a
   short-line rule drops furniture). Article paragraphs kept (of 5) and furniture strings
   left (of the planted ones).
2. The whole archive (the letter and all those documents): passages holding furniture, and a
   question per document whose sentence must be among the first three quotes; the catalogue's
   example questions must still quote the letter.
3. OCR: characters right on a clean 300 dpi page per language, and pages per second.
4. A rename re-embeds nothing.
5. Crowding: the in-scope questions of tests/questions_multilingual.jsonl on the letter and
   the Russian document, then with three long repetitive reports (one per language) added:
   hit@3 and answered per language, before and after.

    python -m scripts.bench_documents [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from index.build import build_index
from index.embed import load_embedder
from index.evaluate import evaluate, parse_question
from index.limits import Limits
from index.readers import extract
from index.readers.html import _HTMLText, read_html
from index.search import Searcher
from index.store import IndexStore
from scripts.benchlib import publish
from tests.support.documents import (
    ARTICLES,
    LAYOUTS,
    MEMO,
    OTHER_FORMATS,
    REPORT,
    SCAN_QUESTIONS,
    SCANS,
    SITE,
    TWO_COLUMNS,
    character_accuracy,
    furniture,
    memo_docx,
    news_page,
    report_pdf,
    scan_png,
    two_column_pdf,
)

ROOT = Path(__file__).resolve().parent.parent

LANGUAGES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}


def own_rules(page: str) -> list[str]:
    parser = _HTMLText()
    parser.feed(page)
    parser.close()
    parser._flush()
    return parser.blocks


def trafilatura_alone(page: str) -> list[str]:
    import trafilatura

    found = trafilatura.bare_extraction(page, include_comments=False, include_formatting=False)
    if found is None or found.body is None:
        return []
    text = "\n".join(found.body.itertext())
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def leaked(blocks: list[str], lang: str) -> int:
    """Furniture strings left: a long one anywhere, a menu item (one or two words) alone."""
    texts = [b.lstrip("# ") for b in blocks]
    return sum(
        any(text == item if len(item.split()) <= 2 else item in text for text in texts)
        for item in furniture(lang)
    )


def extraction_table() -> list[str]:
    lines = [
        "| page | own rules: kept / furniture left | trafilatura alone | the archive now |",
        "| --- | --- | --- | --- |",
    ]
    for lang, name in LANGUAGES.items():
        for layout in LAYOUTS:
            page = news_page(lang, layout)
            cells = []
            for blocks in (
                own_rules(page),
                trafilatura_alone(page),
                read_html(page).text.split("\n\n"),
            ):
                text = "\n".join(blocks)
                kept = sum(p in text for p in ARTICLES[lang].paragraphs)
                cells.append(f"{kept}/5 · {leaked(blocks, lang)}/{len(furniture(lang))}")
            lines.append(f"| {name}, {layout} | " + " | ".join(cells) + " |")
    return lines


def archive_table(directory: Path, embedder) -> list[str]:
    corpus = directory / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "khrapunov-open-letter-ablyazov.txt", corpus)
    shutil.copy(ROOT / "corpus" / "catalogue.toml", corpus)
    questions = []  # (document, question, sentence)
    for lang in LANGUAGES:
        for layout in LAYOUTS:
            name = f"news-{lang}-{layout}.html"
            (corpus / name).write_text(news_page(lang, layout), encoding="utf-8")
            questions += [(name, q, s) for q, s in ARTICLES[lang].questions]
        (corpus / f"report-{lang}.pdf").write_bytes(report_pdf(lang))
        questions.append((f"report-{lang}.pdf", REPORT[lang]["question"], REPORT[lang]["answer"]))
        (corpus / f"protocol-{lang}.png").write_bytes(scan_png(lang))
        questions.append((f"protocol-{lang}.png", *SCAN_QUESTIONS[lang]))
    (corpus / "bulletin.pdf").write_bytes(two_column_pdf())
    questions.append(("bulletin.pdf", TWO_COLUMNS["question"], TWO_COLUMNS["answer"]))
    (corpus / "memo.docx").write_bytes(memo_docx())
    questions.append(("memo.docx", MEMO["question"], MEMO["answer"]))
    for name, (make, question, answer) in OTHER_FORMATS.items():
        (corpus / name).write_bytes(make())
        questions.append((name, question, answer))
    data = directory / "data"
    started = time.perf_counter()
    build_index(corpus, data, embedder=embedder)
    seconds = time.perf_counter() - started
    searcher = Searcher(IndexStore(data), embedder)
    store = searcher.store
    passages = store.passages(list(range(store.manifest["passages"])))
    planted = [item for lang in LANGUAGES for item in furniture(lang)]
    planted += [report["header"] for report in REPORT.values()] + [TWO_COLUMNS["header"]]
    page_number = {r["number"].format(n=n) for r in REPORT.values() for n in range(1, 30)}
    with_furniture = [
        p.passage_id
        for p in passages.values()
        if any((item == p.text) if len(item.split()) <= 2 else (item in p.text) for item in planted)
        or p.text in page_number
    ]
    found = {}
    for document, question, sentence in questions:
        hits = searcher.search(question, 3).hits
        hit = any(sentence in h.passage.text for h in hits)
        kind = document.split("-")[0].split(".")[0]
        found.setdefault(f"{kind} ({document.rsplit('.', 1)[1]})", []).append(hit)
        if not hit:
            print(f"  not in the first three: {question}", file=sys.stderr)
    examples = [q for qs in store.manifest["examples"].values() for q in qs]
    letter = sum(
        searcher.search(q, 1).hits[0].passage.document["id"].startswith("khrapunov")
        for q in examples
    )
    # A rename: same text under a new name.
    (corpus / "memo.docx").rename(corpus / "memo-renamed.docx")
    renamed = build_index(corpus, data, embedder=embedder)
    lines = [
        "",
        f"The archive: the letter, 9 news pages, 3 long reports (one per language), a "
        f"two-column bulletin, 3 scans, a Word memo with footnotes, an RTF ruling, an ODT "
        f"memo, an EPUB book, a UTF-16 note ({store.manifest['passages']} passages); indexed "
        f"in {seconds:.0f} s. Passages holding a planted "
        f"furniture string or a page number: **{len(with_furniture)}** of "
        f"{len(passages)}. Catalogue example questions still answered from the letter: "
        f"**{letter} of {len(examples)}**. A rename: re-embedded "
        f"**{renamed.passages_embedded}** passages, reported as "
        f"{', '.join(f'{a} → {b}' for a, b in renamed.renamed)}.",
        "",
        "| documents | questions | sentence among the first three quotes |",
        "| --- | --- | --- |",
    ]
    for kind, hits in found.items():
        lines.append(f"| {kind} | {len(hits)} | {sum(hits) / len(hits):.2f} |")
    return lines


def ocr_table() -> list[str]:
    lines = ["", "| scan (300 dpi, A4) | characters right | pages per second |"]
    lines.append("| --- | --- | --- |")
    for lang, name in LANGUAGES.items():
        image = scan_png(lang)
        started = time.perf_counter()
        text = extract(".png", image, Limits()).text
        seconds = time.perf_counter() - started
        lines.append(
            f"| {name} | {character_accuracy(SCANS[lang], text):.4f} | {1 / seconds:.2f} |"
        )
    return lines


def crowding_table(directory: Path, embedder) -> list[str]:
    lines = [
        "",
        "Crowding: in-scope questions of `tests/questions_multilingual.jsonl` (both halves; "
        "nothing is tuned here), hit@3 · answered, on the letter and the Russian document, "
        "then with the three long reports (repetitive, 7 pages each) added.",
        "",
        "| questions | without the reports | with them |",
        "| --- | --- | --- |",
    ]
    rows = [json.loads(line) for line in (ROOT / "tests" / "questions_multilingual.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    corpus = directory / "corpus-crowding"
    corpus.mkdir()
    for path in [*(ROOT / "corpus").iterdir(), *(ROOT / "tests" / "corpus_ru").iterdir()]:
        shutil.copy(path, corpus)
    searchers = []
    for step in ("without", "with"):
        if step == "with":
            for lang in LANGUAGES:
                (corpus / f"report-{lang}.pdf").write_bytes(report_pdf(lang))
        data = directory / f"data-{step}"
        build_index(corpus, data, embedder=embedder)
        searchers.append(Searcher(IndexStore(data), embedder))
    for lang, name in LANGUAGES.items():
        questions = [parse_question(r) for r in rows
                     if r["lang"] == lang and not r.get("out_of_scope")]  # fmt: skip
        cells = [evaluate(searcher, questions) for searcher in searchers]
        lines.append(
            f"| {name} ({len(questions)}) | "
            + " | ".join(f"{c.hit_at_3:.2f} · {c.answered:.2f}" for c in cells)
            + " |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    assert set(SITE) == set(LANGUAGES)
    body = ["", "News pages: article paragraphs kept of 5 · furniture strings left.", ""]
    body += extraction_table()
    with tempfile.TemporaryDirectory() as directory:
        embedder = load_embedder()
        body += archive_table(Path(directory), embedder)
        body += crowding_table(Path(directory), embedder)
    body += ocr_table()
    publish("bench_documents", "Documents as they really arrive", body, args.write)


if __name__ == "__main__":
    main()
