"""The moderators' summary of logged questions (`logs stats`, /stats)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

from index.normalize import tokens


def summary(rows: list[dict], today: date, days: int) -> dict:
    """Return the summary of `rows`, the questions logged in the `days` days up to `today`.

    Totals, then the same figures per day, per ISO week, per language and per chat type;
    the most asked questions in the askers' own words (the most common wording of each
    question, questions told apart by their words, not by case or punctuation).
    """
    dates = [today - timedelta(days=days - 1 - i) for i in range(days)]
    by_day = _groups(rows, lambda r: r["time"][:10])
    by_week = _groups(rows, lambda r: _week(date.fromisoformat(r["time"][:10])))
    weeks = dict.fromkeys(_week(day) for day in dates)
    return {
        "days": days,
        **_figures(rows),
        "per_day": {str(d): _figures(by_day.get(str(d), [])) for d in dates},
        "per_week": {week: _figures(by_week.get(week, [])) for week in weeks},
        "per_language": {
            k: _figures(v) for k, v in _groups(rows, lambda r: r["language"] or "?").items()
        },
        "per_chat_type": {
            k: _figures(v) for k, v in _groups(rows, lambda r: r["chat_type"] or "?").items()
        },
        "per_confidence": {k: _outcomes(v) for k, v in _groups(rows, _band).items()},
        "top_questions": _most_asked(rows),
        "top_unanswered": _most_asked([r for r in rows if not r["found"]]),
    }


def _groups(rows: list[dict], key: Callable[[dict], str]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return dict(sorted(groups.items()))


def _band(row: dict) -> str:
    """The tenth of the confidence range a question's judgement fell in ("0.6–0.7"); "?" for
    questions logged before the log kept it."""
    if row.get("confidence") is None:
        return "?"
    low = min(int(row["confidence"] * 10), 9) / 10
    return f"{low:.1f}–{low + 0.1:.1f}"


def _outcomes(rows: list[dict]) -> dict:
    """How many of `rows` were answered, offered the closest passages, or found nothing; and
    how they were rated."""
    counts = Counter(r["outcome"] for r in rows)
    return {
        "questions": len(rows),
        **{outcome: counts[outcome] for outcome in ("answered", "closest", "none")},
        "thumbs_up": sum(r["feedback"] == "up" for r in rows),
        "thumbs_down": sum(r["feedback"] == "down" for r in rows),
    }


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _figures(rows: list[dict]) -> dict:
    """Questions, answered share, feedback and latency of some logged questions."""
    latencies = sorted(r["latency_ms"] for r in rows if r["latency_ms"] is not None)
    return {
        "questions": len(rows),
        "answered_share": (sum(r["found"] for r in rows) / len(rows)) if rows else None,
        "thumbs_up": sum(r["feedback"] == "up" for r in rows),
        "thumbs_down": sum(r["feedback"] == "down" for r in rows),
        "latency_ms_median": statistics.median(latencies) if latencies else None,
        "latency_ms_p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
    }


def _most_asked(rows: list[dict], limit: int = 10) -> list[tuple[str, int]]:
    """Return the most asked questions with their counts, each in its most common wording."""
    wordings: dict[str, Counter] = {}
    for row in rows:
        wordings.setdefault(" ".join(tokens(row["query"])), Counter())[row["query"].strip()] += 1
    ranked = sorted(wordings.values(), key=lambda c: -c.total())[:limit]
    return [(counts.most_common(1)[0][0], counts.total()) for counts in ranked]
