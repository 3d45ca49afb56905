"""digest doctor: ready-to-send checks, with secrets reported but never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import digest.doctor
from digest.config import load
from digest.doctor import run_checks
from digest.store import Store
from tests.support import NOW
from tests.support.newsletter import setup_newsletter

KEY = "SG.super-secret-value-123"


def statuses(result) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(result.stdout)}


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's checks ask this instead of the network (each test of records passes its own resolver)."""
    monkeypatch.setattr(digest.doctor, "dns_txt", lambda name: [])


def test_outbox_newsletter_is_ready(cli, initialised) -> None:
    cli("lists", "add", "main", "--address", "1 Quay St, Harbor City")
    checks = statuses(cli("doctor", "--json"))
    assert checks["provider"]["status"] == "ok"
    assert checks["secrets"]["status"] == "ok"
    assert checks["list main"]["status"] == "warn"  # no subscribers yet


def test_sendgrid_without_key_fails_naming_the_variable(cli, initialised) -> None:
    result = cli("doctor", "--provider", "sendgrid", "--json", code=1)
    checks = statuses(result)
    assert checks["secrets"]["status"] == "fail" and "SENDGRID_API_KEY" in checks["secrets"]["detail"]


def test_sendgrid_key_checked_against_the_api_and_never_shown(
    cli, initialised, monkeypatch, httpserver: HTTPServer
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("DIGEST_SECRET", "s" * 64)
    monkeypatch.setenv("DIGEST_SENDGRID_HOST", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.example")  # http:// fails with a real provider
    httpserver.expect_request("/v3/scopes", headers={"Authorization": f"Bearer {KEY}"}).respond_with_json(
        {"scopes": ["mail.send", "suppression.read"]}
    )
    result = cli("doctor", "--provider", "sendgrid")
    assert KEY not in result.stdout + result.stderr
    assert "accepts the key" in result.stdout
    httpserver.clear()
    httpserver.expect_request("/v3/scopes").respond_with_json({"errors": [{"message": "bad key"}]}, status=401)
    refused = cli("doctor", "--provider", "sendgrid", "--json", code=1)
    assert statuses(refused)["provider"]["status"] == "fail"
    assert KEY not in refused.stdout + refused.stderr


def test_sender_domain_records(initialised) -> None:
    config = load(initialised)
    with Store(config.db_path) as store:
        store.add_list("main", from_email="news@good.example", address="1 Street")
        store.add_list("other", from_email="news@bare.example", address="1 Street")
        records = {"good.example": ["v=spf1 include:sendgrid.net ~all"], "_dmarc.good.example": ["v=DMARC1; p=none"]}
        checks = {c.name: c for c in run_checks(store, config, resolver=lambda name: records.get(name, []))}
    assert checks["SPF good.example"].status == "ok"
    assert checks["DMARC good.example"].status == "ok"
    assert checks["SPF bare.example"].status == "warn" and "v=spf1" in checks["SPF bare.example"].detail
    assert checks["DMARC bare.example"].status == "warn"


def test_smtp_reachability_through_the_provider(cli, initialised, monkeypatch) -> None:
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    def free_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("DIGEST_SECRET", "s" * 64)
        monkeypatch.setenv("DIGEST_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DIGEST_SMTP_PORT", str(port))
        monkeypatch.setenv("DIGEST_SMTP_SECURITY", "none")
        monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.example")  # http:// fails with a real provider
        ok = statuses(cli("doctor", "--provider", "smtp", "--json"))
        assert ok["provider"]["status"] == "ok", ok["provider"]
    finally:
        controller.stop()
    free = free_port()  # nobody listens there
    monkeypatch.setenv("DIGEST_SMTP_PORT", str(free))
    down = statuses(cli("doctor", "--provider", "smtp", "--json", code=1))
    assert down["provider"]["status"] == "fail" and f"127.0.0.1:{free}" in down["provider"]["detail"]


# -- the last run: every 'digest run' is a row in the store's runs table --------------------------------
def test_doctor_says_how_the_last_run_went(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    assert statuses(cli("doctor", "--json"))["last run"] == {
        "name": "last run",
        "status": "ok",
        "detail": "no 'digest run' yet",
    }
    edition = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)["lists"][0]["edition"]
    last = statuses(cli("doctor", "--json"))["last run"]
    assert last["status"] == "ok" and last["detail"].startswith("exit code 0 at ")
    assert f"main: edition {edition}: sent 2, failed 0, unknown 0" in last["detail"]
    with Store(load(home).db_path) as store:
        record = store.last_run()
    assert record is not None and record.summary is not None and record.finished_at is not None
    assert record.started_at <= record.finished_at and record.summary.now == NOW.isoformat()

    cli("lists", "add", "broken", "--from-email", "b@example.com")
    cli("subscribers", "add", "carol@example.com", "--list", "broken")
    (home / "templates").mkdir()
    (home / "templates" / "subject.txt.j2").write_text(
        '{% if list.name == "broken" %}{{ no_such_value }}{% endif %}{{ newsletter.name }}\n', encoding="utf-8"
    )
    cli("run", "--now", NOW.isoformat(), code=1)
    last = statuses(cli("doctor", "--json"))["last run"]
    assert last["status"] == "warn" and last["detail"].startswith("exit code 1 at ")
    assert f"main: edition {edition}: sent 0, failed 0, unknown 0" in last["detail"]  # they already had it
    assert "broken: error: " in last["detail"] and "no_such_value" in last["detail"]


def test_doctor_warns_of_a_run_that_never_finished(initialised: Path, cli) -> None:
    with Store(load(initialised).db_path) as store:
        store.start_run("2026-11-24T07:00:00+00:00")  # as a run killed before it ended leaves it
    last = statuses(cli("doctor", "--json"))["last run"]
    assert last["status"] == "warn" and "started 2026-11-24T07:00:00+00:00 and has not finished" in last["detail"]


def test_a_list_with_a_send_time_and_daily_runs_is_warned_to_run_hourly(cli, initialised) -> None:  # type: ignore[no-untyped-def]
    cli("lists", "add", "main", "--address", "1 Quay St, Harbor City", "--send-at", "07:00")
    with Store(load(initialised).db_path) as store:
        for started in ("2026-11-23T07:05:00+00:00", "2026-11-24T07:05:00+00:00"):  # cron's daily line
            store.start_run(started)
    checks = statuses(cli("doctor", "--json"))
    assert checks["schedule"]["status"] == "warn"
    assert "24 hours apart" in checks["schedule"]["detail"]
    assert "digest schedule --hourly --install" in checks["schedule"]["detail"]
    with Store(load(initialised).db_path) as store:
        store.start_run("2026-11-24T08:05:00+00:00")
        store.start_run("2026-11-24T09:05:00+00:00")  # hourly from now on
    assert "schedule" not in statuses(cli("doctor", "--json"))
