"""The kind of fact a question asks for, and whether the passages shown hold one of that kind.

A near-topic question asks the archive for a kind of fact it does not hold about what it
does discuss: "When was Ablyazov born?" comes close to the letter's passages about Ablyazov's
arrest, because dates and his name are what they hold. A passage that answers it names the
kind of fact asked for ("born", "родился", "туған"). The kinds below are answer types of
factoid questions (birth, death, age, residence and population, size, distance, height,
money, currency, language, religion, weather, education, family, founding, capital,
independence, superlatives, staff, shares, pastimes), each with its words in English,
Russian and Kazakh: the word-translation table that no model here gives (e5's single-word
vectors do not tell a translation from a stranger, BENCHMARKS.md). A question that uses a
kind's word is answered only when a passage shown holds a word of the same kind, in any of
the three languages (`index.search.Searcher`). When the question names someone or something
(`index.names`), the word must be in a sentence that names one of them too: "Who founded
Human Rights Watch?" is not answered by a sentence about the co-founders of a party.

A form ending in "-" is a word's beginning (Russian and Kazakh endings, "educat-" for
"education" and "educated"); every other form is a whole word (short words: "son" is no
"song"). Forms are folded (`index.normalize.tokens`).
"""

from __future__ import annotations

from index.names import STEM, WORD, latin
from index.normalize import tokens
from index.passages import sentence_spans

# Names of currencies: an amount of money is given in one, and a currency is named by one.
CURRENCY_NAMES = "dollar- euro euros tenge pound- rouble- ruble- доллар- евро тенге рубл- теңге-"
KINDS = {
    "birth": "born birth- родил- рожд- родом туған туды туылған туылды",
    "death": "died dies dead death умер умерла умерли смерт- скончал- погиб- қайтыс өлді өлген "
    "өлім- қаза",
    "age": "age aged old возраст- жасы жаста жасында жасқа",
    "residence": "population- inhabitant- resid- live lives lived living населени- "
    "жител- живёт живет живут прожива- тұрғын- халқы халқының тұрады тұратын мекендей-",
    "size": "area square kilometre- kilometer- km territory площад- территори- квадрат- "
    "километр- км аумағы аумақ- шаршы шақырым",
    "distance": "distance- far расстояни- далеко қашықтығы қашықтық- алыс",
    "height": "tall height weigh- weight рост ростом вес весит бойы салмағы",
    "money": "money salary income wealth worth price- cost- costs million- billion- деньг- "
    "денег зарплат- доход- стоимост- миллион- миллиард- ақша- жалақы- табыс- " + CURRENCY_NAMES,
    # A currency is named, not merely any sum ("income" answers no "What currency…?").
    "currency": "currency currencies валют- " + CURRENCY_NAMES,
    "language": "language- spoken язык- тіл тілі тілде тілдерде тілдері тілінде тілдерінде",
    "religion": "religio- faith muslim- christian- islam- религи- мусульман- христиан- ислам- "
    "дін діні дінді дінін дінге мұсылман- христиан-",
    "weather": "weather climate temperature- snow- rain- погод- климат- температур- снег- "
    "дожд- ауа райы климаты",
    "education": "educat- studied study studies university universit- college- school- "
    "degree- graduat- образован- учил- учился училась учёб- учеб- университет- вуз- "
    "институт- окончил- білім- оқыған оқыды оқу оқуын оқуды бітір- мамандық-",
    "family": "children child kids son sons daughter- wife husband married marry spouse "
    "parents mother father brother- sister- детей дети ребен- ребён- сын сына сыновья доч- "
    "жена жену жены женат муж мужа родител- мать матери отец брат- сестр- бала- "
    "ұлдары қызы әйел- күйеуі ата-анасы әкесі анасы",
    "founding": "founded founder- establish- основал- основан- основател- учредил- құрды "
    "құрған құрылған негізін",
    "capital": "capital столиц- елорда- астанасы",
    "independence": "independen- независим- тәуелсіз-",
    "superlative": "largest biggest highest longest richest tallest smallest крупнейш- "
    "самый самая самое самого самых ең",
    "staff": "employees staff сотрудник- персонал- штат қызметкер-",
    "share": "percent- percentage процент- пайыз-",
    "pastime": "sport- football- hobby- hobbies food cuisine dish recipe- спорт- футбол- "
    "хобби кухн- блюд- рецепт- еда еды тағам- рецепт-",
}


def _forms(words: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The whole words and the beginnings of one kind."""
    forms = words.split()
    whole = frozenset(f for f in forms if not f.endswith("-"))
    return whole, tuple(f[:-1] for f in forms if f.endswith("-"))


FORMS = {kind: _forms(words) for kind, words in KINDS.items()}


def _holds(words: set[str], kind: str) -> bool:
    whole, beginnings = FORMS[kind]
    return not whole.isdisjoint(words) or any(w.startswith(beginnings) for w in words)


def kinds_in(text: str) -> set[str]:
    """Return the kinds of fact whose words `text` holds."""
    words = set(tokens(text))
    return {kind for kind in FORMS if _holds(words, kind)}


def lacks_what_is_asked(question: str, passages: list[str], names: str | None = None) -> bool:
    """Whether `question` asks for a kind of fact that none of `passages` holds: with the
    question's `names` (index.names), in a sentence that names one of them."""
    asked = kinds_in(question)
    if not asked:
        return False
    stems = {latin(name)[:STEM] for name in (names or "").split()}
    texts = [p[s:e] for p in passages for s, e in sentence_spans(p)] if stems else passages
    held = set()
    for text in texts:
        named = (w for w in WORD.findall(text) if w[0].isupper())  # a name, not "human rights"
        if stems and not any(latin(w)[:STEM] in stems for w in named):
            continue
        words = set(tokens(text))
        held |= {kind for kind in asked if _holds(words, kind)}
    return held != asked
