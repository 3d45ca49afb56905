"""Pictures in the email keep their own shape: a width, never a forced height (no 3:2 box)."""

from __future__ import annotations

import re

import lxml.html

from digest.render import render_edition
from digest.send import web_values
from tests.support.render import STORIES, Edition, edition_fixture  # noqa: F401


def test_every_story_picture_keeps_its_aspect_ratio(edition: Edition) -> None:
    html, _ = render_edition(edition.store, edition.config, edition.edition_id).fill(
        web_values(edition.config, edition.edition_id)
    )
    pictures = {s["image_url"] for s in STORIES if s["image_url"]}
    imgs = [img for img in lxml.html.fromstring(html).iter("img") if img.get("src") in pictures]
    assert len(imgs) == len(pictures)
    for img in imgs:
        assert img.get("height") in (None, "auto"), img.attrib
        style = img.get("style") or ""
        assert not re.search(r"(?<![-\w])height\s*:\s*\d", style) and "height:auto" in style.replace(" ", ""), style
        assert img.get("width", "").isdigit()  # the width is set, the height follows the picture
