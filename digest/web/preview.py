"""``digest preview``: the editor's desk, for an editor's browser.

One page (``templates/web/desk.html.j2``) shows the subject and preheader, each picked story with its score as
a bar in parts, its source and who else covered it, the runners-up and why they lost, source health, the
HTML in a desktop (600 px) and a mobile (375 px) frame and the plain-text part. Its forms act on the edition
through :class:`digest.Newsletter` (drop, swap, move, pin, edit, subject and preheader, test copy, approve,
reset): each is a POST to ``/preview/act`` with a CSRF token (a double-submit cookie, as the reader's pages);
``desk.js`` sends it by fetch and puts the answered fragment in place, and without the script the answer is a
redirect back to the story. The page polls ``/preview/state`` (a hash of the template files' and the store's
modification stamps) and reloads itself when a template or the store changes from elsewhere; a template error
is shown in place of the edition.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest import tokens
from digest.config import Config
from digest.errors import DigestError
from digest.models import Draft, Edition, Rendered
from digest.newsletter import Newsletter
from digest.render import render_edition
from digest.render.templates import default_templates_dir, environment, render_template
from digest.send import web_values
from digest.store import Store
from digest.web import scorebar
from digest.web.common import csrf_ok, csrf_pair, open_store, set_csrf_cookie

POLL_MS = 800
MAX_BODY = 16_384
FRAGMENT_HEADER = "x-desk-fragment"  # desk.js asks for the desk's working part alone
ACTIONS = frozenset({"drop", "swap", "move", "pin", "edit", "edit_edition", "test", "approve", "reset"})


def version(config: Config) -> str:
    """A hash that changes when any template file or the store changes."""
    stamps: list[str] = []
    for base in (config.templates_dir, default_templates_dir()):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                stamps.append(_stamp(path))
    for path in (config.db_path, Path(f"{config.db_path}-wal"), config.toml_path):
        stamps.append(_stamp(path))
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


@dataclass
class Shown:
    """What the desk shows of one edition (or the error that stands in for it)."""

    edition: Edition | None = None
    draft: Draft | None = None
    rendered: Rendered | None = None
    error: str = ""


def _find(store: Store, config: Config, request: Request) -> int:
    query = request.query_params
    return Newsletter(store, config).edition(query.get("list"), query.get("date") or None, latest=True)


def _show(store: Store, config: Config, edition_id: int | None, request: Request) -> Shown:
    shown = Shown()
    try:
        if edition_id is None:
            edition_id = _find(store, config, request)
        shown.edition = store.edition(edition_id)
        shown.draft = Newsletter(store, config).draft(edition_id)
        shown.rendered = render_edition(store, config, edition_id)
    except DigestError as exc:
        shown.error = str(exc)
    return shown


def _context(
    store: Store, config: Config, request: Request, shown: Shown, csrf: str, notice: str = "", bad: bool = False
) -> dict[str, Any]:
    draft, edition = shown.draft, shown.edition
    text = ""
    if shown.rendered is not None and edition is not None:
        _, text = shown.rendered.fill(web_values(config, edition.id))
    bars: dict[int, scorebar.Bar] = {}
    test_to, lst = "", None
    if draft is not None:
        everyone = [*draft.stories, *draft.runners_up]
        top = scorebar.widest(s.score for s in everyone)
        bars = {s.story_id: scorebar.bar(s.parts, s.score, top) for s in everyone}
        lst = store.find_list(draft.list)
        test_to = (lst.reply_to or lst.from_email) if lst else ""
    query = f"?{request.url.query}" if request.url.query else ""
    return {
        "title": f"{edition.list} · {edition.date}" if edition else config.settings.name,
        "draft": draft,
        "rendered": shown.rendered,
        "error": shown.error,
        "text": text,
        "bars": bars,
        "parts": scorebar.PARTS,
        "health": Newsletter(store, config).source_health() if draft is not None else None,
        **_figures(store, config, draft),
        "csrf": csrf,
        "act": f"/preview/act{query}",
        "email_src": f"/preview/email.html{query}",
        "version": "",  # set once the store is closed (closing it may checkpoint the WAL: see _finish)
        "poll_ms": POLL_MS,
        "test_to": test_to,
        "editor": _editor(request),
        "notice": notice,
        "notice_kind": "bad" if bad else "ok",
    }


FIGURES = ("sent", "opened", "clicked", "link_clicks")
RECENT = 8  # editions of the list the desk charts


def _figures(store: Store, config: Config, draft: Draft | None) -> dict[str, Any]:
    """The list's latest editions' sends, opens and clicks as bars on one scale, and this edition's clicks per
    story (with ``[track] clicks``, or once any were counted)."""
    if draft is None:
        return {"figures": [], "figure_top": 0, "clicks": {}}
    news = Newsletter(store, config)
    recent = [row for row in news.edition_stats() if row.list == draft.list][-RECENT:]
    top = max((getattr(row, f) for row in recent for f in FIGURES), default=0)
    per_story = news.story_clicks(draft.edition)
    tracked = config.settings.track.clicks or any(c.clicks for c in per_story)
    return {
        "figures": [row for row in recent if row.sent or row.edition == draft.edition],
        "figure_top": top,
        "figure_names": FIGURES,
        "clicks": {c.story_id: c for c in per_story} if tracked else {},
    }


def _editor(request: Request) -> str:
    """Who approves: the basic-auth user name when the desk asks for a password, else 'desk'."""
    import base64
    import binascii

    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8", "replace").partition(":")[0]
        except (binascii.Error, ValueError):
            user = ""
        if user.strip():
            return user.strip()[:100]
    return "desk"


def _render(config: Config, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The page or fragment; call it after the request's store is closed, as the version it carries must be
    the one ``/preview/state`` answers next (the last connection's close checkpoints the WAL, a change of stamp)."""
    page = render_template(environment(config), template, context | {"version": version(config)})
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _act(nl: Newsletter, edition_id: int, action: str, one: Any) -> str:
    """Do one desk action; the line the desk shows after it (with what the library says it did besides)."""

    def story() -> int:
        return _int(one("story"), "story")

    def changed(given: str, now: str) -> str | None:  # a field the form sends back as it was is no edit
        return None if given == now else given

    said: str
    done: Draft | None = None
    if action == "drop":
        done, said = nl.drop_story(edition_id, story()), "Dropped the story."
    elif action == "swap":
        done = nl.swap_story(edition_id, story(), _int(one("runner_up"), "runner-up"))
        said = "Swapped in the runner-up."
    elif action == "move":
        direction = one("direction")
        if direction in ("up", "down"):
            done = nl.move_story(edition_id, story(), up=direction == "up")
        else:
            done = nl.move_story(edition_id, story(), to=_int(one("to"), "position"))
        said = "Moved the story."
    elif action == "pin":
        done, said = nl.pin_story(edition_id, story()), "Pinned the story: it stays in when the edition is rebuilt."
    elif action == "edit":
        current = nl.draft(edition_id).story(story())
        if current is None:
            raise DeskActionError("that story is no longer in the edition; reload the desk")
        title, blurb = changed(one("title"), current.title), changed(one("blurb"), current.blurb)
        if title is None and blurb is None:
            return "Nothing to save: the headline and blurb are as they were."
        done, said = nl.edit_story(edition_id, current.story_id, title=title, blurb=blurb), "Saved."
    elif action == "edit_edition":
        now = nl.draft(edition_id)
        subject, preheader = changed(one("subject"), now.subject), changed(one("preheader"), now.preheader)
        if subject is None and preheader is None:
            return "Nothing to save: the subject and preheader are as they were."
        done = nl.edit_edition(edition_id, subject=subject, preheader=preheader)
        said = "Saved the subject and preheader."
    elif action == "approve":
        done, said = nl.approve_edition(edition_id, by=one("by") or "desk", seen=one("seen") or None), "Approved."
    elif action == "reset":
        done, said = nl.reset_edition(edition_id), "Every change is undone."
    else:  # test
        to = one("to")
        report = nl.send_test(edition_id, to)
        if not report.sent:
            raise DeskActionError("the test copy did not go: " + ("; ".join(report.errors) or "the provider refused"))
        said = f"Sent a test copy to {to}."
    notes = [n[:1].upper() + n[1:] for n in (done.notes if done else ())]
    return " ".join([said, *(n if n.endswith(".") else n + "." for n in notes)])


class DeskActionError(DigestError):
    """A desk form that cannot be acted on as sent."""


_DIGITS = re.compile(r"[0-9]{1,18}")


def _int(value: str, what: str) -> int:
    if not _DIGITS.fullmatch(value):  # not str.isdigit: '²' is a digit to it, and int() refuses it
        raise DeskActionError(f"no {what} was chosen; pick one on the desk")
    return int(value)


def routes(config: Config) -> list[BaseRoute]:
    def page(request: Request) -> Response:
        with open_store(config) as store:
            token, cookie = csrf_pair(request, tokens.signing_key(store))
            shown = _show(store, config, None, request)
            context = _context(store, config, request, shown, token)
        response = _render(config, "web/desk.html.j2", context)
        return set_csrf_cookie(response, cookie, request.url.scheme == "https")

    async def act(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response("the form is too large\n", status_code=413, media_type="text/plain")
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

        def one(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        fragment = request.headers.get(FRAGMENT_HEADER) == "1"
        with open_store(config) as store:
            token, cookie = csrf_pair(request, tokens.signing_key(store))
            edition_id = int(one("edition")) if _DIGITS.fullmatch(one("edition")) else None
            status, notice, bad = 200, "", False
            if not csrf_ok(request, tokens.signing_key(store), one("csrf")):
                status, notice, bad = 403, "This page had expired; it is fresh now: do that again.", True
            elif one("action") not in ACTIONS:
                status, notice, bad = 400, f"unknown action {one('action')!r}", True
            elif edition_id is None:
                status, notice, bad = 400, "the form named no edition; reload the desk", True
            else:
                try:
                    notice = _act(Newsletter(store, config), edition_id, one("action"), one)
                except DigestError as exc:
                    status, notice, bad = 400, str(exc), True
            if not fragment and status == 200:
                story = one("story")
                anchor = f"#story-{story}" if _DIGITS.fullmatch(story) and one("action") != "drop" else ""
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"/{query}{anchor}", status_code=303)
            shown = _show(store, config, edition_id, request)
            context = _context(store, config, request, shown, token, notice, bad)
        template = "web/desk_panel.html.j2" if fragment else "web/desk.html.j2"
        response = _render(config, template, context, status)
        return set_csrf_cookie(response, cookie, request.url.scheme == "https")

    def email(request: Request) -> Response:
        with open_store(config) as store:
            try:
                edition_id = _find(store, config, request)
                rendered = render_edition(store, config, edition_id)
            except DigestError as exc:
                return HTMLResponse(f"<!doctype html><meta charset='utf-8'><pre>{html.escape(str(exc))}</pre>", 404)
            page, _ = rendered.fill(web_values(config, edition_id))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    def state(request: Request) -> Response:
        return JSONResponse({"version": version(config)}, headers={"Cache-Control": "no-store"})

    def asset(name: str, media_type: str) -> Route:
        def serve(request: Request) -> Response:
            return Response(_asset(name), media_type=media_type, headers={"Cache-Control": "no-cache"})

        return Route(f"/preview/{name}", serve, methods=["GET"])

    return [
        Route("/", page, methods=["GET"]),
        Route("/preview", page, methods=["GET"]),
        Route("/preview/act", act, methods=["POST"]),
        Route("/preview/email.html", email, methods=["GET"]),
        Route("/preview/state", state, methods=["GET"]),
        asset("desk.js", "text/javascript"),
        asset("desk.css", "text/css"),
    ]


def _asset(name: str) -> bytes:
    """A file of the desk's own (script, style), shipped beside its templates; not overridable by a home."""
    return (default_templates_dir() / "web" / name).read_bytes()


__all__ = ["routes", "version"]
