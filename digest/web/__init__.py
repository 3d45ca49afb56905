"""The web app that ``digest serve`` and ``digest preview`` run (Starlette on uvicorn).

Each concern keeps its routes in its own module: ``unsubscribe`` (unsubscribe and confirmation
pages, RFC 8058 one-click), ``webhooks`` (provider events), ``archive`` (past editions) and,
for ``digest preview`` only, ``preview``.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from digest.config import Config
from digest.store import Store


@contextmanager
def open_store(config: Config) -> Iterator[Store]:
    """One store connection per request (SQLite connections are cheap; threads never share one)."""
    store = Store(config.db_path, create=False)
    try:
        yield store
    finally:
        store.close()


_TOKEN_PATH = re.compile(r"/(unsubscribe|confirm)/[^/?#\s\"]+")


class RedactTokens(logging.Filter):
    """Replace the token of ``/unsubscribe/<token>`` and ``/confirm/<token>`` in a log line with '…'.

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
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config


def create_app(config: Config, *, preview: bool = False) -> Starlette:
    """The app; for serving (not preview) it refuses to start when sent links need a DIGEST_SECRET not set."""
    from digest import tokens
    from digest.web import archive, unsubscribe, webhooks

    if not preview:
        with open_store(config) as store:
            tokens.check_serving_key(store)

    routes: list[BaseRoute] = [*unsubscribe.routes(config), *webhooks.routes(config), *archive.routes(config)]
    if preview:
        from digest.web import preview as preview_routes

        routes = [*preview_routes.routes(config), *routes]
    return Starlette(routes=routes)


def serve(config: Config, host: str, port: int, *, preview: bool = False) -> None:
    import uvicorn

    uvicorn.run(create_app(config, preview=preview), host=host, port=port, log_level="info",
                log_config=log_config(), server_header=False)
