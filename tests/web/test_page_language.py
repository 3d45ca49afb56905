"""The reader's pages speak the list's language: ``lang``/``dir``, labels from digest/i18n, the list's title."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from digest import subscribers, tokens
from digest.config import load
from digest.i18n import MESSAGES
from digest.store import Store
from tests.support.render import CHROMIUM, CHROMIUM_ARGS, app_server, need_chromium


@pytest.fixture
def site(initialised: Path) -> Iterator[tuple[Store, str]]:
    config = load(initialised)
    store = Store(config.db_path)
    store.add_list("fr-news", from_email="news@example.com", title="La Lettre du matin", language="fr")
    store.add_list("ar-news", from_email="news@example.com", title="Morning Brief", language="ar")
    store.add_list("fr-doi", from_email="news@example.com", title="Le Club", language="fr", double_opt_in=True)
    subscribers.add(store, "ada@example.com", "fr-news")
    subscribers.add(store, "ada@example.com", "ar-news")
    subscribers.add(store, "cy@example.com", "fr-doi")
    with app_server(config, preview=False) as base:
        yield store, base
    store.close()


def link(store: Store, purpose: str, who: str, lst: str) -> str:
    return tokens.sign(tokens.signing_key(store), purpose, store.subscriber(who).id, store.list_(lst).id)


def html_tag(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found, page[:200]
    return found.group(0)


def test_a_french_lists_unsubscribe_page_is_french_and_names_its_title(site: tuple[Store, str]) -> None:
    store, base = site
    page = httpx.get(f"{base}/unsubscribe/{link(store, 'unsubscribe', 'ada@example.com', 'fr-news')}").text
    assert 'lang="fr"' in html_tag(page) and 'dir="ltr"' in html_tag(page)
    assert "Se désabonner de" in page and ">Se désabonner</button>" in page
    assert re.search(r"<title>Se désabonner de [^<]*La Lettre du matin[^<]*</title>", page)
    assert "<bdi>La Lettre du matin</bdi>" in page and "fr-news" not in page
    assert "Unsubscribe" not in page


def test_a_french_lists_confirm_page_is_french(site: tuple[Store, str]) -> None:
    store, base = site
    url = f"{base}/confirm/{link(store, 'confirm', 'cy@example.com', 'fr-doi')}"
    page = httpx.get(url).text
    assert 'lang="fr"' in html_tag(page)
    assert "Confirmez votre abonnement à" in page and ">Confirmer l’abonnement</button>" in page
    assert re.search(r"<title>Confirmez votre abonnement à [^<]*Le Club", page) and "fr-doi" not in page
    assert "Bienvenue dans" in httpx.post(url).text


def test_a_french_lists_preferences_page_is_french(site: tuple[Store, str]) -> None:
    store, base = site
    page = httpx.get(f"{base}/preferences/{link(store, 'preferences', 'ada@example.com', 'fr-news')}").text
    assert 'lang="fr"' in html_tag(page)
    assert "<title>Vos préférences pour La Lettre du matin" in page
    assert "Une fois par semaine" in page and ">Enregistrer</button>" in page and "Once a week" not in page


def test_an_arabic_lists_page_is_right_to_left(site: tuple[Store, str]) -> None:
    store, base = site
    page = httpx.get(f"{base}/unsubscribe/{link(store, 'unsubscribe', 'ada@example.com', 'ar-news')}").text
    assert 'lang="ar"' in html_tag(page) and 'dir="rtl"' in html_tag(page)
    assert "إلغاء الاشتراك في" in page and "<bdi>Morning Brief</bdi>" in page


def test_an_english_list_keeps_english(site: tuple[Store, str]) -> None:
    store, base = site
    store.add_list("plain", from_email="news@example.com", title="Plain")
    subscribers.add(store, "bob@example.com", "plain")
    page = httpx.get(f"{base}/unsubscribe/{link(store, 'unsubscribe', 'bob@example.com', 'plain')}").text
    assert 'lang="en"' in html_tag(page) and "Unsubscribe from" in page


def test_every_translation_has_every_web_label() -> None:
    english = tomllib.loads((MESSAGES / "en.toml").read_text(encoding="utf-8"))
    keys = {k for k in english if k.startswith("web_")}
    assert len(keys) > 40
    for path in MESSAGES.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert keys <= set(data), (path.name, sorted(keys - set(data)))
        for key in keys:  # the same fields, so .format never fails in one language
            assert set(re.findall(r"\{(\w+)\}", data[key])) == set(re.findall(r"\{(\w+)\}", english[key])), key


@pytest.mark.browser
@pytest.mark.slow
def test_an_arabic_lists_page_reads_right_to_left_in_chromium(site: tuple[Store, str]) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    store, base = site
    url = f"{base}/unsubscribe/{link(store, 'unsubscribe', 'ada@example.com', 'ar-news')}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 600, "height": 800})
            page.goto(url)
            m = page.evaluate(
                """() => { const h = document.querySelector("h1"), r = document.createRange();
                r.selectNodeContents(h); const t = r.getBoundingClientRect(), b = h.getBoundingClientRect();
                return {dir: getComputedStyle(document.body).direction, textRight: t.right, boxRight: b.right,
                        textLeft: t.left, boxLeft: b.left, title: document.title}; }"""
            )
        finally:
            browser.close()
    assert m["dir"] == "rtl"
    assert m["boxRight"] - m["textRight"] < 2 and m["textLeft"] - m["boxLeft"] > 20, m  # set against the right
    assert "Morning Brief" in m["title"]


def make_default_list(store: Store, language: str) -> None:
    """The default list (``main``) in ``language``: the signup page and the whole archive speak it."""
    if store.find_list("main") is None:
        store.add_list("main", from_email="news@example.com", language=language)
    else:
        store.update_list("main", language=language)


def test_the_signup_page_speaks_the_default_lists_language(site: tuple[Store, str]) -> None:
    store, base = site
    make_default_list(store, "de")
    page = httpx.get(f"{base}/").text
    assert 'lang="de"' in html_tag(page)
    assert ">Abonnieren</button>" in page and "Frühere Ausgaben lesen" in page and "Subscribe<" not in page
    assert "<bdi>La Lettre du matin</bdi>" in page


def test_archive_pages_speak_their_language(site: tuple[Store, str]) -> None:
    store, base = site
    make_default_list(store, "es")
    index = httpx.get(f"{base}/editions").text
    assert 'lang="es"' in html_tag(index) and "Aún no hay ediciones." in index
    one = httpx.get(f"{base}/lists/ar-news/").text
    assert 'lang="ar"' in html_tag(one) and 'dir="rtl"' in html_tag(one)
    assert "<bdi>Morning Brief</bdi>" in one and "تابع الخلاصة" in one
    assert 'xml:lang="fr"' in httpx.get(f"{base}/lists/fr-news/feed.atom").text


def test_the_signup_answer_speaks_the_default_lists_language(site: tuple[Store, str]) -> None:
    store, base = site
    make_default_list(store, "fr")
    answer = httpx.post(f"{base}/subscribe", data={"email": "x@example.com"})  # no CSRF token: refused
    assert answer.status_code == 403
    assert 'lang="fr"' in html_tag(answer.text) and "Ce formulaire a expiré" in answer.text
