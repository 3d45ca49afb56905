"""The preview command: the editor's desk in a browser (the edition, its stories and their actions), live-reloading."""

from __future__ import annotations

import sys
import threading
import webbrowser
from urllib.parse import urlencode

import typer

from digest.cli.common import out_json, say, state


def preview(
    ctx: typer.Context,
    port: int = typer.Option(8001, "--port", help="Port (0 picks a free one)."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; anything but 127.0.0.1 needs DIGEST_DESK_PASSWORD."
    ),
    open_browser: bool = typer.Option(False, "--open", help="Open the desk in your web browser."),
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    json_out: bool = typer.Option(False, "--json", help='Print {"url": ...} once the desk answers.'),
) -> None:
    """Serve the editor's desk on 127.0.0.1 for a browser, live-reloading.

    One page shows the subject and preheader, the email in desktop (600 px) and mobile (375 px) frames,
    the plain-text part, each story's score in parts and the runners-up; the editor drops, swaps, moves,
    pins and edits stories, sends a test copy and approves the edition there. It reloads when a template or
    the store changes. Bound anywhere but the loopback address it asks for DIGEST_DESK_PASSWORD (basic auth).
    """
    from digest.web import desk_password, serve

    desk_password(host)  # refuse at once, in one line, when another address has no password
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

    serve(st.config, host, port, preview=True, ready=ready)


def register(app: typer.Typer) -> None:
    app.command()(preview)
