"""The signup page of ``digest serve``: ``GET /`` (the lists, a form, the archive) and ``POST /subscribe``.

``POST /subscribe`` takes ``email``, ``list`` (repeatable), optional ``name`` and ``topic`` (repeatable), as a
form or as JSON, and always answers the same "check your inbox", whatever the address's state: nobody can
learn from it who is subscribed. A filled honeypot field (``website``, hidden from people), a bad CSRF token
on a form, an invalid address or an unknown list change nothing; only a bad address or list is said, since
it is about what was typed, not about anyone's standing. Each IP address may sign up ``[web] per_ip`` times
an hour (429 after that); each address gets at most ``[web] per_address`` confirmation mails an hour per list.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from digest import clock, signup, tokens, urls
from digest.config import Config
from digest.errors import DigestError
from digest.i18n import messages
from digest.web.common import (
    PAGE_HEADERS,
    csrf_ok,
    csrf_pair,
    message_page,
    open_store,
    render_page,
    set_csrf_cookie,
    site_language,
)

log = logging.getLogger("digest.web.signup")

MAX_BODY = 16_384
CHECK_INBOX = ("web_check_inbox_title", "web_check_inbox")  # labels: digest/i18n/messages/*.toml


class RateLimit:
    """At most ``limit`` hits per key in a sliding hour (one process's memory: enough for one server)."""

    def __init__(self, limit: int, window: timedelta = timedelta(hours=1)) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque[datetime]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = clock.now()
        with self.lock:
            if len(self.hits) > 100_000:  # a flood of addresses: forget the idle ones
                self.hits = {k: v for k, v in self.hits.items() if v and now - v[-1] < self.window}
            seen = self.hits.setdefault(key, deque())
            while seen and now - seen[0] >= self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True


def routes(config: Config) -> list[BaseRoute]:
    per_ip = RateLimit(config.settings.web.per_ip)
    secure = config.public_url.startswith("https:")

    def home(request: Request) -> Response:
        with open_store(config) as store:
            lists = store.lists()
            offered = signup.topics(store)
            form_token, cookie = csrf_pair(request, tokens.signing_key(store))
            language = site_language(store, config)
        response = render_page(
            config,
            "web/signup.html.j2",
            language=language,
            title=config.settings.name,
            lists=lists,
            topics=offered,
            csrf=form_token,
            # a path from the root, not public_url: the form posts to whatever host served the page
            subscribe_url=f"{urls.sub_path(config.public_url)}/{urls.subscribe_path()}",
            archive_url=urls.archive(config.public_url),
        )
        return set_csrf_cookie(response, cookie, secure)

    async def subscribe(request: Request) -> Response:
        is_json = request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
        form = await _read(request, is_json)
        if form is None:
            return _answer(is_json, 400, "web_nothing_to_read_title", "web_nothing_to_read")
        if form["website"]:  # the honeypot: only robots fill a field people cannot see
            return _answer(is_json, 200, *CHECK_INBOX)
        with open_store(config) as store:
            if not is_json and not csrf_ok(request, tokens.signing_key(store), form["csrf"]):
                return _answer(is_json, 403, "web_form_expired_title", "web_signup_expired")
            ip = request.client.host if request.client else "?"
            if not per_ip.allow(ip):
                return _answer(is_json, 429, "web_too_many_title", "web_too_many")
            lists = form["list"] or [config.settings.default_list]
            try:
                signup.sign_up(
                    store, config, form["email"], lists, name=form["name"], topic_names=form["topic"], via="web"
                )
            except DigestError as exc:
                # what was typed (an address that is not one, a list that does not exist), never anyone's state
                return _answer(is_json, 400, "web_check_form_title", "", str(exc).split(";")[0] + ".")
            except Exception:  # a provider down: the same answer, the editor finds it in the log and the events
                log.exception("signup: the confirmation mail could not be sent")
        return _answer(is_json, 200, *CHECK_INBOX)

    def _answer(is_json: bool, status: int, title: str, text: str, detail: str = "") -> Response:
        """The reply in the newsletter's language: labels ``title`` and ``text``, or ``detail`` as it is."""
        with open_store(config) as store:
            words = messages(site_language(store, config))
        heading, body = words[title], detail or words[text]
        if is_json:
            return JSONResponse({"ok": status == 200, "message": body}, status_code=status, headers=PAGE_HEADERS)
        return message_page(config, status, heading, body, language=words.tag)

    return [
        Route("/", home, methods=["GET"]),
        Route("/subscribe", subscribe, methods=["POST"]),
    ]


async def _read(request: Request, is_json: bool) -> dict[str, Any] | None:
    """The fields of a form or JSON body (at most :data:`MAX_BODY` bytes): str fields and the two lists."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    fields: dict[str, Any] = {"email": "", "name": "", "website": "", "csrf": "", "list": [], "topic": []}
    if is_json:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        for key in ("email", "name", "website"):
            fields[key] = str(data.get(key) or "")
        for key in ("list", "topic"):
            value = data.get(key) or data.get(key + "s") or []
            fields[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return fields
    from urllib.parse import parse_qs

    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    for key in ("email", "name", "website", "csrf"):
        fields[key] = (parsed.get(key) or [""])[0]
    fields["list"] = [v for v in parsed.get("list", []) if v]
    fields["topic"] = [v for v in parsed.get("topic", []) if v]
    return fields
