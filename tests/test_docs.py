"""The README documents every command and the two set-up commands."""

import re

import pytest

from bot.cli import cli

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented(command: str):
    assert re.search(rf"archive-bot {command}\b", README), f"README lacks archive-bot {command}"


def test_setup_is_two_commands():
    assert "make run" in README and "make test" in README
