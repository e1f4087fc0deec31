"""The `archive-bot` command: one click group, one function per verb."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from bot import __version__
from index import settings
from index.embed import DEFAULT_MODEL  # a light import: torch loads only with the model


def user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def chown_hint(path: Path, folder: Path) -> str:
    """One line: `path` belongs to someone else, and the chown that gives `folder` back."""
    me = user_name(os.geteuid())
    try:
        owner = f"belongs to {user_name(path.lstat().st_uid)}, "
    except OSError:
        owner = ""
    return (
        f"{path} cannot be read or written by {me} ({owner}restored or made by another user?): "
        f"give it back with `chown -R {me}: {folder}`"
    )


def readable_data_dir(_ctx, _param, data_dir: Path) -> Path:
    """Refuse a data dir whose files this user cannot read (a backup restored as root with
    `cp -a`), in one line naming the fix, before any command meets them."""

    def refuse_unreadable(path: Path) -> None:
        folder = path.is_dir() and not path.is_symlink()
        wanted = os.R_OK | os.X_OK if folder else os.R_OK
        if not path.is_symlink() and not os.access(path, wanted, effective_ids=True):
            raise click.ClickException(chown_hint(path, data_dir))

    if not data_dir.is_dir():
        return data_dir
    refuse_unreadable(data_dir)
    for entry in data_dir.iterdir():  # its files, and those of its index directories
        refuse_unreadable(entry)
        if entry.is_dir() and not entry.is_symlink():
            for path in entry.iterdir():
                refuse_unreadable(path)
    return data_dir


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_DATA_DIR",
    default="data",
    show_default=True,
    callback=readable_data_dir,
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
corpus_option = click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ARCHIVE_BOT_CORPUS",
    default="corpus",
    show_default=True,
    help="The archive's documents [env: ARCHIVE_BOT_CORPUS].",
)
top_k_option = click.option(
    "--top-k",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="How many passages to return.",
)


log_option = click.option(
    "--log", "log_questions", is_flag=True, help="Write the questions to the query log."
)


def fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


output_option = click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="File (default stdout).",
)


@contextlib.contextmanager
def output_file(path: str) -> Iterator[TextIO]:
    """Yield the file to write to (stdout for "-"); a failing write (a full disk) ends clearly.

    What is written holds logged questions, so a file is owner-only (0600) like the log
    itself, an existing one included.
    """
    try:
        if path == "-":
            yield sys.stdout
            sys.stdout.flush()
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if stat.S_ISREG(os.fstat(descriptor).st_mode):  # not a pipe or a terminal
                os.fchmod(descriptor, 0o600)
            with open(descriptor, "w", encoding="utf-8") as file:
                yield file
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None


def retention_days() -> int:
    """Return ARCHIVE_BOT_LOG_RETENTION_DAYS (default 90), or exit explaining the mistake."""
    from bot.querylog import DEFAULT_RETENTION_DAYS

    value = settings.value("ARCHIVE_BOT_LOG_RETENTION_DAYS")
    value = (str(DEFAULT_RETENTION_DAYS) if value is None else value).strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise click.ClickException(
            "ARCHIVE_BOT_LOG_RETENTION_DAYS must be a whole number of days (1 or more), "
            f"not {value!r}"
        )
    return int(value)


def moderators() -> frozenset[int]:
    """Return the user ids of ARCHIVE_BOT_MODERATORS, or exit explaining the mistake."""
    value = settings.value("ARCHIVE_BOT_MODERATORS") or ""
    ids = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if not (part.isascii() and part.removeprefix("-").isdigit()):
            hint = " (a username: moderators are given by numeric id)" if "@" in part else ""
            raise click.ClickException(
                f"ARCHIVE_BOT_MODERATORS must be Telegram user ids separated by commas "
                f'("12345,67890"); {part!r} is not one{hint}'
            )
        ids.add(int(part))
    return frozenset(ids)


def open_log(data_dir: Path, create: bool = False):
    """Return the query log of `data_dir`, or exit with the reason.

    Only what writes questions (`--log`) may create a log: a mistyped `--data-dir` given to
    a reviewing command must not make a new, empty one.
    """
    import sqlite3

    from bot.querylog import LOG_FILE, QueryLog

    if not create and not (data_dir / LOG_FILE).exists():
        raise click.BadParameter(
            f"{data_dir} holds no query log ({LOG_FILE}): give the data dir the bot uses "
            "(ARCHIVE_BOT_DATA_DIR)",
            param_hint="--data-dir",
        )
    try:
        return QueryLog(data_dir, retention_days())
    except (OSError, RuntimeError, sqlite3.Error) as error:
        raise click.ClickException(f"cannot open the query log in {data_dir}: {error}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive-bot")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
@click.option(
    "--timestamps",
    is_flag=True,
    envvar="ARCHIVE_BOT_LOG_TIMESTAMPS",
    help="Start each log line with the time, for plain log files (journald adds its own) "
    "[env: ARCHIVE_BOT_LOG_TIMESTAMPS].",
)
def cli(verbose: bool, timestamps: bool) -> None:
    """Answer questions about a document archive with verbatim quoted passages.

    \b
    Quick start:
      archive-bot index                      # build the index from ./corpus
      archive-bot ask "Who was the French ambassador?"
      archive-bot run                        # Telegram bot (or a terminal chat without a token)
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format=("%(asctime)s " if timestamps else "") + "%(levelname)s %(name)s: %(message)s",
    )
    # httpx logs request URLs at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


@cli.command()
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
    from tqdm import tqdm

    from index.build import build_index
    from index.documents import printable
    from index.errors import ArchiveError

    with contextlib.ExitStack() as bars:

        def progress(stage: str, total: int):
            """A progress bar for one stage, on a terminal only (a log file gets none)."""
            # A terminal that reports no size (a pty without one: `script`, `docker exec -t`)
            # is taken as 80 x 24: tqdm hides every bar below a screen height of 0.
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

        if not dry_run:
            remember_label_texts(data_dir)
        try:
            report = build_index(
                corpus,
                data_dir,
                model=model,
                full=full,
                dry_run=dry_run,
                progress=progress,
                wait=wait,
            )
        except ArchiveError as error:
            raise fail(error) from error
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
    if not dry_run:
        follow_labels(data_dir)
    if report.problems:
        sys.exit(1)


def _labels(data_dir: Path):
    """Return the query log of `data_dir` and its labels on passages ((None, []) without a
    log, or without labels); a log that cannot be opened is named and left alone."""
    from bot.querylog import LOG_FILE

    if not (data_dir / LOG_FILE).exists():
        return None, []
    try:
        log = open_log(data_dir)
    except click.ClickException as error:
        click.echo(f"labels not checked: {error.message}", err=True)
        return None, []
    labels = log.labelled_passages()
    if not labels:
        log.close()
        return None, []
    return log, labels


def _index_or_none(data_dir: Path):
    """Return the current index of `data_dir`, or None when there is none to read."""
    from index.errors import ArchiveError
    from index.store import IndexStore

    try:
        return IndexStore(data_dir)
    except ArchiveError:
        return None


def remember_label_texts(data_dir: Path) -> None:
    """Before a rebuild, record the text of each label's passage that the log lacks (labels
    made before the log kept texts), from the index the label was made on. The index is
    opened only when such a label exists."""
    log, labels = _labels(data_dir)
    if log is None:
        return
    try:
        missing = [label for label in labels if label["text"] is None]
        store = _index_or_none(data_dir) if missing else None
        for label in missing if store else ():
            if passage := store.passage(label["passage_id"]):
                log.move_label(label["id"], label["passage_id"], passage.text)
    finally:
        log.close()


def follow_labels(data_dir: Path) -> None:
    """After a rebuild, keep each label on its passage's text, wherever it now is.

    A label whose id now holds another text (a paragraph above it was removed, the file was
    renamed) moves to the passage holding its text, in the same document if it has one; a
    label whose text is gone is stale: named here and by `logs export-eval`, never pointed at
    another sentence.
    """
    log, labels = _labels(data_dir)
    if log is None:
        return
    moved, stale = 0, []
    try:
        store = _index_or_none(data_dir)
        for label in labels if store else ():
            passage = store.passage(label["passage_id"])
            if label["text"] is None or (passage is not None and passage.text == label["text"]):
                continue
            holders = store.passage_ids_with_text(label["text"])
            if holders:
                document = label["passage_id"].split("#")[0]
                same = [h for h in holders if h.split("#")[0] == document]
                log.move_label(label["id"], (same or holders)[0], label["text"])
                moved += 1
            else:
                stale.append(label)
    finally:
        log.close()
    if moved:  # on stderr: stdout ends in JSON
        click.echo(f"labels moved with their passages' text: {moved}", err=True)
    for label in stale:
        click.echo(
            f"stale label: {label['query']!r} → {label['passage_id']}: its text is no longer "
            "in the archive; label the question again (`archive-bot logs label ID`, the "
            "ids as `logs recent` shows them)",
            err=True,
        )


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


@cli.command()
@top_k_option
@corpus_option
@data_dir_option
@model_option
@click.option(
    "--log/--no-log",
    "log_questions",
    default=None,
    help="Telegram questions are logged unless --no-log; terminal questions only with --log.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    envvar="ARCHIVE_BOT_MAX_RATE",
    help="Requests per second to the Bot API, all chats together: Telegram allows a bot about "
    "30. Raise it only for a test server or a bot Telegram allows more.",
)
def run(
    top_k: int,
    corpus: Path,
    data_dir: Path,
    model: str,
    log_questions: bool | None,
    max_rate: float,
) -> None:
    """Run the Telegram bot, or a terminal chat when TELEGRAM_BOT_TOKEN is not set.

    \b
    Environment:
      TELEGRAM_BOT_TOKEN      the bot's token from @BotFather
      TELEGRAM_API_BASE_URL   Bot API endpoint (default https://api.telegram.org/bot)
      ARCHIVE_BOT_MODERATORS  comma-separated user ids allowed /stats and /recent
                              (read at start: restart the bot after a change)
      ARCHIVE_BOT_LOG_RETENTION_DAYS  days logged questions are kept (default 90)
      ARCHIVE_BOT_MAX_RATE    the same as --max-rate

    Telegram questions are logged (pseudonymously, see README); terminal questions only with
    --log. The bot does not start when its query log or its inbox cannot be written, or a
    setting is malformed: it says what to fix. --no-log runs it without a log, on purpose.
    An index of an older archive-bot (after an upgrade) is first rebuilt from --corpus, as
    `archive-bot index` would, keeping every stored vector it can.

    \b
    Examples:
      archive-bot run                                   # terminal chat
      echo "Who was the French ambassador?" | archive-bot run
      TELEGRAM_BOT_TOKEN=123:abc archive-bot run         # Telegram
    """
    from index.build import upgrade_index
    from index.errors import ArchiveError

    try:
        if report := upgrade_index(corpus, data_dir, model):
            click.echo(
                f"rebuilt from {corpus}: {report.passages_total} passages, "
                f"{report.passages_embedded} of them embedded anew",
                err=True,
            )
    except ArchiveError as error:
        raise click.ClickException(f"the index could not be rebuilt: {error}") from None
    token = (settings.value("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token:
        from bot.console import chat

        chat(
            lambda: load_searcher(data_dir, model),
            top_k,
            open_log(data_dir, create=True) if log_questions else None,
        )
        return
    from bot.app import run_lock
    from index.embed import chosen_backend
    from index.store import read_manifest

    logging.getLogger("bot").setLevel(logging.INFO)  # the bot's own news: start-up, outages

    try:
        chosen_backend()  # fail before connecting when a setting is wrong
        read_manifest(data_dir)  # or when there is no index
        with run_lock(data_dir):
            serve(token, data_dir, model, top_k, max_rate, log_questions is not False)
    except ArchiveError as error:
        raise fail(error) from error


def serve(token: str, data_dir: Path, model: str, top_k: int, max_rate: float, log: bool) -> None:
    """Run the Telegram bot until it is stopped; a failure to connect ends in one line."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import DEFAULT_BASE_URL, build_application, run_bot

    base_url = settings.value("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL
    application = build_application(
        token,
        data_dir,
        model,
        base_url=base_url,
        top_k=top_k,
        moderators=moderators(),
        retention_days=retention_days(),
        max_rate=max_rate,
        log=log,
    )
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


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(data_dir: Path, as_json: bool) -> None:
    """Say whether a bot runs on the data dir, and what it serves.

    Exits with 0 when a bot runs on the data dir and polled Telegram within the last two
    minutes, else 1: usable as a health check by systemd or a monitor.

    \b
    Examples:
      archive-bot status
      archive-bot status --json --data-dir /var/lib/archive-bot
    """
    import time

    from bot.app import bot_running
    from bot.health import INDEX_FIELDS, POLLED_WITHIN, poll_age, read_status
    from bot.texts import index_size
    from index.errors import ArchiveError
    from index.store import read_manifest

    now = time.time()
    report = read_status(data_dir) or {}
    running = bot_running(data_dir)
    age = poll_age(report) if running else None
    healthy = age is not None and 0 <= age <= POLLED_WITHIN
    try:
        manifest = read_manifest(data_dir)
        index = {k: manifest.get(k) for k in INDEX_FIELDS}
    except ArchiveError as error:
        index = {"error": str(error)}
    report |= {"running": running, "healthy": healthy, "index": index}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        sys.exit(0 if healthy else 1)

    def seconds_ago(seconds: float | None) -> str:
        return "never" if seconds is None else f"{max(0, seconds):.0f} s ago"

    def ago(at: float | None) -> str:
        return seconds_ago(now - at if at else None)

    if running:
        click.echo(
            f"bot: running (pid {report.get('pid')}, @{report.get('bot')}, version "
            f"{report.get('version')}); last poll {seconds_ago(age)}"
            + ("" if healthy else f": NOT HEALTHY (none within {POLLED_WITHIN:.0f} s)")
        )
    elif report.get("stopped"):
        click.echo(f"bot: not running (it stopped {ago(report['stopped'])})")
    elif report.get("pid"):  # killed (SIGKILL, out of memory) or crashed: it wrote no stop
        click.echo(
            f"bot: not running (it ended without stopping, killed or crashed; its last "
            f"status was written {ago(report.get('written'))})"
        )
    else:
        click.echo(f"bot: not running (no bot has run on {data_dir})")
    if "error" in index:
        click.echo(f"index: {index['error']}")
    else:
        click.echo(
            f"index: {index_size('en', index)}, built "
            f"{index['built_at']} ({' + '.join(index['models'])})"
        )
    if report.get("pid"):
        log = f"on, kept {report.get('retention_days')} days" if report.get("log") else "OFF"
        click.echo(
            f"inbox: {report.get('inbox_pending')} updates waiting"
            + "".join(f"; kept aside: {name}" for name in report.get("kept_aside") or [])
        )
        click.echo(f"query log: {log}; {report.get('log_dropped', 0)} entries dropped in all")
        if report.get("last_error"):
            click.echo(f"last error: {report['last_error']}, {ago(report.get('last_error_at'))}")
    sys.exit(0 if healthy else 1)


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@data_dir_option
def backup(dest: Path, data_dir: Path) -> None:
    """Copy the query log, its key and the current index to DEST, while the bot runs.

    DEST must not exist yet (or be empty); it becomes a data dir of its own, owner-only, that
    `logs` and `ask` can read with --data-dir DEST. The copy is consistent (SQLite's online
    backup; the index copied under the build lock) and holds no question past retention.
    inbox.db is left out: it holds Telegram ids. A key given in ARCHIVE_BOT_LOG_SECRET is not
    written anywhere: keep it with the backup yourself. Restoring: see README, "Backups".
    Interrupted (Ctrl-C, SIGTERM, a failing disk), it leaves nothing behind; what a killed
    backup left (SIGKILL) is removed by the next one into the same folder.

    \b
    Examples:
      archive-bot backup /var/backups/archive-bot/$(date +%F)
      archive-bot backup ~/copy --data-dir /var/lib/archive-bot
    """
    from bot.copies import partial_dir
    from bot.querylog import LOG_FILE
    from index.build import build_lock
    from index.errors import ArchiveError
    from index.store import copy_index

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise click.BadParameter(f"{dest} exists and is not empty: give a new directory")
    try:
        with partial_dir(dest.parent, dest.name) as partial:  # whole or nothing, never left
            with build_lock(data_dir, wait=True):
                manifest = copy_index(data_dir, partial)
            copied = None
            if (data_dir / LOG_FILE).exists():
                log = open_log(data_dir)
                try:
                    copied = log.backup(partial)
                finally:
                    log.close()
            if dest.exists():
                dest.rmdir()
            partial.rename(dest)
    except (OSError, ArchiveError, RuntimeError, click.ClickException) as error:
        if isinstance(error, click.ClickException):  # the log's own message (open_log)
            message = error.message
        else:
            message = getattr(error, "strerror", None) or str(error)
        raise click.ClickException(f"backup failed, nothing written to {dest}: {message}") from None
    click.echo(
        f"backed up to {dest}: the index ({manifest['passages']} passages, built "
        f"{manifest['built_at']})"
        + (
            f", the query log ({copied} question{'s' * (copied != 1)}) and its key"
            if copied is not None
            else ""
        )
    )
    if copied is not None and settings.value("ARCHIVE_BOT_LOG_SECRET"):
        click.echo("the key is in ARCHIVE_BOT_LOG_SECRET, not in the backup: keep it with it")


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


@cli.group()
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


def open_store(data_dir: Path):
    """Return the current index of `data_dir`, or exit with the reason."""
    from index.errors import ArchiveError
    from index.store import IndexStore

    try:
        return IndexStore(data_dir)
    except ArchiveError as error:
        raise fail(error) from error


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


def main() -> None:
    try:
        cli(prog_name="archive-bot")
    except PermissionError as error:  # one line, not a traceback: what to fix
        path = Path(error.filename or ".")
        click.echo(f"Error: {chown_hint(path, path.parent)}", err=True)
        sys.exit(1)
