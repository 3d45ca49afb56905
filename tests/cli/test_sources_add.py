"""sources add looks once before it adds: what it found, or why it refused (--no-check skips the look)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbor Weekly</title><link>https://h.example/</link>
<item><title>One</title><link>https://h.example/1</link><guid>1</guid></item>
<item><title>Two</title><link>https://h.example/2</link><guid>2</guid></item>
</channel></rss>
"""


def test_a_feed_is_added_saying_what_it_holds(cli, initialised: Path, httpserver: HTTPServer) -> None:
    for path in ("/feed.xml", "/other.xml"):
        httpserver.expect_request(path).respond_with_data(FEED, content_type="application/rss+xml")
    said = cli("sources", "add", httpserver.url_for("/feed.xml"), "--name", "harbor").stderr
    assert "Added source 'harbor'" in said and "found rss 'Harbor Weekly' with 2 item(s)" in said
    doc = json.loads(cli("sources", "add", httpserver.url_for("/other.xml"), "--name", "other", "--json").stdout)
    assert doc["check"] == {"ok": True, "kind": "rss", "title": "Harbor Weekly", "items": 2, "problem": None}


def test_a_404_is_said_at_once_and_no_check_skips_the_look(cli, initialised: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone.xml")
    said = cli("sources", "add", url, "--name", "gone").stderr
    assert "warning:" in said and "HTTP 404" in said and "not a source digest can read" in said
    asked = len(httpserver.log)
    doc = json.loads(cli("sources", "add", url + "?b", "--name", "later", "--no-check", "--json").stdout)
    assert doc["check"] is None and len(httpserver.log) == asked  # nothing fetched
    assert [s["name"] for s in json.loads(cli("sources", "list", "--json").stdout)] == ["gone", "later"]
