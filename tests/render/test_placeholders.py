"""The placeholder format has one home (digest/placeholders.py): render writes it, send and SendGrid read it."""

from __future__ import annotations

import json
from pathlib import Path

from digest import placeholders
from digest.models import Rendered
from digest.placeholders import NAMES, defuse, fill, parts, split, substitute, token, used
from digest.send.providers.base import EditionMail, Recipient
from digest.send.providers.sendgrid import SendGridProvider, html_placeholder
from tests.support import ROOT


def test_a_token_and_its_variant() -> None:
    assert token("unsubscribe_url") == "%%digest.unsubscribe_url%%"
    assert token("name", "h") == "%%digest.name.h%%" == html_placeholder("name")
    assert set(NAMES) == {"unsubscribe_url", "preferences_url", "web_url", "name", "email"}


def test_split_then_fill_puts_each_value_in_its_slot_escaped_only_for_html() -> None:
    body = f"{token('name')}<a href='{token('unsubscribe_url')}'>x</a>{token('name')}{token('email')}"
    assert split(body) == (["", "<a href='", "'>x</a>", "", ""], ["name", "unsubscribe_url", "name", "email"])
    split_once = parts(body)
    values = {"name": "Ann & <Bob>", "unsubscribe_url": "https://x.example/u?a=1&b='2'"}
    assert fill(split_once, values, escape=True) == (
        "Ann &amp; &lt;Bob&gt;<a href='https://x.example/u?a=1&amp;b=&#x27;2&#x27;'>x</a>Ann &amp; &lt;Bob&gt;"
    )
    assert (
        fill(split_once, values, escape=False) == "Ann & <Bob><a href='https://x.example/u?a=1&b='2''>x</a>Ann & <Bob>"
    )
    assert split("no slot at all") == (["no slot at all"], [])
    assert used(body) == {"name", "unsubscribe_url", "email"}
    assert substitute(body, {"name": "A&B"}, escape=True).startswith("A&amp;B<a href='%%digest.unsubscribe_url%%'")


def test_untrusted_text_cannot_become_a_slot() -> None:
    hostile = "https://evil.example/?who=%%digest.email%%"
    assert defuse(hostile) == "https://evil.example/?who=%%digest_email%%"
    assert used(defuse(hostile)) == set() and used(hostile) == {"email"}


def test_rendered_fill_uses_the_format() -> None:
    r = Rendered(subject="s", preheader="p", html=f"<p>{token('name')}</p>", text=f"Hi {token('name')}")
    assert r.fill({"name": "Zoë & co"}) == ("<p>Zoë &amp; co</p>", "Hi Zoë & co")


def test_sendgrid_substitutions_are_the_tokens_the_renderer_wrote() -> None:
    html = f"<a href='{token('unsubscribe_url')}'>{token('name')}</a><a href='{token('web_url')}'>web</a>"
    rendered = Rendered(subject="s", preheader="", html=html, text=f"{token('unsubscribe_url')} {token('name')}")
    mail = EditionMail(1, 1, "main", "news@example.com", "", "", "main <m.x>", rendered, web_url="https://x/e/1")
    provider = SendGridProvider("dry-run", host="http://127.0.0.1:9")
    people = [
        Recipient(1, "a@example.org", "Ann & Bob", {"unsubscribe_url": "https://x/u/1", "name": "Ann & Bob"}),
        Recipient(2, "b@example.org", "", {"unsubscribe_url": "https://x/u/2", "name": ""}),
    ]
    body = json.loads(provider.prepare(mail, people))
    first = body["personalizations"][0]["substitutions"]
    assert first[token("unsubscribe_url")] == "https://x/u/1" and first[token("name")] == "Ann & Bob"
    assert first[token("name", "h")] == "Ann &amp; Bob"  # the HTML's key for a value HTML must escape
    (text_part, html_part) = (c["value"] for c in body["content"])
    assert "https://x/e/1" in html_part and token("web_url") not in html_part  # shared: written in once
    assert used(text_part) == {"unsubscribe_url", "name"}


def test_no_other_module_spells_the_format() -> None:
    spelled = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "digest").rglob("*.py"))
        if p.name != "placeholders.py" and placeholders.PREFIX in p.read_text(encoding="utf-8")
    ]
    assert spelled == []
    assert Path(placeholders.__file__).resolve() == ROOT / "digest" / "placeholders.py"
