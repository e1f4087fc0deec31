from html import unescape

from bot.answering import Answer
from bot.render import ELLIPSIS, context_html, to_html, to_json, to_text
from index.search import Hit, SearchResult
from index.store import StoredPassage

from .support.botapi import check_html

DOCUMENT = {"id": "d.txt", "title": "T & <Co>", "author": "A", "date": "2020", "source": None}


def passage(text: str, paragraph: int = 1) -> StoredPassage:
    return StoredPassage(
        row=0,
        passage_id=f"d.txt#{paragraph}.1",
        paragraph=paragraph,
        part=1,
        section="S",
        heading=None,
        page=None,
        start=0,
        end=len(text),
        text=text,
        document=DOCUMENT,
    )


def result(*texts: str, best=None) -> Answer:
    hits = [Hit(passage(t, i), 1.0, best) for i, t in enumerate(texts, 1)]
    return Answer(SearchResult("q", True, hits))


def test_html_escapes_documents_and_keeps_quotes_verbatim():
    text = "Tom & Jerry said <b>hi</b>. Then they left."
    html = to_html(result(text, best=(0, 27)), [], "en")
    (quote,) = check_html(html)
    assert quote == text
    assert "<b>Tom &amp; Jerry said &lt;b&gt;hi&lt;/b&gt;.</b>" in html
    assert "— T &amp; &lt;Co&gt;, A, 2020, section “S”, ¶ 1" in html


def test_long_answers_drop_whole_passages_then_cut_at_a_sentence():
    sentence = "The committee met again and wrote a report about the situation. "
    long = (sentence * 60).strip()  # about 3,900 characters
    html = to_html(result(long, long, long), [], "en")
    quotes = check_html(html)
    assert len(quotes) == 1  # the second and third passages no longer fit
    huge = (sentence * 100).strip()
    html = to_html(result(huge, best=(0, 20)), [], "en")
    (quote,) = check_html(html)
    assert quote.endswith(ELLIPSIS) and huge.startswith(quote.removesuffix(ELLIPSIS))
    assert quote.removesuffix(ELLIPSIS).endswith("situation.")  # cut at a sentence end


def test_a_single_endless_sentence_is_cut_between_words():
    endless = " ".join(f"word{i}" for i in range(2000))
    (quote,) = check_html(to_html(result(endless), [], "en"))
    assert endless.startswith(quote.removesuffix(ELLIPSIS))


def test_notes_nothing_found_and_empty_questions():
    cut = Answer(SearchResult("q", False, []), cut_to=480)
    html = to_html(cut, ["Who & why?"], "en")
    check_html(html)
    assert "<i>Your question was long: only its first 480 characters were searched.</i>" in html
    assert "• Who &amp; why?" in html
    empty = to_html(Answer(SearchResult("", False, [])), [], "ru")
    assert empty == "<i>Вопрос пуст: напишите вопрос об архиве.</i>"


def test_context_is_an_expandable_blockquote_marking_the_quoted_paragraph():
    html = context_html(
        [passage("Before.", 4), passage("Quoted & <x>.", 5), passage("After.", 6)], 5, "en"
    )
    (quote,) = check_html(html)
    assert html.startswith("<blockquote expandable>")
    assert "▶ ¶ 5\nQuoted & <x>." in unescape(quote)


def test_text_and_json_renderings():
    answer = result("One sentence. Two sentence.", best=(14, 27))
    assert "1. “One sentence. Two sentence.”" in to_text(answer)
    assert "\x1b[1mTwo sentence.\x1b[0m" in to_text(answer, color=True)
    data = to_json(answer)
    assert data["passages"][0]["text"] == "One sentence. Two sentence."
    assert data["passages"][0]["document"] == DOCUMENT


def test_labels_around_quotes_follow_the_asker_and_quotes_stay_verbatim():
    text = "Tom & Jerry said <b>hi</b>. Then they left."
    labels = {"ru": "раздел «S», ¶ 1", "kk": "«S» бөлімі, ¶ 1", "en": "section “S”, ¶ 1"}
    for lang, label in labels.items():
        html = to_html(result(text), [], lang)
        (quote,) = check_html(html)
        assert quote == text and label in html
    nothing = to_html(Answer(SearchResult("q", False, [])), ["Кто такой Аблязов?"], "ru")
    assert "В архиве нет фрагмента" in nothing and "• Кто такой Аблязов?" in nothing


def test_a_quote_from_a_huge_paragraph_costs_only_what_is_shown():
    sentences = ("The committee met again & wrote a <b>report</b>. " * 25_000).strip()  # 1.2 MB
    words = ("word & " * 200_000).strip()  # no sentence end at all
    for huge in (sentences, words):
        html = to_html(result(huge, best=(0, 40)), [], "en")
        (quote,) = check_html(html)
        assert quote.endswith(ELLIPSIS) and huge.startswith(quote.removesuffix(ELLIPSIS))
    around = [passage(sentences, 4), passage(words, 5), passage(sentences, 6)]
    (context,) = check_html(context_html(around, 5, "en"))
    assert words.startswith(context.split("\n", 1)[1].removesuffix(ELLIPSIS))
