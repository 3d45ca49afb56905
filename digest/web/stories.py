"""A story's own page on ``digest serve``: ``/stories/{id}``.

A story with no URL of its own (a text file) links here from the email
(:func:`digest.urls.story`). Only stories of an edition that went to a reader are shown (on
``digest preview``, of any edition dated today or earlier); the body is sanitised again on the way out.
"""

from __future__ import annotations

import html

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest.collect.clean import sanitize_html
from digest.config import Config
from digest.errors import NotFoundError
from digest.i18n import messages
from digest.render.archive import site_language, today
from digest.render.templates import environment, render_template
from digest.web.common import open_store

NO_STORY = "No such story."
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # no script, no frames, no forms; pictures from the story's own sites
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; frame-ancestors 'none';"
        " base-uri 'none'; form-action 'none'"
    ),
}


def routes(config: Config, *, preview: bool = False) -> list[BaseRoute]:

    def story(request: Request) -> Response:
        try:
            story_id = int(request.path_params["story_id"])
        except ValueError:
            return _problem(404, NO_STORY)
        with open_store(config) as store:
            t = messages(site_language(store, config))
            if not store.story_in_edition(story_id, today(store, config), sent=not preview):
                return _problem(404, NO_STORY)
            try:
                row = store.story(story_id)
            except NotFoundError:
                return _problem(404, NO_STORY)
        body = row.body_html or "".join(f"<p>{html.escape(p)}</p>" for p in row.body_text.split("\n") if p.strip())
        context = {
            "newsletter": {"name": config.settings.name, "public_url": config.public_url},
            "story": {
                "title": row.title,
                "body_html": Markup(sanitize_html(body)),
                "summary": row.summary,
                "source": row.source,
                "author": row.author,
                "language": row.language,
                "published_at": row.published_at,
                "date_long": t.long_date(row.published_at[:10]),
            },
            "archive_href": "../editions",
            "t": t.strings,
            "lang": t.tag,
            "dir": t.direction,
        }
        page = render_template(environment(config), "story.html.j2", context)
        return HTMLResponse(page, headers=HEADERS)

    return [Route("/stories/{story_id}", story, methods=["GET"])]


def _problem(status: int, message: str) -> HTMLResponse:
    text = html.escape(message)
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{text}</title><p>{text}</p>", status_code=status, headers=HEADERS
    )
