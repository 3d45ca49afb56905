"""The send and run commands: raw List-Unsubscribe headers, unreachable providers, send's arguments (--to,
--date) and the lines 'digest run' prints."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from digest import clock
from tests.support import NOW
from tests.support.newsletter import setup_newsletter
from tests.support.send import SECRET, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

LONG_URL = "http://127.0.0.1:8000/a/rather/long/path/that/pushes/the/header/past/seventy/eight/characters"
UNSUBSCRIBE_LINE = re.compile(rb"^List-Unsubscribe: <(http://[^>\s]+/unsubscribe/[A-Za-z0-9_.\-]+)>\r?$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_plain_list_headers(raw: bytes) -> None:
    """The raw header block: List-Unsubscribe, -Post and List-Id are one plain line each, never encoded."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    lines = {line.split(b":", 1)[0]: line for line in head.splitlines() if line and not line[:1].isspace()}
    unsub = lines[b"List-Unsubscribe"]
    assert b"=?" not in unsub, unsub
    match = UNSUBSCRIBE_LINE.search(head)
    assert match, unsub
    assert match.group(1).startswith(LONG_URL.encode() + b"/unsubscribe/")
    assert lines[b"List-Unsubscribe-Post"].rstrip(b"\r") == b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    assert lines[b"List-Id"].rstrip(b"\r") == b"List-Id: main <main.example.com>"
    for name in (b"List-Unsubscribe", b"List-Unsubscribe-Post", b"List-Id"):  # not folded onto a second line
        at = head.index(lines[name]) + len(lines[name])
        assert not head[at:].lstrip(b"\r\n")[:1].isspace()


# -- List-Unsubscribe stays `<URL>` however long the URL ----------------------------------------------
def test_outbox_eml_has_a_plain_list_unsubscribe_line(cli, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(initialised) as store:
        make_edition(store, 2)
    monkeypatch.setenv("DIGEST_PUBLIC_URL", LONG_URL)
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    cli("send", "--provider", "outbox")
    emls = sorted((initialised / "outbox").glob("edition-*/*.eml"))
    assert len(emls) == 2
    for path in emls:
        assert_plain_list_headers(path.read_bytes())


def test_render_eml_as_a_subscriber_has_a_plain_list_unsubscribe_line(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 1)
    monkeypatch.setenv("DIGEST_PUBLIC_URL", LONG_URL)
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    out = initialised / "one.eml"
    cli("render", "--format", "eml", "--as", "reader00001@example.org", "--out", str(out))
    assert_plain_list_headers(out.read_bytes())


class RawSink:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.raw.append(envelope.original_content or envelope.content)
        return "250 OK queued"


@pytest.fixture
def raw_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawSink]:
    sink, port = RawSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    for k, v in {
        "DIGEST_SEND_PROVIDER": "smtp",
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_TIMEOUT": "5",
        "DIGEST_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(k, v)
    try:
        yield sink
    finally:
        controller.stop()


def test_smtp_message_has_a_plain_list_unsubscribe_line(
    cli, initialised: Path, raw_smtp: RawSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 2)
    monkeypatch.setenv("DIGEST_PUBLIC_URL", LONG_URL)
    assert json.loads(cli("send", "--json").stdout)["sent"] == 2
    assert len(raw_smtp.raw) == 2
    for raw in raw_smtp.raw:
        assert_plain_list_headers(raw)


# -- a connection never established is failed (sent again next run) and stops the run ------------------
def test_sendgrid_connection_refused_is_failed_and_says_where(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 6)
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for k, v in sendgrid_env(host).items():
        monkeypatch.setenv(k, v)
    result = cli("send", code=1)
    assert f"cannot reach SendGrid at {host}: connection refused" in result.stderr
    assert "DIGEST_SENDGRID_HOST" in result.stderr and "Traceback" not in result.stderr
    with open_store(initialised) as store:
        edition = store.find_edition(store.list_("main").id)
        assert edition is not None
        counts = store.send_counts(edition.id)
    assert counts.unknown == 0 and counts.sent == 0
    with StandIn() as standin:  # reachable again: everyone is still owed it, nobody is held back as unknown
        monkeypatch.setenv("DIGEST_SENDGRID_HOST", standin.url)
        report = json.loads(cli("send", "--json").stdout)
        assert report["sent"] == 6 and report["unknown"] == 0
        assert len(standin.addresses()) == 6


def test_smtp_server_unreachable_is_failed_and_names_host_and_port(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 6)
    port = free_port()
    for k, v in {
        "DIGEST_SEND_PROVIDER": "smtp",
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_TIMEOUT": "5",
        "DIGEST_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(k, v)
    result = cli("send", code=1)
    assert f"cannot reach SMTP server 127.0.0.1:{port}" in result.stderr and "[smtp]" in result.stderr
    with open_store(initialised) as store:
        edition = store.find_edition(store.list_("main").id)
        assert edition is not None
        counts = store.send_counts(edition.id)
    assert counts.unknown == 0 and counts.sent == 0


# -- --to must be an address ---------------------------------------------------------------------------
def test_send_to_a_non_address_is_refused(cli, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(initialised) as store:
        make_edition(store, 1)
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    result = cli("send", "--to", "not-an-email", code=1)
    assert "not-an-email" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list((initialised / "outbox").glob("test-*/*.eml"))


# -- send defaults to today's edition, and checks --date ------------------------------------------------
def test_send_defaults_to_today_not_the_latest_edition(cli, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(initialised) as store:
        make_edition(store, 2, date="2099-01-01")  # built ahead, for a future day
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    today = clock.now().date().isoformat()
    result = cli("send", code=1)
    assert f"no edition of 'main' for {today}: run 'digest build' (or pass --date)" in result.stderr
    assert not list((initialised / "outbox").glob("edition-*/*.eml"))
    assert json.loads(cli("send", "--date", "2099-01-01", "--json").stdout)["sent"] == 2


def test_send_date_must_be_a_date(cli, initialised: Path) -> None:
    result = cli("send", "--date", "tomorrow", code=1)
    assert "not a date; use YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr


# -- what 'digest run' prints is true ------------------------------------------------------------------
def test_run_dry_run_says_would_send(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    out = cli("run", "--now", NOW.isoformat(), "--dry-run").stderr
    assert "would send to 2" in out and "sent to" not in out


def test_run_reports_unknown_recipients_and_the_provider_error(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_newsletter(cli, home)
    with StandIn() as standin:
        standin.then("500")
        for k, v in sendgrid_env(standin.url, DIGEST_SENDGRID_MAX_ATTEMPTS="1").items():
            monkeypatch.setenv(k, v)
        result = cli("run", "--now", NOW.isoformat(), code=3)
    assert "sent 0, failed 0, unknown 2" in result.stderr
    assert "already went to everyone" not in result.stderr
    assert "provider said: 500" in result.stderr


def test_run_with_nobody_confirmed_says_so(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    cli("lists", "add", "careful", "--from-email", "c@example.com", "--double-opt-in")
    out = cli("run", "--now", NOW.isoformat()).stderr
    assert "nobody on 'careful' is owed edition" in out and "(no confirmed subscribers)" in out
    assert "already went to everyone" not in out
    again = cli("run", "--now", NOW.isoformat()).stderr
    # (not on a terminal, each line of run starts with its time)
    assert re.search(r"^\S+Z main: edition \d+ of 2026-11-24 already went to everyone; nothing sent$", again, re.M)
    assert "nobody on 'careful' is owed edition" in again


def test_real_mail_with_loopback_links_is_warned_about(cli, initialised, monkeypatch) -> None:
    from digest.config import load

    config = load(initialised)
    assert config.local_links_warning("outbox") is None
    assert "public_url is http://127.0.0.1:8000" in (config.local_links_warning("sendgrid") or "")
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.example.org")
    assert load(initialised).local_links_warning("sendgrid") is None
