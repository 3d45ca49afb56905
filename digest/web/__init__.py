"""The web app that ``digest serve`` and ``digest preview`` run (Starlette on uvicorn).

Each concern keeps its routes in its own module: ``signup`` (``/`` and ``/subscribe``), ``unsubscribe``
(unsubscribe and confirmation pages, RFC 8058 one-click), ``preferences`` (a reader's own choices),
``webhooks`` (provider events), ``archive`` (past editions), ``stories`` (a story's own page) and, for
``digest preview`` only, ``preview`` (which then has ``/`` instead of the signup page).
"""

from __future__ import annotations

import copy
import errno
import logging
import re
import socket
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from digest import tokens, urls
from digest.config import Config, secret
from digest.errors import ConfigError
from digest.web import archive, clicks, guard, preferences, signup, stories, unsubscribe, webhooks
from digest.web import preview as preview_routes
from digest.web.common import open_store

IDLE_TIMEOUT_S = 5
_TOKEN_PATH = re.compile(rf"/({'|'.join(tokens.PURPOSES)})/[^/?#\s\"]+")


class RedactTokens(logging.Filter):
    """Replace the token of ``/unsubscribe/<token>`` (and every signed link's) in a log line with '…'.

    A token is the person's power to unsubscribe (or confirm): it must not sit in an access log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/\u2026", text)


def log_config() -> dict[str, Any]:
    """uvicorn's logging set-up with :class:`RedactTokens` on the access logger."""
    from uvicorn.config import LOGGING_CONFIG  # uvicorn loads only to serve: create_app alone does without

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config


class SubPath:
    """Answer ``/news/editions`` as ``/editions`` when ``public_url`` is ``https://host/news``.

    A proxy may pass the sub-path on or strip it; either way the same routes answer.
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and (path == self.prefix or path.startswith(self.prefix + "/")):
            rest = path[len(self.prefix) :] or "/"
            scope = {**scope, "path": rest, "root_path": scope.get("root_path", "") + self.prefix}
        await self.app(scope, receive, send)


def create_app(
    config: Config, *, preview: bool = False, password: str | None = None, loopback_only: bool = False
) -> Starlette:
    """The app; for serving (not preview) it refuses to start when sent links need a DIGEST_SECRET not set.

    For the desk (``preview``), ``password`` asks every request for it (basic auth) and ``loopback_only``
    refuses requests naming another host (see :class:`guard.DeskGate`); ``serve`` sets one of them.
    """
    if not preview:
        with open_store(config) as store:
            tokens.check_serving_key(store)

    routes: list[BaseRoute] = [
        *unsubscribe.routes(config),
        *preferences.routes(config),
        *webhooks.routes(config),
        *archive.routes(config),
        *stories.routes(config, preview=preview),
        *clicks.routes(config),
    ]
    # preview has its own page at /
    routes = [*preview_routes.routes(config), *routes] if preview else [*signup.routes(config), *routes]
    routes += guard.slash_redirects(routes, config.public_url)
    prefix = urls.sub_path(config.public_url)
    middleware = [Middleware(guard.Guard, preview=preview)]
    if preview and (password or loopback_only):
        middleware.append(Middleware(guard.DeskGate, password=password))
    middleware += [Middleware(SubPath, prefix=prefix)] if prefix else []
    app = Starlette(routes=routes, middleware=middleware)
    app.router.redirect_slashes = False  # its redirects follow the Host header: guard.slash_redirects instead
    return app


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (0 picks a free port), or a :class:`DigestError` saying what to change."""
    if not 0 <= port <= 65535:
        raise ConfigError(
            f"port {port} is not a port number; pick one from 1 to 65535 (0 picks a free one) with --port"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on {host}: {exc.strerror}; give an address of this machine with --host"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # connections queue from now on, so the URL printed next already answers
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use; pick another with --port") from None
        raise ConfigError(
            f"cannot listen on port {port} of {host}: {exc.strerror}; pick another --port or --host"
        ) from None
    return sock


def url_of(sock: socket.socket) -> str:
    """http://host:port of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def desk_password(host: str) -> str | None:
    """``DIGEST_DESK_PASSWORD`` for the desk on ``host``: none needed on the loopback address, required elsewhere."""
    password = secret("DIGEST_DESK_PASSWORD")
    if password is None and not guard.is_loopback(host):
        raise ConfigError(
            f"DIGEST_DESK_PASSWORD is not set: the desk on {host} needs a password; export one, or bind 127.0.0.1"
        )
    return password


def serve(
    config: Config, host: str, port: int, *, preview: bool = False, ready: Callable[[str], None] | None = None
) -> None:
    """Bind host:port first (a busy port is one clear line), call ``ready`` with the real URL, then serve.

    The desk (``preview``) off the loopback address needs ``DIGEST_DESK_PASSWORD`` (:func:`desk_password`).
    uvicorn logs warnings and errors only; its access log (were it raised to info) has tokens redacted.
    """
    import uvicorn  # only to serve (see log_config)

    password = desk_password(host) if preview else None
    app = create_app(config, preview=preview, password=password, loopback_only=preview and password is None)
    sock = bind(host, port)
    try:
        if ready is not None:
            ready(url_of(sock))
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                log_config=log_config(),
                server_header=False,
                timeout_keep_alive=IDLE_TIMEOUT_S,  # an idle connection is closed
                http=guard.idle_timeout_protocol(IDLE_TIMEOUT_S),  # ...a new one, or slow headers, too
                h11_max_incomplete_event_size=64 * 1024,  # request line and headers: no more
            )
        )
        server.run(sockets=[sock])
    finally:
        sock.close()
