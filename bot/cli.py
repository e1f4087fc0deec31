"""The `archive-bot` command: one click group, one function per verb."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from bot import __version__
from index.embed import DEFAULT_MODEL  # a light import: torch loads only with the model

logger = logging.getLogger(__name__)


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_DATA_DIR",
    default="data",
    show_default=True,
    help="Where the index and the query log live [env: ARCHIVE_BOT_DATA_DIR].",
)
model_option = click.option(
    "--model",
    envvar="ARCHIVE_BOT_MODEL",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Embedding model: the bundled default or a local sentence-transformers directory "
    "[env: ARCHIVE_BOT_MODEL].",
)
top_k_option = click.option(
    "--top-k",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="How many passages to return.",
)


def fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive-bot")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def cli(verbose: bool) -> None:
    """Answer questions about a document archive with verbatim quoted passages.

    \b
    Quick start:
      archive-bot index                      # build the index from ./corpus
      archive-bot ask "Who was the French ambassador?"
      archive-bot run                        # Telegram bot (or a terminal chat without a token)
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # httpx logs request URLs at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


@cli.command()
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_CORPUS",
    default="corpus",
    show_default=True,
    help="The archive's documents [env: ARCHIVE_BOT_CORPUS].",
)
@data_dir_option
@model_option
@click.option("--full", is_flag=True, help="Re-embed every document, changed or not.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def index(corpus: Path, data_dir: Path, model: str, full: bool, as_json: bool) -> None:
    """Build or update the index of the corpus.

    Only added and changed documents are embedded; removed ones are dropped. The new index
    replaces the old one atomically, so a running bot never sees a half-built index.
    Files that cannot be read are listed, the rest is indexed, and the exit code is 1.

    \b
    Examples:
      archive-bot index
      archive-bot index --corpus ~/archive --data-dir /srv/archive-bot --json
      archive-bot index --full                 # rebuild everything
    """
    from tqdm import tqdm

    from index.build import build_index
    from index.errors import ArchiveError

    with tqdm(
        total=0,
        unit=" passages",
        desc="Embedding",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ) as bar:

        def progress(total: int):
            bar.reset(total=total)
            return bar.update

        try:
            report = build_index(corpus, data_dir, model=model, full=full, progress=progress)
        except ArchiveError as error:
            raise fail(error) from error
    for problem in report.problems:
        click.echo(f"cannot read {problem.path}: {problem.reason}", err=True)
    if as_json:
        click.echo(json.dumps(report.summary(), ensure_ascii=False))
    else:
        click.echo(
            f"{len(report.added)} added, {len(report.changed)} changed, "
            f"{len(report.removed)} removed, {report.unchanged} unchanged; "
            f"{report.passages_embedded} passages embedded, {report.passages_total} in the index "
            f"({report.seconds:.1f} s)."
        )
    if report.problems:
        sys.exit(1)


def load_searcher(data_dir: Path, model: str):
    """Return a Searcher for `data_dir`, or exit with the reason and what to run."""
    from index.errors import ArchiveError
    from index.search import Searcher

    try:
        return Searcher.open(data_dir, model)
    except ArchiveError as error:
        raise fail(error) from error


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@top_k_option
@data_dir_option
@model_option
def ask(question: str | None, as_json: bool, top_k: int, data_dir: Path, model: str) -> None:
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
    questions = [question] if question not in (None, "-") else (line for line in sys.stdin)
    for text in questions:
        result = answer(searcher, text, top_k)
        if as_json:
            click.echo(json.dumps(to_json(result), ensure_ascii=False))
        else:
            click.echo(to_text(result, color=sys.stdout.isatty()) + "\n")


@cli.command()
@top_k_option
@data_dir_option
@model_option
def run(top_k: int, data_dir: Path, model: str) -> None:
    """Run the Telegram bot, or a terminal chat when TELEGRAM_BOT_TOKEN is not set.

    \b
    Environment:
      TELEGRAM_BOT_TOKEN      the bot's token from @BotFather
      TELEGRAM_API_BASE_URL   Bot API endpoint (default https://api.telegram.org/bot)

    \b
    Examples:
      archive-bot run                                   # terminal chat
      echo "Who was the French ambassador?" | archive-bot run
      TELEGRAM_BOT_TOKEN=123:abc archive-bot run         # Telegram
    """
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        from bot.console import chat

        chat(lambda: load_searcher(data_dir, model), top_k)
        return
    from telegram.error import InvalidToken, NetworkError

    from bot.app import DEFAULT_BASE_URL, build_application, run_bot
    from index.errors import ArchiveError
    from index.store import read_manifest

    try:
        read_manifest(data_dir)  # fail before connecting when there is no index
    except ArchiveError as error:
        raise fail(error) from error
    base_url = os.environ.get("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL
    application = build_application(token, data_dir, model, base_url=base_url, top_k=top_k)
    click.echo(f"Connecting to the Bot API at {base_url} … (Ctrl-C stops the bot)", err=True)
    try:
        run_bot(token, application)
    except InvalidToken:
        raise click.ClickException(
            "Telegram rejected the token: check TELEGRAM_BOT_TOKEN (from @BotFather)"
        ) from None
    except NetworkError as error:
        raise click.ClickException(
            f"cannot reach the Bot API at {base_url} ({type(error).__name__})"
        ) from None
    except ArchiveError as error:
        raise fail(error) from error


@cli.command(name="eval")
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
        raise fail(error) from error
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


def main() -> None:
    cli(prog_name="archive-bot")
