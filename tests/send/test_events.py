"""Delivery events through a real `digest serve` app (uvicorn on 127.0.0.1), stats, and suppression sync."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from digest import clock
from digest.config import load
from digest.web import create_app
from tests.support import NOW
from tests.support.send import API_KEY, claim, email_of, make_edition, open_store
from tests.support.sendgrid_standin import StandIn

T0 = int(NOW.timestamp()) - 3600  # the events happened an hour before the suite's "now"
SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"


def keypair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(der).decode()  # what SendGrid shows as the verification key


def signed(private: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(clock.now().timestamp()))
    signature = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {SIG: base64.b64encode(signature).decode(), TS: timestamp, "Content-Type": "application/json"}


@pytest.fixture
def world(initialised: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An edition sent to 8 people (ledger written directly), and `digest serve`'s app on a real port."""
    private, public = keypair()
    monkeypatch.setenv("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY", public)
    with open_store(initialised) as store:
        edition = make_edition(store, 8)
        ids = {r.email: r.id for r in store.subscribers(store.list_("main").id)}
        batch = claim(store, edition, 8, provider="sendgrid")
        store.finish_batch(batch, "sent", message_id="m1")
        list_id = store.list_("main").id
    config = load(initialised)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield {
            "url": f"http://127.0.0.1:{port}/webhooks/sendgrid",
            "private": private,
            "edition": edition,
            "ids": ids,
            "home": initialised,
            "list_id": list_id,
            "config": config,
        }
    finally:
        server.should_exit = True
        thread.join(10)


def event(world: dict[str, Any], kind: str, i: int, **extra: Any) -> dict[str, Any]:
    email = email_of(i)
    return {
        "email": email,
        "event": kind,
        "timestamp": T0 + i,
        "sg_event_id": f"{kind}-{i}",
        "sg_message_id": "m1.filter",
        "edition_id": str(world["edition"]),
        "subscriber_id": str(world["ids"][email]),
        "list_id": str(world["list_id"]),
        **extra,
    }


def statuses(world: dict[str, Any]) -> dict[str, str]:
    with open_store(world["home"]) as store:
        return {r.email: r.status for r in store.subscribers(world["list_id"])}


def event_count(world: dict[str, Any]) -> int:
    with open_store(world["home"]) as store:
        return int(store.scalar("SELECT count(*) FROM events"))


def test_signed_events_are_recorded_once_and_change_statuses(world: dict[str, Any], cli) -> None:
    events = [
        *(event(world, "delivered", i) for i in range(1, 9)),
        event(world, "open", 1),
        event(world, "open", 1, sg_event_id="open-1-again"),
        event(world, "open", 2),
        event(world, "click", 1, url="https://example.org/s/1"),
        event(world, "bounce", 3, type="bounce", reason="550 no such user"),
        event(world, "bounce", 4, type="blocked", reason="try later"),  # a block is temporary: no status change
        event(world, "spamreport", 5),
        event(world, "unsubscribe", 6),
        event(world, "group_unsubscribe", 7, asm_group_id=1),
        event(world, "dropped", 8, reason="Bounced Address"),
        {"email": email_of(2), "event": "processed", "timestamp": T0},  # no sg_event_id: hashed
        "not an event",
    ]
    body = json.dumps(events).encode()
    answer = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        **dict.fromkeys(("invalid", "stale", "resolved"), 0),
        **{"received": 20, "recorded": 19, "duplicates": 0, "ignored": 1, "status_changes": 5},
    }
    assert statuses(world) == {
        email_of(1): "confirmed",
        email_of(2): "confirmed",
        email_of(3): "bounced",
        email_of(4): "confirmed",
        email_of(5): "complained",
        email_of(6): "unsubscribed",
        email_of(7): "unsubscribed",
        email_of(8): "bounced",
    }

    # SendGrid retries for 24 hours: the same batch again (re-signed) counts nothing twice
    again = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert again.json()["duplicates"] == 19 and again.json()["recorded"] == 0

    (row,) = json.loads(cli("stats", "--json", "--edition", str(world["edition"])).stdout)
    assert {
        k: row[k]
        for k in ("sent", "delivered", "bounced", "opened", "clicked", "unsubscribed", "complained", "dropped")
    } == {
        "sent": 8,
        "delivered": 8,
        "bounced": 2,
        "opened": 2,
        "clicked": 1,
        "unsubscribed": 2,
        "complained": 1,
        "dropped": 1,
    }
    table = cli("stats").stdout
    assert "delivered" in table and "Today" not in table.splitlines()[0]
    assert "no edition with id 999" in cli("stats", "--edition", "999", code=1).stderr


@pytest.mark.parametrize(
    "tamper", ["other key", "malformed signature", "no headers", "changed body", "changed timestamp"]
)
def test_anything_that_does_not_verify_is_403_and_changes_nothing(world: dict[str, Any], tamper: str) -> None:
    body = json.dumps([event(world, "unsubscribe", 1), event(world, "bounce", 2, type="bounce")]).encode()
    headers = signed(world["private"], body)
    if tamper == "other key":
        headers = signed(keypair()[0], body)
    elif tamper == "malformed signature":
        headers[SIG] = "this is not base64 DER!!"
    elif tamper == "no headers":
        headers = {"Content-Type": "application/json"}
    elif tamper == "changed body":
        body = body.replace(b"unsubscribe", b"delivered__")
    else:
        headers[TS] = str(int(headers[TS]) + 1)
    answer = httpx.post(world["url"], content=body, headers=headers)
    assert answer.status_code == 403
    assert event_count(world) == 0 and set(statuses(world).values()) == {"confirmed"}


def test_without_a_configured_key_events_wait(world: dict[str, Any]) -> None:
    world["config"].settings.sendgrid.webhook_public_key = ""
    body = json.dumps([event(world, "unsubscribe", 1)]).encode()
    answer = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert answer.status_code == 503 and "webhook_public_key" in answer.text  # SendGrid retries until it is set
    assert event_count(world) == 0


def test_sync_suppressions_pulls_every_page(initialised: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(initialised) as store:
        make_edition(store, 10)
    with StandIn() as standin:
        standin.suppressions["unsubscribes"] = [{"created": 1, "email": f"gone{i}@elsewhere.org"} for i in range(1100)]
        standin.suppressions["unsubscribes"].insert(700, {"created": 2, "email": email_of(1)})
        standin.suppressions["bounces"] = [
            {"created": 3, "email": email_of(2).upper(), "reason": "550", "status": "5.1.1"}
        ]
        standin.suppressions["spam_reports"] = [{"created": 4, "email": email_of(3), "ip": "10.0.0.1"}]
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        monkeypatch.setenv("DIGEST_SENDGRID_HOST", standin.url)
        report = json.loads(cli("subscribers", "sync-suppressions", "--json").stdout)
        offsets = [(q["kind"], q["offset"]) for q in standin.suppression_queries]
    assert report == {
        "unsubscribes": {"listed": 1101, "changed": 1},
        "bounces": {"listed": 1, "changed": 1},
        "spam_reports": {"listed": 1, "changed": 1},
    }
    assert offsets == [
        ("unsubscribes", "0"),
        ("unsubscribes", "500"),
        ("unsubscribes", "1000"),
        ("bounces", "0"),
        ("spam_reports", "0"),
    ]
    with open_store(initialised) as store:
        got = {r.email: r.status for r in store.subscribers(store.list_("main").id)}
    assert (got[email_of(1)], got[email_of(2)], got[email_of(3)], got[email_of(4)]) == (
        "unsubscribed",
        "bounced",
        "complained",
        "confirmed",
    )


# -- issue 14, findings 3 and 6: matching, bad events, replays ---------------------------------------------------
def test_events_find_their_reader_by_id_or_by_the_address_however_spelled(world: dict[str, Any]) -> None:
    with open_store(world["home"]) as store, store.transaction(immediate=True):
        sid = store.next_subscriber_id()
        store.insert_subscribers([(sid, "user@bücher.de", "", "{}", "2026-11-24T05:00:00Z")])
        store.insert_subscriptions(world["list_id"], [(sid, "confirmed")], "2026-11-24T05:00:00Z")
    idn = event(world, "bounce", 1, type="bounce", email="user@xn--bcher-kva.de", sg_event_id="idn")
    del idn["subscriber_id"]
    cased = event(world, "spamreport", 2, email=email_of(2).upper())
    del cased["subscriber_id"]
    by_id = event(world, "unsubscribe", 3, email="someone-else@example.net")  # the id carried decides
    body = json.dumps([idn, cased, by_id]).encode()
    answer = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert answer.status_code == 200 and answer.json()["status_changes"] == 3, answer.text
    got = statuses(world)
    assert (got["user@bücher.de"], got[email_of(2)], got[email_of(3)]) == ("bounced", "complained", "unsubscribed")


def test_a_bad_event_is_skipped_and_counted_and_the_rest_of_its_batch_kept(world: dict[str, Any]) -> None:
    events = [
        event(world, "delivered", 1, edition_id=str(10**30)),  # out of SQLite's range: was a 500 for the batch
        event(world, "open", 2, timestamp=10**20),
        event(world, "bounce", 3, type="bounce"),
    ]
    body = json.dumps(events).encode()
    answer = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["invalid"], answer.json()["recorded"], answer.json()["status_changes"]) == (2, 1, 1)
    assert statuses(world)[email_of(3)] == "bounced"


def test_old_events_and_old_signatures_are_refused(world: dict[str, Any]) -> None:
    old = event(world, "unsubscribe", 1, timestamp=T0 - 4 * 24 * 3600)  # four days before: past the 72 h window
    body = json.dumps([old, event(world, "bounce", 2, type="bounce")]).encode()
    answer = httpx.post(world["url"], content=body, headers=signed(world["private"], body))
    assert answer.json()["stale"] == 1 and answer.json()["status_changes"] == 1
    assert statuses(world)[email_of(1)] == "confirmed"
    replay = json.dumps([event(world, "unsubscribe", 4)]).encode()
    stamp = str(int(NOW.timestamp()) - 4 * 24 * 3600)
    answer = httpx.post(world["url"], content=replay, headers=signed(world["private"], replay, stamp))
    assert answer.status_code == 403 and statuses(world)[email_of(4)] == "confirmed"
