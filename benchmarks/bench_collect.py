"""Collection speed on the shared corpus.

1. Fresh store: ``collect()`` of every corpus feed file (read from disk, sniffed, parsed, cleaned, sanitised,
   stored) against ``feedparser.parse`` alone on the same bytes, sequentially in one process, in the same run.
   Best of several alternating rounds; the target is a ratio of at most 1.2.
2. Re-collection with a big store: the same sources re-collected (a) unchanged (same bytes: skipped after one
   read and hash) and (b) rewritten with the same items (every file parsed again, every story looked up), once
   with only the corpus stories in the store and once with 100,000 more. The times should not grow with the
   store: lookups are by indexed identity / URL.

3. Over HTTP: 200 feeds (corpus files, each its own URL) served by a local HTTP/1.1 server in another
   process, collected fresh and then re-collected unchanged (every answer a 304), against a floor measured in
   the same run: plain asyncio (raw HTTP/1.1 GETs over 8 connections) plus ``feedparser.parse`` of each
   body, and the same conditional GETs alone. Target: at most 1.2x the floor (1.5x for the re-poll).

    python benchmarks/bench_collect.py            # 100,000 stories, 5 rounds
    python benchmarks/bench_collect.py --quick    # 20,000 stories, 3 rounds
    python benchmarks/bench_collect.py --http-only
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def corpus_feeds() -> list[Path]:
    return sorted(p for p in (CORPUS / "feeds").rglob("*") if p.is_file() and p.suffix not in (".csv", ".md"))


def best(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def home(tmp: Path, name: str) -> tuple[object, object]:
    from digest.config import load
    from digest.home import init_home
    from digest.store import Store

    path = tmp / name
    init_home(path)
    config = load(path)
    return config, Store(config.db_path)


def fresh_collect(tmp: Path, files: list[Path], counter: list[int]) -> None:
    from digest.collect import collect

    counter[0] += 1
    config, store = home(tmp, f"fresh{counter[0]}")
    try:
        for i, f in enumerate(files):
            store.add_source(f"s{i}", str(f))
        report = collect(store, config, now=NOW)
        assert report.new > 500, report.as_dict()
    finally:
        store.close()


def feedparser_alone(files: list[Path]) -> None:
    import feedparser

    for f in files:
        feedparser.parse(f.read_bytes())


def filler(n: int, seed_base: int = 0) -> list[tuple[str, object]]:
    from digest.models import StoryIn

    pairs = []
    for i in range(n):
        url = f"https://filler{i % 300}.example/{seed_base + i}"
        pairs.append(
            (
                f"url:{url}",
                StoryIn(
                    title=f"Filler story {i}",
                    url=url,
                    summary="Filler.",
                    body_text="Filler text.",
                    published_at=NOW - timedelta(minutes=i),
                ),
            )
        )
    return pairs


def recollect_rows(tmp: Path, files: list[Path], extra: int, rounds: int) -> list[tuple[str, int, float]]:
    from digest.collect import collect

    copies = tmp / f"copies{extra}"
    copies.mkdir()
    local = []
    for i, f in enumerate(files):
        target = copies / f"{i:03d}_{f.name}"
        shutil.copyfile(f, target)
        local.append(target)
    config, store = home(tmp, f"big{extra}")
    rows = []
    try:
        for i, f in enumerate(local):
            store.add_source(f"s{i}", str(f))
        for start in range(0, extra, 10_000):
            store.upsert_stories(None, filler(min(10_000, extra - start), start), NOW)
        collect(store, config, now=NOW)
        size = int(store.scalar("SELECT count(*) FROM stories"))
        unchanged = best(lambda: collect(store, config, now=NOW), rounds)[0]
        rows.append(("re-collect, unchanged bytes", size, unchanged))
        times = []
        for r in range(rounds):
            for f in local:  # same items, different bytes: forces a full parse and a lookup per story
                with f.open("ab") as fh:
                    fh.write(f"\n<!-- touched {r} -->\n".encode() if f.suffix != ".json" else b" ")
            started = time.perf_counter()
            report = collect(store, config, now=NOW)
            times.append(time.perf_counter() - started)
            assert report.new == 0, report.as_dict()
        rows.append(("re-collect, rewritten, same items", size, min(times)))
    finally:
        store.close()
    return rows


# -- over HTTP --------------------------------------------------------------------------------------------
def serve(files: list[Path], port_out: multiprocessing.connection.Connection) -> None:
    """A keep-alive HTTP/1.1 server for /feed/<i>.xml, answering If-None-Match with 304 (own process)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies = [f.read_bytes() for f in files]
    tags = ['"' + hashlib.sha1(b).hexdigest() + '"' for b in bodies]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            i = int(self.path.rsplit("/", 1)[1].split(".")[0])
            if self.headers.get("If-None-Match") == tags[i]:
                self.send_response(304)
                self.send_header("ETag", tags[i])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("ETag", tags[i])
            self.send_header("Content-Length", str(len(bodies[i])))
            self.end_headers()
            self.wfile.write(bodies[i])

    # a listen backlog for every client connection at once: with the default (5), a connect that overflows it
    # waits for the kernel's SYN retry (1 s) whenever the accepting thread is slow, as on a loaded machine
    ThreadingHTTPServer.request_queue_size = 128
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_out.send(httpd.server_address[1])
    httpd.serve_forever()


async def _floor(port: int, n: int, tags: dict[int, str] | None, parse: bool) -> dict[int, str]:
    """Plain asyncio: 8 keep-alive connections fetch /feed/0..n-1 (conditionally when ``tags``); parse bodies."""
    import feedparser

    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    got: dict[int, str] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not queue.empty():
            i = queue.get_nowait()
            extra = f"If-None-Match: {tags[i]}\r\n" if tags else ""
            writer.write(f"GET /feed/{i}.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line)
            body = await reader.readexactly(int(fields.get("Content-Length", "0")))
            got[i] = fields.get("ETag", "")
            if parse and body:
                feedparser.parse(body)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(8)))
    return got


def readable(files: list[Path]) -> list[Path]:
    """The corpus feeds digest reads: a broken one (about one in eight, on purpose) is fetched whole and read
    again on every run until it changes or is fixed, which the re-poll's floor (all 304s) does not do."""
    from digest.collect import parse_safely

    return [f for f in files if parse_safely(f.read_bytes(), None, expect_feed=True)[0] is not None]


def http_rows(tmp: Path, files: list[Path], n: int, rounds: int) -> list[tuple[str, float, float]]:
    from digest.collect import collect

    good = readable(files)
    feeds = [good[i % len(good)] for i in range(n)]
    ctx = multiprocessing.get_context("spawn")
    ours_end, theirs_end = ctx.Pipe()
    server = ctx.Process(target=serve, args=(feeds, theirs_end), daemon=True)
    server.start()
    port = ours_end.recv()
    try:
        base = f"http://127.0.0.1:{port}/feed"
        fresh_ours, fresh_floor, again_ours, again_floor = [], [], [], []
        for r in range(rounds):
            config, store = home(tmp, f"http{r}")
            try:
                for i in range(n):
                    store.add_source(f"h{i}", f"{base}/{i}.xml")
                started = time.perf_counter()
                report = collect(store, config, now=NOW)
                fresh_ours.append(time.perf_counter() - started)
                assert report.failed == 0, report.as_dict()
                started = time.perf_counter()
                tags = asyncio.run(_floor(port, n, None, parse=True))
                fresh_floor.append(time.perf_counter() - started)
                started = time.perf_counter()
                report = collect(store, config, now=NOW)
                again_ours.append(time.perf_counter() - started)
                assert report.new == 0, report.as_dict()
                started = time.perf_counter()
                asyncio.run(_floor(port, n, tags, parse=False))
                again_floor.append(time.perf_counter() - started)
            finally:
                store.close()
        return [
            (f"collect {n} feeds, fresh store", min(fresh_floor), min(fresh_ours)),
            (f"re-collect {n} unchanged feeds (304)", min(again_floor), min(again_ours)),
        ]
    finally:
        server.terminate()
        server.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 extra stories and 3 rounds")
    parser.add_argument("--http-only", action="store_true", help="only the HTTP table")
    parser.add_argument("--feeds", type=int, default=200, help="feeds served over HTTP (default 200)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} is missing: the benchmark reads the shared corpus")
    sys.path.insert(0, str(ROOT))
    extra = 20_000 if args.quick else 100_000
    rounds = 3 if args.quick else 5
    files = corpus_feeds()
    size = sum(f.stat().st_size for f in files)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; best of {rounds}")
        print()
        good = len(readable(files))
        print(f"{good} of the {len(files)} corpus feeds are readable: {args.feeds} URLs cycle through them")
        print(f"| {'over HTTP (local server, own process)':40} | {'floor s':>8} | {'digest s':>8} | {'ratio':>5} |")
        print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 7}|")
        for label, floor, ours in http_rows(tmp, files, args.feeds, rounds):
            print(f"| {label:40} | {floor:8.3f} | {ours:8.3f} | {ours / floor:5.2f} |")
        print()
        if args.http_only:
            return
        counter = [0]
        fresh_collect(tmp, files, counter)  # warm imports and the page cache
        feedparser_alone(files)
        ours, theirs = [], []
        for _ in range(rounds):  # alternate, so both see the same machine state
            ours.append(best(lambda: fresh_collect(tmp, files, counter), 1)[0])
            theirs.append(best(lambda: feedparser_alone(files), 1)[0])
        print(f"corpus: {len(files)} feed files, {size / 1e6:.1f} MB; {os.cpu_count()} CPUs; best of {rounds}")
        print()
        print(f"| {'step':40} | {'seconds':>8} |")
        print(f"|{'-' * 42}|{'-' * 10}|")
        print(f"| {'feedparser.parse alone, one process':40} | {min(theirs):8.3f} |")
        print(f"| {'digest collect into a fresh store':40} | {min(ours):8.3f} |")
        print(f"| {'ratio (target <= 1.2)':40} | {min(ours) / min(theirs):8.2f} |")
        print()
        print(f"| {'re-collect all corpus sources':36} | {'stories in store':>16} | {'seconds':>8} |")
        print(f"|{'-' * 38}|{'-' * 18}|{'-' * 10}|")
        for n in (0, extra):
            for label, stored, seconds in recollect_rows(tmp, files, n, rounds):
                print(f"| {label:36} | {stored:16,} | {seconds:8.3f} |")


if __name__ == "__main__":
    main()
