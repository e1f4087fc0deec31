"""The `archive-bot` command: one click group; each command parses its arguments and prints
what the module doing the work returns.

- `archive`: the archive and its askers (`index`, `ask`, `eval`)
- `service`: the operator's (`run`, `status`, `backup`, `database copy-in|copy-out`)
- `logs`: the moderators' (`logs recent`, `logs label`, …)
- `common`: the options they share, and opening the data dir's parts
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from bot import __version__
from bot.cli import archive, logs, service
from bot.cli.common import chown_hint
from index import threads
from index.errors import ArchiveError


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
@click.pass_context
def cli(ctx: click.Context, verbose: bool, timestamps: bool) -> None:
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
    # Before any command imports a model or faiss: they read it once, when they load.
    try:
        policy = threads.apply("build" if ctx.invoked_subcommand == "index" else "question")
    except ArchiveError as error:
        raise click.ClickException(str(error)) from None
    logging.getLogger(__name__).info("threads: %s", policy.describe())


for command in (
    archive.index,
    archive.ask,
    archive.evaluate,
    archive.calibrate,
    service.run,
    service.status,
    service.backup,
    service.database,
    logs.logs,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="archive-bot")
    except PermissionError as error:  # one line, not a traceback: what to fix
        path = Path(error.filename or ".")
        click.echo(f"Error: {chown_hint(path, path.parent)}", err=True)
        sys.exit(1)
