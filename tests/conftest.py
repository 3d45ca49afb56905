"""Shared fixtures: a temporary newsletter home (DIGEST_HOME), the CLI runner, the corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.config import load
from digest.store import Store
from tests.support import CORPUS, NOW, need_shared


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith("DIGEST_") or var == "SENDGRID_API_KEY":
            monkeypatch.delenv(var, raising=False)
    # one fixed "now" for every test, in-process and in subprocesses: green on any day; tests about dates pin their own
    monkeypatch.setenv("DIGEST_NOW", NOW.isoformat())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty newsletter home that DIGEST_HOME points at."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("DIGEST_HOME", str(path))
    return path


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0, input: str | None = None):  # noqa: A002
        result = self.runner.invoke(app, list(args), input=input)
        if code is not None and result.exit_code != code:
            raise AssertionError(
                f"digest {' '.join(args)} exited {result.exit_code}, expected {code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def initialised(home: Path, cli: Cli) -> Path:
    cli("init")
    return home


@pytest.fixture
def store(initialised: Path) -> Iterator[Store]:
    s = Store(load(initialised).db_path)
    yield s
    s.close()


@pytest.fixture
def corpus() -> Path:
    need_shared()
    return CORPUS
