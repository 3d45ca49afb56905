"""Rendering an edition: golden files, per-subscriber filling, escaping, email craft, size, errors."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import lxml.html
import pytest

from digest.errors import ConfigError
from digest.models import Rendered
from digest.placeholders import NAMES as PLACEHOLDERS
from digest.render import GMAIL_CLIP_BYTES, MAX_STORIES, make_context, render_context, render_edition
from digest.send import web_values
from tests.support.render import GOLDEN, HOSTILE, STORIES, Edition, edition_fixture, seed  # noqa: F401


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; DIGEST_REGEN_GOLDEN=1 (captured at import) rewrites it."""
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run DIGEST_REGEN_GOLDEN=1 python -m pytest tests/test_render.py"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if the change is intended, regenerate it"
        " with DIGEST_REGEN_GOLDEN=1 python -m pytest tests/test_render.py"
    )


REGEN = os.environ.get("DIGEST_REGEN_GOLDEN") == "1"  # read before conftest clears DIGEST_* variables


def test_golden_html_text_subject_and_preheader(edition: Edition) -> None:
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    html, text = rendered.fill(web_values(edition.config, edition.edition_id))
    check_golden("edition.html", html)
    check_golden("edition.txt", text)
    check_golden(
        "edition.json",
        json.dumps({"subject": rendered.subject, "preheader": rendered.preheader}, ensure_ascii=False, indent=2) + "\n",
    )


def test_the_digest_has_every_part_the_issue_asks_for(edition: Edition) -> None:
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    html, text = rendered.fill(web_values(edition.config, edition.edition_id))
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en"
    assert doc.findtext(".//title") == rendered.subject == "Wayfarer browser finally drops third-party cookies + 4 more"
    assert rendered.preheader.startswith("Startup unveils solid-state battery")
    preview = doc.xpath("//div[@class='preheader'][contains(@style,'display:none')]")
    assert preview and preview[0].text_content().startswith(rendered.preheader)
    # Hidden by size, not by colour (spam filters score white text as hidden), and padded with invisible
    # joiners so the inbox preview stops before "View in your browser".
    assert "color" not in preview[0].get("style")
    assert preview[0].text_content()[len(rendered.preheader) :].strip("\u034f\u200c\xa0") == ""
    assert len(preview[0].text_content()) - len(rendered.preheader) >= 200
    assert not doc.xpath("//*[contains(@style,'#ffffff') and contains(@style,'display:none')]")
    assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    styles = "\n".join(doc.xpath("//style/text()"))
    assert "prefers-color-scheme: dark" in styles
    assert "The Example Digest" in doc.xpath("string(//h1)")
    assert "Tuesday, 24 November 2026" in doc.text_content()
    # Lead story: image, headline link, button.
    lead = STORIES[0]
    assert doc.xpath(f"//img[@src='{lead['image_url']}']")
    assert doc.xpath(f"//h2/a[@href='{lead['url']}']/text()") == [lead["title"]]
    assert doc.xpath(f"//a[@href='{lead['url']}'][contains(., 'Read the full story')]")
    # Other stories as h3, with "also covered by" linking the cluster.
    assert [a.text_content() for a in doc.xpath("//h3/a")] == [s["title"] for s in STORIES[1:]]
    assert "Also covered by" in doc.text_content()
    assert doc.xpath("//a[@href='https://ledger.example/comet'][.='Harbor Ledger']")
    # Every image: alt, width and height.
    images = doc.xpath("//img")
    assert len(images) == 4
    for img in images:
        assert img.get("alt") and img.get("width") and img.get("height"), lxml.html.tostring(img)
    # No external CSS, no web fonts.
    assert not doc.xpath("//link[@rel='stylesheet']")
    assert "@import" not in styles and "@font-face" not in styles and "fonts.googleapis" not in html
    # Footer: why they get it, the address, a visible unsubscribe and web-version link.
    footer = doc.text_content()
    assert "because you subscribed to the “golden” list" in footer
    assert "Example Media, 1 Example Street, Springfield" in footer
    assert doc.xpath("//a[@href='https://news.example/unsubscribe'][.='Unsubscribe']")
    assert doc.xpath(f"//a[@href='https://news.example/editions/{edition.edition_id}'][.='View in your browser']")
    # The text part carries the same content.
    for s in STORIES:
        assert s["title"] in text and s["url"] in text
    assert "Unsubscribe: https://news.example/unsubscribe" in text
    assert "also covered by Harbor Ledger, Open Lab Notes" in text


def test_fill_puts_each_subscribers_values_in_escaped_without_recompiling(
    edition: Edition, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    for name in PLACEHOLDERS[:2]:
        assert f"%%digest.{name}%%" in rendered.html and f"%%digest.{name}%%" in rendered.text
    import digest.render.mjml as mjml_mod

    def no_compiling(*args: object, **kwargs: object) -> str:
        raise AssertionError("fill must not compile MJML")

    monkeypatch.setattr(mjml_mod, "mjml2html", no_compiling)
    values = {
        "unsubscribe_url": 'https://news.example/u/abc?x=1&y="2"',
        "web_url": "https://news.example/e/1",
        "name": "Ann <Admin>",
        "email": "ann@example.com",
    }
    html, text = rendered.fill(values)
    assert "%%digest." not in html and "%%digest." not in text
    assert 'href="https://news.example/u/abc?x=1&amp;y=&quot;2&quot;"' in html
    assert 'Unsubscribe: https://news.example/u/abc?x=1&y="2"' in text
    other, _ = rendered.fill({**values, "unsubscribe_url": "https://news.example/u/zzz"})
    assert "u/zzz" in other and "u/abc" not in other and "u/zzz" not in html


def test_a_placeholder_in_any_position_is_filled() -> None:
    r = Rendered(
        subject="s",
        preheader="p",
        html="%%digest.name%%<a>%%digest.email%%</a>%%digest.name%%",
        text="Hi %%digest.name%%",
    )
    assert r.fill({"name": "A&B", "email": "e"}) == ("A&amp;B<a>e</a>A&amp;B", "Hi A&B")
    assert r.fill({}) == ("<a></a>", "Hi ")


def test_every_story_field_comes_out_escaped(initialised: Path) -> None:
    from digest.config import load
    from digest.store import Store

    config = load(initialised)
    store = Store(config.db_path)
    hostile = {
        "title": HOSTILE,
        "url": 'https://evil.example/?a=1&b="><script>x()</script>',
        "summary": HOSTILE,
        "image_url": 'https://evil.example/i.png?"onerror="x()',
        "source": HOSTILE,
        "also": [{"story_id": 1, "title": HOSTILE, "url": 'javascript:"<script>', "source": HOSTILE}],
    }
    edition_id, _ = seed(store, [hostile, {**hostile, "url": "https://evil.example/2"}])
    rendered = render_edition(store, config, edition_id)
    html, text = rendered.fill(web_values(config, edition_id))
    store.close()
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script") and not doc.xpath("//b") and "<script>" not in html
    assert not [e for e in doc.iter() if any(k.startswith("on") for k in e.attrib)]
    assert doc.xpath("string(//h2/a)") == HOSTILE
    assert [a.text_content() for a in doc.xpath("//h3/a")] == [HOSTILE]
    assert doc.findtext(".//title") == rendered.subject
    assert HOSTILE in rendered.subject and "&amp;" not in rendered.subject
    assert any(img.get("alt") == HOSTILE for img in doc.xpath("//img"))
    assert text.count(HOSTILE) >= 3  # plain text keeps the characters as they are


def long_stories(n: int) -> list[dict[str, object]]:
    url = "https://a-rather-long-domain-name.example/" + "section/" * 8 + "x" * 200
    return [
        {
            "story_id": i,
            "rank": i + 1,
            "score": 1.0,
            "why": {},
            "title": "Headline " * 60,
            "url": f"{url}/{i}",
            "summary": "A long summary sentence, with detail. " * 80,
            "image_url": f"{url}/image-{i}.png",
            "source": "A Source With A Long Name " * 4,
            "language": "en",
            "also": [
                {
                    "story_id": 100 + j,
                    "title": "Also " * 40,
                    "url": f"{url}/also/{j}",
                    "source": "Another Source With A Long Name " * 3,
                }
                for j in range(6)
            ],
        }
        for i in range(n)
    ]


def test_the_largest_allowed_edition_stays_under_gmails_clipping_limit(initialised: Path) -> None:
    from digest.config import load
    from digest.store import Store

    config = load(initialised)
    store = Store(config.db_path)
    list_row = store.add_list("big", from_email="news@example.com", address="Example Media, 1 Example Street")
    store.close()
    context = make_context(config, list_row, 1, "2026-11-24", long_stories(MAX_STORIES))
    rendered = render_context(config, context)
    html, _ = rendered.fill(
        {
            "unsubscribe_url": "https://news.example/unsubscribe/" + "t" * 120,
            "web_url": "https://news.example/editions/123456",
            "name": "",
            "email": "",
        }
    )
    size = len(html.encode("utf-8"))
    assert size < GMAIL_CLIP_BYTES, f"{size} bytes: Gmail clips the email; lower MAX_STORIES or slim the template"
    assert html.count("<h3") == MAX_STORIES - 1
    with pytest.raises(ConfigError, match=rf"at most {MAX_STORIES} stories.*\[rank\] max_stories"):
        make_context(config, list_row, 1, "2026-11-24", long_stories(MAX_STORIES + 1))


def test_the_default_story_count_fits_the_cap() -> None:
    from digest.config import RankSettings

    assert RankSettings().max_stories <= MAX_STORIES


def test_render_command_formats(edition: Edition, cli) -> None:  # type: ignore[no-untyped-def]
    html = cli("render").stdout
    assert "<mjml" not in html and "Wayfarer browser" in html and "%%digest" not in html
    text = cli("render", "--format", "text").stdout
    assert text.startswith("The Example Digest\nTop Stories, Tuesday, 24 November 2026")
    mjml = cli("render", "--format", "mjml").stdout
    assert mjml.startswith("<mjml") and "%%digest.unsubscribe_url%%" in mjml
    eml = cli("render", "--format", "eml").stdout
    assert "Subject: Wayfarer browser finally drops third-party cookies + 4 more" in eml
    bad = cli("render", "--format", "pdf", code=1)
    assert "not one of html, text, eml, mjml" in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("render", "--date", "2020-01-01", code=1)
    assert "run 'digest build'" in missing.stderr


def test_render_as_a_subscriber_shows_their_own_unsubscribe_link(
    edition: Edition,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGEST_SECRET", "s" * 32)
    cli("subscribers", "add", "ann@example.com", "--name", "Ann", "--list", "golden")
    html = cli("render", "--as", "ann@example.com").stdout
    found = re.findall(r'href="(https://news\.example/unsubscribe/[^"]+)"', html)
    assert found and all(u == found[0] for u in found)
    web = cli("render").stdout
    assert found[0] not in web


def test_the_text_wrap_folds_at_72_columns_and_never_breaks_a_link() -> None:
    from digest.render.templates import wrap

    link = "https://news.example/" + "x" * 90
    wrapped = wrap(("word " * 30) + link + " end\nsecond paragraph", 72)
    lines = wrapped.split("\n")
    assert link in lines and all(len(line) <= 72 for line in lines if line != link)
    assert lines[-1] == "second paragraph" and " ".join(wrapped.split()) == " ".join(
        (("word " * 30) + link + " end second paragraph").split()
    )


def test_phones_and_pictures_off(edition: Edition) -> None:
    """No rewriting of dates or the address into links, no shrinking, 14 px or more for every word, footer links
    a thumb can hit, and alt text styled for readers with pictures off."""
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    html, _ = rendered.fill(web_values(edition.config, edition.edition_id))
    doc = lxml.html.fromstring(html)
    detection = doc.xpath("//meta[@name='format-detection']/@content")
    assert detection and {"telephone=no", "date=no", "address=no"} <= {p.strip() for p in detection[0].split(",")}
    assert doc.xpath("//meta[@name='x-apple-disable-message-reformatting']")
    sizes = {
        int(size)
        for element in doc.xpath("//body//*[contains(@style, 'font-size')][normalize-space(.)]")  # holding words
        for size in re.findall(r"font-size:\s*(\d+)px", element.get("style"))
    }
    assert sizes and min(sizes - {0}) >= 14, sorted(sizes)  # 0: MJML's whitespace trick on layout cells
    for text in ("Unsubscribe", "View in your browser"):
        for link in doc.xpath(f"//a[.='{text}']"):
            style = link.get("style")
            assert "display:inline-block" in style and "padding:12px" in style, style  # 12 + 21 + 12 ≥ 44 px
    styles = "\n".join(doc.xpath("//style/text()"))
    assert re.search(r"img \{ color: #4b5563; font-family: [^}]*font-size: 14px", styles)
    assert all("font-size:14px" in img.get("style") for img in doc.xpath("//img"))
