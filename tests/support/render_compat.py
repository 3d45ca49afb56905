"""What a compiled email uses (HTML elements, attributes, CSS) against caniemail's support data.

``scan(html)`` names the caniemail features an email uses; ``unsupported(features, csv)`` looks each
up in ``../shared/corpus/caniemail/support_flat.csv`` for the current version (the last entry) of
Gmail, Outlook for Windows and Apple Mail, and returns those marked ``n`` (not supported).
"""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

CLIENTS = {
    ("gmail", "desktop-webmail"),
    ("gmail", "ios"),
    ("gmail", "android"),
    ("gmail", "mobile-webmail"),
    ("outlook", "windows"),
    ("apple-mail", "macos"),
    ("apple-mail", "ios"),
}

ELEMENTS = {
    "style": "html-style",
    "table": "html-table",
    "div": "html-div",
    "p": "html-p",
    "span": "html-span",
    "img": "html-img",
    "hr": "html-hr",
    "address": "html-address",
    "small": "html-small",
    "strong": "html-strong",
    "blockquote": "html-blockquote",
    "code": "html-code",
    "pre": "html-pre",
    "del": "html-del",
    "abbr": "html-abbr",
    "acronym": "html-acronym",
    "video": "html-video",
    "audio": "html-audio",
    "svg": "html-svg",
    "form": "html-form",
    "textarea": "html-textarea",
    "select": "html-select",
    "button": "html-button-submit",
    "picture": "html-picture",
    "link": "html-link",
    "base": "html-base",
    "ul": "html-lists",
    "ol": "html-lists",
    "dl": "html-lists",
    "wbr": "html-wbr",
    "body": "html-body",
    "dialog": "html-dialog",
    "meter": "html-meter",
    "progress": "html-progress",
    "marquee": "html-marquee",
    "object": "html-object",
    "ruby": "html-ruby",
    "strike": "html-strike",
    "dfn": "html-dfn",
    "bdi": "html-bdi",
    "map": "html-image-maps",
    "article": "html-semantics",
    "section": "html-semantics",
    "header": "html-semantics",
    "footer": "html-semantics",
    "nav": "html-semantics",
    "main": "html-semantics",
    "aside": "html-semantics",
}
ELEMENTS.update({f"h{i}": "html-h1-h6" for i in range(1, 7)})
ATTRIBUTES = {
    "align": "html-align",
    "valign": "html-valign",
    "width": "html-width",
    "height": "html-height",
    "lang": "html-lang",
    "dir": "html-dir",
    "role": "html-role",
    "aria-hidden": "html-aria-hidden",
    "aria-label": "html-aria-label",
    "aria-labelledby": "html-aria-labelledby",
    "aria-describedby": "html-aria-describedby",
    "aria-live": "html-aria-live",
    "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing",
    "background": "html-background",
    "loading": "html-loading-attribute",
    "srcset": "html-srcset",
    "target": "html-target",
    "hidden": "html-hidden",
    "inert": "css-inert-attribute",
    "required": "html-required",
    "popover": "html-popover",
}
IMAGES = {
    "png": "image-png",
    "jpg": "image-jpg",
    "jpeg": "image-jpg",
    "gif": "image-gif",
    "webp": "image-webp",
    "svg": "image-svg",
    "avif": "image-avif",
    "bmp": "image-bmp",
    "ico": "image-ico",
    "tif": "image-tiff",
    "tiff": "image-tiff",
    "heic": "image-heif",
    "heif": "image-heif",
}
# Properties whose caniemail feature has another name than css-<property>.
PROPERTY_ALIASES = {
    "border-top": "css-border",
    "border-bottom": "css-border",
    "border-left": "css-border",
    "border-right": "css-border",
    "border-color": "css-border",
    "border-width": "css-border",
    "border-style": "css-border",
    "padding-top": "css-padding",
    "padding-bottom": "css-padding",
    "padding-left": "css-padding",
    "padding-right": "css-padding",
    "margin-top": "css-margin",
    "margin-bottom": "css-margin",
    "margin-left": "css-margin",
    "margin-right": "css-margin",
    "font-family": "css-font",
    "font-style": "css-font",
    "top": "css-left-right-top-bottom",
    "bottom": "css-left-right-top-bottom",
    "left": "css-left-right-top-bottom",
    "right": "css-left-right-top-bottom",
    "word-wrap": "css-word-wrap",
}
UNITS = {
    "px": "css-unit-px",
    "em": "css-unit-em",
    "rem": "css-unit-rem",
    "%": "css-unit-percent",
    "pt": "css-unit-pt",
    "vh": "css-unit-vh",
    "vw": "css-unit-vw",
    "vmin": "css-unit-vmin",
    "vmax": "css-unit-vmax",
    "ch": "css-unit-ch",
    "ex": "css-unit-ex",
    "cm": "css-unit-cm",
    "mm": "css-unit-mm",
    "in": "css-unit-in",
    "pc": "css-unit-pc",
}


def known_features(csv_path: Path) -> set[str]:
    with csv_path.open(encoding="utf-8") as f:
        return {row["feature"] for row in csv.DictReader(f)}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.features: set[str] = set()
        self.css: list[str] = []
        self.inline: list[str] = []
        self._in_style = False

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.features.add("html-doctype")

    def handle_comment(self, data: str) -> None:
        self.features.add("html-comments")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ELEMENTS:
            self.features.add(ELEMENTS[tag])
        a = {k: v or "" for k, v in attrs}
        for name, value in a.items():
            if name in ATTRIBUTES:
                self.features.add(ATTRIBUTES[name])
            if name == "style":
                self.inline.append(value)
        if tag == "meta" and a.get("name", "").lower() == "color-scheme":
            self.features.add("html-meta-color-scheme")
        href = a.get("href", "")
        if tag == "a" and href.startswith("mailto:"):
            self.features.add("html-mailto-links")
        if tag == "a" and href.startswith("#"):
            self.features.add("html-anchor-links")
        if tag == "img":
            src = a.get("src", "")
            if src.startswith("data:"):
                self.features.add("image-base64")
            ext = re.search(r"\.([a-z0-9]+)(?:[?#]|$)", src.lower())
            if ext and ext.group(1) in IMAGES:
                self.features.add(IMAGES[ext.group(1)])
        if tag == "input":
            self.features.add(f"html-input-{a.get('type', 'text')}")
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css.append(data)


def _declarations(block: str, features: set[str]) -> None:
    for decl in block.split(";"):
        if ":" not in decl:
            continue
        prop, value = (p.strip().lower() for p in decl.split(":", 1))
        if not prop or prop.startswith(("-", "mso-")):
            continue  # vendor and Outlook-only properties: caniemail has no rows for them
        features.add(PROPERTY_ALIASES.get(prop, f"css-{prop}"))
        if prop == "display" and value.split("!")[0].strip() in ("flex", "grid", "none"):
            features.add(f"css-display-{value.split('!')[0].strip()}")
        if "!important" in value:
            features.add("css-important")
        for unit in re.findall(r"\d(px|em|rem|%|pt|vh|vw|vmin|vmax|ch|ex|cm|mm|in|pc)\b|\d(%)", value):
            u = unit[0] or unit[1]
            if u in UNITS:
                features.add(UNITS[u])
        for fn, feature in (
            ("rgb(", "css-rgb"),
            ("rgba(", "css-rgba"),
            ("calc(", "css-unit-calc"),
            ("linear-gradient(", "css-linear-gradient"),
            ("var(", "css-variables"),
            ("light-dark(", "css-function-light-dark"),
            ("min(", "css-function-min"),
            ("max(", "css-function-max"),
            ("clamp(", "css-function-clamp"),
        ):
            if fn in value:
                features.add(feature)


def _selectors(selector: str, features: set[str]) -> None:
    if "," in selector:
        features.add("css-selector-grouping")
    for sel in selector.split(","):
        sel = sel.strip()
        if "." in sel:
            features.add("css-selector-class")
        if "#" in sel:
            features.add("css-selector-id")
        if "[" in sel:
            features.add("css-selector-attribute")
        if ">" in sel:
            features.add("css-selector-child")
        if "+" in sel:
            features.add("css-selector-adjacent-sibling")
        if "~" in sel:
            features.add("css-selector-general-sibling")
        if "*" in sel:
            features.add("css-selector-universal")
        compounds = re.split(r"\s*[>+~]\s*|\s+", sel)
        if len([c for c in compounds if c]) > 1 and re.search(r"[\w\]\)]\s+[\w.#:\[*]", sel):
            features.add("css-selector-descendant")
        for c in compounds:
            if re.match(r"[a-z]", c):
                features.add("css-selector-type")
            if re.match(r"[a-z]\w*[.#\[]", c) or re.match(r"\.[\w-]+\.", c):
                features.add("css-selector-chaining")
            for pseudo in re.findall(r"::?([a-z-]+)", c):
                name = "root" if pseudo == "root" else pseudo
                kind = "element" if f"::{pseudo}" in c else "class"
                features.add(f"css-pseudo-{kind}-{name}")


def _stylesheet(css: str, features: set[str]) -> None:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    i = 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        head = css[i:brace].strip()
        depth, j = 1, brace + 1
        while j < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        body = css[brace + 1 : j - 1]
        if head.startswith("@"):
            rule = head.split()[0][1:].lower()
            features.add(f"css-at-{rule}")
            if rule == "media":
                if "prefers-color-scheme" in head:
                    features.add("css-at-media-prefers-color-scheme")
                if "prefers-reduced-motion" in head:
                    features.add("css-at-media-prefers-reduced-motion")
                if "orientation" in head:
                    features.add("css-at-media-orientation")
                _stylesheet(body, features)
        else:
            _selectors(head, features)
            _declarations(body, features)
        i = j


def scan(html: str) -> set[str]:
    """The caniemail feature slugs this HTML uses."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    features = set(collector.features)
    for style in collector.inline:
        _declarations(style, features)
    for css in collector.css:
        _stylesheet(css, features)
    return features


def current_support(csv_path: Path) -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """(feature, client, platform) → (version, support, notes) of the latest entry, for the clients we target."""
    latest: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    with csv_path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if (row["client"], row["platform"]) in CLIENTS:
                latest[(row["feature"], row["client"], row["platform"])] = (
                    row["version"],
                    row["support"],
                    row["notes"],
                )
    return latest


def unsupported(features: set[str], csv_path: Path) -> dict[str, list[str]]:
    """feature → ["client/platform version", ...] where the current entry says ``n``."""
    out: dict[str, list[str]] = {}
    for (feature, client, platform), (version, support, _) in sorted(current_support(csv_path).items()):
        if feature in features and support.split()[0] == "n":
            out.setdefault(feature, []).append(f"{client}/{platform} {version}")
    return out
