"""Make docs/screenshot.png: a sample "Top Stories" edition rendered by the shipped templates, in headless Chromium.

Run from the repository root with the test extras installed: ``python docs/make_screenshot.py``.
The pictures are generated here (plain gradients) so the script needs no network.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STORIES = [
    (
        "Wayfarer browser finally drops third-party cookies",
        "The Circuit",
        "The browser now blocks cross-site cookies by default for all users, after two years of delays and a long"
        " opt-in trial.",
        (37, 99, 235),
        ["Harbor Ledger", "Open Lab Notes"],
    ),
    (
        "Startup unveils a solid-state battery that charges in ten minutes",
        "The Circuit",
        "Voltaic Labs says its pouch cell goes from 10 to 80 percent in ten minutes and keeps 90 percent of its"
        " capacity after 1,000 cycles.",
        (234, 88, 12),
        [],
    ),
    (
        "Amateur astronomers discover a new comet from a suburban backyard",
        "Open Lab Notes",
        "A comet spotted by two hobbyists with a 30-centimetre telescope has been confirmed and given a"
        " provisional designation.",
        (126, 34, 206),
        ["Harbor Ledger"],
    ),
    (
        "City council approves protected bike lanes downtown",
        "Harbor Ledger",
        "After a four-hour meeting, the council voted 7-2 to build protected lanes on Front Street and Mill Avenue"
        " by next autumn.",
        (5, 150, 105),
        [],
    ),
    (
        "Firmware bug makes wireless keyboards repeat keys after sleep",
        "The Circuit",
        "Owners of several Keyfold models report stuck, repeating keys after waking their computers; a fix is due"
        " this week.",
        None,
        [],
    ),
]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    rows = b"".join(
        b"\0"
        + bytes(
            c
            for x in range(width)
            for c in (
                min(255, rgb[0] + (x + y) * 90 // (width + height)),
                min(255, rgb[1] + y * 60 // height),
                max(0, rgb[2] - x * 50 // width),
            )
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def main(out: Path = ROOT / "docs" / "screenshot.png", width: int = 680) -> None:
    from playwright.sync_api import sync_playwright

    from digest.config import load
    from digest.render import make_context, render_context

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["DIGEST_NAME"] = "The Morning Digest"
        config = load(home)
        stories = []
        for i, (title, source, summary, colour, also) in enumerate(STORIES):
            image = None
            if colour:
                (home / f"{i}.png").write_bytes(png(300, 200, colour))
                image = (home / f"{i}.png").as_uri()
            stories.append(
                {
                    "rank": i + 1,
                    "story_id": i + 1,
                    "score": 1.0,
                    "why": {},
                    "title": title,
                    "url": f"https://news.example/{i}",
                    "summary": summary,
                    "image_url": image,
                    "source": source,
                    "language": "en",
                    "also": [
                        {"story_id": 100 + j, "title": a, "url": f"https://other.example/{j}", "source": a}
                        for j, a in enumerate(also)
                    ],
                }
            )
        list_row = SimpleNamespace(
            name="main",
            from_name="The Morning Digest",
            from_email="news@example.com",
            address="1 Quay St, Harbor City",
            subject_prefix="",
            language="en",
        )
        rendered = render_context(config, make_context(config, list_row, 1, "2026-11-24", stories))  # type: ignore[arg-type]
        html, _ = rendered.fill(
            {
                "unsubscribe_url": "https://news.example/unsubscribe",
                "web_url": "https://news.example/editions/1",
                "name": "",
                "email": "",
            }
        )
        page_file = home / "edition.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.goto(page_file.as_uri(), wait_until="load")
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
