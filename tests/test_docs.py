"""The README and the docs per audience document every command; the README, the two set-up
commands and a link to each page of docs/."""

import re

import click
import pytest

from bot.cli import cli

from .support.archive import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
AUDIENCES = ("askers", "maintainers", "moderators", "operators", "architecture")
WRITTEN = README + "".join(
    (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8") for page in AUDIENCES
)  # docs/commands.md is generated from the commands: it documents them all by itself


def command_names(group: click.Group, prefix: str = "archive-bot") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", command_names(cli))
def test_every_command_is_documented(command: str):
    assert re.search(rf"{re.escape(command)}\b", WRITTEN), f"no README or docs page has {command}"


def test_setup_is_two_commands_and_every_page_is_linked():
    assert "make run" in README and "make test" in README
    for page in (*AUDIENCES, "commands"):
        assert f"](docs/{page}.md)" in README, page


def test_links_between_the_docs_lead_to_files():
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), (page.name, target)


def test_the_command_reference_is_current():
    from bot.cli.reference import REFERENCE, reference

    assert REFERENCE.read_text(encoding="utf-8") == reference(), (
        "docs/commands.md is out of date: run `.venv/bin/python -m bot.cli.reference`"
    )
