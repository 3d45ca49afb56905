"""The preview command: the edition in a browser, live-reloading."""

from __future__ import annotations

import sys
import threading
import webbrowser
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import typer

from digest.cli.common import out_json, say, state

if TYPE_CHECKING:
    pass


def preview(
    ctx: typer.Context,
    port: int = typer.Option(8001, "--port", help="Port on 127.0.0.1."),
    open_browser: bool = typer.Option(False, "--open", help="Open the preview in your web browser."),
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    json_out: bool = typer.Option(False, "--json", help='Print {"url": ...} once the preview answers.'),
) -> None:
    """Serve the edition on 127.0.0.1 for a browser, live-reloading.

    One page shows the subject and preheader, the email in desktop (600 px) and mobile (375 px) frames,
    the plain-text part and why each story was picked; it reloads when a template or the store changes.
    """
    from digest.web import serve

    st = state(ctx)
    st.store  # noqa: B018 - fail early, with a clear line, when the home is not initialised
    query = urlencode({k: v for k, v in (("list", list_name), ("date", date)) if v})

    def ready(base: str) -> None:  # the socket is bound: the real port is known and the page will answer
        url = f"{base}/" + (f"?{query}" if query else "")
        if json_out:
            out_json({"url": url})
            sys.stdout.flush()
        say(f"Previewing on {url} (Ctrl-C to stop)")
        if open_browser:
            threading.Timer(1.0, webbrowser.open, args=(url,)).start()

    serve(st.config, "127.0.0.1", port, preview=True, ready=ready)


def register(app: typer.Typer) -> None:
    app.command()(preview)
