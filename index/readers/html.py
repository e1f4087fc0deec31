"""Web pages saved from websites: the article's blocks, its title, author and date.

A page is read in the charset it declares; trafilatura tells the article from the site's
menus, notices and footers, and `furniture` drops what is left of the site in three languages,
as well as blocks that are only a link ("Continue reading the main story").
Headings come out as Markdown `#` lines. The title is the start of the page's `<title>` that
its `<h1>` or `og:title` confirms; the author, the first of its `<meta name="author">` and
trafilatura's byline that reads as people's names.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from index.normalize import fold
from index.readers.text import (
    GUESS_BYTES,
    NOTICE_WORDS,
    Extracted,
    copyright_notice,
    decode,
    people,
)

_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
#: What an HTML <title> puts between a page's name and its site's ("… | Новости").
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|·|::)\s+")
_SITE_NAME_WORDS = 4
LAYOUT_CELL = 500  # characters: a table cell this long holds an article, not data
ARTICLE_WORDS = 4  # a block this long is the article's wherever trafilatura's text holds it
LINKED = 0.9  # of a block's characters inside links: it only leads elsewhere ("Continue reading")
_FURNITURE = [
    re.compile(pattern, re.I)
    for pattern in (
        r"\bcookies?\b|файл\w* cookie",
        r"^[^.!?]*\S\s+(›|»|→|>|/)\s+\S[^.!?]*\s(›|»|→|>|/)\s+\S",  # Home › Society › Regions
        r"\d\s(views|просмотр(а|ов)?|қаралым)\b",
        r"^(share|поделиться|бөлісу)\b\W",
        r"^(?=.*\b(subscribe|подпишитесь|подписывайтесь|жазылыңыз|жазылыңдар)\b)"
        r"(?=.*\b(telegram|канал\w*|арна\w*|channel|newsletter|рассылк\w*|youtube|instagram))",
        r"^(read also|see also|related( news| articles)?|читайте также|смотрите также|"
        r"по теме|сондай-ақ оқыңыз|тақырыпқа орай|advertisement|реклама|жарнама)\W*$",
    )
]


def read_page(raw: bytes) -> Extracted:
    """Read a web page saved from a website (.html, .htm)."""
    return read_html(decode_html(raw))


def decode_html(raw: bytes) -> str:
    """Return a page's text in the charset it declares (`<meta charset>`, `http-equiv`).

    A page saved from a website often says windows-1251 or koi8-r: it is read as it says.
    Without a declaration (or with an unknown one) it must be UTF-8, as any text file.
    """
    declared = _CHARSET.search(raw[:GUESS_BYTES])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            if codecs.lookup(name).name not in ("utf-8", "utf-8-sig"):
                return raw.decode(name)
        except LookupError:
            pass  # an unknown charset: UTF-8 is the only other guess
        except UnicodeDecodeError as error:
            raise ValueError(f"not {name} text as it declares (byte {error.start})") from error
    return decode(raw)


class _HTMLText(HTMLParser):
    """Collects the main text of a page: blocks and headings, without page chrome."""

    # Not "form": ASP.NET sites put the whole page in one (its controls are chrome still).
    CHROME = set("script style nav header footer aside noscript template svg button select "
                 "textarea iframe menu".split())  # fmt: skip
    BLOCKS = set("p div li blockquote pre td th tr section article main dd dt figcaption table "
                 "ul ol br hr body".split())  # fmt: skip
    HEADINGS = set("h1 h2 h3 h4 h5 h6".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.links: set[str] = set()  # blocks that are a link and nothing else
        self.meta: dict[str, str] = {}
        self.title = ""
        self.first_h1 = ""
        self._current: list[str] = []
        self._linked = 0  # characters of the current block inside <a>
        self._in_link = 0
        self._chrome = 0
        self._in_title = False
        self._heading: str | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        linked, self._current, self._linked = self._linked, [], 0
        if not text:
            return
        if not self._heading and linked >= LINKED * len(text.replace(" ", "")):
            self.links.add(text)
        if self._heading:
            self.blocks.append(f"# {text}")
            if self._heading == "h1" and not self.first_h1:
                self.first_h1 = text
        else:
            self.blocks.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.CHROME:
            self._chrome += 1
        elif tag == "meta":
            values = dict(attrs)
            name = values.get("name") or values.get("property")  # og:title has a property
            if name and values.get("content"):
                self.meta.setdefault(name.lower(), values["content"])
        elif tag == "a":
            self._in_link += 1
        elif tag == "title" and not self._chrome and not self.title:
            self._in_title = True  # the page's own, not an <svg> icon's inside a button
        elif tag in self.BLOCKS or tag in self.HEADINGS:
            self._flush()
            if tag in self.HEADINGS:
                self._heading = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.CHROME:
            self._chrome = max(0, self._chrome - 1)
        elif tag == "a":
            self._in_link = max(0, self._in_link - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCKS or tag in self.HEADINGS:
            self._flush()
            if tag in self.HEADINGS:
                self._heading = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._chrome:
            self._current.append(data)
            self._linked += len("".join(data.split())) if self._in_link else 0


def read_html(source: str, page: bool = True) -> Extracted:
    """Read an HTML page: its title and meta tags, and its text.

    A page saved from a website (`page`) gives its article only (`_article`), without
    the site's furniture (`furniture`); an EPUB chapter gives every block outside `CHROME`.
    """
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    parser._flush()
    metadata = {"date": parser.meta["date"]} if "date" in parser.meta else {}
    blocks, found = parser.blocks, None
    if page:
        blocks, found = _article(blocks, source)
        blocks = [b for b in blocks if not furniture(b.lstrip("# ")) and b not in parser.links]
    tag, shared = " ".join(parser.title.split()), parser.meta.get("og:title", "")
    title = _page_title(tag, parser.first_h1, shared, found.sitename if found else None)
    if title:
        metadata["title"] = title
    authors = [parser.meta.get("author"), found.author if found else None]
    if names := next((n for a in authors if a and (n := people(a))), None):
        metadata["author"] = names
    return Extracted("\n\n".join(blocks), metadata)


def _article(blocks: list[str], source: str) -> tuple[list[str], object | None]:
    """Return the blocks of a web page that belong to its article, as trafilatura finds it,
    and what trafilatura found (its title, author and site name; None when nothing).

    trafilatura tells the article from menus, cookie notices, related links and footers
    (measured against the rules of `_HTMLText` alone: scripts/bench_documents.py); the blocks
    themselves stay ours, so headings stay headings. A heading is kept when a block of its
    section is. An old page laid out with tables holds its article in a table cell, which
    trafilatura would keep whole as a data table: a table with a cell of more than
    LAYOUT_CELL characters is read as `<div>`s. When trafilatura finds no article, every block.
    """
    import lxml.html
    import trafilatura
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(source)
    except (etree.ParserError, ValueError):
        return blocks, None
    for table in list(tree.iter("table")):
        if any(len(cell.text_content()) > LAYOUT_CELL for cell in table.iter("td", "th")):
            for element in table.iter("table", "tbody", "thead", "tfoot", "tr", "td", "th"):
                element.tag = "div"
    found = trafilatura.bare_extraction(
        tree,
        favor_precision=True,
        include_comments=False,
        include_formatting=False,
        with_metadata=True,
    )
    if found is None or found.body is None:
        return blocks, found
    text = " ".join("\n".join(found.body.itertext()).split())
    lines = {" ".join(line.split()) for line in "\n".join(found.body.itertext()).splitlines()}
    kept = [b in lines or (len(b.split()) >= ARTICLE_WORDS and b in text) for b in blocks]
    section_kept = False  # whether a block between this heading and the next is kept
    for i in reversed(range(len(blocks))):
        if blocks[i].startswith("# "):
            kept[i], section_kept = section_kept, False
        else:
            section_kept = section_kept or kept[i]
    return [b for b, keep in zip(blocks, kept, strict=True) if keep], found


def furniture(block: str) -> bool:
    """Whether a short block of a web page is the site's, not the article's: a cookie notice,
    breadcrumbs, a byline with a view count, share or subscribe lines, a "read also" or advert
    label, a © line — in English, Russian or Kazakh. A block of more than NOTICE_WORDS words
    is always the article's."""
    if len(block.split()) > NOTICE_WORDS:
        return False
    return copyright_notice(block) or any(pattern.search(block) for pattern in _FURNITURE)


def _page_title(tag: str, h1: str, shared: str = "", site: str | None = None) -> str:
    """Return a page's own name: its <title> (`tag`) without the site's name, else its <h1>.

    The name is the shortest start of the <title>, up to a separator ("… | Education | The
    Guardian"), or the whole, that is the <h1> or the title the page gives for sharing
    (`og:title`). A <title> that is only the `site`'s name (trafilatura's) gives way to them. Where
    they agree on nothing: the <h1> where the <title> holds it and more; else the <title>
    without a short last part, the site's name ("… | Новости", "… - BBC News").
    """
    if not tag or (site and fold(tag) == fold(site)):
        return h1 or shared or tag
    others = [fold(source) for source in (h1, shared) if source]
    separators = list(_TITLE_SEPARATOR.finditer(tag))
    for start in (*(tag[: m.start()] for m in separators), tag):
        if fold(start) in others:
            return start
    site_part = tag[separators[-1].end() :] if separators else ""
    if h1 and h1 in tag and h1 != site_part:
        return h1
    if site_part and len(site_part.split()) <= _SITE_NAME_WORDS:
        return tag[: separators[-1].start()]
    return tag
