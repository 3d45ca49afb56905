"""Render speed: a 10-story edition through Jinja and MJML, and one subscriber's copy.

Prints a table of median times. The anchor is the reference npm ``mjml`` compiling the very same MJML
in the same run (warm, inside one node process, and cold through its CLI), when ``DIGEST_MJML_BIN``
points at it (or .ci/node_modules/.bin/mjml exists). Targets: whole edition < 2 ms, fill < 10 µs.

    python benchmarks/bench_render.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.config import load  # noqa: E402
from digest.render import compile_mjml, make_context, render_context, render_sources, stamp  # noqa: E402
from digest.render.templates import environment  # noqa: E402

NODE_BENCH = """
const mjml = require(process.argv[1]);
const fs = require('fs');
const source = fs.readFileSync(0, 'utf8');
const n = parseInt(process.argv[2], 10);
const opts = {validationLevel: 'skip', minify: false, keepComments: false, fonts: {}};
for (let i = 0; i < 5; i++) mjml(source, opts);
const times = [];
for (let i = 0; i < n; i++) { const t = process.hrtime.bigint(); mjml(source, opts);
  times.push(Number(process.hrtime.bigint() - t) / 1e6); }
times.sort((a, b) => a - b);
console.log(JSON.stringify({median_ms: times[Math.floor(n / 2)], html_bytes: mjml(source, opts).html.length}));
"""


def stories(n: int = 10) -> list[dict[str, object]]:
    return [
        {
            "story_id": i,
            "rank": i + 1,
            "score": 2.0 - i / 10,
            "why": {"recency": 0.9},
            "title": f"Story number {i} makes a headline of ordinary length for a news digest",
            "url": f"https://news.example/2026/11/24/story-number-{i}-makes-a-headline",
            "summary": "A summary of two sentences, as feeds give them. It says what happened and why it matters.",
            "image_url": f"https://img.example/{i}.jpg" if i % 3 != 2 else None,
            "source": "The Example Times",
            "language": "en",
            "also": [
                {"story_id": 100 + i, "title": "Same story", "url": "https://o.example/x", "source": "Other Paper"}
            ]
            if i % 2 == 0
            else [],
        }
        for i in range(n)
    ]


def median_time(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Median seconds per call over ``repeat`` rounds of ``number`` calls."""
    fn()
    rounds = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - t) / number)
    return statistics.median(rounds)


def reference_mjml() -> Path | None:
    binary = os.environ.get("DIGEST_MJML_BIN") or str(ROOT / ".ci" / "node_modules" / ".bin" / "mjml")
    return Path(binary) if Path(binary).exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat, number = (5, 20) if args.quick else (15, 100)

    with tempfile.TemporaryDirectory() as tmp:
        config = load(Path(tmp))
        list_row = SimpleNamespace(
            name="main",
            from_name="News",
            from_email="news@example.com",
            address="1 Quay St, Harbor City",
            subject_prefix="",
            language="en",
        )
        context = make_context(config, list_row, 1, "2026-11-24", stories(10))  # type: ignore[arg-type]
        env = environment(config)
        _, _, mjml_source, _ = render_sources(config, context)
        rendered = render_context(config, context)
        values = {
            "unsubscribe_url": "https://news.example/unsubscribe/eyJzIjoxMjMsImwiOjF9.abcdef0123456789",
            "web_url": "https://news.example/editions/1",
            "name": "Ann O'Neil",
            "email": "ann@example.com",
        }
        rows: list[tuple[str, float]] = [
            (
                "Jinja: subject, preheader, MJML, text",
                median_time(lambda: render_sources(config, context), repeat, number),
            ),
            (
                "mjml-python: compile the MJML",
                median_time(lambda: compile_mjml(mjml_source, "digest.mjml.j2", env), repeat, number),
            ),
            ("whole edition (render_context)", median_time(lambda: render_context(config, context), repeat, number)),
            (
                "fill one subscriber's copy (html + text)",
                median_time(lambda: rendered.fill(values), repeat, number * 50),
            ),
            # what reusing the kept rendition costs before its lookup: hash the templates, the context, versions
            ("stamp (is the kept rendition still good?)", median_time(lambda: stamp(config, context), repeat, number)),
        ]
        ref = reference_mjml()
        if ref:
            module = ref.resolve().parents[1]  # .../node_modules/mjml (bin/mjml is its CLI)
            done = subprocess.run(
                ["node", "-e", NODE_BENCH, str(module), str(repeat * 4)],
                input=mjml_source,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            rows.append(("npm mjml: compile the same MJML (warm, in node)", json.loads(done.stdout)["median_ms"] / 1e3))
            cold = []
            for _ in range(3 if args.quick else 5):
                t = time.perf_counter()
                subprocess.run(
                    [str(ref), "-i", "-s"], input=mjml_source, capture_output=True, text=True, timeout=120, check=True
                )
                cold.append(time.perf_counter() - t)
            rows.append(("npm mjml CLI, cold (node start + compile)", statistics.median(cold)))

    print(f"10-story edition: MJML {len(mjml_source):,} chars -> HTML {len(rendered.html.encode()):,} bytes")
    print(f"{'step':<50} {'median':>12}")
    print(f"{'-' * 50} {'-' * 12}")
    for name, seconds in rows:
        shown = f"{seconds * 1e6:,.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"
        print(f"{name:<50} {shown:>12}")
    whole = rows[2][1]
    fill = rows[3][1]
    print(
        f"\ntargets: whole edition < 2 ms: {'ok' if whole < 2e-3 else 'MISSED'} ({whole * 1e3:.2f} ms);"
        f" fill < 10 µs: {'ok' if fill < 1e-5 else 'MISSED'} ({fill * 1e6:.1f} µs)"
    )
    if ref:
        print(f"mjml-python is {rows[5][1] / rows[1][1]:.0f}x faster than npm mjml (warm)")


if __name__ == "__main__":
    main()
