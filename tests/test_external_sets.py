"""scripts/external_sets.py: real QA sets as archives and question files, split by article."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from index.evaluate import load_questions

from .support.archive import ROOT

CONTEXT = (
    "The Normans were the people who gave their name to Normandy. They descended from "
    "Norse raiders. Their identity emerged in the first half of the 10th century."
)


def squad(articles: int) -> dict:
    data = []
    for number in range(articles):
        start = CONTEXT.index("Norse")
        qas = [
            {"id": f"{number}a", "question": "Who did the Normans descend from?",
             "answers": [{"text": "Norse raiders", "answer_start": start}], "is_impossible": False},
            {"id": f"{number}b", "question": "Who gave their name to Paris?", "answers": [],
             "is_impossible": True},
        ]  # fmt: skip
        paragraphs = [{"context": CONTEXT, "qas": qas}]
        data.append({"title": f"Article_{number}", "paragraphs": paragraphs})
    return {"version": "v2.0", "data": data}


def test_each_set_is_a_corpus_and_two_halves_with_verbatim_gold(tmp_path: Path):
    source, out = tmp_path / "source", tmp_path / "out"
    source.mkdir()
    for name in ("xquad.en.json.gz", "xquad.ru.json.gz", "squad2-dev-v2.0-10-articles.json.gz"):
        (source / name).write_bytes(gzip.compress(json.dumps(squad(6)).encode()))
    kazakh = {"id": "1", "title": "Нормандар", "context": "Нормандар Норвегиядан шыққан.",
              "question": "Нормандар қайдан шыққан?",
              "answers": {"text": ["Норвегиядан"], "answer_start": [10]}}  # fmt: skip
    (source / "kazqad-reading-comprehension-v1.0-kk-validation.jsonl.gz").write_bytes(
        gzip.compress((json.dumps(kazakh, ensure_ascii=False) + "\n").encode())
    )
    command = [sys.executable, "-m", "scripts.external_sets", "--source", str(source),
               "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in ("xquad-en", "xquad-ru", "xquad-ru-en", "kazqad-kk", "squad2"):
        corpus = (out / name / "corpus").iterdir()
        documents = {p.name: p.read_text(encoding="utf-8") for p in corpus}
        assert "CC BY-SA 4.0" in documents.pop("catalogue.toml")
        halves = {}
        for half in ("tune", "held-out"):
            path = out / name / f"{half}.jsonl"
            load_questions(path)  # what `archive-bot eval` reads
            lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            halves[half] = {line["article"] for line in lines}
            for line in lines:
                assert line.get("out_of_scope") or all(
                    any(g in text for text in documents.values()) for g in line["gold"]
                )  # the gold sentence stands in the archive, word for word
        assert not halves["tune"] & halves["held-out"]  # split by article, never by question
        if name != "kazqad-kk":
            assert len(halves["tune"]) == len(halves["held-out"]) == 3
    squad2 = [json.loads(line) for line in (out / "squad2" / "tune.jsonl").read_text().splitlines()]
    assert sum(bool(q.get("out_of_scope")) for q in squad2) == 3
    assert squad2[0]["gold"] == ["They descended from Norse raiders."]
    # Each half's answerable questions, asked of an archive of the other half's articles only.
    for name, archive in (("xquad-en", "xquad-en"), ("xquad-ru-en", "xquad-en")):
        for half in ("tune", "held-out"):
            path = out / f"{name}-absent" / f"{half}.jsonl"
            asked = load_questions(path)
            assert asked and all(q.out_of_scope for q in asked)
            articles = {json.loads(line)["article"] for line in path.read_text().splitlines()}
            catalogue = out / f"{archive}-absent" / half / "corpus" / "catalogue.toml"
            titles = {entry["title"] for entry in tomllib.loads(catalogue.read_text()).values()}
            assert len(titles) == 3 and not articles & titles
    assert not (out / "squad2-absent").exists()  # it has unanswerable questions of its own
