"""What the web app's route modules share: the store per request, the reader's pages and their headers, CSRF."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from digest.config import Config
from digest.i18n import DEFAULT as DEFAULT
from digest.i18n import messages
from digest.render.archive import site_language as site_language
from digest.store import Store

# Every reader's page: never cached or indexed, no referrer (a token in the URL must not leak), nothing loaded
# from elsewhere, forms post only to this site.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
    " frame-ancestors 'none'",
}

CSRF_COOKIE = "digest_csrf"


@contextmanager
def open_store(config: Config) -> Iterator[Store]:
    """One store connection per request (SQLite connections are cheap; threads never share one)."""
    store = Store(config.db_path, create=False)
    try:
        yield store
    finally:
        store.close()


def named(name: str) -> Markup:
    """A name set apart with ``<bdi>``, so a Latin name inside right-to-left text keeps its quotes in place."""
    return Markup("<bdi>{}</bdi>").format(name)


def say(tag: str, key: str, **fields: object) -> Markup:
    """A label of ``tag``'s language with its fields filled in, escaped (``named`` ones stay markup)."""
    return Markup(escape(messages(tag)[key])).format(**fields)


def render_page(
    config: Config, template: str, status: int = 200, *, language: str = DEFAULT, **context: Any
) -> HTMLResponse:
    """A reader's page from ``templates/web/`` (a home may override it), with :data:`PAGE_HEADERS`, in ``language``
    (its ``lang``, ``dir`` and labels ``t``, from :mod:`digest.i18n`)."""
    from digest.render.templates import environment, render_template

    t = messages(language or DEFAULT)
    values = {
        "site": config.settings.name,
        "paragraphs": (),
        "button": "",
        "csrf": "",
        "t": t.strings,
        "lang": t.tag,
        "dir": t.direction,
        **context,
    }
    html = render_template(environment(config), template, values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def message_page(
    config: Config,
    status: int,
    title: str,
    *paragraphs: str,
    button: str = "",
    csrf: str = "",
    language: str = DEFAULT,
) -> HTMLResponse:
    """A page with a title, some paragraphs and perhaps one button that POSTs back to the same address."""
    return render_page(
        config,
        "web/page.html.j2",
        status,
        language=language,
        title=title,
        paragraphs=paragraphs,
        button=button,
        csrf=csrf,
    )


# -- CSRF: a double-submit cookie. The page sets a random cookie that only this site can read (SameSite=Strict)
# and puts its HMAC in the form; a POST must bring both, and another site can forge neither.
def csrf_pair(request: Request, key: bytes) -> tuple[str, str | None]:
    """(the form's token, a new cookie value to set or None when the request already has one)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    fresh = None
    if len(cookie) != 32:
        cookie = fresh = secrets.token_hex(16)
    return _csrf_mac(key, cookie), fresh


def set_csrf_cookie(response: Response, value: str | None, secure: bool) -> Response:
    if value is not None:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/")
    return response


def csrf_ok(request: Request, key: bytes, token: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie and token) and hmac.compare_digest(_csrf_mac(key, cookie), token)


def _csrf_mac(key: bytes, cookie: str) -> str:
    return hmac.new(key, f"csrf:{cookie}".encode("ascii", "replace"), hashlib.sha256).hexdigest()[:32]
