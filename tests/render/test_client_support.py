"""The compiled email against caniemail: nothing current Gmail, Outlook (Windows) or Apple Mail lacks,
unless a reason is documented here."""

from __future__ import annotations

from pathlib import Path

from digest.render import render_edition
from digest.send import web_values
from tests.support.render import Edition, edition_fixture  # noqa: F401
from tests.support.render_compat import known_features, scan, unsupported

# Features the compiled digest uses that caniemail marks unsupported ("n") in a current target client,
# and why that is fine. Most come from MJML's own output, which is built to degrade in exactly these clients.
NO_STYLE = (
    "Gmail's mobile webmail (and Gmail apps on non-Google accounts) drops every <style>: the layout is"
    " inline-first, so it reads as one column with inline colours"
)
DOCUMENTED = {
    "css-at-media": "Outlook (Windows) ignores media queries: MJML's <!--[if mso]> ghost tables give it the fixed"
    " 600 px desktop layout. " + NO_STYLE,
    "css-at-media-prefers-color-scheme": "Dark-mode styles are an enhancement for Apple Mail; Gmail and Outlook"
    " apply their own dark mode",
    "css-color-scheme": "Same as prefers-color-scheme: honoured by Apple Mail, harmless elsewhere",
    "html-meta-color-scheme": "Same as prefers-color-scheme: honoured by Apple Mail (macOS), harmless elsewhere",
    "css-border-radius": "Outlook (Windows) shows square corners on cards, images and the button; nothing breaks",
    "css-border-spacing": "MJML's table reset (border-spacing:0); Outlook's tables default to no spacing anyway",
    "css-max-height": "Part of the hidden preheader (max-height:0); Outlook hides it with mso-hide:all",
    "css-opacity": "Part of the hidden preheader (opacity:0); Outlook hides it with mso-hide:all. " + NO_STYLE,
    "css-overflow": "Part of the hidden preheader (overflow:hidden); Outlook hides it with mso-hide:all",
    "css-outline": "MJML's image reset (outline:none); Outlook draws no outline on images anyway",
    "css-cursor": "MJML's button sets cursor:auto; clients that ignore it show their default cursor",
    "css-word-spacing": "MJML's body reset (word-spacing:normal), the default in every client",
    "html-doctype": "Outlook (Windows) renders with Word whatever the doctype; other clients use it",
    "html-target": "MJML adds target=_blank to image links and buttons; Gmail opens links in a new tab anyway",
    "css-display-none": "Hides the preheader; " + NO_STYLE + " (the preheader may show there as a first line)",
    "html-style": NO_STYLE,
    "css-selector-chaining": NO_STYLE + "; Outlook (Windows) ignores the mobile rules that chain selectors",
    "css-selector-child": NO_STYLE + "; Outlook (Windows) ignores the dark-mode rule that uses '>'",
    "css-selector-class": NO_STYLE,
    "css-selector-descendant": NO_STYLE,
    "css-selector-grouping": NO_STYLE,
    "css-selector-id": NO_STYLE + " (MJML's '#outlook a' reset)",
    "css-selector-type": NO_STYLE,
    "css-selector-attribute": "Only the [data-ogsc]/[data-ogsb] rules for Outlook's own dark mode; clients that"
    " ignore them keep the light colours, which stay readable inverted",
    "html-bdi": "Isolates the names in the footer so right-to-left text keeps its quotes in place; where it is"
    " stripped (Gmail, Outlook) the name shows as plain text, as before",
}
# Properties caniemail has no page for (supported everywhere, or a pseudo-standard without data).
NOT_IN_CANIEMAIL = {"css-color", "css-supported-color-schemes", "css-pseudo-class-root"}


def test_the_digest_uses_nothing_unsupported_without_a_documented_reason(edition: Edition, corpus: Path) -> None:
    csv_path = corpus / "caniemail" / "support_flat.csv"
    html, _ = render_edition(edition.store, edition.config, edition.edition_id).fill(
        web_values(edition.config, edition.edition_id)
    )
    used = scan(html)
    assert {"html-table", "css-padding", "css-at-media", "html-img"} <= used  # the scan sees what is there
    assert used - known_features(csv_path) <= NOT_IN_CANIEMAIL, "unmapped features: fix tests/render_compat.py"
    gaps = unsupported(used, csv_path)
    undocumented = {f: clients for f, clients in gaps.items() if f not in DOCUMENTED}
    assert not undocumented, f"unsupported in current clients, with no documented reason: {undocumented}"
    stale = set(DOCUMENTED) - set(gaps)
    assert not stale, f"documented reasons for features no longer flagged (remove them): {sorted(stale)}"


def test_the_scanner_finds_known_gaps(corpus: Path) -> None:
    csv_path = corpus / "caniemail" / "support_flat.csv"
    html = (
        "<!doctype html><html><head><style>@font-face { font-family: X; src: url(x.woff); }"
        ' .a:hover { color: red }</style></head><body><div style="display:flex;background-image:url(x.png)">'
        '<img src="logo.svg" alt="" width="1" height="1"></div></body></html>'
    )
    used = scan(html)
    assert {
        "css-display-flex",
        "css-at-font-face",
        "css-pseudo-class-hover",
        "css-background-image",
        "image-svg",
        "css-selector-class",
    } <= used
    gaps = unsupported(used, csv_path)
    assert "outlook/windows 2019" in gaps["css-display-flex"]
    assert "css-at-font-face" in gaps
    assert "css-display-flex" not in scan('<div style="display:block">x</div>')
