"""Who receives is one rule: the counts `lists list` and `subscribers list` show are who `send` mails."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from starlette.testclient import TestClient

from digest.config import load
from digest.web import create_app


def test_on_a_double_opt_in_list_the_counts_shown_are_who_receives(cli, home: Path) -> None:
    cli("init", "--example")
    cli("lists", "add", "doi", "--from-email", "news@example.com", "--address", "1 Street", "--double-opt-in")
    links = {}
    for who in ("ann", "ben", "cat"):
        added = json.loads(cli("subscribers", "add", f"{who}@example.org", "--list", "doi", "--json").stdout)
        links[who] = added["confirm_url"]
    cli("subscribers", "add", "dan@example.org", "--list", "doi", "--status", "confirmed")
    cli("subscribers", "add", "eve@example.org", "--list", "doi", "--status", "confirmed")
    cli("subscribers", "unsubscribe", "eve@example.org", "--list", "doi")
    with TestClient(create_app(load(home))) as client:  # ann confirms with her own click
        assert client.post(urlsplit(links["ann"]).path).status_code == 200

    lists = {r["name"]: r for r in json.loads(cli("lists", "list", "--json").stdout)}
    members = json.loads(cli("subscribers", "list", "--list", "doi", "--json").stdout)
    receiving = sorted(m["email"] for m in members if m["receives"])
    assert receiving == ["ann@example.org", "dan@example.org"]
    assert (lists["doi"]["active"], lists["doi"]["pending"]) == (2, 2)

    cli("collect")
    cli("build", "--list", "doi")
    sent = json.loads(cli("send", "--list", "doi", "--provider", "outbox", "--json").stdout)
    assert sent["sent"] == lists["doi"]["active"] == len(receiving)
    assert len(list((home / "outbox" / "confirm").glob("*.eml"))) == 3  # each added to doi was asked to confirm
    mailed = sorted(
        line.split(":", 1)[1].strip()
        for eml in (home / "outbox").glob("edition-*/*.eml")
        for line in eml.read_text(encoding="utf-8").splitlines()
        if line.startswith("To:")
    )
    assert mailed == receiving
