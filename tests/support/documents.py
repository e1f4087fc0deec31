"""Documents as they really arrive, built by the tests themselves: news pages saved from
websites in three layouts, in English, Russian and Kazakh, with the site's furniture planted.

Each page is an article (its paragraphs, one question each with the sentence that answers it)
wrapped in a site: menus, cookie notice, breadcrumbs, a byline with a view count, share and
subscribe blocks, "read also" links, an advert and a © footer. `FURNITURE` lists every such
string: none may become a passage. Used by tests/test_real_documents.py and
scripts/bench_documents.py. Then hostile files: Word and YAML entity bombs, a zip bomb, and
a corpus of every kind of bad file beside one good one (`hostile_corpus`); `make_pdf`, a PDF
built by hand.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import docx


@dataclass(frozen=True)
class Article:
    lang: str
    title: str
    paragraphs: list[str]
    questions: list[tuple[str, str]]  # (question, the sentence that answers it)


ARTICLES = {
    "en": Article(
        "en",
        "Spring floods cut off villages in Atyrau region",
        [
            "Spring floods cut off eleven villages in Atyrau region on Tuesday, after the Ural "
            "river rose by almost two metres in three days.",
            "Rescuers evacuated 1,340 residents by boat and helicopter, the regional emergency "
            "department said in a statement on Wednesday morning.",
            "Farmers in Makhambet district lost most of their winter hay, and several hundred "
            "head of cattle drowned before they could be moved to higher ground.",
            "The regional governor promised compensation of up to 500,000 tenge per household "
            "whose house was flooded, to be paid before the end of May.",
            "Hydrologists warned that the water could rise again in mid-April, when the snow "
            "melts in the upper reaches of the river in Orenburg region.",
        ],
        [
            (
                "How many villages did the spring floods cut off in Atyrau region?",
                "Spring floods cut off eleven villages",
            ),
            (
                "How many residents were evacuated by boat and helicopter?",
                "Rescuers evacuated 1,340 residents",
            ),
            (
                "What compensation did the governor promise for flooded houses?",
                "compensation of up to 500,000 tenge",
            ),
        ],
    ),
    "ru": Article(
        "ru",
        "В Шымкенте закрыли рынок после проверки санитарной службы",
        [
            "В Шымкенте на две недели закрыли рынок «Айна» после внеплановой проверки "
            "санитарной службы, выявившей нарушения в мясных рядах.",
            "Инспекторы обнаружили мясо без ветеринарных документов и холодильники, в которых "
            "температура не опускалась ниже двенадцати градусов.",
            "Около четырёхсот продавцов остались без работы, и часть из них вышла к акимату "
            "города с требованием разрешить торговлю под открытым небом.",
            "Администрация рынка заявила, что уже закупила новое холодильное оборудование и "
            "рассчитывает открыться к первому июня.",
            "По данным департамента, за год в области проверили девяносто шесть рынков, и "
            "нарушения нашли на каждом третьем.",
        ],
        [
            ("На сколько закрыли рынок Айна в Шымкенте?", "на две недели закрыли рынок «Айна»"),
            (
                "Что обнаружили инспекторы в мясных рядах?",
                "Инспекторы обнаружили мясо без ветеринарных документов",
            ),
            (
                "Сколько продавцов остались без работы?",
                "Около четырёхсот продавцов остались без работы",
            ),
        ],
    ),
    "kk": Article(
        "kk",
        "Қарағандыда жаңа аурухана салынады",
        [
            "Қарағанды қаласының оңтүстік бөлігінде үш жүз төсекке арналған көпбейінді "
            "аурухана салынады, деп хабарлады облыс әкімдігі.",
            "Құрылысқа республикалық бюджеттен қырық екі миллиард теңге бөлінді, ал жұмыс "
            "келесі жылдың көктемінде басталады.",
            "Ауруханада кардиология, нейрохирургия және балалар хирургиясы бөлімдері "
            "жұмыс істейді деп жоспарлануда.",
            "Облыстық денсаулық сақтау басқармасының айтуынша, жаңа ғимарат кезекті екі есе "
            "қысқартуға мүмкіндік береді.",
            "Жергілікті тұрғындар қоғамдық тыңдауда аурухананың жанынан автобус аялдамасын "
            "салуды сұрады.",
        ],
        [
            (
                "Қарағандыдағы жаңа аурухана неше төсекке арналған?",
                "үш жүз төсекке арналған көпбейінді аурухана",
            ),
            ("Аурухана құрылысына қанша ақша бөлінді?", "қырық екі миллиард теңге бөлінді"),
            ("Тұрғындар қоғамдық тыңдауда не сұрады?", "автобус аялдамасын салуды сұрады"),
        ],
    ),
}

# The site's furniture, per language: each string must stay out of every passage.
SITE = {
    "en": {
        "menu": ["Home", "Politics", "Business", "Contacts"],
        "cookie": "We use cookies to improve your experience. By continuing you accept our "
        "cookie policy.",
        "crumbs": "Home › Society › Regions",
        "byline": "14 March 2024 · Dana Seitkali · 1 245 views",
        "share": "Share: Facebook · X · Telegram",
        "subscribe": "Subscribe to our Telegram channel to get the news first!",
        "also": "Read also",
        "links": ["Tenge weakens against the dollar", "New airport terminal opens in Shymkent"],
        "advert": "Advertisement",
        "footer": "© 2024 Steppe News. All rights reserved.",
    },
    "ru": {
        "menu": ["Главная", "Политика", "Экономика", "Контакты"],
        "cookie": "Мы используем файлы cookie. Продолжая пользоваться сайтом, вы соглашаетесь "
        "с политикой конфиденциальности.",
        "crumbs": "Главная › Общество › Регионы",
        "byline": "14 марта 2024 · Айдос Сарым · 1 245 просмотров",
        "share": "Поделиться: ВКонтакте · Одноклассники · Telegram",
        "subscribe": "Подпишитесь на наш Telegram-канал, чтобы первыми узнавать новости!",
        "also": "Читайте также",
        "links": ["Тенге ослаб к доллару", "В Алматы открыли новую станцию метро"],
        "advert": "Реклама",
        "footer": "© 2024 Новости Степи. Все права защищены.",
    },
    "kk": {
        "menu": ["Басты бет", "Саясат", "Экономика", "Байланыс"],
        "cookie": "Біз cookie файлдарын қолданамыз. Сайтты пайдалана отырып, құпиялылық "
        "саясатымен келісесіз.",
        "crumbs": "Басты бет › Қоғам › Өңірлер",
        "byline": "14 наурыз 2024 · Айгүл Омарова · 1 245 қаралым",
        "share": "Бөлісу: Facebook · Telegram · WhatsApp",
        "subscribe": "Жаңалықтарды бірінші білу үшін Telegram-арнамызға жазылыңыз!",
        "also": "Сондай-ақ оқыңыз",
        "links": ["Теңге долларға қатысты әлсіреді", "Шымкентте жаңа әуежай терминалы ашылды"],
        "advert": "Жарнама",
        "footer": "© 2024 Дала жаңалықтары. Барлық құқықтар қорғалған.",
    },
}
LAYOUTS = ("semantic", "divs", "tables")


def furniture(lang: str) -> list[str]:
    """Every furniture string of the site in `lang` (menu items, notices, links, footer)."""
    site = SITE[lang]
    return [*site["menu"], *site["links"]] + [
        site[key]
        for key in ("cookie", "crumbs", "byline", "share", "subscribe", "also", "advert", "footer")
    ]


def news_page(lang: str, layout: str) -> str:
    """An article page as a browser saves it, in one of LAYOUTS: HTML5 elements
    (`semantic`), nothing but classed `<div>`s (`divs`), or an old table layout with `<br>`
    between paragraphs and a "most read" column (`tables`)."""
    article, site = ARTICLES[lang], SITE[lang]
    e = escape
    menu_links = "".join(f'<a href="/{i}">{e(m)}</a> ' for i, m in enumerate(site["menu"]))
    links = "".join(f'<li><a href="/n/{i}">{e(t)}</a></li>' for i, t in enumerate(site["links"]))
    head = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{e(article.title)} | Steppe</title>"
            '<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}</script>'
            "<style>.menu{display:flex}</style></head><body>")  # fmt: skip
    if layout == "semantic":
        paragraphs = "".join(f"<p>{e(p)}</p>" for p in article.paragraphs)
        body = (
            f'<header><nav class="main-menu">{menu_links}</nav></header>'
            f'<div id="cookie-consent" class="cookie-banner"><p>{e(site["cookie"])}</p>'
            "<button>OK</button></div>"
            f'<main><nav class="breadcrumbs">{e(site["crumbs"])}</nav><article>'
            f'<h1>{e(article.title)}</h1><p class="byline"><time>{e(site["byline"])}</time></p>'
            f"{paragraphs}"
            f'<div class="share">{e(site["share"])}</div>'
            f'<p class="subscribe"><a href="https://t.me/steppe">{e(site["subscribe"])}</a></p>'
            f'</article><aside class="related"><h3>{e(site["also"])}</h3><ul>{links}</ul>'
            f"</aside></main><footer><p>{e(site['footer'])}</p></footer>"
        )
    elif layout == "divs":
        paragraphs = "".join(f'<div class="txt">{e(p)}</div>' for p in article.paragraphs)
        body = (
            '<div class="top"><div class="menu">'
            + "".join(
                f'<div class="item"><a href="/{i}">{e(m)}</a></div>'
                for i, m in enumerate(site["menu"])
            )  # fmt: skip
            + f'</div></div><div class="cookies">{e(site["cookie"])}</div>'
            f'<div class="crumbs">{e(site["crumbs"])}</div>'
            f'<div class="news"><div class="news-title">{e(article.title)}</div>'
            f'<div class="news-info">{e(site["byline"])}</div>'
            f'<div class="news-text">{paragraphs}</div>'
            f'<div class="adv"><div class="adv-label">{e(site["advert"])}</div>'
            '<div class="adv-slot"></div></div>'
            f'<div class="share-block">{e(site["share"])}</div>'
            f'<div class="tg">{e(site["subscribe"])}</div></div>'
            f'<div class="more"><div class="more-title">{e(site["also"])}</div>'
            + "".join(
                f'<div class="more-item"><a href="/n/{i}">{e(t)}</a></div>'
                for i, t in enumerate(site["links"])
            )  # fmt: skip
            + f'</div><div class="bottom">{e(site["footer"])}</div>'
        )
    else:
        paragraphs = "<br><br>".join(e(p) for p in article.paragraphs)
        body = (
            '<table width="100%"><tr><td colspan="3">'
            f'<font size="1">{e(site["cookie"])}</font></td></tr><tr>'
            f'<td width="150" valign="top">{menu_links.replace("</a> ", "</a><br>")}</td>'
            f'<td valign="top"><font size="1">{e(site["crumbs"])}</font>'
            f"<h2>{e(article.title)}</h2><i>{e(site['byline'])}</i><br><br>"
            f'<font face="Arial">{paragraphs}</font><br><br>'
            f"<b>{e(site['share'])}</b><br>{e(site['subscribe'])}</td>"
            f'<td width="200" valign="top"><b>{e(site["also"])}</b><br>'
            + "<br>".join(f'<a href="/n/{i}">{e(t)}</a>' for i, t in enumerate(site["links"]))
            + f"<br><br><small>{e(site['advert'])}</small></td></tr>"
            f'<tr><td colspan="3" align="center">{e(site["footer"])}</td></tr></table>'
        )
    return head + body + "</body></html>"


# A long report as PDF: a running header on every page, a page number at its foot ("— 7 —"),
# and its chapters' paragraphs flowing across pages. Each language's report names what it
# monitored; one sentence per language answers a question.
REPORT = {
    "en": {
        "header": "Steppe Monitor · Annual Report on Detention Conditions 2023",
        "number": "— {n} —",
        "chapter": "Chapter {n}. Region {n}",
        "filler": "In region {n}, monitors visited {k} places of detention in the {q} quarter "
        "and recorded {m} complaints about food, medical care and visits by relatives.",
        "answer": "Monitors found that the pre-trial detention centre in Taraz held 412 "
        "people in cells built for 260.",
        "question": "How many people did the pre-trial detention centre in Taraz hold?",
    },
    "ru": {
        "header": "Степной монитор · Ежегодный доклад об условиях содержания 2023",
        "number": "стр. {n}",
        "chapter": "Глава {n}. Регион {n}",
        "filler": "В регионе {n} наблюдатели посетили {k} мест лишения свободы в {q} квартале "
        "и зарегистрировали {m} жалоб на питание, медицинскую помощь и свидания с родными.",
        "answer": "Наблюдатели установили, что в следственном изоляторе Тараза содержались "
        "412 человек при лимите в 260 мест.",
        "question": "Сколько человек содержалось в следственном изоляторе Тараза?",
    },
    "kk": {
        "header": "Дала мониторы · Қамауда ұстау жағдайлары туралы жылдық баяндама 2023",
        "number": "{n}-бет",
        "chapter": "{n}-тарау. {n}-өңір",
        "filler": "{n}-өңірде бақылаушылар {q}-тоқсанда бас бостандығынан айыру орындарының "
        "{k} жеріне барып, тамақ, медициналық көмек және туыстардың келуі туралы {m} шағым "
        "тіркеді.",
        "answer": "Бақылаушылар Тараздағы тергеу изоляторында 260 орынға 412 адам ұсталғанын "
        "анықтады.",
        "question": "Тараздағы тергеу изоляторында қанша адам ұсталған?",
    },
}


def _font_pdf():
    """An FPDF with a Unicode font (DejaVu Sans, shipped with matplotlib)."""
    from pathlib import Path

    import matplotlib
    from fpdf import FPDF

    pdf = FPDF()
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=11)
    return pdf


def report_pdf(lang: str, chapters: int = 12) -> bytes:
    """A report of several pages per chapter, with its running header and page numbers."""
    report = REPORT[lang]
    pdf = _font_pdf()
    pdf.set_auto_page_break(True, margin=25)

    def furniture() -> None:
        pdf.set_auto_page_break(False)
        pdf.set_font("DejaVu", size=9)
        pdf.set_y(10)
        pdf.cell(0, 6, report["header"], align="C")
        pdf.set_y(-15)
        pdf.cell(0, 6, report["number"].format(n=pdf.page_no()), align="C")
        pdf.set_font("DejaVu", size=11)
        pdf.set_y(25)
        pdf.set_auto_page_break(True, margin=25)

    pdf.header = furniture  # fpdf calls it on every new page
    pdf.add_page()
    for n in range(1, chapters + 1):
        pdf.set_font("DejaVu", size=14)
        pdf.multi_cell(0, 8, report["chapter"].format(n=n), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=11)
        for k in range(1, 9):
            text = report["filler"].format(n=n, k=k + n, q=k % 4 + 1, m=7 * k + n)
            if (n, k) == (chapters // 2, 4):
                text += " " + report["answer"]
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


TWO_COLUMNS = {
    "title": "Бюллетень правозащитного центра № 4",
    "header": "Правозащитный бюллетень · апрель 2024",
    "number": "стр. {n}",
    "paragraphs": [
        "Центр получил в апреле сорок семь обращений от граждан, которым отказали в "
        "регистрации мирных собраний в Алматы, Шымкенте и Уральске.",
        "В тридцати двух случаях акиматы сослались на ремонт дорог или другие массовые "
        "мероприятия, назначенные на то же время и в том же месте.",
        "Юристы центра обжаловали одиннадцать отказов в специализированных межрайонных "
        "административных судах, и два иска были удовлетворены.",
        "Кроме того, центр провёл в Караганде семинар для двадцати пяти журналистов о "
        "правах представителей прессы во время публичных мероприятий.",
        "Участники семинара подготовили памятку о том, как вести себя при задержании и "
        "какие документы нужно иметь при себе.",
        "Следующий выпуск бюллетеня выйдет в конце мая и будет посвящён доступу "
        "заключённых к медицинской помощи.",
    ],
    "question": "Сколько обращений получил центр в апреле?",
    "answer": "Центр получил в апреле сорок семь обращений",
}


def two_column_pdf() -> bytes:
    """A bulletin of three pages set in two columns, narrow lines hyphenated by hand, each page
    under a full-width running header (the first also under the title), its number at the
    foot."""
    spec = TWO_COLUMNS
    pdf = _font_pdf()
    pdf.set_auto_page_break(False)
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 8) / 2
    paragraphs = spec["paragraphs"]
    for number in range(len(paragraphs) // 2):
        pdf.add_page()
        pdf.set_font("DejaVu", size=9)
        pdf.set_y(10)
        pdf.cell(0, 6, spec["header"], align="C", new_x="LMARGIN", new_y="NEXT")
        if number == 0:
            pdf.set_font("DejaVu", size=15)
            pdf.cell(0, 12, spec["title"], align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=10)
        for column in range(2):
            x = pdf.l_margin + column * (width + 8)
            pdf.set_xy(x, 35)
            for line in _narrow_lines(paragraphs[2 * number + column], 44):
                pdf.set_x(x)
                pdf.cell(width, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        pdf.set_y(-15)
        pdf.cell(0, 6, spec["number"].format(n=number + 1), align="C")
    return bytes(pdf.output())


def _narrow_lines(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters; a word that does not fit is hyphenated when both
    of its parts are at least 3 letters long, as a typesetter would."""
    lines, line = [], ""
    for word in text.split():
        if len(line) + 1 + len(word) <= width or not line:
            line = f"{line} {word}".strip()
            continue
        room = width - len(line) - 2
        if room >= 3 and len(word) - room >= 3 and word[:room].isalpha():
            lines.append(f"{line} {word[:room]}-")
            line = word[room:]
        else:
            lines.append(line)
            line = word
    return lines + [line]


# Scans: a page of a protocol typed, printed and scanned, one per language, rendered at 300 dpi.
SCANS = {
    "en": "The district court of Uralsk heard the case of the activist on 12 March 2024. "
    "The defence asked the court to call two witnesses who had seen the arrest, but the "
    "judge refused. The activist was fined 150,000 tenge for taking part in an unauthorised "
    "meeting.",
    "ru": "Районный суд Уральска рассмотрел дело активиста 12 марта 2024 года. Защита "
    "просила вызвать двух свидетелей, которые видели задержание, но судья отказал. "
    "Активиста оштрафовали на 150 000 тенге за участие в несанкционированном митинге.",
    "kk": "Орал қаласының аудандық соты белсендінің ісін 2024 жылғы 12 наурызда қарады. "
    "Қорғаушы ұстауды көрген екі куәгерді шақыруды сұрады, бірақ судья бас тартты. "
    "Белсенді рұқсат етілмеген митингке қатысқаны үшін 150 000 теңге айыппұл төледі.",
}
SCAN_QUESTIONS = {
    "en": ("How much was the activist fined in Uralsk?", "fined 150,000 tenge"),
    "ru": ("На сколько оштрафовали активиста в Уральске?", "оштрафовали на 150 000 тенге"),
    "kk": ("Оралдағы белсенді қанша айыппұл төледі?", "150 000 теңге айыппұл"),
}


def scanned_page(text: str):
    """An A4 page at 300 dpi with `text` typed on it in 12-point type (a PIL image)."""
    from pathlib import Path

    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), 50
    )
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    y = 300
    for line in _narrow_lines(text, 70):
        draw.text((250, y), line, font=font, fill=0)
        y += 75
    return page


def scan_png(lang: str) -> bytes:

    out = io.BytesIO()
    scanned_page(SCANS[lang]).save(out, "PNG")
    return out.getvalue()


def scan_pdf(lang: str) -> bytes:
    """A PDF of one scanned page: an image, no text layer."""

    out = io.BytesIO()
    scanned_page(SCANS[lang]).save(out, "PDF", resolution=300)
    return out.getvalue()


def character_accuracy(truth: str, read: str) -> float:
    """1 − the edit distance between the texts (whitespace runs as one space) / len(truth)."""
    truth, read = " ".join(truth.split()), " ".join(read.split())
    row = list(range(len(read) + 1))
    for i, a in enumerate(truth, 1):
        previous, row[0] = row[0], i
        for j, b in enumerate(read, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return 1 - row[-1] / len(truth)


# A Word memo whose sources are footnotes and whose last remark is an endnote.
MEMO = {
    "paragraphs": [
        "The monitoring group visited the temporary detention facility in Taraz twice in February.",
        "Detainees complained that they were not allowed to call their lawyers during the "
        "first day.",
    ],
    "footnotes": [
        "Visit reports of 6 and 20 February 2024, kept in the group's archive under number TR-114.",
        "Interview with the facility's deputy head, recorded on 20 February 2024.",
    ],
    "endnote": "The facility was renovated in 2021 with money from the regional budget.",
    "question": "Where are the visit reports of February kept?",
    "answer": "kept in the group's archive under number TR-114",
}
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def memo_docx() -> bytes:
    """A .docx of two paragraphs, each with a footnote, the last also with an endnote: the
    notes as Word stores them (word/footnotes.xml, word/endnotes.xml, references in runs)."""
    import re

    import docx

    document = docx.Document()
    for paragraph in MEMO["paragraphs"]:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    files = {}
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source:
        for name in source.namelist():
            files[name] = source.read(name)  # bytes; the parts edited below are text

    def notes(kind: str, texts: list[str]) -> str:
        body = "".join(
            f'<w:{kind} w:id="{number}"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:{kind}>'
            for number, text in enumerate(texts, start=1)
        )
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind}s xmlns:w="{_W}">'
                f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
                f"</w:{kind}>{body}</w:{kind}s>")  # fmt: skip

    files = {name: data.decode() if name.endswith(".xml") or name.endswith(".rels") else data
             for name, data in files.items()}  # fmt: skip
    files["word/footnotes.xml"] = notes("footnote", MEMO["footnotes"])
    files["word/endnotes.xml"] = notes("endnote", [MEMO["endnote"]])
    relations = "".join(
        f'<Relationship Id="rNote{kind}" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/{kind}s" Target="{kind}s.xml"/>'
        for kind in ("footnote", "endnote")
    )
    files["word/_rels/document.xml.rels"] = files["word/_rels/document.xml.rels"].replace(
        "</Relationships>", relations + "</Relationships>"
    )
    types = "".join(
        f'<Override PartName="/word/{kind}s.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.wordprocessingml.{kind}s+xml"/>'
        for kind in ("footnote", "endnote")
    )
    content_types = files["[Content_Types].xml"]
    files["[Content_Types].xml"] = content_types.replace("</Types>", types + "</Types>")
    paragraphs = iter(
        [
            '<w:r><w:footnoteReference w:id="1"/></w:r>',
            '<w:r><w:footnoteReference w:id="2"/></w:r><w:r><w:endnoteReference w:id="1"/></w:r>',
        ]
    )
    files["word/document.xml"] = re.sub(
        r"</w:p>", lambda m: next(paragraphs, "") + "</w:p>", files["word/document.xml"]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, text in files.items():
            target.writestr(name, text)
    return out.getvalue()


def odt(paragraphs: list[tuple[str, str]], title: str = "Memo", author: str = "A. Author") -> bytes:
    """A minimal OpenDocument text: ("h" or "p", XML content) per block."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"')  # fmt: skip
    body = "".join(f"<text:{kind}>{xml}</text:{kind}>" for kind, xml in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", f"<office:document-content {ns}><office:body>"
                         f"<office:text>{body}</office:text></office:body>"
                         "</office:document-content>")  # fmt: skip
        archive.writestr("meta.xml", f"<office:document-meta {ns}><office:meta><dc:title>"
                         f"{title}</dc:title><meta:initial-creator>{author}"
                         "</meta:initial-creator></office:meta>"
                         "</office:document-meta>")  # fmt: skip
    return out.getvalue()


def epub(chapters: list[str], title: str = "A Book", author: str = "B. Writer") -> bytes:
    """A minimal EPUB book: one XHTML file per chapter, the spine in reverse file order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml",
                         '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                         '<rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles>'
                         "</container>")  # fmt: skip
        items = "".join(
            f'<item id="c{n}" href="chapter%20{n}.xhtml"/>' for n in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in reversed(range(len(chapters))))
        archive.writestr("OEBPS/book.opf",
                         '<package xmlns="http://www.idpf.org/2007/opf" '
                         'xmlns:dc="http://purl.org/dc/elements/1.1/"><metadata>'
                         f"<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>"
                         f"</metadata><manifest>{items}</manifest><spine>{spine}</spine>"
                         "</package>")  # fmt: skip
        for n, chapter in enumerate(chapters):
            archive.writestr(f"OEBPS/chapter {n}.xhtml", chapter)
    return out.getvalue()


def rtf(paragraphs: list[str]) -> bytes:
    """An RTF file as Word saves a Cyrillic ruling: code page 1251, `\\'xx` escapes, and
    `\\uN?` for letters outside it (Kazakh ones)."""

    def escaped(text: str) -> str:
        out = []
        for char in text:
            if char in "\\{}":
                out.append("\\" + char)
            elif ord(char) < 128:
                out.append(char)
            else:
                try:
                    out.append(f"\\'{char.encode('cp1251')[0]:02x}")
                except UnicodeEncodeError:
                    out.append(f"\\u{ord(char)}?")
        return "".join(out)

    body = "\\par ".join(escaped(p) for p in paragraphs)
    header = "{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0 "
    return (header + body + "\\par}").encode("ascii")


# One document per other format a real archive receives, each with a question it answers.
OTHER_FORMATS = {
    "ruling.rtf": (
        lambda: rtf(
            [
                "ПРИГОВОР",
                "ИМЕНЕМ РЕСПУБЛИКИ КАЗАХСТАН",
                "Суд признал Ержанова виновным в участии в незаконном собрании и назначил "
                "ему штраф в размере ста месячных расчётных показателей.",
                "Приговор может быть обжалован в течение пятнадцати суток.",
            ]
        ),  # fmt: skip
        "Какой штраф назначил суд Ержанову?",
        "назначил ему штраф в размере ста месячных расчётных показателей",
    ),
    "memo.odt": (
        lambda: odt(
            [
                ("h", "Хабарлама"),
                (
                    "p",
                    "Облыстық соттың отырысы сәуірдің он бесіне ауыстырылды, себебі "
                    "судья демалыста болды.",
                ),
                ("p", "Адвокаттар жаңа куәгерлердің тізімін ұсынды."),
            ]
        ),  # fmt: skip
        "Облыстық соттың отырысы неге ауыстырылды?",
        "отырысы сәуірдің он бесіне ауыстырылды",
    ),
    "book.epub": (
        lambda: epub(
            [
                "<html><body><h1>Chapter One</h1><p>The strike at the Zhanaozen oil "
                "field began in May 2011, when workers demanded higher wages and "
                "safer conditions.</p></body></html>"
            ]
        ),  # fmt: skip
        "When did the strike at the Zhanaozen oil field begin?",
        "The strike at the Zhanaozen oil field began in May 2011",
    ),
    "notes-utf16.txt": (
        lambda: (
            "Записка правозащитника.\n\nВ изоляторе Актобе отключили отопление на три "
            "дня в январе.\n".encode("utf-16")
        ),
        "На сколько дней отключили отопление в изоляторе Актобе?",
        "отключили отопление на три дня в январе",
    ),
}


def make_pdf(pages: list[list[str]], title: str | None = None, author: str | None = None) -> bytes:
    """A minimal PDF with one text line per entry, built by hand (no PDF writer needed)."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree; filled in below
    font = len(objects) + 1
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for lines in pages:
        body = (
            b"BT /F1 11 Tf 14 TL 50 780 Td "
            + b" ".join(
                b"("
                + line.replace("\\", "\\\\")
                .replace("(", "\\(")
                .replace(")", "\\)")
                .encode("latin-1")
                + b") '"
                for line in lines
            )
            + b" ET"
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = b"<< " + (b"/Title (%s) " % title.encode() if title else b"") + (
        b"/Author (%s) " % author.encode() if author else b"") + b">>"  # fmt: skip
    objects.append(info)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, len(objects), xref))  # fmt: skip
    return out.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9))
    + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>"
)


YAML_BOMB = (
    "---\na: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
        f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n"
        for n in range(12)
    )
    + "---\nText.\n"
)


def word_file(document_xml: str | bytes | None = None) -> bytes:
    """A real .docx from python-docx, its body replaced by `document_xml` when given."""
    word = docx.Document()
    word.add_paragraph("A memo.")
    original = io.BytesIO()
    word.save(original)
    if document_xml is None:
        return original.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = document_xml.encode() if isinstance(document_xml, str) else document_xml
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bomb(megabytes: int) -> bytes:
    """A .docx whose document.xml inflates to `megabytes` MB of one repeated byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_file())) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item), compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as member:  # never held inflated
            member.write(b"<!--")
            for _ in range(megabytes):
                member.write(b" " * 1024 * 1024)
            member.write(b"-->")
    return out.getvalue()


def hostile_corpus(corpus: Path) -> None:
    """One good new document beside every kind of bad file and bad catalogue entry."""
    (corpus / "good.txt").write_text("The good document is indexed all the same.", "utf-8")
    (corpus / "malformed.docx").write_bytes(word_file("<w:document><w:body><w:p>"))
    (corpus / "entities.docx").write_bytes(word_file(BILLION_LAUGHS))
    (corpus / "aliases.md").write_text(YAML_BOMB, "utf-8")
    (corpus / "bomb.docx").write_bytes(zip_bomb(64))
    (corpus / "catalogue.toml").write_text(
        '["good.txt"]\ntitle = "A good document"\n\n'
        "[archive.examples]\nen = 5\n\n"
        '["malformed.docx"]\nnote = ' + "[" * 100_000 + "]" * 100_000 + "\n",
        "utf-8",
    )
