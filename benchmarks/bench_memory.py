"""Peak memory of listing every reader: `digest subscribers list` (table and --json) streams, so it stays flat.

A store is filled with N subscribers on one list (executemany, no checks), then the command runs in a child
process writing to /dev/null; its peak RSS (ru_maxrss) is printed beside a bare `python -c "import digest.cli"`
floor measured in the same run. Target: under 150 MB whatever N.

    python benchmarks/bench_memory.py              # 100,000 and 1,000,000 readers
    python benchmarks/bench_memory.py --quick      # 100,000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mb(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one child process; each measured in its own fresh grandchild."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True, check=True)
    kb, seconds = out.stdout.split()
    return int(kb) / 1024, float(seconds)


def fill(home: Path, n: int, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "digest", "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "digest", "lists", "add", "main", "--from-email", "news@example.com"],
        env=env,
        check=True,
        capture_output=True,
    )
    import sqlite3

    db = sqlite3.connect(home / "digest.db")
    list_id = db.execute("SELECT id FROM lists WHERE name = 'main'").fetchone()[0]
    now = "2026-11-24T07:00:00+00:00"
    with db:
        db.executemany(
            "INSERT INTO subscribers(id, email, name, attributes, created_at) VALUES (?, ?, ?, '{}', ?)",
            ((i, f"reader{i:07d}@example.com", f"Reader {i}", now) for i in range(1, n + 1)),
        )
        db.executemany(
            "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
            " VALUES (?, ?, 'confirmed', ?, ?)",
            ((i, list_id, now, now) for i in range(1, n + 1)),
        )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    print()
    print(f"| {'readers':>9} | {'command':42} | {'peak RSS MB':>11} | {'seconds':>7} |")
    print(f"|{'-' * 11}|{'-' * 44}|{'-' * 13}|{'-' * 9}|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            home = Path(tmp) / f"h{n}"
            home.mkdir()
            env = {**os.environ, "DIGEST_HOME": str(home), "PYTHONPATH": str(ROOT)}
            fill(home, n, env)
            floor = peak_mb([sys.executable, "-c", "import digest.cli"], env)
            listed = peak_mb([sys.executable, "-m", "digest", "subscribers", "list", "--json"], env)
            shown = peak_mb([sys.executable, "-m", "digest", "subscribers", "list"], env)
            label = 'python -c "import digest.cli" (floor)'
            print(f"| {n:9,} | {label:42} | {floor[0]:11.0f} | {floor[1]:7.2f} |")
            print(f"| {n:9,} | {'digest subscribers list --json':42} | {listed[0]:11.0f} | {listed[1]:7.2f} |")
            print(f"| {n:9,} | {'digest subscribers list (table)':42} | {shown[0]:11.0f} | {shown[1]:7.2f} |")


if __name__ == "__main__":
    main()
