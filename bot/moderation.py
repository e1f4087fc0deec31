"""What moderators read: the log's statistics and recent questions, as plain text."""

from __future__ import annotations

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """Return one block character per value, scaled to the largest."""
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[round(v / top * (len(BARS) - 1))] for v in values)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def stats_text(stats: dict, chart: bool = True) -> str:
    """Return the statistics summary of `QueryLog.stats` as lines of plain text."""
    per_day = stats["per_day"]
    lines = [
        f"Last {stats['days']} days: {stats['questions']} questions, "
        f"{_share(stats['answered_share'])} answered, "
        f"👍 {stats['thumbs_up']} / 👎 {stats['thumbs_down']}",
        f"Latency: median {_ms(stats['latency_ms_median'])}, p95 {_ms(stats['latency_ms_p95'])}",
    ]
    if chart and per_day:
        days = list(per_day)
        lines.append(
            f"Questions per day {days[0]} … {days[-1]}: {sparkline(list(per_day.values()))} "
            f"(max {max(per_day.values())})"
        )
    for title, key in (
        ("Most asked", "top_questions"),
        ("Most asked, unanswered", "top_unanswered"),
    ):
        if stats[key]:
            lines.append(f"{title}:")
            lines += [f"  {count:>4} × {question}" for question, count in stats[key]]
    return "\n".join(lines)


def recent_line(row: dict) -> str:
    """Return one logged question as "id time ✓/✗ 👍/👎 question"."""
    found = "✓" if row["found"] else "✗"
    feedback = {"up": "👍", "down": "👎"}.get(row["feedback"] or "", "  ")
    query = row["query"] if len(row["query"]) <= 80 else row["query"][:79] + "…"
    return f"{row['id']:>6} {row['time'][:16].replace('T', ' ')} {found} {feedback} {query}"
