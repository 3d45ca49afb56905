"""Importing a large subscriber CSV into a fresh store: rows/s and peak memory.

    python benchmarks/bench_import.py            # 1,000,000 rows
    python benchmarks/bench_import.py --quick    # 100,000 rows
    python benchmarks/bench_import.py --rows 250000

The CSV is generated (email,name,attributes; a realistic mix: big providers and 50,000 other
domains, upper-case domains, plus-tags, 2% internationalised domains, JSON attributes on 3 rows in 4,
0.5% bad rows). Each import runs
in its own subprocess so ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is that import's peak memory
alone. Three runs: into a fresh store, the same file again (every row unchanged), and a file where
every tenth row changes. Target: >= 50,000 rows/s, peak < 200 MB, and >= 0.8x the floor.

The floor, measured in the same run into a fresh store of the same schema: ``csv.reader`` and
``executemany`` of every row into ``subscribers`` and ``subscriptions`` in 10,000-row transactions, with no
check at all (no validation, no normalising, no consent, no lookup of who exists). A fourth run imports a
file where every row is bad: its peak memory shows that rejected rows are counted, not kept.
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
from pathlib import Path

import idna

# Most people use a few big providers; the rest spread over many domains (here 50,000), 2% of rows
# on internationalised domains (2,000 of them, half written in Unicode, half as IDNA).
PROVIDERS = [
    "gmail.example",
    "Yahoo.Example",
    "outlook.example.com",
    "icloud.example",
    "posteo.example",
    "uni-oslo.example.no",
    "sub.domain.example.co.uk",
    "web.example.de",
]
FIRST = ["ada", "grace", "alan", "Katherine", "linus", "margaret", "edsger", "barbara", "donald", "frances"]
CITIES = ["Oslo", "Z\u00fcrich", "S\u00e3o Paulo", "Kyoto", "Lagos", "Lima"]


def generate(path: Path, rows: int, seed: int = 6, change_every: int = 0) -> int:
    """Write the CSV; returns how many rows are meant to be rejected."""
    rnd = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("email,name,attributes\n")
        for i in range(rows):
            first = FIRST[i % len(FIRST)]
            tag = f"+news{i % 7}" if i % 13 == 0 else ""
            if i % 50 == 0:
                k = rnd.randrange(2000)
                domain = f"b\u00fccher-{k}.example"
                domain = domain if k % 2 else idna.encode(domain).decode("ascii")
            elif rnd.random() < 0.4:
                domain = f"company{rnd.randrange(50_000)}.example.com"
            else:
                domain = PROVIDERS[i % len(PROVIDERS)]
            email = f"{first}.{i}{tag}@{domain}"
            name = f"{first.title()} Number {i}"
            if change_every and i % change_every == 0:
                name += " (changed)"
            if i % 200 == 199:  # 0.5% bad rows
                email = rnd.choice(
                    [f"{first}.{i}@", f"{first} {i}@example.com", f"{first}..{i}@example.com", f"{first}.{i}@localhost"]
                )
                bad += 1
            if i % 4 == 3:
                attrs = ""
            else:
                attrs = json.dumps(
                    {"city": CITIES[i % len(CITIES)], "plan": "free" if i % 3 else "paid", "signup": 2020 + i % 6},
                    ensure_ascii=False,
                ).replace('"', '""')
                attrs = f'"{attrs}"'
            fh.write(f"{email},{name},{attrs}\n")
    return bad


def generate_bad(path: Path, rows: int) -> None:
    """A file where every row is refused (no @), to show that rejects cost no memory."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("email,name,attributes\n")
        for i in range(rows):
            fh.write(f"nobody.{i}.example.com,Nobody {i},\n")


def floor(db: str, csv_path: str, rows: int) -> None:
    """The bare floor: csv + executemany, no checks (subprocess; prints a JSON line like child)."""
    import csv
    import itertools

    from digest.store import Store

    with Store(db) as store:
        list_id = store.add_list("main", from_email="news@example.com").id
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    now = "2026-12-02T00:00:00+00:00"
    start = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        records = csv.reader(fh)
        next(records)
        sid = 0
        while batch := list(itertools.islice(records, 10_000)):
            conn.execute("BEGIN")
            people = [(sid + n + 1, r[0], r[1], r[2] or "{}", now) for n, r in enumerate(batch)]
            conn.executemany(
                "INSERT OR IGNORE INTO subscribers(id, email, name, attributes, created_at) VALUES (?, ?, ?, ?, ?)",
                people,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
                " VALUES (?, ?, 'confirmed', ?, ?)",
                [(p[0], list_id, now, now) for p in people],
            )
            conn.execute("COMMIT")
            sid += len(batch)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rows_per_s": rows / elapsed, "peak_mb": peak_mb, "worker_mb": 0.0}))


def child(db: str, csv_path: str, rows: int, reader: str) -> None:
    """Runs in the subprocess: one import, then a JSON line with the figures."""
    from digest.store import Store
    from digest.subscribers import import_csv

    if reader == "floor":
        floor(db, csv_path, rows)
        return
    with Store(db) as store:
        if store.find_list("main") is None:
            store.add_list("main", from_email="news@example.com")
        start = time.perf_counter()
        report = import_csv(store, Path(csv_path), "main", worker=None if reader == "auto" else reader == "on")
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the reader process, if any
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "rows_per_s": rows / elapsed,
                "peak_mb": peak_mb,
                "worker_mb": worker_mb,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected_count,
            }
        )
    )


def run_child(db: Path, csv_path: Path, rows: int, reader: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db), str(csv_path), str(rows), reader],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument(
        "--reader",
        choices=("auto", "on", "off"),
        default="auto",
        help="parse and check in a second process (default auto: for large files on 2+ cores)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.child[3])
        return
    rows = 100_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        first, changed = folder / "roster.csv", folder / "changed.csv"
        bad = generate(first, rows)
        generate(changed, rows, change_every=10)
        generate_bad(folder / "bad.csv", rows)
        db = folder / "digest.db"
        w = args.reader
        bare = run_child(folder / "floor.db", first, rows, "floor")
        results = [
            ("fresh store", run_child(db, first, rows, w)),
            ("same file again", run_child(db, first, rows, w)),
            ("every 10th row changed", run_child(db, changed, rows, w)),
            ("every row bad", run_child(folder / "bad.db", folder / "bad.csv", rows, w)),
        ]
        size_mb = first.stat().st_size / 1e6
    print(
        f"Import of {rows:,} rows ({size_mb:.0f} MB CSV, {bad:,} bad rows), each run in a fresh process,"
        f" reader process: {w}"
    )
    print(
        f"{'run':<24} {'seconds':>8} {'rows/s':>10} {'peak MB':>8} {'reader MB':>9} {'added':>9} {'updated':>8} "
        f"{'unchanged':>9} {'rejected':>8}"
    )
    for label, r in results:
        print(
            f"{label:<24} {r['seconds']:>8.1f} {r['rows_per_s']:>10,.0f} {r['peak_mb']:>8.0f} {r['worker_mb']:>9.0f}"
            f" {r['added']:>9,} {r['updated']:>8,} {r['unchanged']:>9,} {r['rejected']:>8,}"
        )
    fresh = results[0][1]
    print(
        f"\nfloor (csv + executemany, no checks) into a fresh store: {bare['seconds']:.1f} s,"
        f" {bare['rows_per_s']:,.0f} rows/s, peak {bare['peak_mb']:.0f} MB;"
        f" digest's fresh import runs at {bare['seconds'] / fresh['seconds']:.2f}x the floor's speed (target >= 0.8)"
    )
    assert results[3][1]["rejected"] == rows, results[3][1]
    assert fresh["added"] == rows - bad and fresh["rejected"] == bad, fresh
    assert results[1][1]["unchanged"] == rows - bad, results[1][1]


if __name__ == "__main__":
    main()
