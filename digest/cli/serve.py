"""The serve command: the web app (unsubscribe, confirm, webhooks, archive)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from digest.cli.common import out_json, say, state

if TYPE_CHECKING:
    pass


def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Address to bind (default: [serve] host, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (default: [serve] port, 8000; 0 picks a free one)."),
    json_out: bool = typer.Option(False, "--json", help='Print {"url": ...} once the server answers.'),
) -> None:
    """Serve unsubscribe and confirmation pages, one-click unsubscribe, provider webhooks and the web archive.

    Binds 127.0.0.1 unless told otherwise; set public_url (or DIGEST_PUBLIC_URL) to the address people
    reach it at, since every email's unsubscribe and confirm links start with it.
    """
    from digest import tokens
    from digest.web import serve as serve_app

    st = state(ctx)
    settings = st.config.settings.serve
    tokens.check_serving_key(st.store)  # fails early, with a clear line, when the home is not initialised too
    bind = host or settings.host
    chosen = settings.port if port is None else port
    if bind not in ("127.0.0.1", "localhost", "::1"):
        say(f"Note: binding {bind} makes these pages reachable from other machines; put a TLS proxy in front")

    def ready(url: str) -> None:
        if json_out:
            out_json({"url": url})
            sys.stdout.flush()
        say(f"Serving on {url} (Ctrl-C to stop)")

    serve_app(st.config, bind, chosen, ready=ready)


def register(app: typer.Typer) -> None:
    app.command()(serve)
