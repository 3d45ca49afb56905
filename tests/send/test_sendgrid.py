"""The sendgrid provider against a stand-in that validates every body with SendGrid's own schema and rules."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest import tokens
from digest.store import Store
from tests.support.send import API_KEY, SECRET, email_of, make_edition, open_store, sendgrid_env
from tests.support.send import ledger as ledger_rows
from tests.support.sendgrid_standin import StandIn, rule_violations, validator


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


@pytest.fixture
def env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = sendgrid_env(standin.url)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def setup_edition(home: Path, n: int, **kw: object) -> int:
    with open_store(home) as store:
        return make_edition(store, n, **kw)  # type: ignore[arg-type]


def send_json(cli, *args: str, code: int = 0) -> dict:
    return json.loads(cli("send", "--json", *args, code=code).stdout)


def ledger(home: Path, edition: int) -> dict[str, str]:
    with open_store(home) as store:
        return {r["email"]: r["status"] for r in ledger_rows(store, edition)}


def test_2500_subscribers_make_3_requests_each_recipient_once_with_a_working_unsubscribe_url(
    cli, initialised: Path, standin: StandIn, env: dict[str, str]
) -> None:
    edition = setup_edition(initialised, 2500, names={7: 'Ann <b>& "Bob"</b>'})
    report = send_json(cli)
    assert report == {
        **report,
        "edition": edition,
        "provider": "sendgrid",
        "sent": 2500,
        "skipped": 0,
        "failed": 0,
        "unknown": 0,
        "requests": 3,
    }
    assert sorted(len(b["personalizations"]) for b in standin.accepted) == [500, 1000, 1000]
    addresses = standin.addresses()
    assert len(addresses) == 2500 and set(addresses) == {email_of(i) for i in range(1, 2501)}

    key = SECRET.encode()
    urls = set()
    with open_store(initialised) as store:
        list_id = store.list_("main").id
        ids = {r.email: r.id for r in store.subscribers(list_id)}
    for p, _ in standin.deliveries():
        email = p["to"][0]["email"]
        assert len(p["to"]) == 1 and "cc" not in p and "bcc" not in p  # nobody sees another address
        url = p["substitutions"]["%%digest.unsubscribe_url%%"]
        assert p["headers"]["List-Unsubscribe"] == f"<{url}>"
        assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert p["headers"]["List-Id"] == "main <main.example.com>"
        claims = tokens.verify(key, url.rsplit("/", 1)[1], "unsubscribe")
        assert (claims.subscriber_id, claims.list_id) == (ids[email], list_id)
        assert p["custom_args"] == {
            "edition_id": str(edition),
            "subscriber_id": str(ids[email]),
            "list_id": str(list_id),
        }
        urls.add(url)
    assert len(urls) == 2500

    # what SendGrid makes of one personalization: the unsubscribe link is in both bodies, names escaped in HTML
    p, body = next((p, b) for p, b in standin.deliveries() if p["to"][0]["email"] == email_of(7))
    copy = standin.render(p, body)
    url = p["substitutions"]["%%digest.unsubscribe_url%%"]
    assert url in copy["text/plain"] and url in copy["text/html"]
    assert "%%digest." not in copy["text/html"] and "%%digest." not in copy["text/plain"]
    assert body["categories"] == ["digest"] and body["subject"] == "Story 1 + 2 more"
    assert set(ledger(initialised, edition).values()) == {"sent"}

    again = send_json(cli)  # a re-run sends nobody anything
    assert (again["sent"], again["skipped"], again["requests"]) == (0, 2500, 0)
    assert len(standin.accepted) == 3


def test_names_are_substituted_raw_in_text_and_escaped_in_html(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    """Templates that greet by name: SendGrid fills both bodies alike, so HTML gets its own escaped key."""
    from digest.render.templates import default_templates_dir

    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "3")
    partials = initialised / "templates" / "partials"
    partials.mkdir(parents=True)
    footer = (default_templates_dir() / "partials" / "footer.mjml.j2").read_text()
    anchor = "{{ (t.why_you_get_it"
    assert anchor in footer, "the footer changed: put the greeting before its first line again"
    greeting = footer.replace(anchor, "Hello {{ subscriber.name }}! " + anchor)
    (partials / "footer.mjml.j2").write_text(greeting)
    text = (default_templates_dir() / "digest.txt.j2").read_text()
    (initialised / "templates" / "digest.txt.j2").write_text(
        text.replace("{{ t.unsubscribe }}:", "Bye {{ subscriber.name }}.\n{{ t.unsubscribe }}:")
    )
    setup_edition(initialised, 6, names={2: 'Ann <b>& "Bob"</b>'})
    assert send_json(cli)["sent"] == 6
    copies = {p["to"][0]["email"]: standin.render(p, body) for p, body in standin.deliveries()}
    ann = copies[email_of(2)]
    assert "Hello Ann &lt;b&gt;&amp; &quot;Bob&quot;&lt;/b&gt;!" in ann["text/html"] and "<b>&" not in ann["text/html"]
    assert 'Bye Ann <b>& "Bob"</b>.' in ann["text/plain"]
    assert "Hello Reader 3!" in copies[email_of(3)]["text/html"]  # same batch, plain name
    other = copies[email_of(5)]  # another batch, where nothing needed escaping
    assert "Hello Reader 5!" in other["text/html"] and "Bye Reader 5." in other["text/plain"]
    for copy in copies.values():
        assert "%%digest." not in copy["text/html"] + copy["text/plain"]
        assert "/editions/" in copy["text/html"] and "/editions/" in copy["text/plain"]  # web URL written in once


def test_tracking_is_sent_explicitly_with_feedback_id_and_a_mailto_unsubscribe(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    """Off unless asked (click tracking would rewrite the one-click link onto SendGrid's domain); the stand-in
    checks every request against SendGrid's published API description."""
    monkeypatch.setenv("DIGEST_SENDER_UNSUBSCRIBE_MAILTO", "leave@example.com")
    edition = setup_edition(initialised, 3)
    assert send_json(cli)["sent"] == 3
    (body,) = standin.accepted
    assert body["tracking_settings"] == {
        "click_tracking": {"enable": False, "enable_text": False},
        "open_tracking": {"enable": False},
    }
    assert body["headers"] == {"Feedback-ID": f"{edition}:main:digest:example.com"}
    for p in body["personalizations"]:
        url = p["substitutions"]["%%digest.unsubscribe_url%%"]
        assert p["headers"]["List-Unsubscribe"] == f"<{url}>, <mailto:leave@example.com?subject=unsubscribe%20main>"
    monkeypatch.setenv("DIGEST_SENDGRID_CLICK_TRACKING", "true")
    monkeypatch.setenv("DIGEST_SENDGRID_OPEN_TRACKING", "true")
    cli("send", "--to", "me@example.com")
    test_copy = standin.accepted[-1]
    assert test_copy["tracking_settings"]["click_tracking"]["enable"] is True
    assert test_copy["tracking_settings"]["open_tracking"] == {"enable": True}
    assert "headers" not in test_copy["personalizations"][0]  # a test copy has no list headers


def test_dry_run_builds_everything_and_sends_nothing(cli, initialised: Path, standin: StandIn, env) -> None:
    edition = setup_edition(initialised, 30)
    report = send_json(cli, "--dry-run")
    assert (report["sent"], report["dry_run"], report["requests"]) == (30, True, 1)
    assert standin.requests == [] and ledger(initialised, edition) == {}


def test_test_copy_is_marked_and_not_recorded(cli, initialised: Path, standin: StandIn, env) -> None:
    edition = setup_edition(initialised, 5)
    report = send_json(cli, "--to", "editor@example.net")
    assert report["sent"] == 1
    (body,) = standin.accepted
    assert body["subject"].startswith("[TEST] ") and "test" in body["categories"]
    assert body["personalizations"][0]["to"] == [{"email": "editor@example.net"}]
    assert "headers" not in body["personalizations"][0]
    assert ledger(initialised, edition) == {}
    assert send_json(cli)["sent"] == 5  # the real send still goes to everyone


def test_sandbox_mode_validates_only(cli, initialised: Path, standin: StandIn, env, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_SANDBOX", "true")
    monkeypatch.setenv("DIGEST_SENDGRID_ASM_GROUP_ID", "42")
    setup_edition(initialised, 12)
    assert send_json(cli)["sent"] == 12
    assert standin.accepted == [] and [r.status for r in standin.requests] == [200]
    (body,) = standin.sandboxed
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}} and body["asm"] == {"group_id": 42}


def test_429_waits_for_the_rate_limit_reset_then_sends(cli, initialised: Path, standin: StandIn, env) -> None:
    setup_edition(initialised, 20)
    standin.then("429")
    report = send_json(cli)
    assert (report["sent"], report["requests"]) == (20, 2)
    first, second = standin.requests
    assert (first.status, second.status) == (429, 202)
    assert second.at >= first.at + 0.04  # it waited for X-RateLimit-Reset rather than hammering
    assert len(standin.addresses()) == 20


def test_5xx_is_unknown_at_once_never_retried_blindly(cli, initialised: Path, standin: StandIn, env) -> None:
    setup_edition(initialised, 20)
    standin.then("503")  # SendGrid may have queued it: a retry could send it twice
    report = send_json(cli, code=3)
    assert (report["sent"], report["unknown"], report["requests"]) == (0, 20, 1)
    assert [r.status for r in standin.requests] == [503]


def test_5xx_is_unknown_and_retried_only_when_asked_and_only_once(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "10")
    monkeypatch.setenv("DIGEST_SEND_CONCURRENCY", "1")
    edition = setup_edition(initialised, 30)
    standin.then("ok", "503")  # the second batch gets a 5xx
    report = send_json(cli, code=3)
    assert (report["sent"], report["unknown"], report["failed"]) == (20, 10, 0)
    assert any("503" in e and "may have" in e for e in report["errors"])
    unknown = {e for e, s in ledger(initialised, edition).items() if s == "unknown"}
    assert unknown == {email_of(i) for i in range(11, 21)}

    assert send_json(cli, code=3)["sent"] == 0  # a plain re-run holds the unknown back
    standin.then("hang")  # the retry itself ends unknown (timeout)...
    monkeypatch.setenv("DIGEST_SENDGRID_TIMEOUT", "0.3")
    retried = send_json(cli, "--retry-unknown", code=3)
    assert (retried["retried"], retried["unknown"]) == (10, 10)
    again = send_json(cli, "--retry-unknown", code=3)  # ...and is never re-sent a second time
    assert (again["retried"], again["sent"], again["requests"]) == (0, 0, 0)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in [*range(1, 11), *range(21, 31)]})


def test_retry_unknown_sends_the_unknown_batch_once(cli, initialised: Path, standin: StandIn, env, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_TIMEOUT", "0.3")
    edition = setup_edition(initialised, 8)
    standin.then("drop")
    report = send_json(cli, code=3)
    assert (report["sent"], report["unknown"]) == (0, 8)
    assert "no answer from SendGrid" in report["errors"][0]
    report = send_json(cli, "--retry-unknown")
    assert (report["sent"], report["retried"], report["unknown"]) == (8, 8, 0)
    assert sorted(standin.addresses()) == [email_of(i) for i in range(1, 9)]
    assert set(ledger(initialised, edition).values()) == {"sent"}


def test_a_hung_request_times_out_as_unknown_not_failed(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_TIMEOUT", "0.3")
    edition = setup_edition(initialised, 4)
    standin.then("hang")
    result = cli("send", code=3)
    assert "unknown 4" in result.stderr and "--retry-unknown" in result.stderr
    assert set(ledger(initialised, edition).values()) == {"unknown"}


def test_400_fails_that_batch_with_sendgrids_words_and_goes_on(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "10")
    monkeypatch.setenv("DIGEST_SEND_CONCURRENCY", "1")
    edition = setup_edition(initialised, 30)
    standin.then("ok", "400")
    report = send_json(cli, code=3)
    assert (report["sent"], report["failed"], report["unknown"]) == (20, 10, 0)
    assert report["errors"] == ["400: stand-in told to answer 400"]
    assert Counter(ledger(initialised, edition).values()) == {"sent": 20, "failed": 10}
    report = send_json(cli)  # failed means certainly not sent: a re-run sends those ten
    assert (report["sent"], report["skipped"]) == (10, 20)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in range(1, 31)})


def test_413_fails_that_batch_and_the_others_go(cli, initialised: Path, standin: StandIn, env, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "10")
    monkeypatch.setenv("DIGEST_SEND_CONCURRENCY", "1")
    setup_edition(initialised, 25, names={12: "x" * 30_000})  # makes the second batch's body too large
    standin.max_bytes = 50_000
    report = send_json(cli, code=3)
    assert (report["sent"], report["failed"], report["requests"]) == (15, 10, 3)
    assert report["errors"] == ["413: The JSON payload you have included in your request is too large."]
    assert sorted(standin.addresses()) == [email_of(i) for i in [*range(1, 11), *range(21, 26)]]


def test_categories_are_kept_within_sendgrids_limits(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_CATEGORIES", ",".join(f"c{i}" for i in range(12)))
    setup_edition(initialised, 3)
    report = send_json(cli)  # the provider keeps at most 10 categories, so the body stays valid
    assert report["sent"] == 3 and len(standin.accepted[0]["categories"]) == 10


def test_401_stops_the_run_with_a_message_about_the_key(
    cli, initialised: Path, standin: StandIn, env, monkeypatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.wrong-key-do-not-print")
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "10")
    monkeypatch.setenv("DIGEST_SEND_CONCURRENCY", "2")
    edition = setup_edition(initialised, 100)
    result = cli("send", code=1)
    assert "SENDGRID_API_KEY" in result.stderr and "401" in result.stderr
    assert "wrong-key" not in result.stderr + result.stdout
    assert len(standin.requests) <= 3 and standin.accepted == []  # stopped, did not try all ten batches
    assert set(ledger(initialised, edition).values()) <= {"failed"}
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert send_json(cli)["sent"] == 100
    assert sorted(standin.addresses()) == [email_of(i) for i in range(1, 101)]


def test_several_requests_in_flight_at_once(cli, initialised: Path, standin: StandIn, env, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "50")
    monkeypatch.setenv("DIGEST_SEND_CONCURRENCY", "3")
    standin.delay = 0.1
    setup_edition(initialised, 600)
    assert send_json(cli)["sent"] == 600
    assert standin.max_in_flight == 3
    assert len({r.thread for r in standin.requests}) >= 3
    assert sorted(standin.addresses()) == [email_of(i) for i in range(1, 601)]


def test_missing_key_and_secret_are_clear_errors(cli, initialised: Path, standin: StandIn, env, monkeypatch) -> None:
    setup_edition(initialised, 2)
    monkeypatch.delenv("SENDGRID_API_KEY")
    assert "SENDGRID_API_KEY is not set" in cli("send", code=1).stderr
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    monkeypatch.delenv("DIGEST_SECRET")
    assert "DIGEST_SECRET is not set" in cli("send", code=1).stderr
    assert standin.requests == []


def test_the_standin_enforces_the_readme_rules() -> None:
    def body(n: int, **extra: object) -> dict:
        return {
            "personalizations": [{"to": [{"email": f"a{i}@x.org"}]} for i in range(n)],
            "from": {"email": "n@example.com"},
            "subject": "s",
            "content": [{"type": "text/plain", "value": "x"}],
            **extra,
        }

    assert list(validator().iter_errors(body(2))) == [] and rule_violations(body(2)) == []
    assert list(validator().iter_errors(body(1, custom_args={"a": 1})))  # non-string custom_args: 400
    assert list(validator().iter_errors(body(0))) or rule_violations(body(0))
    assert rule_violations(body(1001)) or list(validator().iter_errors(body(1001)))
    dup = body(2)
    dup["personalizations"][1]["to"] = [{"email": "A0@x.org"}]
    assert any("more than once" in p for p in rule_violations(dup))
    assert rule_violations(body(1, categories=["a", "a"]))
    assert rule_violations(body(1, asm={"groups_to_display": [1]})) or list(
        validator().iter_errors(body(1, asm={"groups_to_display": [1]}))
    )
    big = body(1)
    big["personalizations"][0]["substitutions"] = {"%%x%%": "y" * 10_001}
    assert any("substitutions" in p for p in rule_violations(big))


def test_the_ledger_lists_sends_per_subscriber(initialised: Path, cli, standin: StandIn, env) -> None:
    edition = setup_edition(initialised, 3)
    send_json(cli)
    with Store(initialised / "digest.db") as store:
        sid = store.subscriber(email_of(2)).id
        (row,) = store.sends_for(sid)
        assert row.edition_id == edition and row.status == "sent"
        assert re.fullmatch(r"standin-\d+", row.message_id or "")
