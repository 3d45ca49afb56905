"""How fast the CLI answers: `digest --version`, `--help` and each command's `--help`, beside the floors.

Each is run as the installed `digest` console script runs it (`from digest.cli import main; main()`, program
name `digest`). Floors, measured in the same run: a bare `python -c pass` (the interpreter alone) and
`sqlite-utils --version` (a well-kept CLI of the same kind). Each figure is the best and the median of N runs of a
fresh process.
Targets: `--version` and `--help` within 100 ms of the bare interpreter; any command's own import overhead
(its `--help`) within 250 ms of it.

    python benchmarks/bench_startup.py          # 15 runs each
    python benchmarks/bench_startup.py --quick  # 5 runs each
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from digest.cli import COMMANDS  # noqa: E402 - every command, in --help's order (importing it is light)


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Best and median wall time, and the best CPU time (user + system) of the child: on a busy machine the
    wall time mostly measures the wait for a core, the CPU time what the command itself costs."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(times), statistics.median(times), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 5 if args.quick else 15
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # what the `digest` console script runs (its program name, so `--help` is answered as installed)
    digest = [sys.executable, "-c", "import sys; sys.argv[0] = 'digest'; from digest.cli import main; main()"]
    rows: list[tuple[str, float, float, float]] = []
    bare = timed([sys.executable, "-c", "pass"], runs, env)
    rows.append(("python -c pass (floor)", *bare))
    sqlite_utils = shutil.which("sqlite-utils", path=str(Path(sys.executable).parent)) or shutil.which("sqlite-utils")
    if sqlite_utils:
        rows.append(("sqlite-utils --version (peer)", *timed([sqlite_utils, "--version"], runs, env)))
    rows.append(("digest --version", *timed([*digest, "--version"], runs, env)))
    rows.append(("digest --help", *timed([*digest, "--help"], runs, env)))
    for command in COMMANDS:
        rows.append((f"digest {command} --help", *timed([*digest, command, "--help"], runs, env)))
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; best and median of {runs} runs")
    print()
    print(f"| {'command':34} | {'best ms':>8} | {'median ms':>9} | {'over bare ms':>12} | {'CPU over bare ms':>16} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 11}|{'-' * 14}|{'-' * 18}|")
    for label, best, median, cpu in rows:
        over = (best - bare[0]) * 1000
        cpu_over = (cpu - bare[2]) * 1000
        print(f"| {label:34} | {best * 1000:8.0f} | {median * 1000:9.0f} | {over:12.0f} | {cpu_over:16.0f} |")


if __name__ == "__main__":
    main()
