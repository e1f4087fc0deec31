"""The moderators' commands, `archive-bot logs …`: review, label and export the query log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli.common import (
    data_dir_option,
    load_searcher,
    model_option,
    open_log,
    open_store,
    output_file,
    output_option,
    retention_days,
)


@click.group()
def logs() -> None:
    """Review the query log (moderators).

    The log holds, per question: time, chat type, language, the question, whether it was
    answered, the passages returned, latency and feedback; askers only as a pseudonym.

    A bad answer, start to end: find it, see what was quoted, label the right passage,
    export the labels as a test set, measure.

    \b
    Examples:
      archive-bot logs recent --disliked           # find it
      archive-bot logs show 42                     # what was quoted, with scores
      archive-bot logs label 42                    # candidates from the index; pick one
      archive-bot logs export-eval --output tests/logged.jsonl
      archive-bot eval tests/logged.jsonl
      archive-bot logs stats --days 7 --plot week.png
      archive-bot logs export --format csv --output questions.csv
    """


since_option = click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Only questions from this day on (YYYY-MM-DD).",
)


def day(value) -> str | None:
    return value.strftime("%Y-%m-%d") if value else None


@logs.command()
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--unanswered", is_flag=True, help="Only questions the archive did not answer.")
@click.option("--disliked", is_flag=True, help="Only answers rated 👎.")
@since_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
def recent(limit, unanswered, disliked, since, as_json, data_dir) -> None:
    """Show the latest logged questions, newest first.

    \b
    Columns: id, time (UTC), ✓ answered / ✗ not, 👍/👎 feedback, question.

    \b
    Examples:
      archive-bot logs recent --limit 50
      archive-bot logs recent --disliked --json
    """
    from bot.moderation import recent_line

    rows = open_log(data_dir).rows(
        limit=limit, since=day(since), unanswered=unanswered, disliked=disliked
    )
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False) if as_json else recent_line(row))
    if not rows and not as_json:
        click.echo("No questions logged.", err=True)


@logs.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw them per day as a PNG chart in this file.",
)
@data_dir_option
def stats(days: int, as_json: bool, plot: Path | None, data_dir: Path) -> None:
    """Statistics: answered share, feedback and latency per day, week, language and chat type,
    and the most asked questions in the askers' own words.

    \b
    Examples:
      archive-bot logs stats --days 7
      archive-bot logs stats --json | jq '.per_language.ru'
      archive-bot logs stats --days 90 --plot stats.png
    """
    from bot.moderation import plot_stats, stats_text

    summary = open_log(data_dir).stats(days)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(stats_text(summary, chart=sys.stdout.isatty()))
    if plot:
        try:
            plot_stats(summary, plot)
        except OSError as error:
            raise click.ClickException(f"cannot write {plot}: {error.strerror or error}") from None
        click.echo(f"Chart written to {plot}.", err=True)


@logs.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "jsonl"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one object per line; json: one array; csv: a table",
)
@since_option
@output_option
@data_dir_option
def export(fmt: str, since, output: str, data_dir: Path) -> None:
    """Export logged questions (oldest first) as JSON Lines, one JSON array, or CSV.

    \b
    Examples:
      archive-bot logs export --format csv --output questions.csv
      archive-bot logs export --format json --output questions.json
      archive-bot logs export --since 2026-01-01 | jq .query
    """
    import csv

    from bot.querylog import PUBLIC_COLUMNS

    rows = open_log(data_dir).rows(since=day(since), oldest_first=True)
    with output_file(output) as file:
        if fmt == "jsonl":
            for row in rows:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        if fmt == "json":
            file.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
            return
        writer = csv.DictWriter(file, fieldnames=PUBLIC_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row | {"passages": json.dumps(row["passages"], ensure_ascii=False)})


def logged_question(log, query_id: int) -> dict:
    """Return the logged question `query_id` of `log`, or exit saying there is none."""
    row = log.row(query_id)
    if row is None:
        raise click.ClickException(f"no logged question with id {query_id}")
    return row


query_id_argument = click.argument("query_id", type=click.IntRange(1, 2**63 - 1))


@logs.command()
@query_id_argument
@data_dir_option
def show(query_id: int, data_dir: Path) -> None:
    """Show a logged question with the passages it was answered with.

    Each passage with its rank, id and score, its attribution and its text as the current
    index holds it.

    \b
    Example:
      archive-bot logs recent --disliked
      archive-bot logs show 42
    """
    from bot.moderation import passage_text, question_text

    row = logged_question(open_log(data_dir), query_id)
    click.echo(question_text(row))
    store = open_store(data_dir)
    for rank, hit in enumerate(row["passages"], start=1):
        passage = store.passage(hit["id"])
        if passage is None:
            click.echo(f"\n[{rank}] {hit['id']} score {hit['score']:.3f}: no longer in the index")
        else:
            click.echo("\n" + passage_text(passage, f"[{rank}]", hit["score"]))
    if not row["passages"]:
        click.echo("\nNo passage was returned.")


@logs.command()
@click.argument("passage_id")
@data_dir_option
def passage(passage_id: str, data_dir: Path) -> None:
    """Show a passage of the index by its id, with its attribution.

    \b
    Example:
      archive-bot logs passage khrapunov-open-letter-ablyazov.txt#18.1
    """
    from bot.moderation import passage_text

    found = open_store(data_dir).passage(passage_id)
    if found is None:
        raise click.ClickException(f"the index has no passage {passage_id!r}")
    click.echo(passage_text(found))


@logs.command()
@click.option(
    "--older-than",
    type=click.IntRange(0),
    help="Days to keep (default ARCHIVE_BOT_LOG_RETENTION_DAYS or 90).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--yes", is_flag=True, help="Delete without asking (scripts, cron).")
@data_dir_option
def purge(older_than: int | None, dry_run: bool, yes: bool, data_dir: Path) -> None:
    """Delete logged questions older than the retention period.

    The running bot does this at start-up and once a day by itself. On a terminal it asks
    first; elsewhere it needs --yes.

    \b
    Examples:
      archive-bot logs purge --dry-run              # how many would go?
      archive-bot logs purge
      archive-bot logs purge --older-than 0 --yes   # delete everything, no question asked
    """
    log = open_log(data_dir)
    count = log.purgeable(older_than)
    days = f"{older_than if older_than is not None else retention_days()} days"
    if dry_run or not count:
        would = "Would delete" if dry_run else "Deleted"
        click.echo(f"{would} {count} logged question{'s' * (count != 1)} older than {days}.")
        return
    if not yes:
        if not on_terminal():
            raise click.UsageError(f"this deletes {count} logged questions: add --yes to confirm")
        click.confirm(f"Delete {count} logged questions older than {days}?", abort=True)
    removed = log.purge(older_than)
    if removed is None:
        raise click.ClickException("the query log cannot be written now (see the warning above)")
    click.echo(f"Deleted {removed} logged question{'s' * (removed != 1)} older than {days}.")


def on_terminal() -> bool:
    """Whether a person is at the keyboard (stdin is a terminal) to answer a question."""
    return sys.stdin.isatty()


@logs.command()
@query_id_argument
@click.argument("passage_id", required=False)
@click.option("--out-of-scope", is_flag=True, help="The archive rightly has no answer.")
@click.option("--search", "words", help="Find candidates with these words, not the question's.")
@click.option("--top-k", type=click.IntRange(1, 20), default=5, show_default=True,
              help="How many candidates to show.")  # fmt: skip
@model_option
@data_dir_option
def label(
    query_id: int,
    passage_id: str | None,
    out_of_scope: bool,
    words: str | None,
    top_k: int,
    model: str,
    data_dir: Path,
) -> None:
    """Mark the passage a logged question should have found (or mark it out of scope).

    QUERY_ID is the id shown by `logs recent`. Without a PASSAGE_ID, the index is searched
    with the question (or with --search words) and the candidates are shown: on a terminal,
    pick one by its number; elsewhere, label with the id shown. Labelled questions become a
    test set with `logs export-eval`.

    \b
    Examples:
      archive-bot logs label 42                      # candidates, then pick one
      archive-bot logs label 42 --search "warranty letter France"
      archive-bot logs label 42 khrapunov-open-letter-ablyazov.txt#18.1
      archive-bot logs label 43 --out-of-scope
    """
    from bot.answering import answer
    from bot.moderation import passage_text

    if passage_id and out_of_scope:
        raise click.UsageError("give either a PASSAGE_ID or --out-of-scope")
    log = open_log(data_dir)
    row = logged_question(log, query_id)
    # The label keeps its passage's text, and follows it through edits (`follow_labels`).
    labelled = open_store(data_dir).passage(passage_id) if passage_id else None
    if passage_id and labelled is None:
        raise click.ClickException(f"the index has no passage {passage_id!r}")
    if not passage_id and not out_of_scope:
        click.echo(f"#{query_id}: {row['query']}")
        searcher = load_searcher(data_dir, model)
        hits = answer(searcher, words or row["query"], top_k).result.hits  # long ones cut
        for number, hit in enumerate(hits, start=1):
            click.echo("\n" + passage_text(hit.passage, f"[{number}]", hit.score))
        if not on_terminal():
            click.echo(f"\nLabel with: archive-bot logs label {query_id} PASSAGE_ID", err=True)
            return
        choice = click.prompt(
            "\nThe right passage: its number, a passage id, o (out of scope) or Enter (none)",
            default="",
            show_default=False,
        ).strip()
        if not choice:
            return
        if choice.lower() == "o":
            out_of_scope = True
        else:
            shown = choice.isdigit() and 1 <= int(choice) <= len(hits)
            passage_id = hits[int(choice) - 1].passage.passage_id if shown else choice
            # A hit may quote several parts of a paragraph: the label is on the stored part.
            if (labelled := searcher.store.passage(passage_id)) is None:
                raise click.ClickException(f"{choice!r} is neither a number shown nor a passage id")
    try:
        log.label(query_id, passage_id, out_of_scope, labelled.text if labelled else None)
    except KeyError:
        raise click.ClickException(f"no logged question with id {query_id}") from None
    click.echo(f"Labelled question {query_id}: {passage_id or 'out of scope'}.")


@logs.command(name="export-eval")
@output_option
@data_dir_option
def export_eval(output: str, data_dir: Path) -> None:
    """Write labelled questions as a question file for `archive-bot eval`.

    A labelled question's gold phrase is its passage's text in the current index; questions
    marked out of scope become {"q": ..., "out_of_scope": true}. Labels outlive retention:
    they keep the question and its label (never the asker) until /forget or a new label.

    \b
    Example:
      archive-bot logs export-eval --output tests/logged_questions.jsonl
      archive-bot eval tests/logged_questions.jsonl
    """
    labels = open_log(data_dir).labels()
    store = open_store(data_dir)
    written = 0
    with output_file(output) as file:
        for label in labels:
            if label["out_of_scope"]:
                item = {"q": label["query"], "out_of_scope": True}
            else:
                passage = store.passage(label["passage_id"])
                if passage is None:
                    click.echo(
                        f"skipping {label['query']!r}: {label['passage_id']} is no longer indexed",
                        err=True,
                    )
                    continue
                if label["text"] is not None and passage.text != label["text"]:
                    click.echo(
                        f"skipping {label['query']!r}: the label on {label['passage_id']} is "
                        "stale (that passage's text changed); run `archive-bot index`, or "
                        "label the question again",
                        err=True,
                    )
                    continue
                item = {"q": label["query"], "gold": [passage.text]}
            file.write(json.dumps(item, ensure_ascii=False) + "\n")
            written += 1
    click.echo(f"{written} questions written.", err=True)
