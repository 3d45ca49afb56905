"""Signed, per-subscriber, per-list tokens for unsubscribe and confirmation links.

A token is ``base64url(purpose:subscriber_id:list_id).base64url(HMAC-SHA256[:16])`` keyed with
``DIGEST_SECRET``. Without that variable a random key kept in the store is used, which is fine
for a local newsletter writing to the outbox; real providers require the variable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from digest.config import secret
from digest.errors import ConfigError, DigestError
from digest.store import Store

PURPOSES = ("unsubscribe", "confirm")


class BadToken(DigestError):
    """A token that was forged, altered or cut short."""


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subscriber_id: int
    list_id: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(store: Store, *, require_env: bool = False) -> bytes:
    value = secret("DIGEST_SECRET")
    if value:
        return value.encode("utf-8")
    if require_env:
        raise ConfigError("DIGEST_SECRET is not set: export a long random value (e.g. 'openssl rand -hex 32')"
                          " so unsubscribe links stay valid")
    key = store.meta_get("dev_signing_key")
    if key is None:
        key = secrets.token_hex(32)
        store.meta_set("dev_signing_key", key)
    return key.encode("ascii")


def sign(key: bytes, purpose: str, subscriber_id: int, list_id: int) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    payload = f"{purpose}:{subscriber_id}:{list_id}".encode("ascii")
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
        got_purpose, sid, lid = payload.decode("ascii").split(":")
        claims = TokenClaims(got_purpose, int(sid), int(lid))
    except (ValueError, UnicodeDecodeError):
        raise BadToken("malformed token") from None
    if claims.purpose != purpose:
        raise BadToken(f"token is for {claims.purpose}, not {purpose}")
    return claims


def link(public_url: str, key: bytes, purpose: str, subscriber_id: int, list_id: int) -> str:
    """The page a token leads to on ``digest serve``: ``{public_url}/{purpose}/{token}``."""
    return f"{public_url.rstrip('/')}/{purpose}/{sign(key, purpose, subscriber_id, list_id)}"
