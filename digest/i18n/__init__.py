"""The reader's language: a list's BCP 47 tag gives the email's ``lang`` and ``dir``, its labels and its date.

Each translation is one TOML file, ``messages/<tag>.toml`` (``fr.toml``, ``pt-BR.toml``...), holding the same
keys as ``en.toml``; a key it lacks falls back to the base language (``pt`` for ``pt-BR``) and then to English.
Values may name fields in braces (``{newsletter}``), filled with :meth:`Messages.format`. Dates and
right-to-left come from Babel's CLDR data, so they are right for any language, translated or not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from digest.errors import ConfigError

MESSAGES = Path(__file__).with_name("messages")
DEFAULT = "en"


@dataclass(frozen=True)
class Messages:
    """The labels of one language, with English behind the keys it lacks."""

    tag: str  # the BCP 47 tag, as the list has it ("fr", "pt-BR")
    direction: str  # "ltr" or "rtl"
    strings: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def format(self, key: str, **fields: object) -> str:
        return self.strings[key].format(**fields)

    def long_date(self, day: str | date) -> str:
        """The edition's date as the language writes it (``date_format``: a CLDR pattern, or Babel's "full")."""
        d = date.fromisoformat(day) if isinstance(day, str) else day
        return format_date(d, self.strings.get("date_format") or "full", locale=_locale(self.tag))


def check_language(tag: str) -> str:
    """``tag`` as a well-formed BCP 47 tag Babel knows (``fr``, ``pt-BR``, ``zh-Hant``), or ConfigError."""
    cleaned = tag.strip().replace("_", "-")
    try:
        locale = Locale.parse(cleaned, sep="-")
    except (ValueError, UnknownLocaleError):
        shipped = ", ".join(shipped_languages())
        raise ConfigError(f"{tag!r} is not a language tag digest knows: use a BCP 47 tag such as {shipped}") from None
    parts = [locale.language]
    if locale.script:
        parts.append(locale.script)
    if locale.territory:
        parts.append(locale.territory)
    return "-".join(parts)


def translated(tag: str) -> bool:
    """Whether ``tag`` (or its base language) has a translation file; else its labels are English."""
    return any((MESSAGES / f"{t}.toml").is_file() for t in {tag, tag.split("-")[0]})


def shipped_languages() -> list[str]:
    """The languages with a translation file."""
    return sorted(p.stem for p in MESSAGES.glob("*.toml"))


@lru_cache(maxsize=64)
def messages(tag: str = DEFAULT) -> Messages:
    """The labels for ``tag``: its own file, then its base language's, then English, key by key."""
    tag = check_language(tag or DEFAULT)
    chain = [DEFAULT]
    base = tag.split("-")[0]
    for candidate in (base, tag):
        if candidate not in chain:
            chain.append(candidate)
    strings: dict[str, str] = {}
    for candidate in chain:
        path = MESSAGES / f"{candidate}.toml"
        if path.is_file():
            found = _read(path)
            if candidate == DEFAULT and base != DEFAULT:
                found.pop("date_format", None)  # an English pattern on another language's words: Babel's instead
            strings.update(found)
    direction = "rtl" if _locale(tag).character_order == "right-to-left" else "ltr"
    return Messages(tag=tag, direction=direction, strings=strings)


def _read(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; fix the translation file") from None
    return {str(k): str(v) for k, v in data.items()}


@lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")
