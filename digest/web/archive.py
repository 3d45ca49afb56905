"""The web archive on ``digest serve``: ``/editions`` (every list), ``/editions/{id}`` (the web version),
``/lists/{name}/`` (one list) and ``/lists/{name}/feed.atom`` (its Atom feed).

Only editions that went to at least one reader are shown (:func:`digest.render.archive.entries`).
``/editions/{id}`` is where every email's "View in your browser" link leads
(:func:`digest.urls.edition`). Links between pages are relative, so a proxy that serves the app under a
sub-path of ``public_url`` needs no rewriting.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest.config import Config
from digest.errors import DigestError, NotFoundError
from digest.render.archive import archive_page, edition_page, entries, list_page, site_language, today
from digest.render.feed import atom_feed
from digest.send import web_values
from digest.web.common import open_store

NO_EDITION = "No such edition."


def routes(config: Config) -> list[BaseRoute]:

    def values(edition_id: int) -> dict[str, str]:
        return web_values(config, edition_id)

    def index(request: Request) -> Response:
        with open_store(config) as store:
            page = archive_page(config, entries(store, config), site_language(store, config))
        return HTMLResponse(page)

    def edition(request: Request) -> Response:
        try:
            edition_id = int(request.path_params["edition_id"])
        except ValueError:
            return _problem(404, NO_EDITION)
        if not 0 < edition_id < 2**63:  # beyond SQLite's integers: no such edition (was a 500)
            return _problem(404, NO_EDITION)
        with open_store(config) as store:
            if not store.is_published(edition_id, today(store, config)):
                return _problem(404, NO_EDITION)
            try:
                return HTMLResponse(edition_page(store, config, edition_id, values))
            except NotFoundError:
                return _problem(404, NO_EDITION)
            except DigestError as exc:
                return _problem(500, f"This edition cannot be shown: {exc}")

    def one_list(request: Request) -> Response:
        with open_store(config) as store:
            lst = store.find_list(request.path_params["name"])
            if lst is None:
                return _problem(404, "No such list.")
            page = list_page(config, lst, entries(store, config, lst.id))
        return HTMLResponse(page)

    def feed(request: Request) -> Response:
        with open_store(config) as store:
            lst = store.find_list(request.path_params["name"])
            if lst is None:
                return _problem(404, "No such list.")
            rows = entries(store, config, lst.id)
            try:
                body = atom_feed(config, lst, rows, lambda eid: edition_page(store, config, eid, values))
            except DigestError as exc:
                return _problem(500, f"This feed cannot be shown: {exc}")
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return [
        Route("/editions", index, methods=["GET"]),
        Route("/editions/{edition_id}", edition, methods=["GET"]),
        Route("/lists/{name}/", one_list, methods=["GET"]),
        Route("/lists/{name}/feed.atom", feed, methods=["GET"]),
    ]


def _problem(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(message)}</title><p>{html.escape(message)}</p>",
        status_code=status,
    )
