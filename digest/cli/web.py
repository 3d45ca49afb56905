"""Commands that run the web app: serve (and preview, in render)."""

from __future__ import annotations

import typer

from digest.cli.common import say, state
from digest.web import serve as serve_app


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Address to bind (default: [serve] host, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (default: [serve] port, 8000)."),
) -> None:
    """Serve unsubscribe pages, one-click unsubscribe, provider webhooks and the web archive."""
    st = state(ctx)
    settings = st.config.settings.serve
    st.store  # noqa: B018 - fail early, with a clear line, when the home is not initialised
    say(f"Serving on http://{host or settings.host}:{port or settings.port} (Ctrl-C to stop)")
    serve_app(st.config, host or settings.host, port or settings.port)
