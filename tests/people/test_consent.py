"""Consent, privacy and the web: signing key kind, suppressions, lasting erasure,
the webhook's body cap, tokens kept out of the access log, list names, one set of active statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from digest import consent, subscribers, tokens
from digest.config import load
from digest.errors import ConfigError, SubscriberError
from digest.send.events import record_events, sync_suppressions
from digest.store import Store
from digest.store import events as store_events
from digest.store import people as store_people
from digest.web import RedactTokens, create_app, redact, webhooks
from tests.support.send import SECRET, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


# -- links signed with DIGEST_SECRET need it on `digest serve` ------------------------------
@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


def test_serve_refuses_to_start_without_the_secret_a_real_send_signed_with(
    cli, initialised: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 3)
    for k, v in sendgrid_env(standin.url, DIGEST_PUBLIC_URL="https://news.example.org").items():
        monkeypatch.setenv(k, v)
    cli("send", "--json")
    with open_store(initialised) as store:
        assert store.meta_get(tokens.KIND_KEY) == "env"
        sid, list_id = next(store.subscribers()).id, store.list_("main").id
    token = tokens.sign(SECRET.encode(), "unsubscribe", sid, list_id)

    monkeypatch.delenv("DIGEST_SECRET")
    with pytest.raises(ConfigError, match="DIGEST_SECRET"):
        create_app(load(initialised))
    result = cli("serve", "--port", "0", code=None)
    assert result.exit_code != 0 and "DIGEST_SECRET" in result.stderr and "Serving" not in result.stdout

    monkeypatch.setenv("DIGEST_SECRET", SECRET)  # started as it should be: the emails' links work
    client = TestClient(create_app(load(initialised)))
    assert client.post(f"/unsubscribe/{token}", **ONE_CLICK).status_code == 200
    with open_store(initialised) as store:
        assert store.subscription(sid, list_id) == "unsubscribed"


def test_serve_without_the_secret_is_fine_when_only_the_outbox_signed(initialised: Path, store: Store) -> None:
    tokens.signing_key(store)  # an outbox send or a preview: the stored development key
    assert store.meta_get(tokens.KIND_KEY) is None
    create_app(load(initialised))


# -- a global complaint, bounce or unsubscribe is remembered for the address ------------------
@pytest.fixture
def two_lists(store: Store) -> Store:
    store.add_list("main", from_email="news@example.com")
    store.add_list("weekly", from_email="news@example.com")
    return store


@pytest.mark.parametrize(
    "event",
    [
        {"event": "spamreport"},
        {"event": "bounce", "type": "bounce"},
        {"event": "unsubscribe"},
        {"event": "dropped", "reason": "Bounced Address"},
    ],
)
def test_a_global_event_keeps_the_address_off_every_list(two_lists: Store, event: dict[str, Any]) -> None:
    store = two_lists
    subscribers.add(store, "bob@example.org", "main")
    record_events(store, [{**event, "email": "bob@example.org", "sg_event_id": "x1"}])
    with pytest.raises(SubscriberError, match="--force-resubscribe"):
        subscribers.add(store, "bob@example.org", "weekly")
    assert [s.list for s in store.subscriptions_of(store.subscriber("bob@example.org").id)] == ["main"]
    _, status = subscribers.add(store, "bob@example.org", "weekly", force=True)  # new consent: forgets it
    assert status == "confirmed"
    assert not store.has_suppressions()


def test_a_list_specific_unsubscribe_stays_list_specific(two_lists: Store) -> None:
    store = two_lists
    subscribers.add(store, "bob@example.org", "main")
    main_id = store.list_("main").id
    record_events(
        store,
        [{"event": "group_unsubscribe", "email": "bob@example.org", "sg_event_id": "g1", "list_id": str(main_id)}],
    )
    assert subscribers.add(store, "bob@example.org", "weekly")[1] == "confirmed"
    assert not store.has_suppressions()


class _Suppressions:
    def __init__(self, **kinds: list[dict[str, Any]]) -> None:
        self.kinds = kinds

    def suppressions(self, kind: str) -> list[dict[str, Any]]:
        return self.kinds.get(kind, [])


def test_sync_suppressions_remembers_addresses_not_in_the_store(two_lists: Store, tmp_path: Path, cli) -> None:
    store = two_lists
    sync_suppressions(
        store, _Suppressions(spam_reports=[{"email": "New@Example.org"}], bounces=[{"email": "gone@example.org"}])
    )
    with pytest.raises(SubscriberError, match="suppressed"):
        subscribers.add(store, "new@example.org", "main")
    roster = tmp_path / "people.csv"
    roster.write_text("email\ngone@example.org\nok@example.org\n", encoding="utf-8")
    report = subscribers.import_csv(store, roster, "weekly")
    assert (report.added, [r.email for r in report.rejected]) == (1, ["gone@example.org"])
    assert "suppressed (bounced)" in report.rejected[0].reason
    result = cli("subscribers", "add", "new@example.org", "--list", "main", code=None)
    assert result.exit_code != 0 and "--force-resubscribe" in result.stderr
    cli("subscribers", "add", "new@example.org", "--list", "main", "--force-resubscribe")
    assert store.find_subscriber("new@example.org") is not None


# -- erasure lasts past late provider events --------------------------------------------------
def test_a_late_event_about_an_erased_address_does_not_bring_it_back(store: Store) -> None:
    store.add_list("main", from_email="news@example.com")
    subscribers.add(store, "carol@example.org", "main")
    subscribers.remove(store, "carol@example.org")
    got = record_events(
        store, [{"event": "open", "email": "Carol@Example.org", "sg_event_id": "late1", "ip": "1.2.3.4"}]
    )
    assert got["recorded"] == 1
    assert store.rows("SELECT email, data FROM events") == [{"email": None, "data": "{}"}]


def test_the_erasure_scrub_of_events_by_address_uses_an_index(store: Store) -> None:
    plan = " ".join(
        str(r)
        for r in store.rows(
            "EXPLAIN QUERY PLAN UPDATE events SET email = NULL, data = '{}' WHERE subscriber_id = 1 OR email = 'a@b.c'"
        )
    )
    assert "events_email" in plan


# -- the webhook streams its body with a cap -----------------------------------------------------
def test_the_webhook_body_is_capped_while_it_streams() -> None:
    sent: list[int] = []

    async def receive() -> dict[str, Any]:  # a body that never ends, with no Content-Length
        sent.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    assert asyncio.run(webhooks.read_capped(request, 10_000)) is None
    assert len(sent) == 11  # stopped at the first chunk past the cap


def test_the_webhook_answers_413_past_the_cap(initialised: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
    monkeypatch.setattr(webhooks, "MAX_BODY", 100)
    client = TestClient(create_app(load(initialised)))

    def chunks() -> Iterator[bytes]:
        yield b"[" + b" " * 80
        yield b" " * 80 + b"]"

    assert client.post("/webhooks/sendgrid", content=chunks()).status_code == 413
    assert client.post("/webhooks/sendgrid", content=b"[]").status_code == 403  # small: on to the signature


# -- tokens stay out of the access log ------------------------------------------------------------
def test_tokens_are_redacted_from_uvicorns_access_log(
    initialised: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    import digest.web

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: setattr(self, "started", True))
    digest.web.serve(load(initialised), "127.0.0.1", 0)  # what `digest serve` runs: it sets up uvicorn's logging
    capsys.readouterr()
    logger = logging.getLogger("uvicorn.access")  # then log as uvicorn does for each request
    assert not logger.isEnabledFor(logging.INFO)  # quiet by default: no access log at all
    level = logger.level
    logger.setLevel(logging.INFO)  # someone turns it on: the tokens are still redacted
    try:
        _log_two_requests(logger)
    finally:
        logger.setLevel(level)
    text = capsys.readouterr().out
    assert "eyJh" not in text and "abc.def" not in text
    assert "/unsubscribe/\u2026?x=1" in text and "/confirm/\u2026" in text
    assert redact("GET /unsubscribe HTTP/1.1") == "GET /unsubscribe HTTP/1.1"
    assert redact("GET /news/preferences/eyJh.abc HTTP/1.1") == "GET /news/preferences/\u2026 HTTP/1.1"
    assert any(isinstance(f, RedactTokens) for f in logger.filters)


def _log_two_requests(logger: logging.Logger) -> None:
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", "/unsubscribe/eyJh.c2ln?x=1", "1.1", 200)
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/confirm/abc.def", "1.1", 200)


# -- list names fit a List-Id header ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["a b", "x<y>", "a,b", "", " main", "news.letter", "caf\u00e9", "a\nb"])
def test_list_names_outside_the_rule_are_refused_by_the_store(store: Store, name: str, cli) -> None:
    with pytest.raises(SubscriberError, match="letters, digits, - or _"):
        store.add_list(name, from_email="news@example.com")
    if name and "\n" not in name:
        result = cli("lists", "add", name, code=None)
        assert result.exit_code != 0 and "letters, digits, - or _" in result.stderr


def test_list_names_inside_the_rule_are_taken(store: Store) -> None:
    assert store.add_list("Main-2_x", from_email="news@example.com").name == "Main-2_x"


# -- one home for the consent rules; no consent bypass in the public API -----------------------------
def test_consent_rules_live_only_in_digest_consent() -> None:
    assert subscribers.ACTIVE is consent.ACTIVE and subscribers.LEFT is consent.LEFT
    assert subscribers.decide is consent.decide
    for module in (store_events, store_people):  # the store keeps data, not rules
        assert not hasattr(module, "ACTIVE") and not hasattr(module, "LEFT")
    assert not hasattr(Store, "set_subscription")
