"""Fixtures and helpers for the render and preview tests: a fixed, hand-made edition in a real store."""

from __future__ import annotations

import os
import socket
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.config import Config, load
from digest.models import Ranked, StoryIn, iso
from digest.store import Store
from tests.support import NOW, TESTS

CHROMIUM = Path("/usr/bin/chromium")
GOLDEN = TESTS / "render" / "golden"
ARTIFACTS = TESTS / "artifacts"
HOSTILE = """<script>alert("x")</script> Tom & Jerry's "best" <b>day</b>"""

STORIES: list[dict[str, Any]] = [
    {
        "title": "Wayfarer browser finally drops third-party cookies",
        "url": "https://circuit.example/wayfarer-cookies",
        "summary": "The browser now blocks cross-site cookies by default for all users, after two years of delays "
        "and a long opt-in trial.",
        "image_url": "https://img.example/wayfarer.png",
        "source": "The Circuit",
        "also": [
            {
                "story_id": 90,
                "title": "Wayfarer ends cookies",
                "url": "https://ledger.example/cookies",
                "source": "Harbor Ledger",
            },
            {"story_id": 91, "title": "Cookie rules change", "url": None, "source": "Open Lab Notes"},
        ],
    },
    {
        "title": "Startup unveils solid-state battery that charges in ten minutes",
        "url": "https://circuit.example/battery",
        "image_url": "https://img.example/battery.png",
        "summary": "Voltaic Labs says its pouch cell goes from 10 to 80 percent in ten minutes.",
        "source": "The Circuit",
        "also": [],
    },
    {
        "title": "Firmware bug makes wireless keyboards repeat keys after sleep",
        "url": "https://circuit.example/keyboards",
        "image_url": None,
        "summary": "Owners of several Keyfold models report stuck, repeating keys; a fix is due this week.",
        "source": "The Circuit",
        "also": [],
    },
    {
        "title": "Amateur astronomers discover a new comet from a suburban backyard",
        "url": "https://openlab.example/comet",
        "image_url": "https://img.example/comet.png",
        "summary": "A comet spotted by two hobbyists with a 30-centimeter telescope has been confirmed.",
        "source": "Open Lab Notes",
        "also": [
            {
                "story_id": 92,
                "title": "Backyard comet confirmed",
                "url": "https://ledger.example/comet",
                "source": "Harbor Ledger",
            }
        ],
    },
    {
        "title": "City council approves protected bike lanes downtown",
        "url": "https://ledger.example/bike-lanes",
        "image_url": "https://img.example/bikes.png",
        "summary": "After a four-hour meeting, the council voted 7-2 to build lanes on Front Street.",
        "source": "Harbor Ledger",
        "also": [],
    },
]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small, valid PNG of one colour with a diagonal gradient (no imaging library needed)."""
    rows = b"".join(
        b"\0"
        + bytes(
            c
            for x in range(width)
            for c in (min(255, rgb[0] + (x + y) * 60 // (width + height)), rgb[1], max(0, rgb[2] - (x * 40 // width)))
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Edition:
    config: Config
    store: Store
    edition_id: int
    list_id: int


def seed(
    store: Store,
    stories: list[dict[str, Any]],
    *,
    list_name: str = "golden",
    date: str = "2026-11-24",
    address: str = "Example Media, 1 Example Street, Springfield",
    config: Config | None = None,
) -> tuple[int, int]:
    """Store hand-made stories and freeze them, in this order, as the edition of a new list: (edition, list).

    With ``config`` the edition is rendered once, as ``digest build`` does (that writes its subject and preheader).
    """
    lst = store.find_list(list_name) or store.add_list(
        list_name, from_email="news@example.com", from_name="The Example Digest", address=address
    )
    sources: dict[str, int] = {}
    picked: list[Ranked] = []
    for i, s in enumerate(stories):
        name = s.get("source") or ""
        if name and name not in sources:
            existing = next((r for r in store.sources() if r.name == name), None)
            location = "https://" + "".join(c for c in name.lower() if c.isalnum())[:40] + ".example/feed"
            sources[name] = (existing or store.add_source(name, location)).id
        story = StoryIn(
            title=s["title"],
            url=s.get("url"),
            summary=s.get("summary", ""),
            image_url=s.get("image_url"),
            published_at=NOW - timedelta(hours=i + 1),
            language=s.get("language"),
        )
        identity = f"{list_name}-{date}-{i}-{s.get('url')}"
        store.upsert_stories(sources.get(name), [(identity, story)], now=NOW)
        story_id = store.scalar("SELECT id FROM stories WHERE identity = ?", (identity,))
        picked.append(
            Ranked(
                story_id=int(story_id),
                title=s["title"],
                url=s.get("url"),
                source=name or None,
                score=round(2.0 - i * 0.25, 3),
                why=s.get("why", {"recency": round(1 - i * 0.1, 2), "source_weight": 1.0}),
                also=s.get("also", []),
            )
        )
    edition_id = store.freeze_edition(lst.id, date, "", "", iso(NOW) or "", picked)
    if config is not None:
        from digest.render import render_edition

        render_edition(store, config, edition_id)
    return edition_id, lst.id


@pytest.fixture(name="edition")
def edition_fixture(initialised: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edition]:
    """The fixed edition of the golden files, in a real store."""
    monkeypatch.setenv("DIGEST_NAME", "The Example Digest")
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.example")
    monkeypatch.setenv("DIGEST_DEFAULT_LIST", "golden")
    config = load(initialised)
    store = Store(config.db_path)
    edition_id, list_id = seed(store, STORIES, config=config)
    yield Edition(config, store, edition_id, list_id)
    store.close()


def need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI (.ci/run installs it)")
        pytest.skip("/usr/bin/chromium is absent: browser tests need Debian's chromium")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (the story images); yields the base URL."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def app_server(config: Config, *, preview: bool = True) -> Iterator[str]:
    """The real web app under uvicorn on a free 127.0.0.1 port; yields the base URL."""
    import time

    import uvicorn

    from digest.web import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, preview=preview), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
