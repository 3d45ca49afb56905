"""Signed, per-subscriber, per-list tokens for unsubscribe, confirmation and preferences links.

The links themselves are built in :mod:`digest.urls`.

A token is ``base64url(purpose:subscriber_id:list_id[:issued]).base64url(HMAC-SHA256[:16])`` keyed with
``DIGEST_SECRET``. Without that variable a random key kept in the store is used, which is fine
for a local newsletter writing to the outbox; real providers require the variable. Once a send signed
with it, the store remembers so (meta ``signing_key`` = ``env``) and ``digest serve`` refuses to start
without the variable: with the stored key it would turn every link in those emails away.

``issued`` (Unix seconds) is signed into links that expire or must not outlive a later change: a
confirmation mail's link, which is refused after ``[web] confirm_days`` and never brings back someone
who left after it was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from digest.config import secret
from digest.errors import ConfigError, DigestError
from digest.store import Store

PURPOSES = ("unsubscribe", "confirm", "preferences")
CLICK = "click"  # a story's link in one edition (the same for every reader): see sign_click


class BadToken(DigestError):
    """A token that was forged, altered or cut short."""


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subscriber_id: int
    list_id: int
    issued: int | None = None  # Unix seconds, for links that expire


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64_TEXT = re.compile(r"[A-Za-z0-9_-]+")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, accepting only the one canonical spelling of the bytes.

    Padding, other characters and unused low bits in the last character would otherwise let an altered
    token verify; anything that does not re-encode to exactly ``text`` is a :class:`ValueError`.
    """
    if not _B64_TEXT.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical encoding")
    return data


KIND_KEY = "signing_key"  # meta key: 'env' once a real send signed its links with DIGEST_SECRET


def signing_key(store: Store, *, require_env: bool = False) -> bytes:
    """The key for links; ``require_env`` (a real send) needs DIGEST_SECRET and records that it was used."""
    value = secret("DIGEST_SECRET")
    if value:
        if require_env and store.meta_get(KIND_KEY) != "env":
            store.meta_set(KIND_KEY, "env")
        return value.encode("utf-8")
    if require_env:
        raise ConfigError(
            "DIGEST_SECRET is not set: export a long random value (e.g. 'openssl rand -hex 32')"
            " so unsubscribe links stay valid"
        )
    key = store.meta_get("dev_signing_key")
    if key is None:
        key = secrets.token_hex(32)
        store.meta_set("dev_signing_key", key)
    return key.encode("ascii")


def check_serving_key(store: Store) -> None:
    """:class:`ConfigError` when sent links were signed with DIGEST_SECRET and it is not set now."""
    if store.meta_get(KIND_KEY) == "env" and not secret("DIGEST_SECRET"):
        raise ConfigError(
            "DIGEST_SECRET is not set, but sent emails' links were signed with it: export the same"
            " value the sends used before 'digest serve', or nobody can unsubscribe"
        )


def sign(key: bytes, purpose: str, subscriber_id: int, list_id: int, issued: int | None = None) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    tail = f":{int(issued)}" if issued is not None else ""
    payload = f"{purpose}:{subscriber_id}:{list_id}{tail}".encode("ascii")
    mac = hmac.digest(key, payload, "sha256")[:16]  # one-shot: signed once per recipient per send
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(key: bytes, token: str, purpose: str) -> TokenClaims:
    try:
        payload_b64, mac_b64 = token.split(".", 1)
        payload = _unb64(payload_b64)
        mac = _unb64(mac_b64)
    except (ValueError, TypeError):
        raise BadToken("malformed token") from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise BadToken("token signature does not match")
    try:
        got_purpose, sid, lid, *rest = payload.decode("ascii").split(":")
        if len(rest) > 1:
            raise ValueError("too many fields")
        claims = TokenClaims(got_purpose, int(sid), int(lid), int(rest[0]) if rest else None)
    except (ValueError, UnicodeDecodeError):
        raise BadToken("malformed token") from None
    if claims.purpose != purpose:
        raise BadToken(f"token is for {claims.purpose}, not {purpose}")
    return claims


def sign_click(key: bytes, edition_id: int, story_id: int) -> str:
    """The token of a story's tracked link in one edition: it names the pair, never the destination.

    The redirect looks the story's URL up in the edition, so an altered token cannot send anyone
    elsewhere (no open redirect). It carries no reader: clicks are counted per story, not per person.
    """
    payload = f"{CLICK}:{int(edition_id)}:{int(story_id)}".encode("ascii")
    return f"{_b64(payload)}.{_b64(hmac.digest(key, payload, 'sha256')[:16])}"


def verify_click(key: bytes, token: str) -> tuple[int, int]:
    """(edition id, story id) of a :func:`sign_click` token, else :class:`BadToken`."""
    try:
        payload_b64, mac_b64 = token.split(".", 1)
        payload, mac = _unb64(payload_b64), _unb64(mac_b64)
    except (ValueError, TypeError):
        raise BadToken("malformed token") from None
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()[:16]):
        raise BadToken("token signature does not match")
    try:
        purpose, edition, story = payload.decode("ascii").split(":")
        if purpose != CLICK:
            raise ValueError(purpose)
        return int(edition), int(story)
    except (ValueError, UnicodeDecodeError):
        raise BadToken("malformed token") from None
