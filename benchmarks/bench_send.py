"""Send one edition to N subscribers through each provider, beside a floor measured in the same run.

For each provider and size: populate a fresh store with fast executemany SQL (not the CLI), then, each in its
own process so that peak memory (ru_maxrss) is that phase's alone:

* sendgrid: ``digest.send.send_edition`` with the ledger, the lock and [send] concurrency requests in flight, to a
  local HTTP sink (its own process: reads each body, discards it, answers 202). Floor: the same request bodies
  (same ``prepare``, same signed unsubscribe URLs) built and posted by the same client in a bare loop, one request
  at a time, no store, no ledger.
* smtp: ``send_edition`` through the smtp provider ([smtp] connections in flight) to a local aiosmtpd sink (its own
  process: takes each message and drops it; it advertises PIPELINING unless ``--no-pipelining``). Floor: one
  pre-built message's bytes sent N times (one envelope per reader) over as many raw sockets, pipelined when the
  sink offers it: no building, no store, no ledger.
* outbox: ``send_edition`` through the outbox provider (one .eml per reader, written then renamed). Floor: one
  pre-built message's bytes written to N files the same way: no building, no store, no ledger.

    python benchmarks/bench_send.py            # sendgrid 100k and 1M, smtp 100k, outbox 20k
    python benchmarks/bench_send.py --quick    # sendgrid 20k and 100k, smtp 20k, outbox 5k
    python benchmarks/bench_send.py --providers smtp --smtp-sizes 100000
    python benchmarks/bench_send.py --providers outbox --profile   # pyinstrument profile of each send phase
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
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


class SmtpSink:
    """aiosmtpd handler: takes every message and drops it. aiosmtpd reads commands a line at a time, so pipelined
    commands work, but it does not advertise PIPELINING itself: this handler adds it when asked."""

    def __init__(self, pipelining: bool) -> None:
        self.pipelining = pipelining

    async def handle_EHLO(  # noqa: N802
        self, server: object, session: object, envelope: object, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # type: ignore[attr-defined]
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        return "250 OK"


def serve_smtp_sink(port_file: str, pipelining: bool) -> None:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(SmtpSink(pipelining), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    Path(port_file).write_text(str(port))
    threading.Event().wait()


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
def phase_send(home: Path, edition: int, profile: bool, provider: str = "sendgrid") -> dict[str, object]:
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
        started, cpu = time.perf_counter(), own_cpu()
        report = send_edition(store, config, edition, rendered, provider=provider)
        elapsed, cpu = time.perf_counter() - started, own_cpu() - cpu
        if profiler:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False), file=sys.stderr)
    return {
        "seconds": elapsed,
        "cpu_s": cpu,
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
    started, cpu = time.perf_counter(), own_cpu()
    requests = 0
    for start in range(1, n + 1, provider.batch_size):
        batch = [
            recipient(config, key, mail, i, f"reader{i}@example.org", f"Reader {i}")
            for i in range(start, min(start + provider.batch_size, n + 1))
        ]
        result = provider.post(provider.prepare(mail, batch))
        assert result.status == "sent", result
        requests += 1
    return {"seconds": time.perf_counter() - started, "cpu_s": own_cpu() - cpu, "sent": n, "requests": requests}


def phase_wire(home: Path, edition: int, concurrency: int) -> dict[str, object]:
    """The issue's SendGrid floor: raw HTTP POSTs of a pre-encoded body (the first batch's, built before the clock
    starts) N/1000 times over ``concurrency`` keep-alive connections (http.client): no building, no ledger."""
    import http.client
    from urllib.parse import urlsplit

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
    size = provider.batch_size
    body = bytes(
        provider.prepare(
            mail, [recipient(config, key, mail, i, f"reader{i}@example.org", f"Reader {i}") for i in range(1, size + 1)]
        )
    )
    target = urlsplit(os.environ["DIGEST_SENDGRID_HOST"])
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json; charset=utf-8"}
    requests = -(-n // size)

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)
        for _ in range(count):
            conn.request("POST", "/v3/mail/send", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 202, response.status
        conn.close()

    shares = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(share,)) for share in shares if share]
    started, cpu = time.perf_counter(), own_cpu()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - started, "cpu_s": own_cpu() - cpu, "sent": n, "requests": requests}


def _one_message(home: Path, edition: int) -> tuple[bytes, str]:
    """One reader's message as the provider would write it (CRLF, as for SMTP), and the sender."""
    from digest import tokens
    from digest.config import load
    from digest.render import render_edition
    from digest.send import edition_mail, recipient
    from digest.send.message import build_message
    from digest.store import Store

    config = load(home)
    with Store(config.db_path) as store:
        mail = edition_mail(store, config, edition, render_edition(store, config, edition))
        r = recipient(config, tokens.signing_key(store), mail, 1, "reader1@example.org", "Reader 1")
    msg = build_message(mail, r, "example.com")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")), mail.from_email


def phase_outbox_floor(home: Path, edition: int) -> dict[str, object]:
    from digest.send.providers.outbox import write_file

    data, _ = _one_message(home, edition)
    n = _count(home)
    folder = home / "floor"
    folder.mkdir()
    started, cpu = time.perf_counter(), own_cpu()
    for i in range(1, n + 1):
        path = os.path.join(folder, f"{i:08d}-reader{i}@example.org.eml")
        write_file(path + ".tmp", data)  # the outbox's own write (os.open, os.write), then the rename
        os.replace(path + ".tmp", path)
    return {"seconds": time.perf_counter() - started, "cpu_s": own_cpu() - cpu, "sent": n, "bytes": len(data)}


def phase_smtp_floor(home: Path, edition: int, connections: int) -> dict[str, object]:
    """Pre-built bytes over ``connections`` raw sockets: EHLO once, then per reader MAIL, RCPT, DATA, the body;
    pipelined (the body, then the next envelope, in one write; one round trip per message) when offered."""
    data, sender = _one_message(home, edition)
    body = data.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    n = _count(home)
    port = int(os.environ["DIGEST_SMTP_PORT"])

    def worker(ids: range) -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def reply() -> bytes:
            while True:
                line = reader.readline()
                if line[3:4] != b"-":
                    return line

        reply()
        sock.sendall(b"EHLO floor\r\n")
        pipelining = False
        while True:
            line = reader.readline()
            pipelining = pipelining or line[4:].strip().upper() == b"PIPELINING"
            if line[3:4] != b"-":
                break
        envelope = [f"MAIL FROM:<{sender}>\r\nRCPT TO:<reader{i}@example.org>\r\nDATA\r\n".encode() for i in ids]
        if pipelining:
            sock.sendall(envelope[0])
            for k in range(len(envelope)):
                assert reply()[:3] == b"250" and reply()[:3] == b"250" and reply()[:3] == b"354"
                sock.sendall(body + envelope[k + 1] if k + 1 < len(envelope) else body)
                assert reply()[:3] == b"250"
        else:
            for env in envelope:
                for command in env.split(b"\r\n")[:3]:
                    sock.sendall(command + b"\r\n")
                    assert reply()[:1] in b"23"
                sock.sendall(body)
                assert reply()[:3] == b"250"
        sock.sendall(b"QUIT\r\n")
        reply()
        sock.close()

    step = -(-n // connections)
    threads = [threading.Thread(target=worker, args=(range(s, min(s + step, n + 1)),)) for s in range(1, n + 1, step)]
    started, cpu = time.perf_counter(), own_cpu()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - started, "cpu_s": own_cpu() - cpu, "sent": n, "bytes": len(data)}


def _count(home: Path) -> int:
    from digest.store import Store

    with Store(home / "digest.db") as store:
        return int(store.scalar("SELECT count(*) FROM subscribers"))


def child(args: argparse.Namespace) -> None:
    home = Path(args.home)
    phase = args.phase
    if phase in ("sendgrid", "smtp", "outbox"):
        result = phase_send(home, args.edition, args.profile, phase)
    elif phase == "sendgrid-floor":
        result = phase_floor(home, args.edition)
    elif phase == "sendgrid-wire":
        result = phase_wire(home, args.edition, args.concurrency)
    elif phase == "smtp-floor":
        result = phase_smtp_floor(home, args.edition, args.connections)
    else:
        result = phase_outbox_floor(home, args.edition)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_mb"] = usage.ru_maxrss / 1024
    print(json.dumps(result))


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` so far (Linux /proc), to show what the sink itself costs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(
    phase: str, home: Path, edition: int, env: dict[str, str], args: argparse.Namespace, sink: int | None
) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", phase, "--home", str(home), "--edition", str(edition)]
    cmd += ["--connections", str(args.connections), "--concurrency", str(args.concurrency)]
    profile = args.profile and not phase.endswith("floor")
    if profile:
        cmd.append("--profile")
    before = cpu_seconds(sink) if sink else 0.0
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr}")
    if profile:
        print(done.stderr, file=sys.stderr)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["sink_cpu_s"] = cpu_seconds(sink) - before if sink else 0.0
    return result


def start(target: str, port_file: Path) -> subprocess.Popen[bytes]:
    """A sink in its own process (``target``: a call in this module); waits until it wrote its port."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r})"
    sink = subprocess.Popen([sys.executable, "-c", f"{code}; import bench_send; bench_send.{target}"])
    while not port_file.exists() or not port_file.read_text():
        if sink.poll() is not None:
            raise SystemExit(f"the sink stopped: {target}")
        time.sleep(0.02)
    return sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer subscribers (see above)")
    parser.add_argument("--providers", nargs="*", choices=["sendgrid", "smtp", "outbox"])
    parser.add_argument("--sizes", type=int, nargs="*", help="subscriber counts for sendgrid")
    parser.add_argument("--smtp-sizes", type=int, nargs="*")
    parser.add_argument("--outbox-sizes", type=int, nargs="*")
    parser.add_argument("--concurrency", type=int, default=4, help="[send] concurrency (sendgrid)")
    parser.add_argument("--connections", type=int, default=4, help="[smtp] connections (and the floor's)")
    parser.add_argument("--no-pipelining", action="store_true", help="the SMTP sink does not offer PIPELINING")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of each send phase")
    parser.add_argument(
        "--child",
        choices=["sendgrid", "sendgrid-floor", "sendgrid-wire", "smtp", "smtp-floor", "outbox", "outbox-floor"],
        dest="phase",
    )
    parser.add_argument("--home")
    parser.add_argument("--edition", type=int)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    providers = args.providers or ["sendgrid", "smtp", "outbox"]
    sizes = {
        "sendgrid": args.sizes or ([20_000, 100_000] if args.quick else [100_000, 1_000_000]),
        "smtp": args.smtp_sizes or ([20_000] if args.quick else [100_000]),
        "outbox": args.outbox_sizes or ([5_000] if args.quick else [20_000]),
    }
    rows, wires = [], []
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        http_port, smtp_port = Path(tmp) / "http-port", Path(tmp) / "smtp-port"
        sinks: dict[str, subprocess.Popen[bytes]] = {}
        if "sendgrid" in providers:
            sinks["sendgrid"] = start(f"serve_sink({str(http_port)!r})", http_port)
        if "smtp" in providers:
            sinks["smtp"] = start(f"serve_smtp_sink({str(smtp_port)!r}, {not args.no_pipelining})", smtp_port)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
            env.update(
                SENDGRID_API_KEY=API_KEY,
                DIGEST_SECRET=SECRET,
                NO_PROXY="127.0.0.1,localhost",
                DIGEST_PUBLIC_URL="https://news.example.com",
                DIGEST_SEND_CONCURRENCY=str(args.concurrency),
                DIGEST_SMTP_HOST="127.0.0.1",
                DIGEST_SMTP_SECURITY="none",
                DIGEST_SMTP_CONNECTIONS=str(args.connections),
            )
            if "sendgrid" in providers:
                env["DIGEST_SENDGRID_HOST"] = f"http://127.0.0.1:{http_port.read_text()}"
            if "smtp" in providers:
                env["DIGEST_SMTP_PORT"] = smtp_port.read_text()
            for provider in providers:
                for n in sizes[provider]:
                    home = Path(tmp) / f"home-{provider}-{n}"
                    started = time.perf_counter()
                    edition = populate(home, n)
                    populated = time.perf_counter() - started
                    sink = sinks[provider].pid if provider in sinks else None
                    send = run_phase(provider, home, edition, env, args, sink)
                    floor = run_phase(f"{provider}-floor", home, edition, env, args, sink)
                    assert send["sent"] == n and send["failed"] == 0 and send["unknown"] == 0, send
                    rows.append((provider, n, populated, send, floor))
                    if provider == "sendgrid":
                        wires.append((n, send, run_phase("sendgrid-wire", home, edition, env, args, sink)))
                    subprocess.run(["rm", "-rf", str(home)], check=True)
        finally:
            for process in sinks.values():
                process.terminate()
                process.wait(10)
    load = os.getloadavg()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{when}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print("cpu: the phase's process CPU per message (µs, the timed part only); sink: the sink's CPU per message (µs)")
    print(
        f"{'provider':>9} {'readers':>10} {'send s':>7} {'send msg/s':>10} {'cpu':>5} {'sink':>5} {'MB':>4}"
        f" {'floor s':>7} {'floor msg/s':>11} {'cpu':>5} {'sink':>5} {'MB':>4} {'send/floor':>10}"
    )
    for provider, n, _populated, send, floor in rows:
        cells = []
        for phase in (send, floor):
            cells.append(
                f"{phase['seconds']:>7.1f} {n / phase['seconds']:>{10 if phase is send else 11},.0f}"
                f" {phase['cpu_s'] / n * 1e6:>5.0f} {phase['sink_cpu_s'] / n * 1e6:>5.0f} {phase['peak_mb']:>4.0f}"
            )
        print(f"{provider:>9} {n:>10,} {cells[0]} {cells[1]} {send['seconds'] / floor['seconds']:>10.2f}")

    if wires:
        print("sendgrid against the wire: raw POSTs of one pre-encoded body (no building, no ledger)")
        print(f"{'readers':>10} {'send s':>7} {'wire s':>7} {'wire msg/s':>11} {'cpu':>5} {'send/wire':>9}")
        for n, send, wire in wires:
            print(
                f"{n:>10,} {send['seconds']:>7.1f} {wire['seconds']:>7.1f} {n / wire['seconds']:>11,.0f}"
                f" {wire['cpu_s'] / n * 1e6:>5.1f} {send['seconds'] / wire['seconds']:>9.2f}"
            )


if __name__ == "__main__":
    main()
