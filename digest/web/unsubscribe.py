"""Unsubscribe and double opt-in confirmation pages on ``digest serve``.

``GET /unsubscribe/{token}`` and ``GET /confirm/{token}`` only show a page with a button: link scanners
and mail-client previews fetch links, and must change nothing. ``POST`` to the same address acts at
once; that includes RFC 8058 one-click unsubscribe, where the mail client POSTs the form body
``List-Unsubscribe=One-Click`` with no page shown. A forged, altered or cut token gets 400 and changes
nothing. Both actions are idempotent. ``GET /unsubscribe`` (no token, the web copy's footer link)
says how to unsubscribe.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest import consent, signup, tokens, urls
from digest.config import Config
from digest.errors import NotFoundError
from digest.i18n import messages
from digest.models import MailingList, Subscriber
from digest.store import Store
from digest.web.common import DEFAULT, PAGE_HEADERS, message_page, named, open_store, say, site_language

_HEADERS = PAGE_HEADERS


def _page(
    config: Config, status: int, lang: str, key: str, *paragraphs: str, button: str = "", **f: object
) -> HTMLResponse:
    """A page in ``lang`` titled by label ``key`` (filled with ``f``); paragraphs already in that language."""
    return message_page(config, status, say(lang, key, **f), *paragraphs, button=button, language=lang)


def _lang(lst: MailingList | None) -> str:
    return (lst.language if lst is not None else "") or DEFAULT


def _newsletter(config: Config, lst: MailingList) -> Markup:
    """What a reader calls it: the newsletter's name, with the list's title (never its internal name) as detail."""
    return say(_lang(lst), "web_newsletter", newsletter=named(config.settings.name), list=named(lst.display_title))


def _mask(email: str) -> str:
    """a•••@example.com: enough for the reader to recognise, not a full address on a shared screen."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}\u2022\u2022\u2022@{domain}"


def _claims(
    store: Store, token: str, purpose: str
) -> tuple[tokens.TokenClaims, Subscriber | None, MailingList | None] | None:
    try:
        claims = tokens.verify(tokens.signing_key(store), token, purpose)
    except tokens.BadToken:
        return None
    person = store.subscriber_by_id(claims.subscriber_id)
    try:
        lst = store.list_by_id(claims.list_id)
    except NotFoundError:
        lst = None
    return claims, person, lst


def routes(config: Config) -> list[BaseRoute]:

    def bad_link(lang: str = DEFAULT) -> Response:
        return _page(config, 400, lang, "web_bad_link_title", say(lang, "web_bad_link"))

    def howto(request: Request) -> Response:
        lang = _site_lang()
        return _page(config, 200, lang, "unsubscribe", say(lang, "web_unsubscribe_howto"))

    def _site_lang() -> str:
        with open_store(config) as store:
            return site_language(store, config)

    def unsubscribe_page(request: Request) -> Response:
        with open_store(config) as store:
            found = _claims(store, request.path_params["token"], "unsubscribe")
            if found is None:
                return bad_link(site_language(store, config))
            claims, person, lst = found
            if person is None or lst is None:
                lang = _lang(lst)
                return _page(config, 200, lang, "web_not_subscribed_title", say(lang, "web_not_subscribed"))
            status = store.subscription(claims.subscriber_id, claims.list_id)
        lang, what, email = _lang(lst), _newsletter(config, lst), named(_mask(person.email))
        if status not in consent.ACTIVE:
            return _page(
                config, 200, lang, "web_unsubscribed_title", say(lang, "web_unsubscribed_who", email=email, what=what)
            )
        return _page(
            config,
            200,
            lang,
            "web_unsubscribe_ask_title",
            say(lang, "web_unsubscribe_ask", what=what, email=email),
            button=messages(lang)["unsubscribe"],
            what=what,
        )

    async def unsubscribe_post(request: Request) -> Response:
        one_click = await _one_click(request)
        with open_store(config) as store:
            found = _claims(store, request.path_params["token"], "unsubscribe")
            if found is None:
                return bad_link(site_language(store, config))
            claims, person, lst = found
            if person is not None and lst is not None:
                consent.leave_by_link(store, claims.subscriber_id, lst, via="one-click" if one_click else "page")
        if one_click:
            return Response("unsubscribed\n", media_type="text/plain", headers=_HEADERS)
        lang = _lang(lst)
        return _page(config, 200, lang, "web_unsubscribed_title", say(lang, "web_unsubscribed_done"))

    def confirm_page(request: Request) -> Response:
        with open_store(config) as store:
            found = signup.read_confirmation(store, config, request.path_params["token"])
        if found is None:
            return bad_link(_site_lang())
        lang = _lang(found.list)
        if found.person is None or found.list is None or found.status is None:
            return _page(config, 200, lang, "web_nothing_to_confirm_title", say(lang, "web_subscription_gone"))
        what = _newsletter(config, found.list)
        if found.status == "confirmed":
            return _page(config, 200, lang, "web_confirmed_title", say(lang, "web_confirmed_on", what=what))
        if found.expired:
            return expired(lang)
        if found.status != "unconfirmed" and found.issued is None:
            return _page(config, 200, lang, "web_nothing_to_confirm_title", say(lang, "web_left_list"))
        return _page(
            config,
            200,
            lang,
            "web_confirm_ask_title",
            say(lang, "web_confirm_ask", what=what, email=named(_mask(found.person.email))),
            button=messages(lang)["web_confirm_button"],
            what=what,
        )

    async def confirm_post(request: Request) -> Response:
        with open_store(config) as store:
            found = signup.read_confirmation(store, config, request.path_params["token"])
            if found is None:
                return bad_link(site_language(store, config))
            lang = _lang(found.list)
            if found.person is None or found.list is None:
                return _page(config, 200, lang, "web_nothing_to_confirm_title", say(lang, "web_subscription_gone"))
            if found.expired and found.status != "confirmed":
                return expired(lang)
            signup.confirm(store, config, found)
            status = store.subscription(found.person.id, found.list.id)
        if status == "confirmed":
            what = _newsletter(config, found.list)
            return _page(config, 200, lang, "web_confirmed_title", say(lang, "web_welcome", what=what))
        url = named(urls.signup(config.public_url))
        return _page(config, 200, lang, "web_nothing_to_confirm_title", say(lang, "web_left_since", url=url))

    def expired(lang: str) -> Response:
        days, url = config.settings.web.confirm_days, named(urls.signup(config.public_url))
        return _page(config, 410, lang, "web_expired_title", say(lang, "web_expired", days=days, url=url))

    return [
        Route("/unsubscribe", howto, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_post, methods=["POST"]),
        Route("/confirm/{token}", confirm_page, methods=["GET"]),
        Route("/confirm/{token}", confirm_post, methods=["POST"]),
    ]


async def _one_click(request: Request, limit: int = 65_536) -> bool:
    """Whether the POST carries RFC 8058's ``List-Unsubscribe=One-Click``.

    RFC 8058 says clients SHOULD send it as multipart/form-data and MAY send it form-encoded; both are
    understood. Only the reply's form depends on it: any valid POST unsubscribes. At most ``limit``
    bytes of body are read.
    """
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return b'name="List-Unsubscribe"' in body and b"One-Click" in body
    return parse_qs(body[:limit].decode("latin-1")).get("List-Unsubscribe") == ["One-Click"]
