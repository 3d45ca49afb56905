"""What every answer of the web app gets: security headers, redirects from public_url, 404s for any edition id,
and time limits on idle connections and slow bodies (issue 14, finding 7 of the campaign, "Servers")."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.testclient import TestClient

from digest.config import load
from digest.web import create_app, guard

PUBLIC = "https://news.example.org/digest"


@pytest.fixture
def app(initialised: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIGEST_PUBLIC_URL", PUBLIC)
    return create_app(load(initialised))


def test_every_page_carries_the_security_headers(app, initialised: Path) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    answers = [
        client.get("/editions"),
        client.get("/editions/1"),
        client.get("/editions/99999999999999999999999999"),
        client.get("/unsubscribe/not-a-token"),
        client.get("/confirm/not-a-token"),
        client.get("/lists/main/"),
        client.get("/nowhere"),
        client.post("/webhooks/sendgrid", content=b"[]"),
    ]
    for answer in answers:
        h = answer.headers
        where = f"{answer.request.method} {answer.request.url.path} ({answer.status_code})"
        assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), where
        assert (h.get("x-frame-options"), h.get("x-content-type-options")) == ("DENY", "nosniff"), where
        assert h.get("referrer-policy") == "no-referrer", where
    assert answers[2].status_code == 404  # beyond SQLite's integers: no such edition, not a 500
    # the unsubscribe page keeps its own stricter policy, with frame-ancestors added
    assert answers[3].headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")


def test_preview_may_frame_its_own_pages_only(initialised: Path) -> None:
    client = TestClient(create_app(load(initialised), preview=True), base_url="http://127.0.0.1")
    h = client.get("/editions").headers
    assert "frame-ancestors 'self'" in h["content-security-policy"] and h["x-frame-options"] == "SAMEORIGIN"


def test_trailing_slash_redirects_follow_public_url_not_the_host_header(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    answer = client.get("/lists/main?x=1", headers={"Host": "evil.example"})
    assert answer.status_code == 308 and answer.headers["location"] == f"{PUBLIC}/lists/main/?x=1"
    answer = client.get("/editions/", headers={"Host": "evil.example"})
    assert answer.status_code == 308 and answer.headers["location"] == f"{PUBLIC}/editions"


@pytest.fixture
def served(initialised: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(guard, "BODY_TIMEOUT_S", 0.5)
    monkeypatch.setenv("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY", "a key: the body is read before it is checked")
    config = uvicorn.Config(
        create_app(load(initialised)),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        http=guard.idle_timeout_protocol(0.5),
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield "127.0.0.1", srv.servers[0].sockets[0].getsockname()[1]
    finally:
        srv.should_exit = True
        thread.join(10)


def closed_within(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    got = b""
    while True:
        chunk = sock.recv(4096)  # socket.timeout (a failure) if the server keeps it open
        if not chunk:
            return got
        got += chunk


def test_idle_connections_and_slow_headers_are_closed(served: tuple[str, int]) -> None:
    with socket.create_connection(served) as idle:
        assert closed_within(idle, 5) == b""
    with socket.create_connection(served) as slow:
        slow.sendall(b"GET /editions HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        assert closed_within(slow, 5) == b""


def test_a_body_that_trickles_in_is_cut_off_with_408(served: tuple[str, int]) -> None:
    with socket.create_connection(served) as conn:
        conn.sendall(
            b"POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n[{"
        )
        started = time.monotonic()
        answer = closed_within(conn, 5)
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 4
