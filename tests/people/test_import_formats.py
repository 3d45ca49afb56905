"""Importing the exports people bring their readers from: names, topics, timezone, dates and consent kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from digest import subscribers
from digest.consent import email_hash
from digest.errors import SubscriberError
from digest.store import Store
from digest.subscribers import formats

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def lists(store: Store) -> Store:
    store.add_list("main", from_email="news@example.com")
    store.add_list("other", from_email="news@example.com")
    return store


def status_of(store: Store, email: str, list_name: str = "main") -> str | None:
    person = store.find_subscriber(email)
    return store.subscription(person.id, store.list_(list_name).id) if person else None


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        ("mailchimp_subscribed.csv", "mailchimp"),
        ("mailchimp_unsubscribed.csv", "mailchimp"),
        ("mailchimp_cleaned.csv", "mailchimp"),
        ("substack.csv", "substack"),
        ("ghost.csv", "ghost"),
        ("buttondown.csv", "buttondown"),
        ("listmonk.csv", "listmonk"),
    ],
)
def test_auto_tells_each_export_by_its_header(file: str, kind: str) -> None:
    header = (FIXTURES / file).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert formats.detect(header).name == kind
    assert formats.detect(["email", "name", "attributes"]).name == "digest"


def test_a_mailchimp_export_keeps_names_topics_timezone_dates_and_consent(lists: Store) -> None:
    report = subscribers.import_csv(lists, FIXTURES / "mailchimp_subscribed.csv", "main")
    assert report.format == "mailchimp" and (report.added, report.rejected) == (3, [])
    ada = lists.subscriber("ada@example.com")
    assert ada.name == "Ada Lovelace"
    assert ada.attributes == {"topics": ["Science", "History"], "timezone": "Europe/London"}
    assert ada.created_at == "2023-04-05T10:21:02+00:00"  # CONFIRM_TIME, not the time of the import
    # spaces around the address are a spreadsheet's: trimmed
    assert lists.subscriber("bob@example.org").attributes == {"timezone": "America/New_York"}
    # a timezone nobody knows is left out with a warning; the person still lands
    assert lists.subscriber("cy@example.net").name == "Young"
    assert lists.subscriber("cy@example.net").attributes == {"topics": ["Tech"]}
    assert [(w.line, "Mars/Olympus" in w.warning) for w in report.warnings] == [(4, True)]
    assert status_of(lists, "ada@example.com") == "confirmed"
    # every column nothing reads is named once
    assert report.unused_columns[:3] == ["Address", "Phone Number", "MEMBER_RATING"]
    assert "TAGS" not in report.unused_columns and "First Name" not in report.unused_columns
    assert len(report.unused_columns) == len(set(report.unused_columns))

    unsub = subscribers.import_csv(lists, FIXTURES / "mailchimp_unsubscribed.csv", "main")
    cleaned = subscribers.import_csv(lists, FIXTURES / "mailchimp_cleaned.csv", "main")
    assert (unsub.suppressed, cleaned.suppressed) == (1, 1)
    assert status_of(lists, "dee@example.com") == "unsubscribed"
    assert status_of(lists, "eve@example.org") == "bounced"
    assert lists.suppressed_among([email_hash("eve@example.org")]) == {email_hash("eve@example.org"): "bounced"}
    # gone in Mailchimp means gone here too: no list of this newsletter takes them without new consent
    with pytest.raises(SubscriberError, match="suppressed"):
        subscribers.add(lists, "dee@example.com", "other")
    assert status_of(lists, "dee@example.com", "other") is None


def test_someone_who_left_in_the_export_is_never_brought_back_by_it(lists: Store) -> None:
    subscribers.add(lists, "dee@example.com", "main")
    subscribers.import_csv(lists, FIXTURES / "mailchimp_unsubscribed.csv", "main")
    assert status_of(lists, "dee@example.com") == "unsubscribed"
    again = subscribers.import_csv(lists, FIXTURES / "mailchimp_unsubscribed.csv", "main")
    assert again.unchanged == 1 and status_of(lists, "dee@example.com") == "unsubscribed"


def test_substack_ghost_buttondown_and_listmonk_consent_and_names(lists: Store) -> None:
    substack = subscribers.import_csv(lists, FIXTURES / "substack.csv", "main")
    assert substack.format == "substack" and substack.suppressed == 1
    assert status_of(lists, "fay@example.com") == "confirmed"
    assert status_of(lists, "hal@example.com") == "unsubscribed"  # email_disabled: never mailed
    assert lists.subscriber("fay@example.com").created_at == "2024-01-15T09:30:00+00:00"
    assert set(substack.unused_columns) == {"active_subscription", "expiry", "plan"}

    ghost = subscribers.import_csv(lists, FIXTURES / "ghost.csv", "main")
    assert ghost.format == "ghost"
    ida = lists.subscriber("ida@example.com")
    assert (ida.name, ida.attributes) == ("Ida Wells", {"topics": ["Politics", "Books"]})
    assert status_of(lists, "jo@example.com") == "unsubscribed"

    buttondown = subscribers.import_csv(lists, FIXTURES / "buttondown.csv", "main")
    assert buttondown.rejected == []
    kim = lists.subscriber("kim@example.com")
    assert kim.attributes == {"plan": "pro", "topics": ["rust", "python"]}
    assert [status_of(lists, f"{n}@example.com") for n in ("kim", "lee", "max", "ned")] == [
        "confirmed",
        "unsubscribed",
        "bounced",
        "unconfirmed",
    ]

    listmonk = subscribers.import_csv(lists, FIXTURES / "listmonk.csv", "main")
    assert listmonk.format == "listmonk" and listmonk.unused_columns == ["uuid", "updated_at"]
    assert lists.subscriber("oli@example.com").attributes == {"city": "Oslo"}
    assert status_of(lists, "pat@example.com") == "unsubscribed"


def test_the_format_can_be_named_and_a_header_without_an_address_is_an_error(lists: Store, tmp_path: Path) -> None:
    with pytest.raises(SubscriberError, match="unknown import format 'mailchump'"):
        subscribers.import_csv(lists, FIXTURES / "ghost.csv", "main", kind="mailchump")
    nameless = tmp_path / "people.csv"
    nameless.write_text("First Name,Last Name,TAGS\nAda,Lovelace,x\n", encoding="utf-8")
    for kind in ("auto", "mailchimp"):
        with pytest.raises(SubscriberError, match="no 'email' column"):
            subscribers.import_csv(lists, nameless, "main", kind=kind)
    assert lists.find_subscriber("ada@example.com") is None
    # read as digest's own format, Buttondown's subscriber_type means nothing: every row gets the list's default
    odd = tmp_path / "odd.csv"
    shutil.copy(FIXTURES / "buttondown.csv", odd)
    report = subscribers.import_csv(lists, odd, "main", kind="digest")
    assert report.format == "digest" and "subscriber_type" in report.unused_columns and report.suppressed == 0
    assert status_of(lists, "lee@example.com") == "confirmed"


@pytest.mark.parametrize("worker", [False, True])
def test_the_reader_process_reads_every_format_the_same_way(lists: Store, worker: bool) -> None:
    report = subscribers.import_csv(lists, FIXTURES / "mailchimp_subscribed.csv", "main", worker=worker)
    assert (report.added, len(report.warnings), report.format) == (3, 1, "mailchimp")
    assert lists.subscriber("ada@example.com").attributes["topics"] == ["Science", "History"]


def test_the_cli_names_the_format_the_unused_columns_and_who_is_kept_from_mail(cli, initialised: Path) -> None:  # type: ignore[no-untyped-def]
    cli("lists", "add", "main", "--from-email", "news@example.com")
    human = cli("subscribers", "import", str(FIXTURES / "mailchimp_cleaned.csv"), "--from", "mailchimp")
    text = human.stdout + human.stderr
    assert "Read as a mailchimp export" in text and "Columns not used: MEMBER_RATING" in text
    assert "1 kept from all mail" in text
    data = json.loads(cli("subscribers", "import", str(FIXTURES / "substack.csv"), "--json").stdout)
    assert data["format"] == "substack" and data["suppressed"] == 1 and data["added"] == 3
    bad = cli("subscribers", "import", str(FIXTURES / "substack.csv"), "--from", "nope", code=1)
    assert "unknown import format 'nope'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_trimmed_mailchimp_file_still_reads_as_one_and_opted_in_people_are_confirmed(
    store: Store, tmp_path: Path
) -> None:
    store.add_list("weekly", from_email="news@example.com", double_opt_in=True)
    subscribed = tmp_path / "subscribed.csv"
    subscribed.write_text("Email Address,First Name,Last Name\nzed@example.com,Zed,Zulu\n", encoding="utf-8")
    first = subscribers.import_csv(store, subscribed, "weekly", kind="mailchimp")
    # they confirmed with Mailchimp: a double opt-in list does not make them wait for a second click
    assert first.added == 1 and status_of(store, "zed@example.com", "weekly") == "confirmed"
    unsub = tmp_path / "unsubscribed.csv"
    unsub.write_text(
        "Email Address,First Name,Last Name,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_REASON\n"
        'zed@example.com,Zed,Zulu,"2024-02-02 00:00:00",Weekly #12,NORMAL\n',
        encoding="utf-8",
    )
    report = subscribers.import_csv(store, unsub, "weekly")  # auto: no MEMBER_RATING, still Mailchimp's
    assert report.format == "mailchimp" and report.suppressed == 1
    assert status_of(store, "zed@example.com", "weekly") == "unsubscribed"
    # and their old subscribed file does not bring them back
    again = subscribers.import_csv(store, subscribed, "weekly", kind="mailchimp")
    assert again.rejected and status_of(store, "zed@example.com", "weekly") == "unsubscribed"
