"""A reader's preferences page on ``digest serve``: ``GET/POST /preferences/TOKEN``.

Every edition's footer links here (beside unsubscribe) with a signed per-reader, per-list token. The page
chooses topics (the sources' tags; none means everything), every edition or once a week, a pause of 1 to 8
weeks, their timezone (when their morning is, for a list with a send time), the name mails greet them with, or
leaving. Each change goes through :mod:`digest.consent`, which
records it (what, when, how) and applies it from the next edition. The form carries a CSRF token.
"""

from __future__ import annotations

import functools
import zoneinfo
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest import consent, signup, tokens
from digest.config import Config
from digest.errors import DigestError, NotFoundError
from digest.i18n import messages
from digest.models import MailingList, Subscriber
from digest.store import Store
from digest.web.common import (
    DEFAULT,
    csrf_ok,
    csrf_pair,
    message_page,
    named,
    open_store,
    render_page,
    say,
    set_csrf_cookie,
    site_language,
)

MAX_BODY = 16_384


@functools.cache
def _zones() -> tuple[str, ...]:
    """The IANA zones the timezone choice offers (the system's database), sorted; read once per process."""
    names = zoneinfo.available_timezones()
    return tuple(sorted(z for z in names if "/" in z and not z.startswith(("Etc/", "SystemV/")))) or ("UTC",)


def _offered(zone: str) -> tuple[str, ...]:
    """The zones to choose from, the reader's own first when the usual ones leave it out (``UTC``, ``Etc/...``):
    saving the page must never change a zone they did not touch."""
    zones = _zones()
    return zones if not zone or zone in zones else (zone, *zones)


def _found(store: Store, token: str) -> tuple[Subscriber, MailingList, str | None] | None:
    try:
        claims = tokens.verify(tokens.signing_key(store), token, "preferences")
    except tokens.BadToken:
        return None
    person = store.subscriber_by_id(claims.subscriber_id)
    try:
        lst = store.list_by_id(claims.list_id)
    except NotFoundError:
        return None
    if person is None:
        return None
    return person, lst, store.subscription(person.id, lst.id)


def routes(config: Config) -> list[BaseRoute]:
    secure = config.public_url.startswith("https:")

    def bad_link(lang: str) -> Response:
        title, text = say(lang, "web_bad_link_title"), say(lang, "web_prefs_bad_link")
        return message_page(config, 400, title, text, language=lang)

    def _site_lang() -> str:
        with open_store(config) as store:
            return site_language(store, config)

    def show(request: Request, store: Store, person: Subscriber, lst: MailingList, *notes: str) -> Response:
        key = tokens.signing_key(store)
        form_token, cookie = csrf_pair(request, key)
        lang = lst.language or DEFAULT
        zone = str(person.attributes.get("timezone") or "")
        response = render_page(
            config,
            "web/preferences.html.j2",
            language=lang,
            title=say(lang, "web_prefs_title", list=named(lst.display_title)),
            paragraphs=notes,
            csrf=form_token,
            name=person.name,
            topics=signup.topics(store),
            chosen=list(person.attributes.get("topics") or []),
            frequency=person.attributes.get("frequency", "daily"),
            paused_until=store.paused_until(person.id, lst.id) or "",
            zones=_offered(zone),
            zone=zone,
            list_zone=lst.timezone or config.settings.timezone,
        )
        return set_csrf_cookie(response, cookie, secure)

    def page(request: Request) -> Response:
        with open_store(config) as store:
            found = _found(store, request.path_params["token"])
            if found is None:
                return bad_link(site_language(store, config))
            person, lst, status = found
            if status not in consent.ACTIVE:
                return left(lst)
            return show(request, store, person, lst)

    def left(lst: MailingList) -> Response:
        lang = lst.language or DEFAULT
        text = say(lang, "web_prefs_left", list=named(lst.display_title))
        return message_page(config, 200, say(lang, "web_unsubscribed_title"), text, language=lang)

    async def save(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                lang = _site_lang()
                title, text = say(lang, "web_too_much_title"), say(lang, "web_too_much")
                return message_page(config, 413, title, text, language=lang)
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

        def one(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        with open_store(config) as store:
            found = _found(store, request.path_params["token"])
            if found is None:
                return bad_link(site_language(store, config))
            person, lst, status = found
            lang = lst.language or DEFAULT
            if status not in consent.ACTIVE:
                return left(lst)
            if not csrf_ok(request, tokens.signing_key(store), one("csrf")):
                title, text = say(lang, "web_form_expired_title"), say(lang, "web_form_expired")
                return message_page(config, 403, title, text, language=lang)
            if one("action") == "leave":
                consent.leave_by_link(store, person.id, lst, via="preferences")
                return left(lst)
            offered = set(signup.topics(store))
            pause = one("pause")
            try:
                from digest.subscribers import clean_name

                changed = consent.set_preferences(
                    store,
                    person,
                    lst,
                    name=clean_name(one("name")),
                    topics=[t for t in form.get("topic", []) if t in offered],
                    frequency=one("frequency") or None,
                    pause_weeks=int(pause) if pause.isdigit() else None,
                    timezone=one("timezone") if "timezone" in form else None,
                    via="preferences",
                )
            except DigestError as exc:
                return show(request, store, person, lst, str(exc))
            person = store.subscriber_by_id(person.id) or person
            note = messages(lang)["web_saved" if changed else "web_unchanged"]
            return show(request, store, person, lst, note)

    return [
        Route("/preferences/{token}", page, methods=["GET"]),
        Route("/preferences/{token}", save, methods=["POST"]),
    ]
