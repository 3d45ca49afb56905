"""Send one day's edition to N readers spread over 20 distinct topic sets: one variant each, rendered once.

Populates a fresh store (executemany SQL, not the CLI): 20 sources each tagged with one topic, 10 stories each,
list ``main``, N readers, reader i choosing topic ``i % 20`` (and, so that topic sets differ in size too, every
third one of them also the next topic: 20 distinct sets in all). The edition is built and rendered as ``digest run``
does, then, each in its own process (peak memory is that phase's alone):

  * send  - ``send_edition`` with the variants (``EditionVariants``, as the pipeline passes them): each variant is
            ranked, frozen and rendered the first time the walk meets a reader of its choice, then reused; MJML
            compiles are counted (wrapping ``mjml2html``) and must be exactly 20;
  * floor - the same number of request bodies of one mail (same ``prepare``, same signed links), posted by the same
            client in a bare loop: no store, no ledger, no variants.

Both go to the sendgrid provider against the local sink of ``bench_send.py`` (its own process, answers 202).

    python benchmarks/bench_variants.py                 # 100,000 readers
    python benchmarks/bench_variants.py --sizes 20000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_send import API_KEY, SECRET  # noqa: E402

TOPICS = [f"topic{i:02d}" for i in range(20)]
TARGET = 50_000  # recipients/s (issue 12: variants must not slow the send below it)


def topic_set(i: int) -> list[str]:
    first = i % 20
    return sorted({TOPICS[first], TOPICS[(first + 1) % 20]}) if first % 3 == 0 else [TOPICS[first]]


def populate(home: Path, n: int) -> int:
    from datetime import UTC, datetime

    from digest.config import load
    from digest.models import StoryIn
    from digest.pipeline import build_edition
    from digest.store import Store

    home.mkdir(parents=True, exist_ok=True)
    (home / "digest.toml").write_text('name = "Bench"\npublic_url = "https://bench.example"\n')
    config = load(home)
    when = datetime(2026, 11, 24, 6, tzinfo=UTC)
    with Store(config.db_path) as store:
        lst = store.add_list("main", from_email="news@example.com", from_name="Bench", address="1 Bench Road")
        now = "2026-11-24T07:00:00Z"
        for t, topic in enumerate(TOPICS):
            source = store.add_source(f"source-{topic}", f"https://{topic}.example/feed", tags=[topic])
            stories = [
                (
                    f"bench:{topic}:{i}",
                    StoryIn(
                        title=f"Story {i} about {topic}",
                        url=f"https://{topic}.example/{i}",
                        published_at=datetime(2026, 11, 24, 6 - i % 5, t, tzinfo=UTC),
                        summary=f"A summary of story {i} about {topic}, of some length. " * 4,
                        body_text="Body. " * 50,
                    ),
                )
                for i in range(1, 11)
            ]
            store.upsert_stories(source.id, stories, now=when)
        step = 100_000
        for start in range(1, n + 1, step):
            ids = range(start, min(start + step, n + 1))
            with store.transaction():
                store.conn.executemany(
                    "INSERT INTO subscribers(id, email, name, attributes, created_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        (i, f"reader{i}@example.org", f"Reader {i}", json.dumps({"topics": topic_set(i)}), now)
                        for i in ids
                    ),
                )
                store.conn.executemany(
                    "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
                    " VALUES (?, ?, 'confirmed', ?, ?)",
                    ((i, lst.id, now, now) for i in ids),
                )
        built = build_edition(store, config, "main", date="2026-11-24", now=datetime(2026, 11, 24, 7, tzinfo=UTC))
        return built.edition


def phase_send(home: Path, edition: int) -> dict[str, object]:
    import digest.render.mjml as mjml_module
    from digest.config import load
    from digest.render import render_edition
    from digest.send import send_edition
    from digest.store import Store
    from digest.variants import EditionVariants

    compiles = [0]
    real = mjml_module.mjml2html

    def counting(*args: object, **kwargs: object) -> str:
        compiles[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    mjml_module.mjml2html = counting  # type: ignore[assignment]
    config = load(home)
    with Store(config.db_path) as store:
        rendered = render_edition(store, config, edition)  # kept at build: no compile
        variants = EditionVariants(store, config, edition)
        building = [0.0]
        real_for_choice = variants.for_choice

        def timed(choice):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return real_for_choice(choice)
            finally:
                building[0] += time.perf_counter() - started

        variants.for_choice = timed  # type: ignore[method-assign]
        started = time.perf_counter()
        report = send_edition(store, config, edition, rendered, provider="sendgrid", variants=variants)
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "building": building[0],
        "renders": compiles[0],
        "variants": report.variants,
        "sent": report.sent,
        "requests": report.requests,
        "failed": report.failed,
        "unknown": report.unknown,
    }


def phase_floor(home: Path, edition: int) -> dict[str, object]:
    from digest import tokens
    from digest.config import load
    from digest.render import render_edition
    from digest.send import edition_mail, recipient
    from digest.send.providers.sendgrid import SendGridProvider
    from digest.store import Store

    config = load(home)
    with Store(config.db_path) as store:
        mail = edition_mail(store, config, edition, render_edition(store, config, edition))
        key = tokens.signing_key(store)
        n = int(store.scalar("SELECT count(*) FROM subscribers"))
    provider = SendGridProvider.from_config(config)
    started = time.perf_counter()
    requests = 0
    for start in range(1, n + 1, provider.batch_size):
        batch = [
            recipient(config, key, mail, i, f"reader{i}@example.org", f"Reader {i}")
            for i in range(start, min(start + provider.batch_size, n + 1))
        ]
        result = provider.post(provider.prepare(mail, batch))
        assert result.status == "sent", result
        requests += 1
    return {"seconds": time.perf_counter() - started, "sent": n, "requests": requests}


def run_phase(phase: str, home: Path, edition: int, env: dict[str, str]) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", phase, "--home", str(home), "--edition", str(edition)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", help="reader counts (default 100,000)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", choices=["send", "floor"], dest="phase")
    parser.add_argument("--home")
    parser.add_argument("--edition", type=int)
    args = parser.parse_args()
    if args.phase:
        home = Path(args.home)
        result = phase_send(home, args.edition) if args.phase == "send" else phase_floor(home, args.edition)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    sizes = args.sizes or [100_000]
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as tmp:
        port_file = Path(tmp) / "port"
        sink = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
                f" import bench_send; bench_send.serve_sink({str(port_file)!r})",
            ]
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.02)
            env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_") or k == "DIGEST_MJML_BIN"}
            env.update(
                SENDGRID_API_KEY=API_KEY,
                DIGEST_SECRET=SECRET,
                NO_PROXY="127.0.0.1,localhost",
                DIGEST_SENDGRID_HOST=f"http://127.0.0.1:{port_file.read_text()}",
                DIGEST_SEND_CONCURRENCY=str(args.concurrency),
                DIGEST_NOW="2026-11-24T07:00:00+00:00",
            )
            os.environ.update(DIGEST_NOW=env["DIGEST_NOW"])
            rows = []
            for n in sizes:
                home = Path(tmp) / f"home-{n}"
                edition = populate(home, n)
                send = run_phase("send", home, edition, env)
                floor = run_phase("floor", home, edition, env)
                assert send["sent"] == n and send["failed"] == 0 and send["unknown"] == 0, send
                assert send["renders"] == 20 and send["variants"] == 20, send
                rows.append((n, send, floor))
        finally:
            sink.terminate()
            sink.wait(10)
    load1 = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load1:.1f}; target {TARGET:,} recipients/s")
    print(
        f"{'readers':>9} {'variants':>8} {'renders':>7} {'build s':>7} {'send s':>7} {'send rcpt/s':>11}"
        f" {'excl. build':>11} {'send MB':>7} {'floor s':>7} {'floor rcpt/s':>12} {'send/floor':>10}"
    )
    for n, send, floor in rows:
        sending = send["seconds"] - send["building"]
        print(
            f"{n:>9,} {send['variants']:>8.0f} {send['renders']:>7.0f} {send['building']:>7.1f}"
            f" {send['seconds']:>7.1f} {n / send['seconds']:>11,.0f} {n / sending:>11,.0f} {send['peak_mb']:>7.0f}"
            f" {floor['seconds']:>7.1f} {n / floor['seconds']:>12,.0f} {send['seconds'] / floor['seconds']:>10.2f}"
        )


if __name__ == "__main__":
    main()
