"""`digest serve`'s signup page and confirmation mail, on a real port, with a real HTTP client."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from digest import consent, subscribers, tokens, urls
from digest.config import load
from digest.store import Store
from tests.support import NOW
from tests.support.render import app_server

Serve = Callable[[], AbstractContextManager[str]]


@pytest.fixture
def lists(cli, initialised: Path) -> Path:  # type: ignore[no-untyped-def]
    cli(
        "lists",
        "add",
        "daily",
        "--from-email",
        "news@example.com",
        "--double-opt-in",
        "--title",
        "The Daily",
        "--description",
        "The five stories that matter, every morning.",
    )
    cli("lists", "add", "open", "--from-email", "news@example.com", "--title", "Open list")
    return initialised


@pytest.fixture
def serve(lists: Path) -> Serve:
    """Start `digest serve`'s app (reading the environment as it is when called)."""

    @contextmanager
    def start() -> Iterator[str]:
        with app_server(load(lists), preview=False) as base:
            yield base

    return start


def open_store(home: Path) -> Store:
    return Store(load(home).db_path)


def status(home: Path, who: str, list_name: str) -> str | None:
    with open_store(home) as store:
        person = store.find_subscriber(who)
        return store.subscription(person.id, store.list_(list_name).id) if person else None


def mails(home: Path, kind: str = "confirm") -> dict[str, email.message.EmailMessage]:
    folder = home / "outbox" / kind
    found = {}
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found[str(msg["To"])] = msg
    return found


def link_in(msg: email.message.EmailMessage, purpose: str = "confirm") -> str:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    (link,) = set(re.findall(rf"https?://\S+/{purpose}/[A-Za-z0-9_.-]+", text))
    assert link in html
    return link


def signup_form(client: httpx.Client, base: str) -> str:
    """GET / as a browser does: keeps the CSRF cookie, returns the form's token."""
    page = client.get(base + "/")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def test_the_signup_page_shows_each_list_a_form_and_the_archive(serve: Serve) -> None:
    with serve() as base, httpx.Client() as client:
        page = client.get(base + "/")
    assert page.status_code == 200
    assert "The Daily" in page.text and "The five stories that matter, every morning." in page.text
    assert "Open list" in page.text and 'value="daily"' in page.text and 'value="open"' in page.text
    assert 'action="/subscribe"' in page.text and 'type="email"' in page.text
    assert f'href="{urls.archive("http://127.0.0.1:8000")}"' in page.text
    assert 'name="website"' in page.text  # the honeypot
    for header, value in {
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
    }.items():
        assert page.headers[header] == value
    assert "form-action 'self'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "digest_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_a_form_signup_mails_a_link_that_confirms_only_when_its_button_is_pressed(serve: Serve, lists: Path) -> None:
    with serve() as base, httpx.Client() as client:
        csrf = signup_form(client, base)
        answer = client.post(
            base + "/subscribe",
            data={"email": " Ann@Example.org ", "list": "daily", "name": "Ann", "csrf": csrf, "website": ""},
        )
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        assert status(lists, "Ann@example.org", "daily") == "unconfirmed"
        msg = mails(lists)["Ann <Ann@example.org>"]
        assert msg["Subject"] == "Confirm your subscription to The Daily" and msg["X-Digest-Mail"] == "confirm"
        assert msg["From"] == "My Digest <news@example.com>"
        assert msg["List-Unsubscribe"] is None and msg["X-Digest-Edition"] is None  # not on the list yet
        link = link_in(msg)
        path = urlsplit(link).path
        page = client.get(base + path)  # a link scanner fetching it changes nothing
        assert page.status_code == 200 and "Confirm subscription" in page.text and '<form method="post"' in page.text
        assert status(lists, "Ann@example.org", "daily") == "unconfirmed"
        done = client.post(base + path)
        assert done.status_code == 200 and "Subscription confirmed" in done.text
    assert status(lists, "Ann@example.org", "daily") == "confirmed"
    with open_store(lists) as store:
        person = store.subscriber("Ann@example.org")
        assert person.name == "Ann"
        events = store.rows("SELECT event, data FROM events WHERE subscriber_id = ? ORDER BY id", (person.id,))
    assert [e["event"] for e in events] == ["signup", "confirm_mail", "confirm"]
    assert json.loads(events[1]["data"])["provider"] == "outbox" and json.loads(events[2]["data"])["via"] == "page"


def test_json_signup_with_topics_on_a_single_opt_in_list_needs_no_mail(serve: Serve, lists: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("sources", "add", "https://a.example/feed", "--name", "a", "--tag", "science", "--tag", "cities")
    with serve() as base, httpx.Client() as client:
        answer = client.post(
            base + "/subscribe", json={"email": "bo@example.org", "list": ["open"], "topic": ["science", "nope"]}
        )
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert status(lists, "bo@example.org", "open") == "confirmed" and mails(lists) == {}
    with open_store(lists) as store:
        assert store.subscriber("bo@example.org").attributes == {"topics": ["science"]}


def test_the_answer_is_the_same_whatever_the_address_is_to_the_list(serve: Serve, lists: Path) -> None:
    with open_store(lists) as store:
        subscribers.add(store, "in@example.org", "daily", status="confirmed")
        subscribers.add(store, "left@example.org", "daily", status="confirmed")
        subscribers.unsubscribe(store, "left@example.org", "daily")
        subscribers.add(store, "gone@example.org", "daily", status="confirmed")
        subscribers.remove(store, "gone@example.org")
    answers = set()
    with serve() as base, httpx.Client() as client:
        for who in ("new@example.org", "in@example.org", "left@example.org", "gone@example.org"):
            csrf = signup_form(client, base)
            form = client.post(base + "/subscribe", data={"email": who, "list": "daily", "csrf": csrf})
            got = client.post(base + "/subscribe", json={"email": who, "list": "daily"})
            answers.add((form.status_code, form.text, got.status_code, got.text))
    assert len(answers) == 1
    assert status(lists, "in@example.org", "daily") == "confirmed"
    assert status(lists, "left@example.org", "daily") == "unsubscribed"  # only their click brings them back
    assert status(lists, "gone@example.org", "daily") is None  # an erased address is not stored again
    assert set(mails(lists)) == {"new@example.org", "left@example.org"}


def test_someone_who_left_is_restored_only_by_the_link_of_a_new_mail(serve: Serve, lists: Path) -> None:
    with open_store(lists) as store:
        sid, _ = subscribers.add(store, "cy@example.org", "daily")
        lst = store.list_("daily")
        issued_before = int((NOW - timedelta(hours=1)).timestamp())
        old = urls.confirm("http://x", tokens.signing_key(store), sid, lst.id, issued_before)
        consent.confirm(store, sid, lst.id)
        subscribers.unsubscribe(store, "cy@example.org", "daily")
    with serve() as base, httpx.Client() as client:
        stale = client.post(base + urlsplit(old).path)
        assert "left the list since this link was sent" in stale.text
        assert status(lists, "cy@example.org", "daily") == "unsubscribed"
        client.post(base + "/subscribe", json={"email": "cy@example.org", "list": "daily"})
        assert status(lists, "cy@example.org", "daily") == "unsubscribed"
        fresh = link_in(mails(lists)["cy@example.org"])
        assert "Confirm subscription" in client.get(base + urlsplit(fresh).path).text
        assert "Subscription confirmed" in client.post(base + urlsplit(fresh).path).text
    assert status(lists, "cy@example.org", "daily") == "confirmed"


def test_a_honeypot_or_a_missing_csrf_token_subscribes_nobody(serve: Serve, lists: Path) -> None:
    with serve() as base, httpx.Client() as client:
        csrf = signup_form(client, base)
        robot = client.post(
            base + "/subscribe", data={"email": "bot@example.org", "list": "daily", "csrf": csrf, "website": "x"}
        )
        assert robot.status_code == 200 and "Check your inbox" in robot.text
        forged = httpx.post(base + "/subscribe", data={"email": "victim@example.org", "list": "daily", "csrf": csrf})
        assert forged.status_code == 403  # another site's form has no cookie
        wrong = client.post(
            base + "/subscribe", data={"email": "victim@example.org", "list": "daily", "csrf": "0" * 32}
        )
        assert wrong.status_code == 403
        bad = client.post(base + "/subscribe", json={"email": "not an address", "list": "daily"})
        assert bad.status_code == 400 and bad.json()["ok"] is False
        unknown = client.post(base + "/subscribe", json={"email": "a@example.org", "list": "nope"})
        assert unknown.status_code == 400
    with open_store(lists) as store:
        assert store.find_subscriber("bot@example.org") is None and store.find_subscriber("victim@example.org") is None
    assert mails(lists) == {}


def test_rate_limits_per_ip_and_per_address(serve: Serve, lists: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_WEB_PER_IP", "3")
    monkeypatch.setenv("DIGEST_WEB_PER_ADDRESS", "1")
    with serve() as base, httpx.Client() as client:
        codes = [client.post(base + "/subscribe", json={"email": "dee@example.org", "list": "daily"}).status_code]
        codes.append(client.post(base + "/subscribe", json={"email": "dee@example.org", "list": "daily"}).status_code)
        with open_store(lists) as store:
            sent = store.scalar("SELECT count(*) FROM events WHERE event = 'confirm_mail'")
        assert sent == 1  # the second asked within the hour: the same answer, no second mail
        codes.append(client.post(base + "/subscribe", json={"email": "eli@example.org", "list": "daily"}).status_code)
        codes.append(client.post(base + "/subscribe", json={"email": "fay@example.org", "list": "daily"}).status_code)
    assert codes == [200, 200, 200, 429]
    assert status(lists, "fay@example.org", "daily") is None


def test_a_confirmation_link_expires(serve: Serve, lists: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(lists) as store:
        sid, _ = subscribers.add(store, "gus@example.org", "daily")
        key, lst = tokens.signing_key(store), store.list_("daily")
    eight_days = int((NOW - timedelta(days=8)).timestamp())
    six_days = int((NOW - timedelta(days=6)).timestamp())
    with serve() as base, httpx.Client() as client:
        old = urlsplit(urls.confirm(base, key, sid, lst.id, eight_days)).path
        assert client.get(base + old).status_code == 410 and client.post(base + old).status_code == 410
        assert status(lists, "gus@example.org", "daily") == "unconfirmed"
        recent = urlsplit(urls.confirm(base, key, sid, lst.id, six_days)).path
        assert client.post(base + recent).status_code == 200
    assert status(lists, "gus@example.org", "daily") == "confirmed"


def test_confirming_sends_the_welcome_mail_when_set(serve: Serve, lists: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_WEB_WELCOME", "true")
    with serve() as base, httpx.Client() as client:
        client.post(base + "/subscribe", json={"email": "hal@example.org", "list": "daily"})
        link = link_in(mails(lists)["hal@example.org"])
        client.post(base + urlsplit(link).path)
        welcome = mails(lists, "welcome")["hal@example.org"]
        assert welcome["Subject"] == "Welcome to The Daily"
        prefs = link_in(welcome, "preferences")
        assert client.get(base + urlsplit(prefs).path).status_code == 200
