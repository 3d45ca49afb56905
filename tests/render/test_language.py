"""The reader's language: a list's BCP 47 tag sets lang, dir, every label and the date, in the email and the pages."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import lxml.html
import pytest

from digest.i18n import MESSAGES, check_language, messages, shipped_languages
from digest.render import render_edition
from digest.send import web_values
from tests.support.render import STORIES, Edition, edition_fixture, seed  # noqa: F401

SHIPPED = ["ar", "de", "en", "es", "fr", "pt"]


def edition_in(edition: Edition, language: str, stories: list[dict] | None = None) -> tuple[str, str]:  # type: ignore[type-arg]
    edition.store.add_list(
        f"in-{language}", from_email="news@example.com", address="1 Quay St, Harbor City", language=language
    )
    own = [{**s, "url": f"{s['url']}-{language}"} for s in stories or STORIES]  # new stories, not the golden's
    edition_id, _ = seed(edition.store, own, list_name=f"in-{language}", config=edition.config)
    rendered = render_edition(edition.store, edition.config, edition_id)
    return rendered.fill(web_values(edition.config, edition_id))


def test_a_french_list_renders_lang_fr_with_french_labels_and_date(edition: Edition) -> None:
    html, text = edition_in(edition, "fr")
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "fr" and doc.get("dir") == "ltr"
    words = doc.text_content()
    for label in ("À la une · mardi 24 novembre 2026", "Lire l’article", "Également chez", "Se désabonner"):
        assert label in words, label
    assert "Voir dans le navigateur" in words and "Vous recevez The Example Digest car" in words
    for english in ("Top Stories", "Read the full story", "View in your browser", "Also covered by", "Tuesday"):
        assert english not in words and english not in text, english
    assert "À la une, mardi 24 novembre 2026" in text and "Se désabonner: https://news.example/" in text


@pytest.mark.parametrize(
    ("language", "label", "date"),
    [
        ("de", "Top-Meldungen", "Dienstag, 24. November 2026"),
        ("es", "Noticias destacadas", "martes, 24 de noviembre de 2026"),
        ("pt", "Principais notícias", "terça-feira, 24 de novembro de 2026"),
        ("pt-BR", "Principais notícias", "terça-feira, 24 de novembro de 2026"),
        ("ar", "أهم الأخبار", "الثلاثاء، 24 نوفمبر 2026"),
        ("en", "Top Stories", "Tuesday, 24 November 2026"),
    ],
)
def test_each_shipped_language(edition: Edition, language: str, label: str, date: str) -> None:
    html, _ = edition_in(edition, language)
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == language and doc.get("dir") == ("rtl" if language == "ar" else "ltr")
    assert f"{label} · {date}" in doc.text_content()


def test_each_story_keeps_its_own_lang_and_the_email_keeps_the_lists(edition: Edition) -> None:
    """A pinned Chinese lead made an English newsletter lang="zh-hans"; now only its own blocks say so."""
    stories = [{**STORIES[0], "language": "zh-Hans", "title": "浏览器终于放弃第三方 Cookie"}, *STORIES[1:]]
    html, _ = edition_in(edition, "en", stories)
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en"
    (h2,) = doc.xpath("//h2")
    assert h2.get("lang") == "zh-Hans" and h2.get("dir") == "auto"
    assert doc.xpath("//div[@lang='zh-Hans'][contains(., 'cross-site cookies by default')]")  # its summary
    assert all(h3.get("lang") is None and h3.get("dir") == "auto" for h3 in doc.xpath("//h3"))


def test_lists_take_a_bcp47_language(initialised: Path, cli) -> None:  # type: ignore[no-untyped-def]
    import json

    row = json.loads(cli("lists", "add", "paris", "--language", "fr", "--json").stdout)
    assert row["language"] == "fr"
    assert json.loads(cli("lists", "edit", "paris", "--language", "pt_br", "--json").stdout)["language"] == "pt-BR"
    bad = cli("lists", "edit", "paris", "--language", "klingon-xx", code=1).stderr.strip()
    assert len(bad.splitlines()) == 1 and "BCP 47" in bad and "Traceback" not in bad
    untranslated = cli("lists", "edit", "paris", "--language", "sk")
    assert "No translation for 'sk' yet" in untranslated.stderr + untranslated.stdout
    assert json.loads(cli("lists", "list", "--json").stdout)[0]["language"] == "sk"


def test_check_language() -> None:
    assert [check_language(t) for t in ("fr", "pt_BR", "zh-hans", "AR")] == ["fr", "pt-BR", "zh-Hans", "ar"]
    assert messages("ar").direction == "rtl" and messages("he").direction == "rtl"
    assert messages("sk").long_date("2026-11-24") == "utorok 24. novembra 2026"  # Babel's own, untranslated


def test_every_translation_has_the_english_keys_and_fields() -> None:
    """A contributor's file is complete: the same keys as en.toml, each with the same {fields}."""
    assert shipped_languages() == SHIPPED
    english = tomllib.loads((MESSAGES / "en.toml").read_text(encoding="utf-8"))

    def fields(value: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(value) if name}

    for path in MESSAGES.glob("*.toml"):
        found = tomllib.loads(path.read_text(encoding="utf-8"))
        assert set(found) == set(english), path.name
        for key, value in found.items():
            assert fields(value) == fields(english[key]), f"{path.name}: {key}"
            assert not re.search(r"<|>", value), f"{path.name}: {key}: labels are text, not markup"
