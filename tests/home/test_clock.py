"""One clock: DIGEST_NOW and clock.pinned decide "now"; nothing else in the package reads the wall clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest import clock
from digest.config import load
from digest.errors import ConfigError
from digest.pipeline import local_date
from tests.support import NOW, ROOT
from tests.support.newsletter import setup_newsletter


def test_digest_now_pins_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_NOW", "2027-01-31T23:30:00-05:00")
    assert clock.now() == datetime(2027, 2, 1, 4, 30, tzinfo=UTC)
    monkeypatch.setenv("DIGEST_NOW", "2027-13-01")
    with pytest.raises(ConfigError, match="DIGEST_NOW '2027-13-01' is not an ISO date"):
        clock.now()


def test_pinned_overrides_the_environment_and_restores() -> None:
    at = datetime(2030, 3, 31, 1, 0, tzinfo=UTC)
    with clock.pinned(at):
        assert clock.now() == at
    assert clock.now() == NOW  # the suite's own pin (conftest)


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        ("Pacific/Kiritimati", "2026-11-30T11:00:00Z", "2026-12-01"),  # UTC+14: already next month
        ("Pacific/Pago_Pago", "2026-12-01T09:00:00Z", "2026-11-30"),  # UTC-11: still the month before
        ("Europe/Paris", "2026-03-29T00:30:00Z", "2026-03-29"),  # the night clocks go forward
        ("America/New_York", "2026-11-01T05:30:00Z", "2026-11-01"),  # the night clocks go back
    ],
)
def test_the_editions_day_is_the_configured_zones(
    initialised: Path, monkeypatch: pytest.MonkeyPatch, zone: str, instant: str, day: str
) -> None:
    monkeypatch.setenv("DIGEST_TIMEZONE", zone)
    assert local_date(load(initialised), clock.parse(instant)) == day


def test_build_dates_the_edition_by_the_pinned_clock_not_the_machine(
    cli,
    home: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup_newsletter(cli, home)
    cli("collect")
    monkeypatch.setenv("DIGEST_TIMEZONE", "Pacific/Kiritimati")
    monkeypatch.setenv("DIGEST_NOW", "2026-11-24T11:00:00Z")
    built = json.loads(cli("build", "--json").stdout)
    assert built["date"] == "2026-11-25"


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    wall = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "digest").rglob("*.py"))
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if wall.search(line)
    ]
    assert offenders == []
