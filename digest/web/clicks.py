"""Tracked story links (``[track] clicks``): ``/c/{token}`` counts one click and redirects to the story.

The token names an edition and one of its stories (:func:`digest.tokens.sign_click`), never the destination:
the URL is looked up in the edition, so an unsigned or altered link is refused, never followed (no open
redirect). Counts are per story and edition, with no reader or address attached. ``HEAD`` (link checkers,
previews) redirects without counting.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest import clock, tokens, urls
from digest.config import Config
from digest.i18n import messages
from digest.models import iso
from digest.web.common import message_page, open_store, site_language

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def routes(config: Config) -> list[BaseRoute]:
    def follow(request: Request) -> Response:
        with open_store(config) as store:
            try:
                edition_id, story_id = tokens.verify_click(tokens.signing_key(store), request.path_params["token"])
            except tokens.BadToken:
                return _refused(config, site_language(store, config))
            story = next((s for s in store.edition_stories(edition_id) if s.story_id == story_id), None)
            story = story or store.variant_story(edition_id, story_id)  # a variant's (readers' topics, weekly)
            if story is None:
                return _refused(config, site_language(store, config))
            if request.method == "GET":
                store.count_click(edition_id, story_id, iso(clock.now()))
        target = story.url or urls.story(config.public_url, story_id)
        return RedirectResponse(target, status_code=302, headers=HEADERS)

    return [Route("/" + urls.click_path("{token}"), follow, methods=["GET", "HEAD"])]


def _refused(config: Config, language: str) -> Response:
    t = messages(language)
    return message_page(config, 404, t["web_bad_link_title"], t["web_click_bad_link"], language=language)
