"""Debian's SpamAssassin, with its shipped rules and network tests off, scores our editions at 0 or less.

Each edition's score and the rules that fired are printed (``pytest -s`` or the CI log shows them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import CORPUS, need_shared

pytestmark = pytest.mark.slow

SPAMASSASSIN = shutil.which("spamassassin")
_SCORE = re.compile(r"Content analysis details:\s+\((-?\d+(?:\.\d+)?) points")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s+\S", re.M)


@pytest.fixture
def spamassassin() -> str:
    if SPAMASSASSIN:
        return SPAMASSASSIN
    if os.environ.get("CI"):
        pytest.fail("spamassassin is missing in CI (.ci/run installs Debian's spamassassin)")
    pytest.skip("spamassassin is not installed: 'apt-get install spamassassin' runs this test")


def score(binary: str, message: str, home: Path) -> tuple[float, list[tuple[float, str]]]:
    """(score, [(points, rule)]) of one message; -L keeps every test local (no DNS, no network)."""
    done = subprocess.run(
        [binary, "-L", "-t"],
        input=message.encode("utf-8"),
        capture_output=True,
        timeout=120,
        check=True,
        env={**os.environ, "HOME": str(home)},
    )
    report = done.stdout.decode("utf-8", "replace")
    found = _SCORE.search(report)
    assert found, f"no SpamAssassin report in its output:\n{report[-2000:]}"
    start = report.index("\n----", found.end())  # the rules table, under its dashed rule, up to a blank line
    table = report[start : report.find("\n\n", start)]
    return float(found.group(1)), [(float(p), rule) for p, rule in _RULE.findall(table)]


def check(name: str, binary: str, message: str, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    points, rules = score(binary, message, home)
    with capsys.disabled():  # shown in every run's log, not only on failure
        print(f"\nSpamAssassin: {name} scores {points}: " + ", ".join(f"{rule} ({p:+.1f})" for p, rule in rules))
    assert "HTML_MESSAGE" in {rule for _, rule in rules}, "SpamAssassin did not see the HTML part"
    assert points <= 0.0, f"{name} scores {points} with SpamAssassin: {rules}"
    assert "HTML_FONT_LOW_CONTRAST" not in {rule for _, rule in rules}


def test_the_example_edition_scores_zero_or_less(home: Path, cli, spamassassin: str, capsys) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--example")
    cli("collect")
    cli("build")
    check("the example edition", spamassassin, cli("render", "--format", "eml").stdout, home, capsys)


def test_an_edition_from_the_corpus_feeds_scores_zero_or_less(
    home: Path,
    cli,  # type: ignore[no-untyped-def]
    spamassassin: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    need_shared(CORPUS / "feeds")
    # The corpus feeds are years old: a window and half-life that reach them.
    monkeypatch.setenv("DIGEST_RANK_WINDOW_HOURS", str(24 * 365 * 25))
    monkeypatch.setenv("DIGEST_RANK_HALF_LIFE_HOURS", "20000")
    cli("init")
    cli("lists", "add", "main", "--from-email", "news@harbor.example", "--address", "1 Quay St, Harbor City")
    for path in sorted((CORPUS / "feeds" / "wellformed").glob("*/*")):
        cli("sources", "add", str(path), "--name", f"{path.parent.name}-{path.name}")
    cli("collect")
    assert "\n10. " in cli("build").stdout  # a full edition of ten stories
    check("an edition of the corpus feeds", spamassassin, cli("render", "--format", "eml").stdout, home, capsys)
