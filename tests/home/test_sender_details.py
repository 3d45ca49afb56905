"""No made-up sender details: init never writes a fake postal address, a real send refuses one, doctor says so."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import digest.doctor
from digest.send.compliance import address_problem

KEY = "SG.test-key"


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """doctor's DNS answers, from this dict: no test here asks the network."""
    records: dict[str, list[str]] = {}
    monkeypatch.setattr(digest.doctor, "dns_txt", lambda name: records.get(name, []))
    return records


def checks(result) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return {c["name"]: c for c in json.loads(result.stdout)}


def test_init_without_an_address_leaves_none_and_says_so(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("init", "--example")
    toml = (home / "digest.toml").read_text(encoding="utf-8")
    assert tomllib.loads(toml)["sender"]["address"] == ""
    assert "Example Street" not in toml and "Springfield" not in toml
    assert "No postal address yet" in result.stderr + result.stdout
    (lst,) = json.loads(cli("lists", "list", "--json").stdout)
    assert lst["address"] == ""


def test_init_takes_the_address(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--example", "--address", 'Harbor "Weekly", 1 Quay St, Harbor City')
    assert tomllib.loads((home / "digest.toml").read_text())["sender"]["address"] == (
        'Harbor "Weekly", 1 Quay St, Harbor City'
    )
    (lst,) = json.loads(cli("lists", "list", "--json").stdout)
    assert lst["address"] == 'Harbor "Weekly", 1 Quay St, Harbor City'


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("", "no postal address"),
        ("   ", "no postal address"),
        ("Example Media, 1 Example Street, Springfield", "placeholder"),
        ("(set [sender] address in digest.toml)", "placeholder"),
        ("123 Main St, Anytown", "placeholder"),
        ("Your postal address here", "placeholder"),
        ("1 Quay St, Harbor City", None),
        ("Springfield Road 4, 1010 Vienna", None),
    ],
)
def test_address_problem(address: str, problem: str | None) -> None:
    found = address_problem(address)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_real_provider_refuses_a_list_without_a_real_address(
    home: Path,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli("init", "--example")
    cli("collect")
    cli("build")
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("DIGEST_SECRET", "s" * 64)
    monkeypatch.setenv("DIGEST_SENDGRID_HOST", "http://127.0.0.1:9")  # refused before any request would go there
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.harbor.example")
    for provider in ("sendgrid", "smtp"):
        refused = cli("send", "--provider", provider, code=1)
        (line,) = refused.stderr.strip().splitlines()
        assert "list 'main' has no postal address" in line
        assert "digest lists edit main --address" in line and "Traceback" not in line
    cli("lists", "edit", "main", "--address", "Example Media, 1 Example Street, Springfield")
    placeholder = cli("send", "--provider", "sendgrid", code=1).stderr
    assert "placeholder postal address" in placeholder and "digest lists edit main" in placeholder
    cli("send", "--provider", "outbox")
    assert len(list((home / "outbox").rglob("*.eml"))) == 5  # the outbox renders without one: it sends nothing


def test_lists_edit_changes_only_what_is_given(initialised: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("lists", "add", "main", "--from-email", "news@harbor.example", "--from-name", "Harbor")
    row = json.loads(cli("lists", "edit", "main", "--address", " 1 Quay St ", "--json").stdout)
    assert row["address"] == "1 Quay St" and row["from_name"] == "Harbor" and row["from_email"] == "news@harbor.example"
    assert "no list named 'nope'" in cli("lists", "edit", "nope", "--address", "x", code=1).stderr


def test_doctor_fails_on_a_missing_address_http_url_and_a_free_mail_sender(
    initialised: Path,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    no_dns: dict[str, list[str]],
) -> None:
    monkeypatch.setenv("DIGEST_SECRET", "s" * 64)
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setattr(digest.doctor, "_sendgrid_check", lambda config: digest.doctor.Check("provider", "ok", "-"))
    cli("lists", "add", "main", "--from-email", "news@yahoo.com")
    no_dns["_dmarc.yahoo.com"] = ["v=DMARC1; p=reject; pct=100; rua=mailto:d@yahoo.com"]
    outbox = checks(cli("doctor", "--json"))
    assert outbox["list main"]["status"] == "warn" and "no postal address" in outbox["list main"]["detail"]
    assert outbox["public_url"]["status"] != "fail" and outbox["From yahoo.com"]["status"] == "warn"
    real = checks(cli("doctor", "--provider", "sendgrid", "--json", code=1))
    assert real["list main"]["status"] == "fail" and "digest lists edit main --address" in real["list main"]["detail"]
    assert real["public_url"]["status"] == "fail" and "HTTPS" in real["public_url"]["detail"]
    assert real["From yahoo.com"]["status"] == "fail" and "p=reject" in real["From yahoo.com"]["detail"]
    # The advice is printed whole, however long.
    text = " ".join(cli("doctor", "--provider", "sendgrid", code=1).stdout.split())  # wrapped, never cut
    for check in real.values():
        assert " ".join(check["detail"].split()) in text, check
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.harbor.example")
    cli("lists", "edit", "main", "--address", "1 Quay St, Harbor City", "--from-email", "news@harbor.example")
    no_dns["_dmarc.harbor.example"] = ["v=DMARC1; p=quarantine"]
    no_dns["harbor.example"] = ["v=spf1 include:sendgrid.net ~all"]
    unsigned = checks(cli("doctor", "--provider", "sendgrid", "--json", code=1))
    assert unsigned["DKIM harbor.example"]["status"] == "fail"
    assert "s1._domainkey.harbor.example" in unsigned["DKIM harbor.example"]["detail"]
    assert "s2._domainkey.harbor.example" in unsigned["DKIM harbor.example"]["detail"]
    no_dns["s1._domainkey.harbor.example"] = ["k=rsa; t=s; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"]
    ready = checks(cli("doctor", "--provider", "sendgrid", "--json"))
    assert ready.pop("list main")["detail"].startswith("0 receiving")  # the warnings left: nobody to send to,
    assert "digest sources add" in ready.pop("sources")["detail"]  # and nothing to send yet
    assert {c["status"] for c in ready.values()} == {"ok"}, ready
    assert "s1" in ready["DKIM harbor.example"]["detail"]


def test_a_free_mail_sender_with_a_lenient_policy_is_a_warning(
    initialised: Path,
    cli,  # type: ignore[no-untyped-def]
    no_dns: dict[str, list[str]],
) -> None:
    cli("lists", "add", "main", "--from-email", "me@gmx.net", "--address", "1 Quay St")
    no_dns["_dmarc.gmx.net"] = ["v=DMARC1; p=none"]
    found = checks(cli("doctor", "--json"))
    assert found["From gmx.net"]["status"] == "warn" and "domain you own" in found["From gmx.net"]["detail"]


@pytest.mark.slow
def test_init_in_a_terminal_asks_for_the_address(tmp_path: Path) -> None:
    """At a terminal (a pseudo-terminal here) init asks; what is typed goes into digest.toml as it is."""
    import os
    import pty
    import subprocess
    import sys

    from tests.support import ROOT

    home = tmp_path / "asked"
    primary, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGEST_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from digest.cli import main; main()", "init"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    os.write(primary, "1 Quay St, Harbör City\n".encode())
    assert proc.wait(timeout=120) == 0
    shown = b""
    try:
        while chunk := os.read(primary, 4096):
            shown += chunk
    except OSError:  # the terminal closed with the process
        pass
    os.close(primary)
    assert b"Postal address for the footer" in shown
    assert tomllib.loads((home / "digest.toml").read_text())["sender"]["address"] == "1 Quay St, Harbör City"
