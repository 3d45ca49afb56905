"""Ranking speed: 10,000, 100,000 and 1,000,000 stories in the window.

Each size runs in its own process (so peak memory is that size's own): a fresh store is filled with
``executemany`` (stories spread over the window, 300 sources, one in ten stories a near-duplicate
cover of another, a third with engagement figures), then ``rank()`` runs
once to warm the page cache and three more times; the table shows the best time and the process's
peak resident memory (``ru_maxrss``) after ranking.

    python benchmarks/bench_rank.py            # 10k, 100k, 1M
    python benchmarks/bench_rank.py --quick    # 10k, 100k
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
WORDS = [f"w{i}" for i in range(20_000)]  # a vocabulary of made-up words, Zipf-ish by index
SOURCES = 300


def fill(path: Path, n: int, seed: int = 7) -> float:
    """Create a store at ``path`` with ``n`` stories in the ranking window; returns seconds taken."""
    from digest.config import RankSettings
    from digest.store import Store

    started = time.perf_counter()
    rng = random.Random(seed)
    window = RankSettings().window_hours * 3600
    weights = [i + 1.0 for i in range(len(WORDS))]
    cum = list(__import__("itertools").accumulate(1.0 / w for w in weights))
    with Store(path) as store:
        conn = store.conn
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO sources(id, name, location, weight, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                (i, f"source-{i}", f"https://s{i}.example/feed", rng.choice((0.5, 1.0, 1.0, 1.5, 2.0)), NOW.isoformat())
                for i in range(1, SOURCES + 1)
            ],
        )

        # pre-made titles and leads, combined per story with a unique word, keep the fill fast
        heads = [" ".join(rng.choices(WORDS, cum_weights=cum, k=rng.randint(4, 9))) for _ in range(50_000)]
        leads = [" ".join(rng.choices(WORDS, cum_weights=cum, k=40)) for _ in range(20_000)]
        stamps = [(NOW - timedelta(seconds=s)).isoformat() for s in range(0, int(window), 7)]
        collected = NOW.isoformat()

        def rows():
            last_title, last_text = "", ""
            rand, randrange = rng.random, rng.randrange
            for i in range(1, n + 1):
                if i > 1 and rand() < 0.1:  # another outlet covers the previous story's event
                    words = last_title.split()
                    words[randrange(len(words))] = WORDS[randrange(len(WORDS))]
                    title, text = " ".join(words), last_text
                else:
                    title = f"{heads[randrange(len(heads))]} u{i}"
                    text = f"{leads[randrange(len(leads))]} v{i}"
                last_title, last_text = title, text
                engaged = rand() < 0.3
                yield (
                    i,
                    f"bench:{i}",
                    randrange(SOURCES) + 1,
                    f"https://news{i % 997}.example/{i}",
                    title,
                    stamps[randrange(len(stamps))],
                    collected,
                    text,
                    randrange(500) if engaged else None,
                    f'{{"points": {randrange(2000)}}}' if engaged else "{}",
                    "x",
                )

        conn.executemany(
            "INSERT INTO stories(id, identity, source_id, url, title, published_at, collected_at, summary,"
            " comments, engagement, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        conn.execute("COMMIT")
    return time.perf_counter() - started


def one(n: int, repeat: int) -> dict[str, float]:
    """Fill a store with ``n`` stories and time ``rank()`` on it (runs in a child process)."""
    from digest.config import RankSettings
    from digest.rank import rank
    from digest.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "digest.db"
        fill_s = fill(path, n)
        with Store(path) as store:
            settings = RankSettings()
            rank(store, settings, NOW)  # warm the page cache
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                result = rank(store, settings, NOW)
                times.append(time.perf_counter() - started)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "stories": n,
        "fill_s": fill_s,
        "rank_s": min(times),
        "peak_mib": peak_mib,
        "clusters": result.clusters,
        "picked": len(result.picked),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--sizes", type=int, nargs="*", help="story counts to run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one(args.child, args.repeat)))
        return
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    print(f"{'stories':>10} {'fill s':>8} {'rank s':>8} {'µs/story':>9} {'peak MiB':>9} {'clusters':>9}")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--repeat", str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{n:>10,} {r['fill_s']:>8.2f} {r['rank_s']:>8.3f} {r['rank_s'] / n * 1e6:>9.2f} "
            f"{r['peak_mib']:>9.0f} {r['clusters']:>9,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
