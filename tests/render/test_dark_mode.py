"""Dark mode holds in every kind of client: those that honour prefers-color-scheme (Apple Mail, Outlook.com), those
that recolour and mark it (Outlook's data-ogsc/ogsb) and those that invert the light colours (Gmail's apps)."""

from __future__ import annotations

import re

from digest.render import render_edition
from digest.send import web_values
from tests.support.render import Edition, edition_fixture  # noqa: F401

HEX = re.compile(r"#([0-9a-f]{6})\b", re.I)


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def inverted(hex_colour: str) -> str:
    """What a client that inverts colours (Gmail's apps, roughly) shows instead of ``hex_colour``."""
    value = int(hex_colour.lstrip("#"), 16)
    return f"#{0xFFFFFF - value:06x}"


def html(edition: Edition) -> str:
    out, _ = render_edition(edition.store, edition.config, edition.edition_id).fill(
        web_values(edition.config, edition.edition_id)
    )
    return out


def rules(css: str) -> dict[str, str]:
    """selector -> the colour a rule gives it (one colour per rule in these blocks)."""
    found: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        colour = HEX.search(body)
        if colour:
            for selector in selectors.split(","):
                found[" ".join(selector.split())] = colour.group(0).lower()
    return found


def test_the_email_declares_both_colour_schemes(edition: Edition) -> None:
    page = html(edition)
    assert '<meta name="color-scheme" content="light dark"' in page
    assert '<meta name="supported-color-schemes" content="light dark"' in page
    assert re.search(r":root\s*\{\s*color-scheme:\s*light dark;\s*supported-color-schemes:\s*light dark;", page)


def test_dark_mode_text_keeps_contrast_on_its_background(edition: Edition) -> None:
    page = html(edition)
    block = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{(.*?)\}\s*\}", page, re.S)
    assert block, "no dark-mode rules"
    dark = rules(block.group(1) + "}")
    pairs = [(".card div", ".card"), (".title a", ".card"), (".meta div", ".card"), (".footer a", ".card")]
    pairs += [(".edge div", ".edge"), (".edge a", ".edge"), ("img", ".card")]
    for text, background in pairs:
        assert contrast(dark[text], dark[background]) >= 4.5, (text, dark[text], dark[background])
    # Outlook's recolouring gets the same palette
    ogs = rules(" ".join(re.findall(r"\[data-ogs[bc]\][^{}]*\{[^{}]*\}", page)))
    for text, background in pairs[:-1]:
        assert ogs[f"[data-ogsc] {text}"] == dark[text] and ogs[f"[data-ogsb] {background}"] == dark[background]


def test_light_colours_stay_readable_when_a_client_inverts_them(edition: Edition) -> None:
    page = html(edition)
    body = page[page.index("<body") :]
    texts = {c.lower() for c in re.findall(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", body, re.I)}
    backgrounds = {c.lower() for c in re.findall(r"background-color:\s*(#[0-9a-f]{6})", body, re.I)}
    assert {"#ffffff", "#f3f4f6"} <= backgrounds and "#111827" in texts  # the scan sees the page
    button = "#1d4ed8"
    for text in texts:
        on = [button] if text == "#ffffff" else sorted(backgrounds - {button})
        for background in on:
            assert contrast(text, background) >= 4.5, (text, background)
            assert contrast(inverted(text), inverted(background)) >= 4.5, ("inverted", text, background)
    # nothing is hidden by painting text the colour of its background (white on white)
    for text in texts - {"#ffffff"}:
        assert text not in backgrounds, text
