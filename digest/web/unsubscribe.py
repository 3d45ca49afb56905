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

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest import consent, signup, tokens, urls
from digest.config import Config
from digest.errors import NotFoundError
from digest.models import MailingList, Subscriber
from digest.store import Store
from digest.web.common import PAGE_HEADERS, message_page, open_store

_HEADERS = PAGE_HEADERS


def _page(config: Config, status: int, title: str, *paragraphs: str, button: str = "") -> HTMLResponse:
    return message_page(config, status, title, *paragraphs, button=button)


def _newsletter(config: Config, lst: MailingList) -> str:
    """What a reader calls it: the newsletter's name, with the list's short name as detail."""
    return f"{config.settings.name} (list {lst.name})"


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

    def bad_link() -> Response:
        return _page(
            config,
            400,
            "This link is not valid",
            "The link is incomplete or was changed. Use the unsubscribe link at the bottom of the"
            " latest email exactly as it came, or the unsubscribe button of your mail app.",
        )

    def howto(request: Request) -> Response:
        return _page(
            config,
            200,
            "Unsubscribe",
            "Every email we send ends with a personal unsubscribe link: open it from the latest"
            " issue in your inbox and press the button, or use the Unsubscribe button your mail app"
            " shows next to the sender. This copy on the web cannot tell who you are, so it has no"
            " such link.",
        )

    def unsubscribe_page(request: Request) -> Response:
        with open_store(config) as store:
            found = _claims(store, request.path_params["token"], "unsubscribe")
            if found is None:
                return bad_link()
            claims, person, lst = found
            if person is None or lst is None:
                return _page(config, 200, "You are not subscribed", "There is nothing to unsubscribe from.")
            status = store.subscription(claims.subscriber_id, claims.list_id)
        what = _newsletter(config, lst)
        if status not in consent.ACTIVE:
            return _page(config, 200, "You are unsubscribed", f"{_mask(person.email)} gets no more mail from {what}.")
        return _page(
            config,
            200,
            f"Unsubscribe from {what}?",
            f"Press the button to stop {what} mail to {_mask(person.email)}.",
            button="Unsubscribe",
        )

    async def unsubscribe_post(request: Request) -> Response:
        one_click = await _one_click(request)
        with open_store(config) as store:
            found = _claims(store, request.path_params["token"], "unsubscribe")
            if found is None:
                return bad_link()
            claims, person, lst = found
            if person is not None and lst is not None:
                consent.leave_by_link(store, claims.subscriber_id, lst, via="one-click" if one_click else "page")
        if one_click:
            return Response("unsubscribed\n", media_type="text/plain", headers=_HEADERS)
        return _page(
            config,
            200,
            "You are unsubscribed",
            "You will get no more mail from this list. If that was a mistake, sign up again on our site.",
        )

    def confirm_page(request: Request) -> Response:
        with open_store(config) as store:
            found = signup.read_confirmation(store, config, request.path_params["token"])
        if found is None:
            return bad_link()
        if found.person is None or found.list is None or found.status is None:
            return _page(config, 200, "Nothing to confirm", "This subscription no longer exists.")
        what = _newsletter(config, found.list)
        if found.status == "confirmed":
            return _page(config, 200, "Subscription confirmed", f"You are on {what}.")
        if found.expired:
            return expired()
        if found.status != "unconfirmed" and found.issued is None:
            return _page(config, 200, "Nothing to confirm", "This address has left the list.")
        return _page(
            config,
            200,
            f"Confirm your subscription to {what}",
            f"Press the button to start getting {what} at {_mask(found.person.email)}.",
            button="Confirm subscription",
        )

    async def confirm_post(request: Request) -> Response:
        with open_store(config) as store:
            found = signup.read_confirmation(store, config, request.path_params["token"])
            if found is None:
                return bad_link()
            if found.person is None or found.list is None:
                return _page(config, 200, "Nothing to confirm", "This subscription no longer exists.")
            if found.expired and found.status != "confirmed":
                return expired()
            signup.confirm(store, config, found)
            status = store.subscription(found.person.id, found.list.id)
        if status == "confirmed":
            return _page(config, 200, "Subscription confirmed", f"Welcome to {_newsletter(config, found.list)}.")
        return _page(
            config,
            200,
            "Nothing to confirm",
            "This address has left the list since this link was sent. To come back, sign up again"
            f" at {urls.signup(config.public_url)}.",
        )

    def expired() -> Response:
        return _page(
            config,
            410,
            "This link has expired",
            f"Confirmation links work for {config.settings.web.confirm_days} days. Sign up again at"
            f" {urls.signup(config.public_url)} and use the link of the new mail.",
        )

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
