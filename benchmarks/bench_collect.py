"""Collection speed on the shared corpus.

1. Fresh store: ``collect()`` of every corpus feed file (read from disk, sniffed, parsed, cleaned, sanitised,
   stored) against ``feedparser.parse`` alone on the same bytes, sequentially in one process, in the same run.
   Best of several alternating rounds; the target is a ratio of at most 1.2.
2. Re-collection with a big store: the same sources re-collected (a) unchanged (same bytes: skipped after one
   read and hash) and (b) rewritten with the same items (every file parsed again, every story looked up), once
   with only the corpus stories in the store and once with 100,000 more. The times should not grow with the
   store: lookups are by indexed identity / URL.

    python benchmarks/bench_collect.py            # 100,000 stories, 5 rounds
    python benchmarks/bench_collect.py --quick    # 20,000 stories, 3 rounds
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 extra stories and 3 rounds")
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
