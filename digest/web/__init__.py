"""The web app that ``digest serve`` and ``digest preview`` run (Starlette on uvicorn).

Each concern keeps its routes in its own module: ``unsubscribe`` (unsubscribe and confirmation
pages, RFC 8058 one-click), ``webhooks`` (provider events), ``archive`` (past editions) and,
for ``digest preview`` only, ``preview``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


def create_app(config: Config, *, preview: bool = False) -> Starlette:
    from digest.web import archive, unsubscribe, webhooks

    routes: list[BaseRoute] = [*unsubscribe.routes(config), *webhooks.routes(config), *archive.routes(config)]
    if preview:
        from digest.web import preview as preview_routes

        routes = [*preview_routes.routes(config), *routes]
    return Starlette(routes=routes)


def serve(config: Config, host: str, port: int, *, preview: bool = False) -> None:
    import uvicorn

    uvicorn.run(create_app(config, preview=preview), host=host, port=port, log_level="info",
                server_header=False)
