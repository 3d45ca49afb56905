"""Per-list editor keywords, set from the CLI, steer what rank picks for that list."""

from __future__ import annotations

import json

from tests.support.newsletter import setup_newsletter


def test_keywords_set_show_and_clear(cli, home) -> None:
    cli("init")
    cli("lists", "add", "tech", "--from-email", "t@example.com", "--boost", "battery", "--block", "celebrity")
    shown = json.loads(cli("lists", "keywords", "tech", "--json").stdout)
    assert shown == {"list": "tech", "boost": ["battery"], "block": ["celebrity"]}
    cli("lists", "keywords", "tech", "--block", "gossip", "--block", "gossip")
    shown = json.loads(cli("lists", "keywords", "tech", "--json").stdout)
    assert shown["boost"] == ["battery"] and shown["block"] == ["gossip"]
    cli("lists", "keywords", "tech", "--clear")
    assert json.loads(cli("lists", "keywords", "tech", "--json").stdout)["block"] == []
    missing = cli("lists", "keywords", "nope", code=1)
    assert "no list named 'nope'" in missing.stderr


def test_a_blocked_word_keeps_the_story_out_of_that_list(cli, home) -> None:
    setup_newsletter(cli, home)
    cli("collect")
    cli("lists", "keywords", "main", "--block", "bridge")
    ranked = json.loads(cli("rank", "--list", "main", "--now", "2026-11-24T07:00:00Z", "--json").stdout)
    titles = [s["title"] for s in ranked["stories"]]
    assert titles == ["Library extends opening hours"]
    blocked = [r for r in ranked["runners_up"] if r["title"].startswith("Bridge")]
    assert blocked and "block" in blocked[0]["reason"]
