"""The askers' and the archive's commands: `index` builds it, `ask` and `eval` query it."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from pathlib import Path

import click

from bot.cli.common import (
    corpus_option,
    data_dir_option,
    fail,
    load_searcher,
    log_option,
    model_option,
    open_log,
    open_store,
    top_k_option,
)
from index.answerable import ANSWERED


@click.command()
@corpus_option
@data_dir_option
@model_option
@click.option("--full", is_flag=True, help="Re-embed every document, changed or not.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--wait", is_flag=True, help="If another build is running, wait for it instead of failing."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
@click.option("--verbose", "-v", is_flag=True, help="List every added, changed and removed file.")
def index(
    corpus: Path,
    data_dir: Path,
    model: str,
    full: bool,
    dry_run: bool,
    wait: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Build or update the index of the corpus.

    Reads .txt, .md, .html, .pdf, .docx, .odt, .rtf and .epub files under the corpus, except those
    matched by the corpus's .archiveignore (gitignore syntax). Only passages whose text is new
    are embedded: a change to a document's metadata alone embeds nothing; removed documents
    are dropped. The new index replaces the old one atomically, and a running bot switches to
    it within seconds. Files that cannot be read are listed, the rest is indexed, and the exit
    code is 1.

    \b
    Examples:
      archive-bot index
      archive-bot index --dry-run --verbose    # which files would change?
      archive-bot index --corpus ~/archive --data-dir /srv/archive-bot --json
      archive-bot index --full                 # rebuild everything
      archive-bot index --wait                 # from cron: queue behind a running build
    """
    from bot.querylog.labels import follow, remember_texts
    from index.build import build_index
    from index.errors import ArchiveError

    if not dry_run:
        with_labels(data_dir, remember_texts, which=lambda label: label["text"] is None)
    with contextlib.ExitStack() as bars:
        try:
            report = build_index(
                corpus,
                data_dir,
                model=model,
                full=full,
                dry_run=dry_run,
                progress=lambda stage, total: progress_bar(bars, stage, total),
                wait=wait,
            )
        except ArchiveError as error:
            raise fail(error) from error
    print_report(report, dry_run, as_json, verbose)
    if not dry_run:
        moved, stale = with_labels(data_dir, follow) or (0, [])
        if moved:  # on stderr: stdout ends in JSON
            click.echo(f"labels moved with their passages' text: {moved}", err=True)
        for label in stale:
            click.echo(
                f"stale label: {label['query']!r} → {label['passage_id']}: its text is no "
                "longer in the archive; label the question again (`archive-bot logs label ID`, "
                "the ids as `logs recent` shows them)",
                err=True,
            )
    if report.problems:
        sys.exit(1)


def progress_bar(bars: contextlib.ExitStack, stage: str, total: int):
    """Return the update function of a progress bar for one stage of a build, shown on a
    terminal only (a log file gets none) and closed with `bars`."""
    from tqdm import tqdm

    # A terminal that reports no size (a pty without one: `script`, `docker exec -t`) is
    # taken as 80 x 24: tqdm hides every bar below a screen height of 0.
    size = shutil.get_terminal_size()
    bar = bars.enter_context(
        tqdm(
            total=total,
            unit={"Reading": " files", "OCR": " pages"}.get(stage, " passages"),
            desc=f"{stage:<9}",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            ncols=size.columns,
            nrows=size.lines,
        )
    )

    def update(steps: int) -> None:
        bar.update(steps)
        if bar.n >= total:
            bar.close()  # its rate stays that of its own stage

    return update


def print_report(report, dry_run: bool, as_json: bool, verbose: bool) -> None:
    """Print what a build did (or would do): the files it could not read on stderr, then the
    counts, or one JSON summary."""
    from index.documents import printable

    for skipped in report.skipped:
        click.echo(f"skipped {printable(skipped.path)}: {printable(skipped.reason)}", err=True)
    for problem in report.problems:
        click.echo(f"cannot read {printable(problem.path)}: {printable(problem.reason)}", err=True)
    if as_json:
        click.echo(json.dumps(report.summary() | {"dry_run": dry_run}, ensure_ascii=False))
    else:
        would = "would be " if dry_run else ""
        width = len(f"{would}metadata changed") + 1
        for name in ("added", "changed", "metadata_changed", "removed"):
            ids = getattr(report, name)
            click.echo(f"{would + name.replace('_', ' '):<{width}} {len(ids):>5}")
            for doc_id in ids if verbose else ():
                click.echo(f"  {printable(doc_id)}")
        for before, after in report.renamed:  # always listed: a catalogue entry may need moving
            click.echo(f"{would}renamed {printable(before)} → {printable(after)}")
        click.echo(f"{'unchanged':<{width}} {report.unchanged:>5}")
        if not dry_run:
            click.echo(
                f"{'passages':<{width}} {report.passages_embedded:>5}  embedded, "
                f"{report.passages_total} in the index"
            )
        click.echo(f"{'time':<{width}} {report.seconds:>5.1f}  s")
        if not verbose and (
            report.added or report.changed or report.metadata_changed or report.removed
        ):
            click.echo("(--verbose lists the files)")


def with_labels(data_dir: Path, work, which=lambda label: True):
    """Return `work(log, index, labels)` on the query log of `data_dir`, its current index and
    the log's labels on passages (those `which` accepts), or None when there is no log, no such
    label or no index: the index is opened only for labels. A log that cannot be opened is
    named and left alone."""
    from bot.querylog import LOG_FILE
    from index.store import database_url

    if database_url() is None and not (data_dir / LOG_FILE).exists():
        return None
    try:
        log = open_log(data_dir)
    except click.ClickException as error:
        click.echo(f"labels not checked: {error.message}", err=True)
        return None
    try:
        labels = [label for label in log.labelled_passages() if which(label)]
        if labels and (store := open_store(data_dir, required=False)):
            return work(log, store, labels)
        return None
    finally:
        log.close()


@click.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@top_k_option
@data_dir_option
@model_option
@log_option
def ask(
    question: str | None, as_json: bool, top_k: int, data_dir: Path, model: str, log_questions: bool
) -> None:
    """Answer QUESTION with quoted passages and their sources.

    With `-` or no QUESTION and piped input, answers each line of stdin (one answer per
    question; with --json exactly one line each). The model is loaded once.

    \b
    Examples:
      archive-bot ask "Who was the French ambassador?"
      archive-bot ask --json --top-k 5 "Tokaev"
      archive-bot ask --json - < questions.txt
    """
    from bot.answering import answer
    from bot.render import to_json, to_text

    if question is None and sys.stdin.isatty():
        raise click.UsageError("give a QUESTION, or pipe questions on stdin (one per line)")
    if question is not None and question != "-" and not question.strip():
        raise click.UsageError("the question is empty: ask about the archive")
    searcher = load_searcher(data_dir, model)
    log = open_log(data_dir, create=True) if log_questions else None
    questions = [question] if question not in (None, "-") else (line for line in sys.stdin)
    for text in questions:
        result = answer(searcher, text, top_k)
        if log:
            log.record_answer(result, "terminal")
        if as_json:
            click.echo(json.dumps(to_json(result), ensure_ascii=False))
        else:
            click.echo(to_text(result, color=sys.stdout.isatty()) + "\n")


@click.command(name="eval")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--top-k",
    type=click.IntRange(1, 20),
    default=5,
    show_default=True,
    help="Passages per question.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON object.")
@data_dir_option
@model_option
def evaluate(file: Path, top_k: int, as_json: bool, data_dir: Path, model: str) -> None:
    """Measure retrieval quality on a question file (JSON Lines).

    Each line is {"q": "...", "gold": ["phrase", ...]} (a hit is a passage containing a gold
    phrase) or {"q": "...", "out_of_scope": true} (the archive should decline it).
    Prints hit@1, hit@3, MRR@5, the share of in-scope questions answered and of
    out-of-scope questions declined.

    \b
    Example:
      archive-bot eval tests/dev_questions.jsonl
    """
    from index.errors import ArchiveError
    from index.evaluate import evaluate as run_eval
    from index.evaluate import load_questions

    try:
        questions = load_questions(file)
    except ArchiveError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    report = run_eval(load_searcher(data_dir, model), questions, top_k)
    if as_json:
        click.echo(json.dumps(report.summary(), ensure_ascii=False))
        return
    for name in ("hit_at_1", "hit_at_3", "mrr_at_5", "answered", "declined"):
        value = getattr(report, name)
        click.echo(f"{name:<10} {'-' if value is None else f'{value:.3f}'}")
    click.echo(f"{'questions':<10} {report.questions}  ({report.ms_per_question:.1f} ms each)")
    for miss in report.misses:
        click.echo(f"miss: {miss}")
    for question in report.wrongly_answered:
        click.echo(f"answered, should decline: {question}")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--answered",
    type=click.FloatRange(0.5, 1.0),
    default=ANSWERED,
    show_default=True,
    help="Share of the answerable tuning questions the new cut answers.",
)
@click.option("--reset", is_flag=True, help="Remove the archive's own calibration.")
@data_dir_option
@model_option
def calibrate(files: tuple[Path, ...], answered: float, reset: bool, data_dir: Path,
              model: str) -> None:  # fmt: skip
    """Fit when this archive's answers count as answered, from its own labelled questions.

    FILES are question files (as for `eval`): questions the archive answers, with gold
    phrases, and questions it cannot, marked out of scope; moderators' labels become one
    with `archive-bot logs export-eval`. Each question falls in a tuning or a held-out half;
    the cut on the confidence is chosen on the first, and both halves' figures are printed.
    Written to DATA_DIR/calibration.json, or with ARCHIVE_BOT_DATABASE_URL into the database
    (every machine's bots share it); a bot reads it when it next switches index or restarts.
    Without one, the shipped calibration serves.

    \b
    Examples:
      archive-bot logs export-eval --output labelled.jsonl
      archive-bot calibrate labelled.jsonl
      archive-bot calibrate labelled.jsonl --answered 0.95   # fewer right answers declined
      archive-bot calibrate --reset                          # back to the shipped one
    """
    from index.answerable import describe, keep_calibration
    from index.errors import ArchiveError
    from index.evaluate import calibrate_archive, load_questions

    if reset:
        try:
            where = keep_calibration(data_dir, None)
        except ArchiveError as error:
            raise fail(error) from None
        click.echo(f"Removed the calibration in {where}: the shipped calibration serves.")
        return
    if not files:
        raise click.UsageError("give one or more question files (see --help)")
    try:
        questions = [q for file in files for q in load_questions(file)]
        calibration = calibrate_archive(load_searcher(data_dir, model), questions, answered)
        where = keep_calibration(data_dir, calibration)
    except ArchiveError as error:
        raise fail(error) from None
    for name, figure in calibration.figures.items():
        click.echo(describe(name, figure))
    click.echo(f"Cut {calibration.cut:.3f}, written to {where}.")
