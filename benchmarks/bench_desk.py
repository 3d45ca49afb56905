"""The editor's desk: how long ``digest preview``'s page takes to answer for a 15-story edition with 40 runners-up.

A store of 20 sources and 20,000 stories (some failing sources for the health panel) with one edition of 15
stories and 40 runners-up, served by the real app under uvicorn on 127.0.0.1; each round GETs the desk page
over a keep-alive HTTP connection. The floor, in the same run and from the same server, is a static route
answering bytes of the page's size (what HTTP, Starlette and the middleware cost alone). Target: < 300 ms.

    python benchmarks/bench_desk.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from digest import Newsletter  # noqa: E402
from digest.config import load  # noqa: E402
from digest.models import StoryIn  # noqa: E402
from digest.web import create_app  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SOURCES = 20
WORDS = (
    "harbor",
    "comet",
    "battery",
    "council",
    "firmware",
    "browser",
    "rail",
    "tariff",
    "orchard",
    "glacier",
    "opera",
)


def make_home(home: Path, filler: int) -> tuple[Newsletter, int]:
    os.environ["DIGEST_HOME"] = str(home)
    os.environ["DIGEST_NOW"] = NOW.isoformat()
    os.environ["DIGEST_RANK_MAX_STORIES"] = "15"
    news = Newsletter.init(home)
    store = news.store
    store.add_list("main", from_email="news@example.com", from_name="News", address="1 Quay St, Harbor City")
    for s in range(SOURCES):
        source = store.add_source(f"Source {s}", f"https://s{s}.example/feed")
        per = filler // SOURCES
        batch = []
        for i in range(per):
            # distinct words per story: no two cluster into one event
            words = f"{WORDS[i % len(WORDS)]} {WORDS[(i // 3 + s) % len(WORDS)]}"
            title = f"{words} report {s}-{i} names number {i * 7 + s}"
            batch.append(
                (
                    f"s{s}-{i}",
                    StoryIn(
                        title=title,
                        url=f"https://s{s}.example/{i}",
                        summary=f"What happened in story {s}-{i}, in two ordinary sentences. And why it matters.",
                        published_at=NOW - timedelta(minutes=7 * i + s),
                    ),
                )
            )
        store.upsert_stories(source.id, batch, now=NOW - timedelta(minutes=s))
        if s % 7 == 3:  # a few failing sources for the health panel
            store.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_error = 'HTTP 503', consecutive_failures = 4"
                " WHERE id = ?",
                (NOW.isoformat(), source.id),
            )
    news = Newsletter(store, load(home))
    news.build("main", date="2026-11-24", now=NOW)
    eid = news.edition("main", "2026-11-24")
    draft = news.draft(eid)
    assert len(draft.stories) == 15 and len(draft.runners_up) == 40, (len(draft.stories), len(draft.runners_up))
    return news, eid


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer stories and rounds")
    args = parser.parse_args()
    filler, rounds = (4_000, 15) if args.quick else (20_000, 40)
    with tempfile.TemporaryDirectory() as tmp:
        news, _ = make_home(Path(tmp) / "home", filler)
        app = create_app(news.config, preview=True)
        size = [0]

        def static(request: object) -> Response:
            return Response(b"x" * size[0], media_type="text/html")

        app.router.routes.insert(0, Route("/static-floor", static))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, headers={"Host": "127.0.0.1"}) as client:
                page = client.get("/")
                assert page.status_code == 200 and page.text.count('class="runner"') == 40, page.status_code
                size[0] = len(page.content)
                floor = median_ms(lambda: client.get("/static-floor"), rounds)
                desk = median_ms(lambda: client.get("/"), rounds)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        news.close()
    load_avg = os.getloadavg()[0]
    print(
        f"{filler:,} stories, {SOURCES} sources, 15 picks + 40 runners-up; median of {rounds} GETs; "
        f"load average {load_avg:.2f} on {os.cpu_count()} CPUs"
    )
    print("| what | ms |")
    print("|---|---|")
    print(f"| floor: the same server answering {size[0]:,} static bytes | {floor:.1f} |")
    print(f"| the desk page (draft, render kept, health, template) | {desk:.1f} |")
    print("| target | < 300 |")


if __name__ == "__main__":
    main()
