"""`digest serve` unsubscribe and confirmation pages, on a real port, with a real HTTP client."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path

import httpx
import pytest
import uvicorn

from digest import subscribers, tokens
from digest.config import load
from digest.store import Store
from digest.web import create_app
from tests.support import NOW

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


@pytest.fixture
def server(initialised: Path) -> Iterator[str]:
    """The app of `digest serve` on uvicorn, on a free port of 127.0.0.1, in a thread."""
    config = uvicorn.Config(
        create_app(load(initialised)), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
        assert not thread.is_alive()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        yield client


@pytest.fixture
def people(store: Store) -> Store:
    store.add_list("main", from_email="news@example.com")
    store.add_list("other", from_email="news@example.com")
    store.add_list("doi", from_email="news@example.com", double_opt_in=True)
    for lst in ("main", "other"):
        subscribers.add(store, "ada@example.com", lst, name="Ada")
    subscribers.add(store, "bob@example.com", "main")
    subscribers.add(store, "cy@example.com", "doi")
    return store


def token(store: Store, purpose: str, who: str, list_name: str) -> str:
    return tokens.sign(tokens.signing_key(store), purpose, store.subscriber(who).id, store.list_(list_name).id)


def status(store: Store, who: str, list_name: str) -> str | None:
    return store.subscription(store.subscriber(who).id, store.list_(list_name).id)


def snapshot(store: Store) -> list[dict[str, object]]:
    return store.rows("SELECT subscriber_id, list_id, status, updated_at FROM subscriptions ORDER BY 1, 2")


def test_get_shows_a_button_and_changes_nothing(server: str, http: httpx.Client, people: Store) -> None:
    before = snapshot(people)
    url = f"{server}/unsubscribe/{token(people, 'unsubscribe', 'ada@example.com', 'main')}"
    for _ in range(3):  # a link scanner fetching it again and again
        page = http.get(url)
        assert page.status_code == 200
        assert '<form method="post"' in page.text and "<button" in page.text and "main" in page.text
        assert "ada@example.com" not in page.text  # masked: a•••@example.com
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert http.head(url).status_code in (200, 405)
    assert snapshot(people) == before


def test_post_from_the_page_unsubscribes_that_list_only(server: str, http: httpx.Client, people: Store) -> None:
    url = f"{server}/unsubscribe/{token(people, 'unsubscribe', 'ada@example.com', 'main')}"
    done = http.post(url, data={})
    assert done.status_code == 200 and "unsubscribed" in done.text
    assert status(people, "ada@example.com", "main") == "unsubscribed"
    assert status(people, "ada@example.com", "other") == "confirmed"
    assert status(people, "bob@example.com", "main") == "confirmed"
    assert http.post(url).status_code == 200  # idempotent
    assert "You are unsubscribed" in http.get(url).text
    # and no import brings them back
    assert subscribers.import_csv(people, _csv(people, "email\nada@example.com\n"), "main").rejected


def test_rfc8058_one_click_post(server: str, http: httpx.Client, people: Store) -> None:
    url = f"{server}/unsubscribe/{token(people, 'unsubscribe', 'bob@example.com', 'main')}"
    done = http.post(url, **ONE_CLICK)  # type: ignore[arg-type]
    assert done.status_code == 200
    assert status(people, "bob@example.com", "main") == "unsubscribed"
    [event] = people.rows("SELECT event, subscriber_id, data FROM events")
    assert event["event"] == "unsubscribe" and json.loads(event["data"])["via"] == "one-click"


def test_rfc8058_one_click_as_multipart_form_data(server: str, http: httpx.Client, people: Store) -> None:
    url = f"{server}/unsubscribe/{token(people, 'unsubscribe', 'ada@example.com', 'other')}"
    done = http.post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert done.status_code == 200 and done.headers["content-type"].startswith("text/plain")
    assert status(people, "ada@example.com", "other") == "unsubscribed"
    assert status(people, "ada@example.com", "main") == "confirmed"


def test_forged_or_altered_tokens_get_400_and_change_nothing(server: str, http: httpx.Client, people: Store) -> None:
    good = token(people, "unsubscribe", "ada@example.com", "main")
    payload, mac = good.split(".")
    bob_id = people.subscriber("bob@example.com").id
    other_payload = tokens._b64(f"unsubscribe:{bob_id}:{people.list_('main').id}".encode())
    forged = [
        f"{other_payload}.{mac}",  # someone else's id under Ada's signature
        f"{payload}.{mac[:-2]}AA",  # altered signature
        f"{payload}.{mac[:10]}",  # cut short
        payload,  # no signature
        tokens.sign(b"not-the-key", "unsubscribe", bob_id, 1),  # signed with another key
        token(people, "confirm", "ada@example.com", "main"),  # a confirmation token
        "%00%0d%0a",
        "....",
    ]
    before = snapshot(people)
    for bad in forged:
        for method in ("GET", "POST"):
            got = http.request(method, f"{server}/unsubscribe/{bad}", **ONE_CLICK)  # type: ignore[arg-type]
            assert got.status_code == 400, (bad, method)
            assert "not valid" in got.text
    assert snapshot(people) == before
    assert people.scalar("SELECT count(*) FROM events") == 0


def test_confirmation_link_get_page_then_post_confirms(server: str, http: httpx.Client, people: Store) -> None:
    url = f"{server}/confirm/{token(people, 'confirm', 'cy@example.com', 'doi')}"
    page = http.get(url)
    assert page.status_code == 200 and "<button" in page.text
    assert status(people, "cy@example.com", "doi") == "unconfirmed"
    assert http.post(url).status_code == 200
    assert status(people, "cy@example.com", "doi") == "confirmed"
    assert "confirmed" in http.get(url).text.lower()
    # an unsubscribe token is not a confirmation token, and an altered one is refused
    assert http.post(f"{server}/confirm/{token(people, 'unsubscribe', 'cy@example.com', 'doi')}").status_code == 400
    assert http.post(url[:-3] + "xyz").status_code == 400
    # someone who left cannot be confirmed back in with an old link
    subscribers.unsubscribe(people, "cy@example.com", "doi")
    assert http.post(url).status_code == 200
    assert status(people, "cy@example.com", "doi") == "unsubscribed"


def test_generic_unsubscribe_page_explains(server: str, http: httpx.Client, people: Store) -> None:
    page = http.get(f"{server}/unsubscribe")
    assert page.status_code == 200
    assert "personal unsubscribe link" in page.text and "<form" not in page.text


def test_page_text_is_escaped(server: str, http: httpx.Client, people: Store) -> None:
    evil = "<script>alert(1)</script>"  # add_list refuses such a name now; a store from before may hold one
    people.add_list("evil", from_email="news@example.com")
    people.conn.execute("UPDATE lists SET name = ? WHERE name = 'evil'", (evil,))
    subscribers.add(people, "ada@example.com", evil)
    page = http.get(f"{server}/unsubscribe/{token(people, 'unsubscribe', 'ada@example.com', evil)}")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text


def test_the_link_in_a_sent_email_works_one_click(cli, server: str, http: httpx.Client, initialised: Path) -> None:
    """End to end: the List-Unsubscribe URL of a real outbox email, POSTed as a mail client would."""
    cli("init", "--example")
    run = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    entry = run["lists"][0]
    eml = sorted((initialised / "outbox" / f"edition-{entry['edition']}").glob("*.eml"))[0]
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", msg["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    url = re.sub(r"^https?://[^/]+", server, url)
    who = str(msg["To"].addresses[0].addr_spec)
    assert http.post(url, **ONE_CLICK).status_code == 200  # type: ignore[arg-type]
    with Store(load(initialised).db_path) as store:
        assert status(store, who, entry["list"]) == "unsubscribed"


@pytest.mark.slow
def test_digest_serve_binds_loopback_by_default(initialised: Path, http: httpx.Client) -> None:
    env = {**os.environ, "DIGEST_HOME": str(initialised)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("digest")), "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        found = None
        assert proc.stderr is not None
        lines = []
        while found is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"Serving on http://([\d.]+):(\d+)", line)
        assert found, f"digest serve did not start: {lines}"
        assert found.group(1) == "127.0.0.1"
        assert found.group(2) != "0", "the real port, not the one asked for"
        assert not any("INFO" in line for line in lines)
        assert http.get(f"http://127.0.0.1:{found.group(2)}/unsubscribe").status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


def _csv(store: Store, text: str) -> Path:
    path = store.path.parent / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_links_of_an_erased_person_change_nothing(server: str, http: httpx.Client, people: Store) -> None:
    url = f"{server}/unsubscribe/{token(people, 'unsubscribe', 'bob@example.com', 'main')}"
    subscribers.remove(people, "bob@example.com")
    before = snapshot(people)
    assert "not subscribed" in http.get(url).text
    assert http.post(url, **ONE_CLICK).status_code == 200  # type: ignore[arg-type]
    assert snapshot(people) == before


def test_pages_name_the_newsletter_with_the_list_as_detail(server: str, http: httpx.Client, people: Store) -> None:
    name = load(people.path.parent).settings.name
    page = http.get(f"{server}/unsubscribe/{token(people, 'unsubscribe', 'ada@example.com', 'main')}")
    what = f"<bdi>{name}</bdi> (<bdi>main</bdi>)"  # a list without a title shows its name
    assert f"Unsubscribe from {what}?" in page.text
    assert f"<title>Unsubscribe from {name} (main)? · {name}</title>" in page.text
    assert f"stop {what} mail to" in page.text
    confirm = f"{server}/confirm/{token(people, 'confirm', 'cy@example.com', 'doi')}"
    assert f"Confirm your subscription to <bdi>{name}</bdi> (<bdi>doi</bdi>)" in http.get(confirm).text
    assert f"Welcome to <bdi>{name}</bdi> (<bdi>doi</bdi>)." in http.post(confirm).text
    assert "Unsubscribe from main?" not in page.text


def test_tokens_are_accepted_only_in_their_canonical_spelling(server: str, http: httpx.Client, people: Store) -> None:
    good = token(people, "unsubscribe", "ada@example.com", "main")
    payload, mac = good.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # the last character of 16 bytes carries 2 unused bits: these spellings decode to the very same bytes
    same_bytes = [f"{payload}.{mac[:-1]}{alphabet[alphabet.index(mac[-1]) ^ b]}" for b in (1, 2, 3)]
    altered = [
        *same_bytes,
        f"{good}%3D%3D",
        f"{good}==",
        f"{payload}=.{mac}",
        f"{payload}.{mac}%20",
        f"{payload}.+{mac[1:]}",
    ]
    before = snapshot(people)
    for bad in altered:
        for method in ("GET", "POST"):
            got = http.request(method, f"{server}/unsubscribe/{bad}", **ONE_CLICK)  # type: ignore[arg-type]
            assert got.status_code == 400, (bad, method)
    assert snapshot(people) == before
    for bad in (*same_bytes, good + "=="):
        with pytest.raises(tokens.BadToken):
            tokens.verify(tokens.signing_key(people), bad, "unsubscribe")
    assert tokens.verify(tokens.signing_key(people), good, "unsubscribe").list_id == people.list_("main").id
    assert http.get(f"{server}/unsubscribe/{good}").status_code == 200


def test_an_unsubscribe_through_an_editions_link_counts_in_its_stats(
    cli,
    server: str,
    http: httpx.Client,  # type: ignore[no-untyped-def]
    initialised: Path,
) -> None:
    cli("init", "--example")
    run = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    entry = run["lists"][0]
    emls = sorted((initialised / "outbox" / f"edition-{entry['edition']}").glob("*.eml"))
    urls = []
    for eml in emls[:2]:
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        url = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", msg["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
        urls.append(re.sub(r"^https?://[^/]+", server, url))
    assert http.post(urls[0], **ONE_CLICK).status_code == 200  # type: ignore[arg-type]  # one-click
    assert http.post(urls[1]).status_code == 200  # the page's button
    assert http.post(urls[1]).status_code == 200  # twice: still one person
    stats = json.loads(cli("stats", "--edition", str(entry["edition"]), "--json").stdout)
    row = stats[0] if isinstance(stats, list) else stats
    assert row["unsubscribed"] == 2


def test_serve_and_preview_on_a_busy_port_say_so_in_one_line(cli, initialised: Path) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for command in ("serve", "preview"):
            got = cli(command, "--port", str(port), code=1)
            assert f"port {port} on 127.0.0.1 is in use; pick another with --port" in got.stderr, command
            assert "Serving on" not in got.stderr and "Previewing on" not in got.stderr
            assert "Traceback" not in got.stderr and "INFO" not in got.stderr
