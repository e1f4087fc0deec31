"""Plain text and Markdown, and what every reader shares: `Extracted`, decoding, line joining.

A text file must be UTF-8 (a byte-order mark is honoured); one that is not is refused with the
encoding it most likely has and the command that converts it. Markdown's YAML front matter
(title, author, date, …) is metadata, read without aliases and within FRONT_MATTER_BYTES.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import yaml

from index.normalize import fold

GUESS_BYTES = 64 * 1024  # enough text to tell an encoding, never the whole of a huge file
FRONT_MATTER_BYTES = 64 * 1024  # YAML front matter is a few lines of metadata
#: Titles and authors that writing tools fill in by themselves (Word's placeholder account in
#: English, Russian, Kazakh and the languages of the real files tried): no metadata at all.
TOOL_DEFAULTS = {
    "untitled", "anonymous", "unknown", "author", "title", "python-docx", "adobe photoshop pdf",
    "microsoft account", "microsoft office user", "учетная запись майкрософт",
    "пользователь microsoft office", "microsoft тіркелгісі", "proprietario", "owner", "user",
    "admin", "administrator", "пользователь", "windows user",
}  # fmt: skip
#: A copyright notice, in English, Russian or Kazakh: the publisher's, not the document's text.
COPYRIGHT = re.compile(
    r"^\s*(©|\(c\)|copyright\b)|all rights reserved|все права защищены|барлық құқықтар қорғалған",
    re.I,
)
NOTICE_WORDS = 25  # a block longer than this is text, whatever it holds
#: A converter's name before a file's: "Microsoft Word - report.doc".
#: Lower-case words a person's name may hold ("Ludwig van Beethoven", "Gabriel García de la…").
_NAME_PARTICLES = set("de da di do dos du del della der den la le van von ten ter bin ibn al el y e"
                      .split())  # fmt: skip
_CONVERTED_FROM = re.compile(r"^(microsoft (word|powerpoint|excel)|adobe \w+) - ", re.I)


@dataclass
class Extracted:
    text: str
    metadata: dict = field(default_factory=dict)
    body_start: int = 0  # where the text after front matter begins
    pages: list[int] = field(default_factory=list)  # offset where each PDF page starts
    scanned: list[int] = field(default_factory=list)  # 1-based pages read by OCR


def read_text(raw: bytes) -> Extracted:
    """Read a plain text file."""
    return Extracted(decode(raw))


def read_markdown(raw: bytes) -> Extracted:
    """Read a Markdown file: its text, and its front matter as metadata."""
    text = decode(raw)
    metadata, body_start = split_front_matter(text)
    return Extracted(text, metadata, body_start)


def decode(raw: bytes) -> str:
    """Return the text of a UTF-8 file (a UTF-8 or UTF-16 byte-order mark is honoured)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ValueError(f"damaged UTF-16 text (byte {error.start})") from error
        if "\x00" in text:  # binary data that happens to start like a byte-order mark
            raise ValueError("binary content in a text file")
        return text
    if b"\x00" in raw:
        raise ValueError("binary content in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start}){_encoding_hint(raw)}") from error


def _encoding_hint(raw: bytes) -> str:
    """Name the encoding `raw` most likely has, with the command that converts it to UTF-8."""
    from charset_normalizer import from_bytes

    guess = from_bytes(raw[:GUESS_BYTES]).best()
    if guess is None or guess.encoding in ("utf_8", "ascii"):  # damaged UTF-8: no advice
        return ""
    name = guess.encoding.replace("_", "-")
    return f": looks like {name}; convert it with `iconv -f {name} -t utf-8`"


def split_front_matter(text: str) -> tuple[dict, int]:
    """Return the YAML front matter of a Markdown text and where its body starts."""
    if not text.startswith("---"):
        return {}, 0
    end = text.find("\n---", 3)
    if end == -1:
        return {}, 0
    body_start = text.find("\n", end + 4)
    body_start = len(text) if body_start == -1 else body_start + 1
    if len(text[3:end].encode()) > FRONT_MATTER_BYTES:
        raise ValueError(f"its front matter is over {FRONT_MATTER_BYTES // 1024} KB")
    try:
        data = yaml.load(text[3:end], Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise ValueError(f"its front matter is not valid YAML ({problem}{where})") from error
    return (data if isinstance(data, dict) else {}), body_start


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: metadata never needs them, and an alias bomb needs nothing else."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


def people(author: str) -> str | None:
    """Return `author` as one or more people's names ("A. Smith; B. Jones", repeats in
    another case dropped), or None when it does not read as names: a site's name with its
    address, a date, a photo credit ("Фото из Инстаграма …"). A name's words start with a
    capital letter, bar particles such as "van" or "de"."""
    names: list[str] = []
    for name in re.split(r"\s*;\s*|\s+and\s+|\s+и\s+", author.strip()):
        words = name.split()
        if not 1 <= len(words) <= 6:
            return None
        if any(not re.fullmatch(r"[^\W\d_][\w.'’-]*", w, re.U) for w in words):
            return None
        if any(not w[0].isupper() and w not in _NAME_PARTICLES for w in words):
            return None
        if fold(name) not in map(fold, names):
            names.append(name)
    return "; ".join(names) or None


def tool_made(value: str) -> bool:
    """Whether a title or author a file's metadata gives is a tool's, not the document's: a
    tool's default ("Untitled", Word's "Microsoft account"), or a file's name ("Microsoft Word -
    report.doc", "Binder1.pdf", "OECS12_Matthiesen-Atature", "Chapter1": one word of letters
    with a digit or an underscore, or a name ending in a file's suffix)."""
    plain = value.strip().strip("()[]<>").lower()
    return bool(
        plain in TOOL_DEFAULTS
        or _CONVERTED_FROM.match(plain)
        or re.search(r"\w\.[a-z][a-z0-9]{1,3}$", plain)
        or (" " not in plain and re.search(r"[^\W\d_]", plain) and re.search(r"[\d_]", plain))
    )


def copyright_notice(block: str) -> bool:
    """Whether a block (a web page's, a PDF's paragraph) is a copyright notice: "© 2004 Her
    Majesty…", "All rights reserved", of NOTICE_WORDS words at most."""
    return len(block.split()) <= NOTICE_WORDS and bool(COPYRIGHT.search(block))


def rejoined(previous: str, line: str) -> str | None:
    """Return `previous` and the next `line` as one word-joined text when `previous` ends in a
    word hyphenated at the line's end ("Уральс-" + "ке." -> "Уральске."), else None."""
    if re.search(r"\w-$", previous) and line[:1].islower():
        return previous[:-1] + line
    return None
