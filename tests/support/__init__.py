"""What many tests share: where the repo and ../shared are, the suite's fixed "now", and the shared-material guard."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SENDGRID_SPEC = SHARED / "sendgrid" / "sendgrid_mock_patched.json"
# Every test runs at this instant unless it pins another (conftest sets DIGEST_NOW): green on any day.
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def need_shared(path: Path = CORPUS) -> None:
    """Tests that read ../shared skip without it, saying why; in CI (which has it) its absence is a failure."""
    if not path.exists():
        where = path.relative_to(ROOT.parent) if path.is_relative_to(ROOT.parent) else path
        if os.environ.get("CI"):
            pytest.fail(f"../{where} is missing in CI")
        pytest.skip(f"../{where} is absent: this test needs the shared material beside the repo")
