"""A clock or a timezone that moves back never makes a second edition for a day the list is past, and never
repeats stories that went out (issue 14, finding 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.send import make_edition, open_store


@pytest.fixture
def sent(initialised: Path, cli) -> int:
    """Today's edition (2026-11-24, UTC), sent to five readers through the outbox."""
    with open_store(initialised) as store:
        edition = make_edition(store, 5, date="2026-11-24")
    cli("send")
    return edition


def test_a_timezone_that_moves_the_date_back_builds_and_sends_nothing(
    cli, initialised: Path, sent: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_TIMEZONE", "America/Los_Angeles")  # 07:00 UTC is still the 23rd there
    result = cli("run", code=None)
    assert "moved back" in result.stdout + result.stderr
    result = cli("build", code=None)
    assert result.exit_code != 0 and "moved back" in result.stderr and "Traceback" not in result.stderr
    with open_store(initialised) as store:
        assert [r[0] for r in store.conn.execute("SELECT date FROM editions")] == ["2026-11-24"]
        assert store.scalar("SELECT count(*) FROM sends") == 5


def test_an_earlier_edition_built_on_purpose_repeats_no_story_that_went_out_later(
    cli, initialised: Path, sent: int
) -> None:
    result = cli("build", "--date", "2026-11-23", code=None)
    assert result.exit_code != 0 and "nothing new" in result.stderr  # the 24th's stories went out: kept out
    with open_store(initialised) as store:
        assert [r[0] for r in store.conn.execute("SELECT date FROM editions")] == ["2026-11-24"]
