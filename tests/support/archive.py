"""The shipped archive as the tests see it: its paths, the letter's text, the catalogue, the
question files, and the checks that a quote is verbatim."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


CORPUS = ROOT / "corpus"


LETTER_ID = "khrapunov-open-letter-ablyazov.txt"


LETTER = (CORPUS / LETTER_ID).read_text(encoding="utf-8")


RUSSIAN_CORPUS = ROOT / "tests" / "corpus_ru"


RUSSIAN_DOCUMENT = (RUSSIAN_CORPUS / "udhr-ru.md").read_text(encoding="utf-8")


CATALOGUE = tomllib.loads((CORPUS / "catalogue.toml").read_text(encoding="utf-8"))


CARD_VALUES = {str(value) for table in CATALOGUE.values() for value in table.values()
               if isinstance(value, str)}  # fmt: skip


DEV_QUESTIONS = ROOT / "tests" / "dev_questions.jsonl"


OWN_QUESTIONS = ROOT / "tests" / "questions.jsonl"


def damage(data_dir: Path, offset: int, length: int = 20_000) -> None:
    """Overwrite part of the index's SQLite file with garbage, in place."""
    with open(data_dir / "index" / "passages.db", "r+b") as file:
        file.seek(offset)
        file.write(bytes(range(256)) * (length // 256))


def verbatim(quote: str, document: str = LETTER) -> bool:
    """Whether a quote shown to an asker is verbatim: a slice of its document, or, for a
    catalogue card, the catalogue's own values, one per line."""
    quote = quote.removesuffix(" …")
    return quote in document or all(line in CARD_VALUES for line in quote.split("\n"))


EXPECTED_ANSWERS = {  # the passage each example question of the catalogue must quote first
    "Who was the French ambassador to Kazakhstan?": "Serge Smesov",
    "What happened to Ablyazov's wife and daughter in May 2013?": "May 31, 2013",
    "Which report does the letter quote?": "HUMAN RIGHTS WATСH report",
    "Что случилось с женой и дочерью Аблязова в мае 2013 года?": "May 31, 2013",
    "Кто выдал гарантийное письмо?": "warranty letter",
    "Что говорится в докладе Human Rights Watch?": "HUMAN RIGHTS WATСH report",
    "Франция елшісі кім болды?": "Serge Smesov",
    "Аблязовтың әйелі мен қызы 2013 жылы мамырда қайда жіберілді?": "May 31, 2013",
    "Human Rights Watch баяндамасы не дейді?": "HUMAN RIGHTS WATСH report",
}
