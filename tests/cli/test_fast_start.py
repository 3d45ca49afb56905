"""`digest --version` and `digest --help` answer before typer is imported; every command imports only itself."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from digest.cli.reference import TOPHELP, tophelp_source
from tests.support import ROOT

HEAVY = (
    "numpy",
    "trafilatura",
    "starlette",
    "uvicorn",
    "feedparser",
    "httpx",
    "jinja2",
    "sendgrid",
    "sqlite_utils",
    "digest.send.providers",
    "matplotlib",
    "pydantic",
)
# what the installed `digest` script runs, under its own name (the usage line names the program)
SCRIPT = "\n".join(
    [
        "import sys",
        "sys.argv[0] = 'digest'",
        "from digest.cli import main",
        "try:",
        "    main()",
        "except SystemExit:",
        "    pass",
    ]
)
# rich decides width and colour from these: the tests below pin them
RICH_ENV = ("TERMINAL_WIDTH", "COLUMNS", "FORCE_COLOR", "PY_COLORS", "NO_COLOR", "TTY_COMPATIBLE", "GITHUB_ACTIONS")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RICH_ENV}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _loaded_after(code: str, *args: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True
    )
    return done.stderr.split()


def _digest(*args: str, **env: str) -> str:
    run = [sys.executable, "-c", SCRIPT, *args]
    done = subprocess.run(run, cwd=ROOT, env=_env(**env), capture_output=True, text=True, check=True)
    return done.stdout


def test_the_stored_root_help_is_what_typer_draws() -> None:
    stale = "run: python -m digest.cli.reference --write README.md"
    assert TOPHELP.read_text(encoding="utf-8") == tophelp_source(), stale


@pytest.mark.slow
def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = set(_loaded_after("import digest.cli"))
    assert "digest.cli" in loaded
    assert not [m for m in (*HEAVY, "typer", "rich") if m in loaded]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--version"], ["--version", "--json"], ["--help"]])
def test_version_and_root_help_are_answered_without_typer(args: list[str]) -> None:
    loaded = set(_loaded_after(SCRIPT, *args))
    assert not [m for m in (*HEAVY, "typer", "rich") if m in loaded]


@pytest.mark.slow
def test_version_answers_as_typer_did() -> None:
    assert _digest("--version") == "digest 0.1.0\n"
    assert _digest("--version", "--json") == '{\n  "version": "0.1.0"\n}\n'
    assert _digest("--json", "--version", "--home", ".") == '{\n  "version": "0.1.0"\n}\n'  # typer's own path


@pytest.mark.slow
def test_the_root_help_printed_at_once_is_byte_for_byte_typers() -> None:
    at_once = _digest("--help")
    by_typer = _digest("--help", COLUMNS="80")  # COLUMNS set: typer draws it
    assert at_once == by_typer
    assert "Usage: digest [OPTIONS] COMMAND [ARGS]..." in at_once and "subscribers" in at_once


@pytest.mark.slow
@pytest.mark.parametrize("command", ["collect", "send", "subscribers", "stats"])
def test_a_commands_help_imports_only_that_command(command: str) -> None:
    loaded = set(_loaded_after(SCRIPT, command, "--help"))
    others = {f"digest.cli.{c}" for c in ("run", "collect", "send", "subscribers", "stats", "lists")} - {
        f"digest.cli.{command}"
    }
    assert f"digest.cli.{command}" in loaded
    assert not [m for m in (*HEAVY, *sorted(others)) if m in loaded]


@pytest.mark.slow
def test_a_narrow_terminal_width_still_reaches_typer() -> None:
    narrow = _digest("--help", COLUMNS="60")
    assert max(len(line) for line in narrow.splitlines()) <= 60
