"""What moderators read: the log's statistics, recent questions and quoted passages."""

from __future__ import annotations

import io
from pathlib import Path

from bot.render import attribution_of
from index.store import StoredPassage

BARS = " ▁▂▃▄▅▆▇█"
BREAKDOWNS = (("Week", "per_week"), ("Language", "per_language"), ("Chat type", "per_chat_type"))


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


def _table(title: str, groups: dict[str, dict]) -> list[str]:
    """Return one line per group: questions, answered share, feedback, median latency."""
    lines = [f"{title:<12} {'asked':>6} {'answered':>9} {'up':>4} {'down':>5} {'median':>9}"]
    for key, figures in groups.items():
        lines.append(
            f"{key:<12} {figures['questions']:>6} {_share(figures['answered_share']):>9} "
            f"{figures['thumbs_up']:>4} {figures['thumbs_down']:>5} "
            f"{_ms(figures['latency_ms_median']):>9}"
        )
    return lines


def stats_text(stats: dict, chart: bool = True, daily: bool = True) -> str:
    """Return the statistics summary of `QueryLog.stats` as lines of plain text.

    `chart` adds a one-line sparkline of questions per day; `daily` a line per day (left out
    where space is short, as in a Telegram message).
    """
    per_day = stats["per_day"]
    lines = [
        f"Last {stats['days']} days: {stats['questions']} questions, "
        f"{_share(stats['answered_share'])} answered, "
        f"👍 {stats['thumbs_up']} / 👎 {stats['thumbs_down']}",
        f"Latency: median {_ms(stats['latency_ms_median'])}, p95 {_ms(stats['latency_ms_p95'])}",
    ]
    if chart and per_day:
        days, counts = list(per_day), [f["questions"] for f in per_day.values()]
        lines.append(
            f"Questions per day {days[0]} … {days[-1]}: {sparkline(counts)} (max {max(counts)})"
        )
    for title, key in (("Day", "per_day"),) * daily + BREAKDOWNS:
        if stats["questions"]:
            lines += ["", *_table(title, stats[key])]
    if stats["questions"]:
        lines += ["", "Confidence  questions  answered  closest  none  👍  👎"]
        lines += [
            f"{band:<10}  {f['questions']:>9}  {f['answered']:>8}  {f['closest']:>7}  "
            f"{f['none']:>4}  {f['thumbs_up']:>2}  {f['thumbs_down']:>2}"
            for band, f in stats["per_confidence"].items()
        ]
    for title, key in (
        ("Most asked", "top_questions"),
        ("Most asked, unanswered", "top_unanswered"),
    ):
        if stats[key]:
            lines += ["", f"{title}:"]
            lines += [f"  {count:>4} × {question}" for question, count in stats[key]]
    return "\n".join(lines)


def plot_stats(stats: dict, path: Path) -> None:
    """Draw questions, answered share, feedback and latency per day as a PNG at `path`.

    Raises:
        OSError: the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt

    days = [day[5:] for day in stats["per_day"]]  # MM-DD
    figures = list(stats["per_day"].values())
    asked = [f["questions"] for f in figures]
    answered = [round(f["questions"] * (f["answered_share"] or 0)) for f in figures]
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    top.bar(days, answered, color="#4a8", label="answered")
    top.bar(days, [a - b for a, b in zip(asked, answered, strict=True)], bottom=answered,
            color="#d75", label="not answered")  # fmt: skip
    top.set_ylabel("questions")
    top.legend(loc="upper left")
    middle.bar(days, [f["thumbs_up"] for f in figures], color="#4a8", label="thumbs up")
    middle.bar(days, [-f["thumbs_down"] for f in figures], color="#d75", label="thumbs down")
    middle.set_ylabel("feedback")
    middle.legend(loc="upper left")
    bottom.plot(days, [f["latency_ms_median"] for f in figures], marker="o", color="#458")
    bottom.set_ylabel("median latency, ms")
    bottom.tick_params(axis="x", labelrotation=90)
    top.set_title(
        f"Last {stats['days']} days: {stats['questions']} questions, "
        f"{_share(stats['answered_share'])} answered"
    )
    figure.tight_layout()
    png = io.BytesIO()  # matplotlib ignores a failed write (a full disk): write it ourselves
    try:
        figure.savefig(png, format="png", dpi=100)
    finally:
        plt.close(figure)
    path.write_bytes(png.getvalue())


def recent_line(row: dict) -> str:
    """Return one logged question as "id time ✓/≈/✗ 👍/👎 question" (≈: only the closest)."""
    found = {"answered": "✓", "closest": "≈"}.get(row["outcome"], "✗")
    feedback = {"up": "👍", "down": "👎"}.get(row["feedback"] or "", "  ")
    query = row["query"] if len(row["query"]) <= 80 else row["query"][:79] + "…"
    return f"{row['id']:>6} {row['time'][:16].replace('T', ' ')} {found} {feedback} {query}"


def question_text(row: dict) -> str:
    """Return a logged question's header: id, time, chat type, language, outcome, label."""
    outcome = {"answered": "answered", "closest": "not answered (closest passages only)"}.get(
        row["outcome"], "not answered"
    )
    feedback = {"up": ", rated 👍", "down": ", rated 👎"}.get(row["feedback"] or "", "")
    label = ", labelled out of scope" if row["out_of_scope"] else (
        f", labelled {row['label']}" if row["label"] else ""
    )  # fmt: skip
    return (
        f"#{row['id']} {row['time']} {row['chat_type']} {row['language'] or '?'}: "
        f"{outcome}{feedback}{label}, {row['latency_ms']} ms\n{row['query']}"
    )


def passage_text(passage: StoredPassage, rank: str = "", score: float | None = None) -> str:
    """Return a passage for a terminal: id (rank, score), attribution, then its verbatim text."""
    head = " ".join(
        part for part in (rank, passage.passage_id, score is not None and f"score {score:.3f}")
        if part
    )  # fmt: skip
    text = "\n".join(f"    {line}" for line in passage.text.splitlines())
    return f"{head}\n    — {attribution_of(passage, 'en')}\n{text}"
