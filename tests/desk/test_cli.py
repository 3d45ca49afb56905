"""`digest edition ...`: the desk on the command line, its text view, its --json and its one-line errors."""

from __future__ import annotations

import json
from typing import Any

from digest import Newsletter
from tests.conftest import Cli


def doc(cli: Cli, *args: str) -> dict[str, Any]:
    return json.loads(cli("edition", *args, "--json").stdout)  # type: ignore[no-any-return]


def ids(draft: dict[str, Any]) -> list[int]:
    return [s["story_id"] for s in draft["stories"]]


def test_show_prints_the_parts_as_bars_and_the_runners_up(news: Newsletter, cli: Cli) -> None:
    out = cli("edition", "show").stdout
    draft = news.draft(news.edition())
    assert out.startswith(f"Edition {draft.edition} of 'main' ({draft.date}): not approved")
    assert f"Subject:   {draft.subject}" in out
    assert f" 1. [{draft.stories[0].story_id}] {draft.stories[0].title}" in out
    assert "    recency    █" in out  # a bar per part that counts
    runner = draft.runners_up[0]
    assert f"    [{runner.story_id}] {runner.title}" in out and runner.why_lost and runner.why_lost in out


def test_every_command_changes_the_edition_and_prints_the_draft(news: Newsletter, cli: Cli) -> None:
    start = doc(cli, "show")
    a, b, c, *_ = ids(start)
    runner = start["runners_up"][0]["story_id"]
    assert a not in ids(doc(cli, "drop", str(a)))
    assert ids(doc(cli, "swap", str(b), str(runner)))[0] == runner
    assert ids(doc(cli, "move", str(c), "--to", "1"))[0] == c
    assert ids(doc(cli, "move", str(c), "--down"))[1] == c
    assert ids(doc(cli, "move", str(c), "--up"))[0] == c
    assert doc(cli, "pin", str(c))["stories"][0]["pinned"]
    edited = doc(cli, "edit", str(c), "--title", "Desk title", "--blurb", "Desk blurb", "--subject", "Desk subject")
    assert edited["stories"][0]["title"] == "Desk title" and edited["stories"][0]["original_title"]
    assert edited["subject"] == "Desk subject" and edited["original_subject"] != "Desk subject"
    approved = doc(cli, "approve", "--date", start["date"])
    assert approved["approved"]["by"] == "cli"
    moved = cli("edition", "move", str(c), "--down")
    assert "approval" in moved.stderr and "cleared" in moved.stderr  # a change after approval says so
    assert [ch["action"] for ch in doc(cli, "show")["changes"]] == [
        "drop",
        "swap",
        "move",
        "move",
        "move",
        "pin",
        "edit",
        "edit_edition",
        "approve",
        "move",
    ]
    back = doc(cli, "reset")
    assert back["stories"] == start["stories"] and back["changes"] == [] and back["approved"] is None


def test_errors_are_one_line_naming_the_fix(news: Newsletter, cli: Cli) -> None:
    draft = news.draft(news.edition())
    unknown = cli("edition", "drop", "999999", code=1).stderr.strip()
    assert len(unknown.splitlines()) == 1
    assert str(draft.stories[0].story_id) in unknown and "'digest edition show --list main --date" in unknown
    assert "--up, --down or --to" in cli("edition", "move", "1", code=1).stderr
    assert "nothing to edit" in cli("edition", "edit", code=1).stderr
    assert "give its id" in cli("edition", "edit", "--title", "x", code=1).stderr
    assert "no edition of 'main' for 2030-01-01" in cli("edition", "show", "--date", "2030-01-01", code=1).stderr
    error = json.loads(cli("edition", "drop", "999999", "--json", code=1).stdout)["error"]
    assert error["hint"].startswith("see 'digest edition show")
