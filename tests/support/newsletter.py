"""A small newsletter made through the CLI: one feed file, list 'main', two subscribers."""

from __future__ import annotations

from pathlib import Path

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local News</title><link>https://news.example/</link>
<item><title>Bridge reopens after repairs</title><link>https://news.example/bridge?utm_source=x</link>
<guid>bridge-1</guid><pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate>
<description>&lt;p&gt;The old bridge is open again.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description></item>
<item><title>Library extends opening hours</title><link>https://news.example/library</link>
<guid>library-1</guid><pubDate>Tue, 24 Nov 2026 03:00:00 GMT</pubDate>
<description>Open until 9pm on weekdays.</description></item>
</channel></rss>
"""


def setup_newsletter(cli, home: Path, feed_xml: str = FEED) -> None:
    """A newsletter with one feed file, list 'main', and Ada and Bob subscribed."""
    feed = home / "news.xml"
    feed.write_text(feed_xml, encoding="utf-8")
    cli("init")
    cli("sources", "add", str(feed), "--name", "local")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    cli("subscribers", "add", "ada@example.com", "--name", "Ada", "--list", "main")
    cli("subscribers", "add", "bob@example.org", "--list", "main")
