"""The web archive on ``digest serve``: ``/editions`` (index) and ``/editions/{id}`` (the web version).

``/editions/{id}`` is where every email's "View in your browser" link leads
(``f"{public_url}/editions/{id}"``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest.config import Config
from digest.errors import DigestError, NotFoundError
from digest.render.archive import edition_page, entries, index_page
from digest.send import web_values
from digest.web.common import open_store


def routes(config: Config) -> list[BaseRoute]:

    def values(edition_id: int) -> dict[str, str]:
        return web_values(config, edition_id)

    def index(request: Request) -> Response:
        with open_store(config) as store:
            page = index_page(config, entries(store), lambda r: f"/editions/{r['id']}")
        return HTMLResponse(page)

    def edition(request: Request) -> Response:
        try:
            edition_id = int(request.path_params["edition_id"])
        except ValueError:
            return _problem(404, "No such edition.")
        with open_store(config) as store:
            try:
                return HTMLResponse(edition_page(store, config, edition_id, values))
            except NotFoundError:
                return _problem(404, "No such edition.")
            except DigestError as exc:
                return _problem(500, f"This edition cannot be shown: {exc}")

    return [Route("/editions", index, methods=["GET"]), Route("/editions/{edition_id}", edition, methods=["GET"])]


def _problem(status: int, message: str) -> HTMLResponse:
    import html

    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(message)}</title><p>{html.escape(message)}</p>",
        status_code=status,
    )
