"""Spelling correction at the vocabulary of a large archive: difflib (before) and rapidfuzz
(now, index/spelling.py), side by side in one run.

Vocabularies of made-up words (syllables of Russian and Kazakh names in Latin letters, as
transliterated stems and names fill a real archive's vocabulary) of growing size; the
questions are 200 of its words with one letter changed. Build time, memory of the
vocabulary, and time per look-up (median, p95).

    python -m scripts.bench_spelling [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

from index import search
from index.spelling import CUTOFF, MIN_LENGTH, Vocabulary
from scripts.benchlib import publish

ROOT = Path(__file__).resolve().parent.parent

SYLLABLES = ("ab ly az ov na zar ba ev zha ki ya nov kha ra pu tok ay er al ma ty as ta "
             "kar ag an dy shym kent ku lan sul tan bek zhan gul nur dau let sa ri mu kh "
             "tar ov ich en ko in sk iy").split()  # fmt: skip
SIZES = (50_000, 500_000, 1_000_000, 2_000_000)
QUESTIONS = 200


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))))
    return sorted(words)


def misspelled(words: list[str], rng: random.Random) -> list[str]:
    long = [w for w in words if len(w) >= MIN_LENGTH + 2]
    out = []
    for word in rng.sample(long, QUESTIONS):
        at = rng.randrange(1, len(word))
        out.append(word[:at] + rng.choice("aeiouxq") + word[at + 1 :])
    return out


def difflib_lookup(words: list[str]):
    """What index/spelling.py did before: difflib over the words of the same first letter."""
    by_initial = defaultdict(list)
    for word in words:
        if len(word) >= MIN_LENGTH - 1:
            by_initial[word[0]].append(word)
    return lambda w: difflib.get_close_matches(w, by_initial[w[0]], n=2, cutoff=CUTOFF / 100)


def timed(lookup, questions: list[str], limit_s: float) -> tuple[float, float, int]:
    times, started = [], time.perf_counter()
    for question in questions:
        begun = time.perf_counter()
        lookup(question)
        times.append((time.perf_counter() - begun) * 1000)
        if time.perf_counter() - started > limit_s:
            break
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md section")
    args = parser.parse_args()
    rng = random.Random(7)
    lines = [
        "",
        f"Spelling correction stays on up to {search.SPELLING_LIMIT:,} distinct words "
        "(`SPELLING_LIMIT`, index/search.py; it was 50,000).",
        "",
        "| distinct words | built in | vocabulary memory | rapidfuzz ms/look-up (median, p95) "
        "| difflib ms/look-up (median, p95) | ratio (median) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in SIZES:
        words = vocabulary(size, rng)
        questions = misspelled(words, rng)
        tracemalloc.start()  # the words themselves count: the vocabulary alone holds them
        fresh = [(word + ".")[:-1] for word in words]
        started = time.perf_counter()
        vocab = Vocabulary(fresh)
        built = time.perf_counter() - started
        memory = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        fast = timed(vocab.corrections, questions, 60)
        slow = timed(difflib_lookup(words), questions, 60)
        lines.append(
            f"| {size:,} | {built:.1f} s | {memory:.0f} MB | {fast[0]:.2f}, {fast[1]:.2f} | "
            f"{slow[0]:.1f}, {slow[1]:.1f} ({slow[2]} look-ups) | {slow[0] / fast[0]:.0f} × |"
        )
        print(lines[-1], file=sys.stderr)
    publish("bench_spelling", "Spelling correction at scale", lines, args.write)


if __name__ == "__main__":
    main()
