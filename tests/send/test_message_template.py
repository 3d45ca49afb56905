"""The fast message builder against the email library's: both parsed, every header and part compared."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from digest import tokens
from digest.config import load
from digest.errors import ConfigError
from digest.models import Rendered
from digest.placeholders import token as placeholder
from digest.render import render_edition
from digest.send import edition_mail, recipient
from digest.send.message import MessageTemplate, build_message
from digest.send.providers.base import EditionMail, Recipient
from digest.store import Store
from tests.support.send import SECRET, make_edition

SHARED_HEADERS = ("Subject", "From", "To", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id")
SHARED_HEADERS += ("X-Digest-Edition", "X-Digest-Test", "MIME-Version", "Feedback-ID")


def parse(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=default)  # type: ignore[return-value]


def assert_same_meaning(old: EmailMessage, new: EmailMessage, mail: EditionMail, r: Recipient, domain: str) -> None:
    for name in SHARED_HEADERS:
        assert new.get_all(name) == old.get_all(name), name
    assert new.keys() == old.keys()  # every header, in the same order
    for name in set(old.keys()) - {"Date", "Message-ID", "Content-Type"}:  # the boundary is random in both
        assert [str(v) for v in new.get_all(name, [])] == [str(v) for v in old.get_all(name, [])], name
    assert new.get_params() is not None and old.get_params() is not None
    assert [p for p in new.get_params() if p[0] != "boundary"] == [p for p in old.get_params() if p[0] != "boundary"]
    assert new["Date"] is not None and new["Date"].datetime == old["Date"].datetime
    assert new["Message-ID"].endswith(f".e{mail.edition_id}.s{r.subscriber_id}@{domain}>")
    assert new.get_content_type() == old.get_content_type() == "multipart/alternative"
    old_parts, new_parts = list(old.iter_parts()), list(new.iter_parts())
    assert [p.get_content_type() for p in new_parts] == [p.get_content_type() for p in old_parts]
    assert [p.get_content_type() for p in new_parts] == ["text/plain", "text/html"]
    for o, n in zip(old_parts, new_parts, strict=True):
        assert n.items() == o.items()  # every part's headers
        assert n.get_content_charset() == o.get_content_charset() == "utf-8"
        assert n["Content-Transfer-Encoding"] == o["Content-Transfer-Encoding"]
        assert n.get_content() == o.get_content()
    assert all(not p.defects for p in new.walk())


def check(mail: EditionMail, r: Recipient, domain: str = "example.com", linesep: str = "\n") -> bytes:
    data = MessageTemplate(mail, domain, linesep).render_batch([r])[0]
    built = build_message(mail, r, domain)
    old = parse(built.as_bytes(policy=built.policy.clone(linesep=linesep)))  # as smtplib writes it
    assert_same_meaning(old, parse(data), mail, r, domain)
    other = data.replace(b"\r\n", b"") if linesep == "\r\n" else data.replace(b"\n", b"")
    assert (b"\r" in other) is False and (b"\n" in other) is False, "one kind of line break only"
    assert max(len(line) for line in data.split(linesep.encode())) <= 998
    return data


@pytest.fixture
def real_mail(store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EditionMail, bytes]:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    edition = make_edition(store, 3)
    config = load(initialised)
    return edition_mail(store, config, edition, render_edition(store, config, edition)), tokens.signing_key(store)


NAMES = ["Reader 5", "", "J. Smith", "Zoë Ünal", "Ann & Bob <x>", "O'Neil-Smith", "李雷", "a" * 90, "Eve  Two"]
EMAILS = ["reader5@example.org", "first.last+tag@sub.example.co.uk", "user@bücher.de"]


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_a_rendered_edition_means_the_same_for_every_kind_of_reader(
    real_mail: tuple[EditionMail, bytes], initialised: Path, linesep: str
) -> None:
    mail, key = real_mail
    config = load(initialised)
    for i, name in enumerate(NAMES):
        for j, email in enumerate(EMAILS):
            r = recipient(config, key, mail, 100 * i + j + 1, email, name)
            check(mail, r, "example.com", linesep)


def test_a_test_copy_has_no_list_headers_and_keeps_the_test_marks(real_mail: tuple[EditionMail, bytes]) -> None:
    mail, _ = real_mail
    mail.test, mail.reply_to = True, "replies@example.com"
    values = {"unsubscribe_url": "https://x.example/u/t", "web_url": "https://x.example/e/1", "name": "", "email": ""}
    msg = parse(check(mail, Recipient(7, "reader7@example.org", "Reader 7", values)))
    assert msg["List-Unsubscribe"] is None and msg["X-Digest-Test"].startswith("yes")
    assert msg["Subject"].startswith("[TEST] ") and msg["Reply-To"] == "replies@example.com"


BODIES = [
    # placeholders at the very start and end, next to each other, inside long lines and after trailing spaces
    (
        f"{placeholder('name')}{placeholder('email')} hello  \nline with = sign and ünïcode\n" + "y" * 300,
        f'<p>{placeholder("name")}</p><a href="{placeholder("unsubscribe_url")}">' + "x" * 500 + placeholder("email"),
    ),
    ("no placeholder, no newline at the end", "<p>café " + "é" * 200 + "</p>\n\n"),
    ("", ""),
    (f"tab\tand space \n.\n{placeholder('web_url')}\n", f"{placeholder('web_url')} \t"),
]
VALUES = [
    {"unsubscribe_url": "https://x.example/u/abc?a=1&b=2", "web_url": "https://x.example/e/9", "name": "Ann & Bob"},
    {"unsubscribe_url": "https://x.example/u/" + "t" * 400, "web_url": "", "name": "Zoë = 3 ", "email": "z@x.org"},
    {"unsubscribe_url": "https://x.example/u/1", "web_url": "w", "name": "two\nlines", "email": "e@x.org"},
]


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
@pytest.mark.parametrize("text,html", BODIES)
def test_odd_bodies_and_values_decode_to_the_library_s_text(text: str, html: str, linesep: str) -> None:
    rendered = Rendered(subject="Ünïcode subject — " + "long " * 30, preheader="", html=html, text=text)
    mail = EditionMail(4, 1, "main", "news@example.com", "Zoë's Digest", "", "main <m.x>", rendered)
    for i, values in enumerate(VALUES):
        check(
            mail,
            Recipient(i + 1, f"r{i}@example.org", " ".join(values["name"].split()), values),
            "example.com",
            linesep,
        )


def test_plain_readers_take_the_fast_path_and_unusual_ones_the_library(
    real_mail: tuple[EditionMail, bytes], initialised: Path
) -> None:
    mail, key = real_mail
    config = load(initialised)
    template = MessageTemplate(mail, "example.com")
    assert template.plain(recipient(config, key, mail, 1, "reader1@example.org", "Reader 1"))
    assert template.plain(recipient(config, key, mail, 2, "first.last+tag@example.org", ""))
    assert not template.plain(recipient(config, key, mail, 3, "reader3@example.org", "Zoë"))  # RFC 2047
    assert not template.plain(recipient(config, key, mail, 4, "reader4@example.org", "J. Smith"))  # quoted
    assert not template.plain(recipient(config, key, mail, 5, "user@bücher.de", "Reader 5"))  # IDN


def test_two_readers_share_every_encoded_literal(real_mail: tuple[EditionMail, bytes], initialised: Path) -> None:
    mail, key = real_mail
    config = load(initialised)
    template = MessageTemplate(mail, "example.com")
    one, two = template.render_batch(
        [recipient(config, key, mail, 1, "aaa@x.org", "Aaa"), recipient(config, key, mail, 2, "bbb@x.org", "Bbb")]
    )
    # one boundary per edition, and the bodies differ only in the readers' values
    boundary = parse(one).get_boundary()
    assert boundary and boundary == parse(two).get_boundary()
    text_literals, names = template._text
    assert names and all(literal in one and literal in two for literal in text_literals)


def test_the_mailto_unsubscribe_and_feedback_id_are_written_alike_by_both_builders(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    monkeypatch.setenv("DIGEST_SENDER_UNSUBSCRIBE_MAILTO", "leave@harbor.example")
    edition = make_edition(store, 3)
    config = load(initialised)
    mail = edition_mail(store, config, edition, render_edition(store, config, edition))
    r = recipient(config, tokens.signing_key(store), mail, 1, "reader1@example.org", "Reader 1")
    data = check(mail, r)
    head = data.split(b"\n\n", 1)[0].decode()
    unsubscribe = f"List-Unsubscribe: <{r.unsubscribe_url}>, <mailto:leave@harbor.example?subject=unsubscribe%20main>"
    assert unsubscribe in head.splitlines()
    assert f"Feedback-ID: {edition}:main:digest:example.com" in head.splitlines()
    monkeypatch.setenv("DIGEST_SENDER_UNSUBSCRIBE_MAILTO", "not an address")
    with pytest.raises(ConfigError, match="unsubscribe_mailto"):
        edition_mail(store, load(initialised), edition, mail.rendered)
