"""Real question sets nobody here wrote, as archives and question files `archive-bot eval` reads.

    python -m scripts.external_sets                      # ../shared/eval/external -> data/external
    python -m scripts.external_sets --source DIR --out DIR
    archive-bot index --corpus data/external/xquad-en/corpus --data-dir data/external/xquad-en/data
    archive-bot eval data/external/xquad-en/held-out.jsonl --data-dir data/external/xquad-en/data

From XQuAD (Artetxe, Ruder, Yogatama 2019; English and Russian, parallel), KazQAD (Yeshpanov
et al. 2024; Kazakh) and ten articles of SQuAD 2.0 dev (Rajpurkar, Jia, Liang 2018; half its
questions unanswerable by the paragraph on their subject), all CC BY-SA 4.0: each catalogue
entry says where its text comes from. Each set becomes a folder with `corpus/` (one document
per article, its paragraphs in order, and `catalogue.toml`) and two question files split by
article, `tune.jsonl` and `held-out.jsonl`: choose on the first, report the second. A question's
gold phrase is the sentence of its paragraph that holds the answer, verbatim (a passage holding
it is the right one); an unanswerable one is `"out_of_scope": true`. `ru-en` asks XQuAD's
Russian questions of its English articles, `en-ru` its English questions of the Russian ones.
Each set but SQuAD's also becomes a set of unanswerable questions, `NAME-absent`
(`write_absent`): its questions asked of the other half's articles, where the one that answers
them is absent.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from pathlib import Path

from index.passages import sentence_spans

ROOT = Path(__file__).resolve().parent.parent

SETS = {  # set: (its archive, what it asks), as the benchmarks and calibration read them
    "xquad-en": ("xquad-en", "English questions, English articles"),
    "xquad-ru": ("xquad-ru", "Russian questions, Russian articles"),
    "xquad-ru-en": ("xquad-en", "Russian questions, English articles"),
    "xquad-en-ru": ("xquad-ru", "English questions, Russian articles"),
    "kazqad-kk": ("kazqad-kk", "Kazakh questions, Kazakh articles"),
    "squad2": ("squad2", "English; about half unanswerable by their paragraph"),
}
# The sets whose questions are also asked of the other half's articles (`write_absent`).
ABSENT = ("xquad-en", "xquad-ru", "xquad-ru-en", "xquad-en-ru", "kazqad-kk")
LICENCE = "CC BY-SA 4.0"
# `--sample`: the first held-out articles of each set, up to five paragraphs of each, until
# there are this many paragraphs and questions, in the folder the tests read
# (tests/test_answerable.py checks the judgement there).
SAMPLES = ROOT / "tests" / "samples"
SAMPLE_PER_ARTICLE = 5  # paragraphs
SAMPLE_PARAGRAPHS = 10
SAMPLE_QUESTIONS = 40
SOURCES = {
    "xquad": "XQuAD (Artetxe, Ruder, Yogatama 2019), github.com/google-deepmind/xquad",
    "kazqad": "KazQAD (Yeshpanov et al., LREC-COLING 2024), github.com/IS2AI/KazQAD",
    "squad2": "SQuAD 2.0 dev (Rajpurkar, Jia, Liang 2018), rajpurkar.github.io/SQuAD-explorer",
}


def halves(articles) -> dict[str, str]:
    """Each article's half: articles in the order of a hash of their titles, alternately (the
    same split on every machine, and for the parallel English and Russian XQuAD)."""
    titles = sorted({t for t, _ in articles}, key=lambda t: hashlib.sha256(t.encode()).digest())
    return {title: ("tune", "held-out")[rank % 2] for rank, title in enumerate(titles)}


def gold_sentence(context: str, start: int) -> str:
    """The sentence of `context` that holds the answer starting at `start`."""
    for first, end in sentence_spans(context):
        if first <= start < end:
            return context[first:end]
    return context.strip()


def squad_articles(path: Path) -> list[tuple[str, list[dict]]]:
    """(title, paragraphs) of a SQuAD-format file; each paragraph {"context", "qas"}."""
    with gzip.open(path) as file:
        data = json.load(file)["data"]
    return [(article.get("title", "").replace("_", " "), article["paragraphs"]) for article in data]


def kazqad_articles(path: Path) -> list[tuple[str, list[dict]]]:
    """KazQAD's rows as SQuAD-format articles: one per title, a paragraph per context."""
    articles: dict[str, dict[str, list[dict]]] = {}
    with gzip.open(path) as file:
        rows = [json.loads(line) for line in file]
    for row in rows:
        found = zip(row["answers"]["text"], row["answers"]["answer_start"], strict=True)
        answers = [{"text": text, "answer_start": start} for text, start in found]
        paragraphs = articles.setdefault(row["title"], {})
        paragraphs.setdefault(row["context"], []).append(
            {"question": row["question"], "answers": answers, "is_impossible": False}
        )
    return [(title, [{"context": c, "qas": qas} for c, qas in paragraphs.items()])
            for title, paragraphs in articles.items()]  # fmt: skip


def wordings(articles) -> dict[str, str]:
    """Each question of `articles` by its id: how a parallel set's questions are asked here."""
    return {qa["id"]: qa["question"] for _, ps in articles for p in ps for qa in p["qas"]}


def questions_of(articles, asked=None) -> list[dict]:
    """Question lines of `articles`; `asked` gives other wordings of the same questions (by id)."""
    lines = []
    half = halves(articles)
    for title, paragraphs in articles:
        for paragraph in paragraphs:
            for qa in paragraph["qas"]:
                question = asked.get(qa["id"], qa["question"]) if asked else qa["question"]
                line = {"q": question, "article": title, "half": half[title]}
                if qa.get("is_impossible"):
                    line["out_of_scope"] = True
                else:
                    starts = {a["answer_start"] for a in qa["answers"]}
                    line["gold"] = sorted({gold_sentence(paragraph["context"], s) for s in starts})
                lines.append(line)
    return lines


def write_corpus(corpus: Path, source: str, articles) -> None:
    """Write `articles` as a corpus: a document per article, its paragraphs in order, and the
    catalogue saying where each comes from."""
    corpus.mkdir(parents=True, exist_ok=True)
    catalogue = []
    for title, paragraphs in articles:
        file = re.sub(r"[^\w-]+", "-", title).strip("-").lower()[:80] + ".txt"
        text = "\n\n".join(p["context"].strip() for p in paragraphs) + "\n"
        (corpus / file).write_text(text, encoding="utf-8")
        catalogue += [
            f"[{json.dumps(file, ensure_ascii=False)}]",
            f"title = {json.dumps(title, ensure_ascii=False)}",
            f'source = "{SOURCES[source]}"',
            f'note = "Wikipedia text as the data set gives it; {LICENCE}."',
            "",
        ]
    (corpus / "catalogue.toml").write_text("\n".join(catalogue), encoding="utf-8")


def write_questions(path: Path, questions: list[dict]) -> None:
    """Write question lines as a question file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)


def write_set(out: Path, name: str, source: str, articles, questions: list[dict]) -> None:
    """Write one set: its corpus (a document per article) and its two question files."""
    write_corpus(out / name / "corpus", source, articles)
    for part in ("tune", "held-out"):
        write_questions(out / name / f"{part}.jsonl", [q for q in questions if q["half"] == part])
    halves = {h: sum(q["half"] == h for q in questions) for h in ("tune", "held-out")}
    print(f"{name}: {len(articles)} articles, {len(questions)} questions {halves}")


def write_absent(out: Path, name: str, archive: str, source: str, articles, questions) -> None:
    """Write the set `name`-absent: each half's answerable questions asked of an archive of the
    other half's articles alone, where the article that answers them is absent. They are
    unanswerable questions on subjects like the archive's, in every language of the sets
    (SQuAD 2.0 has them in English only), for calibrating the judgement: the archives go to
    `archive`-absent/HALF/corpus, the questions to `name`-absent/HALF.jsonl."""
    half = halves(articles)
    for part, other in (("tune", "held-out"), ("held-out", "tune")):
        corpus = out / f"{archive}-absent" / part / "corpus"
        write_corpus(corpus, source, [a for a in articles if half[a[0]] == other])
        asked = [{"q": q["q"], "article": q["article"], "half": part, "out_of_scope": True}
                 for q in questions if q["half"] == part and "gold" in q]  # fmt: skip
        write_questions(out / f"{name}-absent" / f"{part}.jsonl", asked)
    print(f"{name}-absent: the questions of each half asked of the other half's articles")


def sample(articles) -> list:
    """The first held-out articles of `articles`, SAMPLE_PER_ARTICLE paragraphs of each at most,
    until they hold SAMPLE_PARAGRAPHS paragraphs and SAMPLE_QUESTIONS questions."""
    half, chosen, paragraphs_in, questions_in = halves(articles), [], 0, 0
    for title, paragraphs in articles:
        if half[title] == "held-out":
            if paragraphs_in >= SAMPLE_PARAGRAPHS and questions_in >= SAMPLE_QUESTIONS:
                break
            chosen.append((title, paragraphs[:SAMPLE_PER_ARTICLE]))
            paragraphs_in += len(chosen[-1][1])
            questions_in += sum(len(p["qas"]) for p in chosen[-1][1])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared/eval/external")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "external")
    parser.add_argument(
        "--sample", action="store_true", help="also write each set's small sample to tests/samples"
    )
    args = parser.parse_args()
    english = squad_articles(args.source / "xquad.en.json.gz")
    russian = squad_articles(args.source / "xquad.ru.json.gz")
    kazqad = "kazqad-reading-comprehension-v1.0-kk-validation.jsonl.gz"
    kazakh = kazqad_articles(args.source / kazqad)
    squad = squad_articles(args.source / "squad2-dev-v2.0-10-articles.json.gz")
    sets = (
        ("xquad-en", "xquad", english, None),
        ("xquad-ru", "xquad", russian, None),
        ("xquad-ru-en", "xquad", english, wordings(russian)),
        ("xquad-en-ru", "xquad", russian, wordings(english)),
        ("kazqad-kk", "kazqad", kazakh, None),
        ("squad2", "squad2", squad, None),
    )
    for name, source, articles, asked in sets:
        questions = questions_of(articles, asked)
        write_set(args.out, name, source, articles, questions)
        if name in ABSENT:
            write_absent(args.out, name, SETS[name][0], source, articles, questions)
    if args.sample:
        for name, source, articles, asked in sets:
            chosen = sample(articles)
            held_out = [q | {"half": "held-out"} for q in questions_of(chosen, asked)]
            write_set(SAMPLES, name, source, chosen, held_out)


if __name__ == "__main__":
    main()
