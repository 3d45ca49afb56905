"""Every --help reads as written: no bracketed text eaten by markup, no Python type names, switches untyped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from digest.cli import app
from digest.cli.helptext import plain

BRACKETED = re.compile(r"\[[^\]\s][^\]]*\]")
PYTHON_TYPES = re.compile(r"<(str|int|float|bool|path|list\[[^>]*\]|[a-z]+ range)>")


def _commands() -> Iterator[tuple[list[str], Any]]:
    root = typer.main.get_command(app)

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(root, [])


COMMANDS = list(_commands())


def _flat(text: str) -> str:
    """The help as one line: box drawing and wrapping gone, so a phrase split over lines still matches."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_command_is_walked() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"", "run", "render", "lists add", "subscribers import", "sources add"} <= paths


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "digest")
def test_help_keeps_every_bracketed_phrase(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    cmd = dict((tuple(p), c) for p, c in COMMANDS)[tuple(path)]
    sources = [plain(cmd.help or "")] + [plain(getattr(p, "help", None) or "") for p in cmd.params]
    written = {_flat(m) for text in sources for m in BRACKETED.findall(text)}
    for phrase in written:
        assert phrase in shown, f"'{phrase}' was lost from digest {' '.join(path)} --help"
    assert not PYTHON_TYPES.search(shown), PYTHON_TYPES.search(shown)


def test_the_cases_the_issue_named() -> None:
    render = _flat(CliRunner().invoke(app, ["render", "--help"], env={"COLUMNS": "200"}).output)
    assert "(default: [default_list] in digest.toml)" in render
    lists = _flat(CliRunner().invoke(app, ["lists", "keywords", "--help"], env={"COLUMNS": "200"}).output)
    assert "[rank] boost/block" in lists
    add = _flat(CliRunner().invoke(app, ["sources", "add", "--help"], env={"COLUMNS": "200"}).output)
    assert "sources add [OPTIONS] LOCATION" in add
    assert "--weight NUMBER [at least 0]" in add and "[default: 1.0]" in add
    root = _flat(CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output)
    assert "--home DIR" in root and "[env var: DIGEST_HOME]" in root
    assert "--install-completion" in root


def test_main_commands_show_examples() -> None:
    for name in ("init", "run", "collect", "rank", "build", "render", "send", "stats", "schedule", "doctor"):
        out = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        assert "Examples:" in out and f"digest {name}" in out.split("Examples:", 1)[1], name


@pytest.mark.parametrize(
    ("path", "variables"),
    [
        (["send"], ["DIGEST_DEFAULT_LIST", "DIGEST_SEND_PROVIDER"]),
        (["run"], ["DIGEST_SEND_PROVIDER"]),
        (["serve"], ["DIGEST_SERVE_HOST", "DIGEST_SERVE_PORT"]),
        (["lists", "add"], ["DIGEST_SENDER_FROM_EMAIL", "DIGEST_SENDER_REPLY_TO", "DIGEST_SENDER_ADDRESS"]),
    ],
)
def test_an_option_whose_default_is_a_setting_names_its_variable(path: list[str], variables: list[str]) -> None:
    shown = _flat(CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}).output)
    shown = shown.replace("_ ", "_")  # a long variable name may wrap at its underscore
    for var in variables:
        assert var in shown, f"{var} not in digest {' '.join(path)} --help"
    # and each such variable really sets that setting
    from digest.config import setting_variables

    assert set(variables) <= setting_variables()
