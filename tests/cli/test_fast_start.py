"""`import digest.cli` stays light so `digest --version` and `digest --help` start at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.slow
def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = set(_loaded_after("import digest.cli"))
    assert "digest.cli" in loaded
    assert not [m for m in HEAVY if m in loaded]


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_no_heavy_module(flag: str) -> None:
    run_cli = "from digest.cli import app\ntry:\n    app()\nexcept SystemExit:\n    pass"
    code = f"import sys\nsys.argv = ['digest', {flag!r}]\n{run_cli}"
    loaded = set(_loaded_after(code))
    assert not [m for m in HEAVY if m in loaded]
