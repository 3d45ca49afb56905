"""``digest preview``: the edition as subscribers will see it, for an editor's browser.

One page shows the subject and preheader, the HTML in a desktop (600 px) and a mobile (375 px)
frame, the plain-text part, and why the ranking picked each story. The page polls
``/preview/state`` (a hash of the template files' and the store's modification stamps) and reloads
itself when a template or the store changes; a template error is shown in place of the edition.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from digest.config import Config
from digest.errors import DigestError
from digest.models import Edition, EditionStory, Rendered
from digest.newsletter import Newsletter
from digest.render import render_edition
from digest.render.templates import default_templates_dir
from digest.send import web_values
from digest.web.common import open_store

POLL_MS = 800

PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview · {{ title }}</title>
<style>
  body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
         margin: 0; background: #e5e7eb; color: #111827; }
  header { background: #111827; color: #f9fafb; padding: 14px 24px; }
  header h1 { font-size: 16px; margin: 0 0 6px; font-weight: 600; color: #9ca3af; }
  .subject { font-size: 20px; font-weight: 700; }
  .preheader { color: #d1d5db; margin-top: 4px; }
  main { padding: 20px 24px; }
  .frames { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
  figure { margin: 0; }
  figcaption { font-size: 13px; color: #4b5563; margin-bottom: 6px; }
  iframe { border: 1px solid #d1d5db; background: #fff; display: block; height: 900px; }
  #desktop { width: 600px; }
  #mobile { width: 375px; }
  section { margin-top: 28px; }
  h2 { font-size: 16px; margin: 0 0 8px; }
  pre { background: #fff; border: 1px solid #d1d5db; padding: 16px; white-space: pre-wrap; max-width: 80ch;
        font-size: 13px; }
  table { border-collapse: collapse; background: #fff; font-size: 14px; }
  th, td { border: 1px solid #d1d5db; padding: 6px 10px; text-align: left; vertical-align: top; }
  code { font-size: 12px; }
  .error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; padding: 16px; white-space: pre-wrap; }
</style>
</head>
<body data-version="{{ version }}" data-poll-ms="{{ poll_ms }}">
<header>
  <h1>digest preview · {{ title }} · reloads when a template or the store changes</h1>
  {% if rendered %}
  <div class="subject" id="subject">{{ rendered.subject }}</div>
  <div class="preheader" id="preheader">{{ rendered.preheader }}</div>
  {% endif %}
</header>
<main>
{% if error %}
  <div class="error" id="error">{{ error }}</div>
{% else %}
  <div class="frames">
    <figure><figcaption>Desktop · 600 px</figcaption>
      <iframe id="desktop" title="The edition at 600 px" src="{{ email_src }}"></iframe></figure>
    <figure><figcaption>Mobile · 375 px</figcaption>
      <iframe id="mobile" title="The edition at 375 px" src="{{ email_src }}"></iframe></figure>
  </div>
  <section>
    <h2>Why these stories</h2>
    <table id="why">
      <tr><th>#</th><th>Story</th><th>Score</th><th>Why</th></tr>
      {% for s in stories %}
      <tr><td>{{ s.rank }}</td><td>{{ s.title }}<br><code>{{ s.source or "" }}</code></td>
        <td>{{ "%.3f"|format(s.score or 0) }}</td>
        <td>{% for k, v in s.why.items() %}<code>{{ k }}</code> {{ v }}
          {%- if not loop.last %}<br>{% endif %}{% endfor %}</td></tr>
      {% endfor %}
    </table>
  </section>
  <section>
    <h2>Plain text</h2>
    <pre id="text">{{ text }}</pre>
  </section>
{% endif %}
</main>
<script src="/preview/desk.js" defer></script>
</body>
</html>
""")


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


def _edition(config: Config, request: Request) -> tuple[Edition | None, list[EditionStory], Rendered | None, str]:
    """(edition, stories, rendered, error) for the request's ?list= and ?date=."""

    try:
        with open_store(config) as store:
            query = request.query_params
            edition_id = Newsletter(store, config).edition(query.get("list"), query.get("date") or None, latest=True)
            edition = store.edition(edition_id)
            return edition, store.edition_stories(edition_id), render_edition(store, config, edition_id), ""
    except DigestError as exc:
        return None, [], None, str(exc)


def routes(config: Config) -> list[BaseRoute]:
    def page(request: Request) -> Response:
        edition, stories, rendered, error = _edition(config, request)
        text = ""
        if rendered is not None and edition is not None:
            _, text = rendered.fill(web_values(config, edition.id))
        title = f"{edition.list} · {edition.date}" if edition else config.settings.name
        query = f"?{request.url.query}" if request.url.query else ""
        return HTMLResponse(
            PAGE.render(
                title=title,
                rendered=rendered,
                error=error,
                stories=stories,
                text=text,
                email_src=f"/preview/email.html{query}",
                version=version(config),
                poll_ms=POLL_MS,
            ),
            headers={"Cache-Control": "no-store"},
        )

    def email(request: Request) -> Response:
        edition, _, rendered, error = _edition(config, request)
        if rendered is None or edition is None:
            return HTMLResponse(f"<!doctype html><meta charset='utf-8'><pre>{_escape(error)}</pre>", status_code=404)
        html, _ = rendered.fill(web_values(config, edition.id))
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def state(request: Request) -> Response:
        return JSONResponse({"version": version(config)}, headers={"Cache-Control": "no-store"})

    def script(request: Request) -> Response:
        return Response(_asset("desk.js"), media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    return [
        Route("/", page, methods=["GET"]),
        Route("/preview/desk.js", script, methods=["GET"]),
        Route("/preview", page, methods=["GET"]),
        Route("/preview/email.html", email, methods=["GET"]),
        Route("/preview/state", state, methods=["GET"]),
    ]


def _asset(name: str) -> bytes:
    """A file of the desk's own (script, style), shipped beside its templates; not overridable by a home."""
    return (default_templates_dir() / "web" / name).read_bytes()


def _escape(text: str) -> str:
    return html.escape(text)


__all__ = ["routes", "version"]
