"""The README documents every command and the two set-up commands."""

import re

import click
import pytest

from bot.cli import cli

from .support.archive import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_names(group: click.Group, prefix: str = "archive-bot") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", command_names(cli))
def test_every_command_is_documented(command: str):
    assert re.search(rf"{re.escape(command)}\b", README), f"README lacks {command}"


def test_setup_is_two_commands():
    assert "make run" in README and "make test" in README


def test_the_command_reference_is_current():
    from bot.cli.reference import REFERENCE, reference

    assert REFERENCE.read_text(encoding="utf-8") == reference(), (
        "docs/commands.md is out of date: run `.venv/bin/python -m bot.cli.reference`"
    )
