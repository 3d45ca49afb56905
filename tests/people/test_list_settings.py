"""A list's scope and rhythm settings: what it draws from, when it goes, approval, and whether signup offers it."""

from __future__ import annotations

import json
from pathlib import Path


def test_list_settings_are_checked_stored_and_replaced(initialised: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("sources", "add", "https://example.org/feed.xml", "--name", "harbor")
    made = json.loads(
        cli(
            "lists", "add", "world", "--source", "harbor", "--tag", " politics ", "--send-at", "7:05",
            "--timezone", "Europe/Paris", "--weekday", "fri", "--require-approval", "--private", "--json",
        ).stdout
    )  # fmt: skip
    assert made["sources"] == ["harbor"] and made["tags"] == ["politics"]
    assert (made["send_at"], made["timezone"], made["weekday"]) == ("07:05", "Europe/Paris", "friday")
    assert made["require_approval"] is True and made["public"] is False
    edited = json.loads(cli("lists", "edit", "world", "--tag", "", "--weekday", "daily", "--public", "--json").stdout)
    assert edited["tags"] == [] and edited["sources"] == ["harbor"]  # only what was given changes
    assert edited["weekday"] == "" and edited["public"] is True and edited["send_at"] == "07:05"


def test_bad_list_settings_name_the_fix(initialised: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("lists", "add", "world")
    for option, value, says in (
        ("--send-at", "25:00", "use HH:MM"),
        ("--timezone", "Mars/Olympus", "IANA name"),
        ("--timezone", "localtime", "IANA name"),  # the machine's zone must not decide a list's dates
        ("--weekday", "someday", "monday..sunday"),
        ("--source", "nowhere", "digest sources list"),
    ):
        refused = cli("lists", "edit", "world", option, value, code=1)
        (line,) = refused.stderr.strip().splitlines()
        assert says in line and "Traceback" not in line, line


def test_an_edit_names_only_what_changed(initialised: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("lists", "add", "world", "--send-at", "07:00")
    said = cli("lists", "edit", "world", "--no-require-approval", "--send-at", "7:00", "--weekday", "fri")
    assert "weekday" in said.stderr + said.stdout
    assert "require_approval" not in said.stderr + said.stdout and "send_at" not in said.stderr + said.stdout
