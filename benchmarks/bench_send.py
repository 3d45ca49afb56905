"""Send one edition to N subscribers through the sendgrid provider against a local HTTP sink.

For each size: populate a fresh store with fast executemany SQL (not the CLI), then, each in its
own process so that peak memory (ru_maxrss) is that phase's alone:
  * send  - ``digest.send.send_edition`` with the ledger, the lock and [send] concurrency requests in flight;
  * floor - the same request bodies (same ``prepare``, same signed unsubscribe URLs) built and posted by the
            same client in a bare loop: no store, no ledger, one request at a time.
The sink (127.0.0.1, its own process) reads each body, discards it and answers 202.

    python benchmarks/bench_send.py            # 100,000 and 1,000,000 subscribers
    python benchmarks/bench_send.py --quick    # 20,000 and 100,000
    python benchmarks/bench_send.py --sizes 50000 --profile   # pyinstrument profile of the send
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

API_KEY = "SG.bench"
SECRET = "bench-secret-0123456789"


# -- the sink -------------------------------------------------------------------------------
class Sink(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None

    def do_POST(self) -> None:  # noqa: N802
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        self.send_response(202)
        self.send_header("X-Message-Id", "sink")
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve_sink(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# -- populating -------------------------------------------------------------------------------
def populate(home: Path, n: int) -> int:
    from datetime import UTC, datetime

    from digest.models import Ranked, StoryIn
    from digest.store import Store

    home.mkdir(parents=True, exist_ok=True)
    with Store(home / "digest.db") as store:
        lst = store.add_list("main", from_email="news@example.com", from_name="Bench", address="1 Bench Road")
        now = "2026-11-24T07:00:00Z"
        step = 100_000
        for start in range(1, n + 1, step):
            ids = range(start, min(start + step, n + 1))
            with store.transaction():
                store.conn.executemany(
                    "INSERT INTO subscribers(id, email, name, attributes, created_at) VALUES (?, ?, ?, '{}', ?)",
                    ((i, f"reader{i}@example.org", f"Reader {i}", now) for i in ids),
                )
                store.conn.executemany(
                    "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
                    " VALUES (?, ?, 'confirmed', ?, ?)",
                    ((i, lst.id, now, now) for i in ids),
                )
        when = datetime(2026, 11, 24, 6, tzinfo=UTC)
        stories = [
            (
                f"bench:{i}",
                StoryIn(
                    title=f"Story number {i} of the day",
                    url=f"https://example.org/{i}",
                    published_at=when,
                    summary="A summary of some length. " * 8,
                    body_text="Body. " * 50,
                ),
            )
            for i in range(1, 11)
        ]
        store.upsert_stories(None, stories, now=when)
        picked = [
            Ranked(
                story_id=int(store.scalar("SELECT id FROM stories WHERE identity = ?", (k,))),
                title=s.title,
                url=s.url,
                source=None,
                score=1.0,
                why={},
            )
            for k, s in stories
        ]
        return store.freeze_edition(lst.id, "2026-11-24", "Bench digest", "ten stories", now, picked)


# -- the measured phases (each in its own process) -------------------------------------------
def phase_send(home: Path, edition: int, profile: bool) -> dict[str, object]:
    from digest.config import load
    from digest.render import render_edition
    from digest.send import send_edition
    from digest.store import Store

    config = load(home)
    with Store(config.db_path) as store:
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        rendered = render_edition(store, config, edition)  # as the pipeline does, before (and outside) the send
        started = time.perf_counter()
        report = send_edition(store, config, edition, rendered, provider="sendgrid")
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False), file=sys.stderr)
    return {
        "seconds": elapsed,
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


def child(args: argparse.Namespace) -> None:
    home = Path(args.home)
    result = phase_send(home, args.edition, args.profile) if args.phase == "send" else phase_floor(home, args.edition)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_phase(phase: str, home: Path, edition: int, env: dict[str, str], profile: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", phase, "--home", str(home), "--edition", str(edition)]
    if profile:
        cmd.append("--profile")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr}")
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 and 100,000 subscribers")
    parser.add_argument("--sizes", type=int, nargs="*", help="subscriber counts")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of the send phase")
    parser.add_argument("--child", choices=["send", "floor"], dest="phase")
    parser.add_argument("--home")
    parser.add_argument("--edition", type=int)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    sizes = args.sizes or ([20_000, 100_000] if args.quick else [100_000, 1_000_000])
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        port_file = Path(tmp) / "port"
        sink = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r});"
                f" sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
                f" import bench_send; bench_send.serve_sink({str(port_file)!r})",
            ]
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.02)
            env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
            env.update(
                SENDGRID_API_KEY=API_KEY,
                DIGEST_SECRET=SECRET,
                NO_PROXY="127.0.0.1,localhost",
                DIGEST_SENDGRID_HOST=f"http://127.0.0.1:{port_file.read_text()}",
                DIGEST_SEND_CONCURRENCY=str(args.concurrency),
            )
            rows = []
            for n in sizes:
                home = Path(tmp) / f"home-{n}"
                started = time.perf_counter()
                edition = populate(home, n)
                populated = time.perf_counter() - started
                send = run_phase("send", home, edition, env, args.profile)
                floor = run_phase("floor", home, edition, env, False)
                assert send["sent"] == n and send["failed"] == 0 and send["unknown"] == 0, send
                rows.append((n, populated, send, floor))
                (home / "digest.db").unlink()
        finally:
            sink.terminate()
            sink.wait(10)
    print(
        f"{'subscribers':>12} {'populate s':>10} {'send s':>8} {'send rcpt/s':>12} {'send MB':>8}"
        f" {'floor s':>8} {'floor rcpt/s':>13} {'floor MB':>9} {'send/floor':>10} {'requests':>9}"
    )
    for n, populated, send, floor in rows:
        print(
            f"{n:>12,} {populated:>10.1f} {send['seconds']:>8.1f} {n / send['seconds']:>12,.0f}"
            f" {send['peak_mb']:>8.0f} {floor['seconds']:>8.1f} {n / floor['seconds']:>13,.0f}"
            f" {floor['peak_mb']:>9.0f} {send['seconds'] / floor['seconds']:>10.2f} {send['requests']:>9,}"
        )


if __name__ == "__main__":
    main()
