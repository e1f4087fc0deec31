"""Russian and Kazakh sentence splitting: the abbreviation rules of index/passages.py against
razdel (natasha's rule-based splitter for Russian), side by side in one run.

Sentences as rulings, reports and news write them, with the abbreviations that cut them in
two ("ч. 2 ст. 307 УК РК", "г. Алматы", "т. е.", initials "Е. Идрисов", "2013 г."), written
before either splitter was run: each text is a list of its sentences, joined by one space.
A text counts as right when the splitter returns exactly those sentences.

    python -m scripts.bench_sentences [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from index.passages import sentence_spans
from scripts.benchlib import publish

ROOT = Path(__file__).resolve().parent.parent

TEXTS = {
    "ru": [
        ["Суд признал его виновным по ч. 2 ст. 307 УК РК.", "Приговор не вступил в силу."],
        ["Заседание прошло в г. Алматы 12 марта.", "Защита обжаловала решение."],
        ["Министр иностранных дел Е. Идрисов подписал письмо.", "Через месяц его нарушили."],
        ["Это, т. е. отказ в регистрации, обжаловано.", "Суд назначил слушание."],
        ["В 2013 г. жену и дочь депортировали из Италии.", "Об этом писала пресса."],
        ["Адвокат сослался на п. 3 ст. 14 Пакта.", "Прокурор возразил."],
        ["Офис находится по ул. Абая, д. 5.", "Приём ведётся по средам."],
        ["Штраф составил 100 МРП, т.е. около 300 тыс. тенге.", "Его оплатили сразу."],
        ["Проф. Сулейменов выступил экспертом.", "Его заключение приобщили к делу."],
        ["Он жил в Москве, Киеве и т. д.", "Потом вернулся в Казахстан."],
        ["Слушание перенесли на 15 апреля.", "Причина не названа.", "Адвокаты протестуют."],
        ["Дело № 1-234/2024 рассмотрено.", "Решение огласили вечером."],
    ],
    "kk": [
        ["Сот оны ҚР ҚК 307-бабының 2-бөлігі бойынша кінәлі деп тапты.", "Үкім шағымдалды."],
        ["Отырыс Алматы қ. өтті.", "Қорғаушы шешімге шағым түсірді."],
        ["Сыртқы істер министрі Е. Идрисов хатқа қол қойды.", "Бір айдан кейін ол бұзылды."],
        ["2013 ж. әйелі мен қызы Италиядан депортацияланды.", "Бұл туралы баспасөз жазды."],
        ["Айыппұл 100 АЕК, яғни шамамен 300 мың теңге болды.", "Ол бірден төленді."],
        ["Тыңдау 15 сәуірге ауыстырылды.", "Себебі айтылмады.", "Адвокаттар наразы."],
    ],
}
LANGUAGES = {"ru": "Russian", "kk": "Kazakh"}


def ours(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def razdel_split(text: str) -> list[str]:
    from razdel import sentenize

    return [s.text for s in sentenize(text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    lines = [
        "",
        "| texts | index/passages.py: right | razdel 0.5: right | µs per text (ours, razdel) |",
        "| --- | --- | --- | --- |",
    ]
    for lang, name in LANGUAGES.items():
        texts = TEXTS[lang]
        scores, times = [], []
        for split in (ours, razdel_split):
            started = time.perf_counter()
            right = [split(" ".join(sentences)) == sentences for sentences in texts]
            times.append((time.perf_counter() - started) / len(texts) * 1e6)
            scores.append(sum(right))
            for sentences, ok in zip(texts, right, strict=True):
                if not ok:
                    print(f"  {split.__name__} wrong: {' '.join(sentences)}", file=sys.stderr)
        lines.append(
            f"| {name} ({len(texts)}) | {scores[0]} | {scores[1]} | "
            f"{times[0]:.0f}, {times[1]:.0f} |"
        )
    publish("bench_sentences", "Sentence splitting with abbreviations", lines, args.write)


if __name__ == "__main__":
    main()
