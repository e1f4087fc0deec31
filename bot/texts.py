"""Everything the bot says itself, in the asker's language.

One catalogue per language, `bot/locales/<code>.toml`: a key per text, Telegram HTML, `{name}`
placeholders. A text that depends on a number is a table of plural forms (`one`, `few`,
`many`, `other`, as CLDR names them), or one string in a language whose nouns do not change
with the number (Kazakh: 1 құжат, 5 құжат). English is complete and the fallback; a test checks
that every other catalogue holds every key with the same placeholders. Quotes from documents
never pass through here: they stay in their document's language.
"""

from __future__ import annotations

import functools
import tomllib
from html import escape
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "ru", "kk")  # the first is the fallback


def language(code: str | None) -> str:
    """Return the catalogue for a Telegram `language_code` ("ru-RU" → "ru"; unknown → "en")."""
    primary = (code or "").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else LANGUAGES[0]


@functools.cache
def catalogue(lang: str) -> dict[str, str | dict[str, str]]:
    """Return the texts of `lang`, read once from its TOML file."""
    with (LOCALES / f"{lang}.toml").open("rb") as file:
        return tomllib.load(file)


def plural_form(lang: str, n: int) -> str:
    """Return the CLDR plural category of `n` in `lang` (Russian has three for integers)."""
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def text(lang: str, key: str, count: int | None = None, html: bool = True, **values: object) -> str:
    """Return the text `key` in `lang` with `values` filled in.

    Args:
        lang: a language of LANGUAGES (see `language`).
        key: the text's key in the catalogue.
        count: for a plural text, the number that chooses the form (also `{count}`).
        html: escape the values for Telegram HTML (False for plain text: buttons, alerts).
        values: the placeholders' values.
    """
    entry = catalogue(lang).get(key) or catalogue(LANGUAGES[0])[key]
    if isinstance(entry, dict):
        entry = entry.get(plural_form(lang, count or 0)) or entry["other"]
    if count is not None:
        values["count"] = count
    if html:
        values = {name: escape(str(value), quote=False) for name, value in values.items()}
    return entry.format(**values)


def index_size(lang: str, counts: dict) -> str:
    """Return "1 document, 33 passages" in `lang` (plain text) for an index's manifest."""
    return (
        text(lang, "count_documents", count=counts["documents"], html=False)
        + ", "
        + text(lang, "count_passages", count=counts["passages"], html=False)
    )


def date_time(lang: str, iso: str) -> str:
    """Return an ISO time ("2026-12-01T14:21:00+00:00") as a date in `lang`, in UTC
    ("1 декабря 2026 г., 14:21 UTC"); a value that is not an ISO time is returned as it is."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
    except (TypeError, ValueError):
        return iso
    month = text(lang, "months", html=False).split()[moment.month - 1]
    return text(lang, "date_time", html=False, day=moment.day, month=month, year=moment.year,
                time=moment.strftime("%H:%M"))  # fmt: skip
