"""Helpers for the collect tests: a real HTTP server on 127.0.0.1 serving feeds, and small feed builders."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from digest.store import Store


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # for redirects
    hang: bool = False  # accept the request, then never answer (until the server stops)
    trickle: float = 0.0  # send the body one 64-byte chunk per this many seconds
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    port: int = 0  # the client's port: one per TCP connection


class FeedServer:
    """A threading HTTP server on 127.0.0.1 with settable routes; it records every request."""

    def __init__(self, keep_alive: bool = False) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps connections open between requests (plain answers only: no hang or trickle routes)
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                route = server.routes.get(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if route is None:
                    status = 404
                elif route.trickle:
                    server.hits.append(Hit(self.path, headers, 200))
                    self.send_response(200)
                    self.send_header("Content-Type", route.content_type)
                    self.end_headers()
                    for i in range(0, len(route.body), 64):
                        if server.stop.wait(route.trickle):
                            return
                        try:
                            self.wfile.write(route.body[i : i + 64])
                            self.wfile.flush()
                        except OSError:  # the client gave up
                            return
                    return
                elif route.hang:
                    server.hits.append(Hit(self.path, headers, 0))
                    server.stop.wait(10)  # bounded: the client's timeout is far shorter
                    return
                elif route.status == 200 and (
                    (route.etag and headers.get("if-none-match") == route.etag)
                    or (route.last_modified and headers.get("if-modified-since") == route.last_modified)
                ):
                    status = 304
                else:
                    status = route.status
                server.hits.append(Hit(self.path, headers, status, self.client_address[1]))
                self.send_response(status)
                body = route.body if route and status == 200 else b""
                if route and status == 500:
                    body = b"internal error"
                if route:
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    if route.last_modified:
                        self.send_header("Last-Modified", route.last_modified)
                    if route.location:
                        self.send_header("Location", route.location)
                    for k, v in route.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@contextmanager
def feed_server(keep_alive: bool = False) -> Iterator[FeedServer]:
    server = FeedServer(keep_alive)
    server.thread.start()
    try:
        yield server
    finally:
        server.close()


def http_date(ts: float = 1_700_000_000) -> str:
    return formatdate(ts, usegmt=True)


def rss(items: list[dict[str, str]], *, extra_ns: str = "", channel: str = "", encoding: str = "utf-8") -> str:
    """A small RSS 2.0 document; each item dict maps element names to raw XML content."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{v}</{k.split(' ')[0]}>" for k, v in item.items()) + "</item>" for item in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0" {extra_ns}><channel>'
        f"<title>Test feed</title><link>https://site.example/</link>{channel}{body}</channel></rss>"
    )


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def story_count(store: Store) -> int:
    """How many stories the store holds."""
    return int(store.scalar("SELECT count(*) FROM stories"))
