"""What every answer of ``digest serve`` and ``digest preview`` gets, whatever route made it.

* Security headers on every page: a Content-Security-Policy (``frame-ancestors`` included: nobody frames the
  unsubscribe or confirm button), ``X-Frame-Options``, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer`` (a signed link's token never leaks to a story's site). A route's own CSP is
  kept, with ``frame-ancestors`` added when it has none. Preview frames its own pages, so it allows ``'self'``.
* A request body that trickles in slower than ``BODY_TIMEOUT_S`` seconds between chunks, or takes longer than
  ``BODY_DEADLINE_S`` in all, is answered 408 and the connection closed (uvicorn times out idle keep-alive
  connections, not a slow body).
* Trailing-slash redirects are built from ``public_url``, never from the request's ``Host`` header (which anyone
  can set): Starlette's own would send a reader to whatever host the request named.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digest import urls

SERVE_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The desk's script is a file served by the app (no inline script); the email in its frames keeps inline styles.
PREVIEW_CSP = (
    "default-src 'self'; img-src https: http: data:; style-src 'self' 'unsafe-inline' https:; font-src https: data:;"
    " script-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'self'"
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


BODY_TIMEOUT_S = 10.0  # longest wait for the next chunk of a request body
BODY_DEADLINE_S = 30.0  # longest time for a whole request body


class BodyTimeout(Exception):
    pass


class Guard:
    """ASGI middleware: security headers on every answer, and a slow request body cut off (see the module)."""

    def __init__(self, app: ASGIApp, *, preview: bool = False) -> None:
        self.app = app
        self.csp = PREVIEW_CSP if preview else SERVE_CSP
        self.ancestors = "'self'" if preview else "'none'"
        self.frame_options = b"SAMEORIGIN" if preview else b"DENY"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, body_done = False, False
        deadline = time.monotonic() + BODY_DEADLINE_S

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # after the body, a wait is for the disconnect (a streaming answer): no limit
                return await receive()
            left = min(BODY_TIMEOUT_S, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                raise BodyTimeout from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": self._headers(list(message.get("headers", [])))}
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except BodyTimeout:
            if started:
                raise
            answer = Response("the request body came too slowly\n", status_code=408, media_type="text/plain")
            answer.headers["Connection"] = "close"
            await answer(scope, receive, guarded_send)

    def _headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        names = {k.lower() for k, _ in headers}
        out = []
        for k, v in headers:
            if k.lower() == b"content-security-policy" and b"frame-ancestors" not in v:
                v = v + f"; frame-ancestors {self.ancestors}".encode()
            out.append((k, v))
        if b"content-security-policy" not in names:
            out.append((b"content-security-policy", self.csp.encode()))
        defaults = (
            (b"x-frame-options", self.frame_options),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        )
        out.extend((k, v) for k, v in defaults if k not in names)
        return out


def is_loopback(host: str) -> bool:
    return host.strip().lower() in LOOPBACK_HOSTS


def _host_name(header: str) -> str:
    """The name in a Host header, port removed (``[::1]:8001`` is ``[::1]``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class DeskGate:
    """ASGI middleware for ``digest preview`` (the editor's desk, which changes editions).

    With a password (``DIGEST_DESK_PASSWORD``), every request needs it by HTTP basic auth (any user name).
    Without one the desk is bound to the loopback address, and a request must name a loopback host: a page
    elsewhere cannot reach it through DNS rebinding (its Host header would be its own name).
    """

    def __init__(self, app: ASGIApp, *, password: str | None = None) -> None:
        self.app = app
        self.password = password.encode() if password else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if self.password is None:
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if not is_loopback(host):
                answer = Response("the desk answers on 127.0.0.1 or localhost only\n", 421, media_type="text/plain")
                await answer(scope, receive, send)
                return
        elif not self._authorised(headers.get(b"authorization", b"")):
            answer = Response(
                "the desk needs its password (DIGEST_DESK_PASSWORD)\n",
                401,
                headers={"WWW-Authenticate": 'Basic realm="digest desk", charset="UTF-8"'},
                media_type="text/plain",
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, header: bytes) -> bool:
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic" or self.password is None:
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            return False
        _, _, given = decoded.partition(b":")
        return hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(self.password).digest())


def slash_redirects(routes: list[BaseRoute], public_url: str) -> list[BaseRoute]:
    """For each route, one answering its path with the trailing slash added or removed by redirecting (308) to
    the route's own path under ``public_url``."""

    def to(fix: Callable[[str], str]) -> Callable[[Request], Any]:
        async def redirect(request: Request) -> Response:
            target = urls.join(public_url, fix(request.scope["path"]).lstrip("/"))
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(target, status_code=308)

        return redirect

    out: list[BaseRoute] = []
    for route in routes:
        path = getattr(route, "path", "")
        if not isinstance(route, Route) or not path or path == "/":
            continue
        if path.endswith("/"):
            out.append(Route(path.rstrip("/"), to(lambda p: p + "/"), methods=["GET", "HEAD"]))
        else:
            out.append(Route(path + "/", to(lambda p: p.rstrip("/")), methods=["GET", "HEAD"]))
    return out


def idle_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request line and headers within
    ``seconds`` of connecting or of its previous request (uvicorn itself waits for them forever)."""
    # deliberate: uvicorn loads only when serving (create_app alone, as preview's tests use it, never needs it)
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class IdleTimeoutH11(H11Protocol):
        _headers_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._arm()
            super().data_received(data)

        def _arm(self) -> None:
            if self._headers_timer is None and self.conn.their_state is h11.IDLE:
                self._headers_timer = self.loop.call_later(seconds, self._too_slow)

        def _too_slow(self) -> None:
            self._headers_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # still no whole request: idle, or headers trickled in

        def connection_lost(self, exc: Exception | None) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None
            super().connection_lost(exc)

    return IdleTimeoutH11
