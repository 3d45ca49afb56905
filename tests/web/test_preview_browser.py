"""A real headless Chromium: the email at 375 and 600 px, the preview page, and its live reload.

Skips only when /usr/bin/chromium is absent and CI is unset. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.config import load
from digest.models import Ranked
from digest.render import render_edition
from digest.send import web_values
from digest.store import Store
from tests.support.render import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    STORIES,
    Edition,
    app_server,
    need_chromium,
    png,
    seed,
    static_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                                                                   bottom: r.bottom, width: r.width}; };
  const stories = [...document.querySelectorAll("div.story")].filter(s => s.querySelector(".thumb"))
    .map(s => ({thumb: box(s.querySelector(".thumb")), words: box(s.querySelector(".words"))}));
  const overflowing = [...document.body.querySelectorAll("*")].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5);
  }).map(e => e.tagName + "." + e.className);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth, stories, overflowing,
          images: [...document.images].map(i => i.naturalWidth)};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


@pytest.fixture
def pictured(initialised: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Edition]:
    """The fixed edition with its pictures served from 127.0.0.1."""
    monkeypatch.setenv("DIGEST_NAME", "The Example Digest")
    monkeypatch.setenv("DIGEST_DEFAULT_LIST", "golden")
    images = tmp_path / "img"
    images.mkdir()
    colours = [(40, 90, 200), (200, 120, 40), (30, 150, 110), (150, 60, 160), (200, 60, 80)]
    with static_server(images) as base:
        stories = []
        for i, s in enumerate(STORIES):
            if s["image_url"]:
                (images / f"{i}.png").write_bytes(png(120, 80, colours[i]))
                s = {**s, "image_url": f"{base}/{i}.png"}
            stories.append(s)
        config = load(initialised)
        store = Store(config.db_path)
        edition_id, list_id = seed(store, stories, config=config)
        yield Edition(config, store, edition_id, list_id)
        store.close()


def check_layout(m: dict[str, Any], width: int) -> None:
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= m["innerWidth"], f"horizontal overflow at {width}px: {m['overflowing']}"
    assert not m["overflowing"], f"elements past the right edge at {width}px: {m['overflowing']}"
    assert len(m["stories"]) == 3, "three of the other stories have a thumbnail"
    assert all(n > 0 for n in m["images"]), "every picture loaded"
    for s in m["stories"]:
        thumb, words = s["thumb"], s["words"]
        if width >= 480:
            assert abs(thumb["top"] - words["top"]) < 1 and thumb["right"] <= words["left"] + 0.5, s
        else:
            assert words["top"] >= thumb["bottom"] - 0.5 and words["width"] > 0.8 * (width - 48), s


@pytest.mark.parametrize("width", [375, 600])
def test_the_email_stacks_on_a_phone_and_sits_side_by_side_on_a_desktop(
    browser: Any, pictured: Edition, width: int, tmp_path: Path
) -> None:
    html, _ = render_edition(pictured.store, pictured.config, pictured.edition_id).fill(
        web_values(pictured.config, pictured.edition_id)
    )
    email = tmp_path / "email.html"
    email.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(email.as_uri(), wait_until="load", timeout=15_000)
        check_layout(page.evaluate(MEASURE), width)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"email-{width}.png"), full_page=True)
    finally:
        page.close()


def test_the_preview_page_shows_both_frames_in_a_real_browser(browser: Any, pictured: Edition) -> None:
    with app_server(pictured.config) as base:
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        try:
            page.goto(base + "/", wait_until="load", timeout=15_000)
            assert (
                page.locator("#subject").inner_text() == "Wayfarer browser finally drops third-party cookies + 4 more"
            )
            assert page.locator("#stories .bar").count() == len(STORIES)
            assert "Unsubscribe:" in page.locator("#text").inner_text()
            for frame_id, width in (("desktop", 600), ("mobile", 375)):
                frame = page.locator(f"#{frame_id}").element_handle().content_frame()
                frame.wait_for_load_state("load")
                check_layout(frame.evaluate(MEASURE), width)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "preview.png"), full_page=True)
        finally:
            page.close()


def test_the_preview_reloads_when_a_template_or_the_store_changes(browser: Any, pictured: Edition) -> None:
    with app_server(pictured.config) as base:
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        try:
            page.goto(base + "/", wait_until="load", timeout=15_000)
            page.evaluate("() => { window.unchanged = true; }")
            override = pictured.config.templates_dir / "subject.txt.j2"
            override.parent.mkdir(parents=True)
            override.write_text("Fresh: {{ lead.title }}\n", encoding="utf-8")
            page.wait_for_function("() => window.unchanged === undefined", timeout=10_000)
            page.wait_for_load_state("load")
            assert page.locator("#subject").inner_text() == "Fresh: Wayfarer browser finally drops third-party cookies"
            page.evaluate("() => { window.unchanged = true; }")
            pictured.store.freeze_edition(
                pictured.list_id,
                "2026-11-25",
                "s",
                "p",
                "2026-11-25T07:00:00Z",
                [Ranked(1, "t", None, None, 1.0, {"recency": 0.5})],
            )
            page.wait_for_function("() => window.unchanged === undefined", timeout=10_000)
            page.wait_for_load_state("load")
            assert "2026-11-25" in page.title()
        finally:
            page.close()


def test_dark_mode_styles_apply_when_the_reader_prefers_dark(browser: Any, pictured: Edition, tmp_path: Path) -> None:
    html, _ = render_edition(pictured.store, pictured.config, pictured.edition_id).fill(
        web_values(pictured.config, pictured.edition_id)
    )
    email = tmp_path / "email.html"
    email.write_text(html, encoding="utf-8")
    colours = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 600, "height": 900}, color_scheme=scheme)
        try:
            page.goto(email.as_uri(), wait_until="load", timeout=15_000)
            colours[scheme] = page.evaluate("""() => [getComputedStyle(document.querySelector('.card table'))
                .backgroundColor, getComputedStyle(document.querySelector('h2 a')).color]""")
            if scheme == "dark":
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "email-600-dark.png"), full_page=True)
        finally:
            page.close()
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(17, 24, 39)"]
    assert colours["dark"] == ["rgb(17, 24, 39)", "rgb(243, 244, 246)"]
