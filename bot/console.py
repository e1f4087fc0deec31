"""The terminal chat: `archive-bot run` without a Telegram token, on the same answering path."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import click

from bot.answering import answer
from bot.querylog import QueryLog
from bot.render import to_text
from index.search import Searcher

CONNECT_HINT = (
    "To serve askers in Telegram, get a token from @BotFather and run "
    "`TELEGRAM_BOT_TOKEN=... archive-bot run`."
)
HELP = (
    "Type a question about the archive in your own words (names alone work too): the answer "
    "is passages quoted word for word, each with its source. Ctrl-D quits. The other "
    "commands (/sources, /forget, …) are the Telegram bot's; `archive-bot --help` lists the "
    "terminal's."
)


def chat(
    load: Callable[[], Searcher],
    top_k: int,
    log: QueryLog | None = None,
    stdin: TextIO = sys.stdin,
) -> None:
    """Answer questions typed at a prompt (or piped, one per line) until EOF or Ctrl-C."""
    interactive = stdin.isatty()
    click.echo(CONNECT_HINT, err=True)
    if interactive:
        click.echo("Loading the archive…", err=True)
    searcher = load()
    if interactive:
        click.echo("Ask a question about the archive (Ctrl-D to quit).", err=True)
    try:
        while True:
            if interactive:
                try:
                    line = input("? ")
                except EOFError:
                    click.echo(err=True)
                    return
            else:
                line = stdin.readline()
                if not line:
                    return
            if not line.strip():
                continue
            if not interactive:  # piped: say which question each answer is for
                click.echo(f"? {line.strip()}")
            if line.strip().startswith("/"):  # a command, not a question to search
                click.echo(HELP + "\n")
                continue
            result = answer(searcher, line, top_k)
            click.echo(to_text(result, color=sys.stdout.isatty()))
            if log:
                log.record_answer(result, "terminal")
            click.echo()
    except KeyboardInterrupt:
        click.echo(err=True)
