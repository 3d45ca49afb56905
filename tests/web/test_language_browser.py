"""An Arabic list reads right to left in a real headless Chromium: text, columns and the button mirror; its
links are comfortable tap targets.

The screenshot goes to tests/artifacts/; DIGEST_DOCS_SCREENSHOT=1 (read at import) also writes
docs/screenshot-ar.png, the one the README shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.config import load
from digest.render import render_edition
from digest.send import web_values
from digest.store import Store
from tests.support import ROOT
from tests.support.render import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, need_chromium, png, seed, static_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = os.environ.get("DIGEST_DOCS_SCREENSHOT") == "1"  # read before conftest clears DIGEST_* variables
STORIES = [
    (
        "متصفح وايفارر يتخلى أخيرًا عن ملفات تعريف الارتباط الخارجية",
        "يحظر المتصفح الآن ملفات الارتباط عبر المواقع لجميع المستخدمين.",
    ),
    (
        "شركة ناشئة تكشف عن بطارية صلبة تُشحن في عشر دقائق",
        "تقول الشركة إن خليتها تنتقل من 10 إلى 80 في المئة في عشر دقائق.",
    ),
    ("هواة فلك يكتشفون مذنبًا جديدًا من حديقة منزلهم", "رصد هاويان المذنب بتلسكوب قطره 30 سنتيمترًا وتأكد الاكتشاف."),
    ("مجلس المدينة يوافق على ممرات دراجات محمية في وسط البلد", "تبدأ الأعمال في الربيع وتستمر ستة أشهر."),
]
MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top}; };
  const card = document.querySelector("h1").closest("table");
  return {
    direction: getComputedStyle(document.querySelector("div.body-bg")).direction,
    lang: document.documentElement.lang,
    h1: box(document.querySelector("h1")), h1Text: document.querySelector("h1").textContent,
    card: box(card),
    button: box([...document.querySelectorAll("a")].find(a => a.textContent.includes("اقرأ"))),
    stories: [...document.querySelectorAll("div.story")].filter(s => s.querySelector(".thumb"))
      .map(s => ({thumb: box(s.querySelector(".thumb")), words: box(s.querySelector(".words"))})),
    taps: [...document.querySelectorAll("a")].filter(a => /إلغاء|اعرضها/.test(a.textContent))
      .map(a => { const r = a.getBoundingClientRect(); return {height: r.height, width: r.width}; }),
    headline: (() => { const h = document.querySelector("h3"); const r = document.createRange();
                       r.selectNodeContents(h); return {text: r.getBoundingClientRect(), box: box(h)}; })(),
  };
}"""


@pytest.fixture
def arabic(initialised: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Store, Any, int]]:
    monkeypatch.setenv("DIGEST_NAME", "النشرة اليومية")
    images = tmp_path / "img"
    images.mkdir()
    with static_server(images) as base:
        stories = []
        for i, (title, summary) in enumerate(STORIES):
            (images / f"{i}.png").write_bytes(
                png(120, 80, [(37, 99, 235), (234, 88, 12), (22, 163, 74), (147, 51, 234)][i])
            )
            url = f"https://news.example/ar/{i}"
            stories.append({"title": title, "summary": summary, "url": url, "image_url": f"{base}/{i}.png"})
        config = load(initialised)
        store = Store(config.db_path)
        store.add_list("arabic", from_email="news@example.com", address="١ شارع الميناء، مدينة الميناء", language="ar")
        edition_id, _ = seed(store, stories, list_name="arabic", config=config)
        yield store, config, edition_id
        store.close()


def test_an_arabic_list_reads_right_to_left_in_chromium(arabic: tuple[Store, Any, int]) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    store, config, edition_id = arabic
    html, _ = render_edition(store, config, edition_id).fill(web_values(config, edition_id))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 600, "height": 900})
            page.set_content(html, wait_until="load")
            m = page.evaluate(MEASURE)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "email-ar-600.png"), full_page=True)
            if DOCS:
                page.screenshot(path=str(ROOT / "docs" / "screenshot-ar.png"), full_page=True)
        finally:
            browser.close()
    assert (m["lang"], m["direction"]) == ("ar", "rtl")
    assert m["h1Text"] == "النشرة اليومية"
    # the headline sits against the card's right edge, the button too, and each thumbnail right of its words
    assert m["card"]["right"] - m["h1"]["right"] < 40, m
    assert m["button"]["right"] > m["card"]["right"] - 60 and m["button"]["left"] > m["card"]["left"] + 200, m
    assert len(m["stories"]) == 3
    for s in m["stories"]:
        assert s["thumb"]["left"] >= s["words"]["right"] - 0.5 and abs(s["thumb"]["top"] - s["words"]["top"]) < 1, s
    assert m["headline"]["text"]["right"] > m["headline"]["box"]["right"] - 2, "the story's title is right-aligned"
    # unsubscribe and web-version links (top and footer) are comfortable tap targets
    assert len(m["taps"]) == 3 and all(t["height"] >= 44 and t["width"] >= 44 for t in m["taps"]), m["taps"]
