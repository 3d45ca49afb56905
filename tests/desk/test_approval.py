"""What the desk changes is what readers get, and a list that wants approval sends nothing before it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import unescape
from pathlib import Path

import pytest

import digest.render.mjml as mjml_module
from digest import Newsletter
from tests.conftest import Cli


def mails(home: Path) -> list[EmailMessage]:
    found = sorted((home / "outbox").rglob("*.eml"))
    return [message_from_bytes(p.read_bytes(), policy=default) for p in found]  # type: ignore[misc]


def parts(mail: EmailMessage) -> tuple[str, str]:
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and text is not None
    return unescape(html.get_content()), text.get_content()


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    count = [0]
    real = mjml_module.mjml2html

    def counting(*args: object, **kwargs: object) -> str:
        count[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mjml_module, "mjml2html", counting)
    yield count


def test_the_sent_email_holds_exactly_the_edits_rendered_once(
    news: Newsletter, eid: int, home: Path, compiles: list[int]
) -> None:
    start = news.draft(eid)
    dropped, edited, runner = start.stories[1], start.stories[2], start.runners_up[0]
    news.drop_story(eid, dropped.story_id)
    news.swap_story(eid, start.stories[3].story_id, runner.story_id)
    news.edit_story(eid, edited.story_id, title="Comet named after the backyard", blurb="Two hobbyists, one comet.")
    news.edit_edition(eid, subject="The comet issue", preheader="Also: the rest of the news")
    compiles[0] = 0
    report = news.send(eid, provider="outbox")
    assert report.sent == 5 and compiles[0] == 1  # the edited edition rendered once, not per reader
    got = mails(home)
    assert len(got) == 5
    for mail in got:
        assert mail["Subject"] == "The comet issue"
        html, text = parts(mail)
        for body in (html, text):
            assert "Comet named after the backyard" in body and "Two hobbyists, one comet." in body
            assert edited.title not in body and dropped.title not in body and start.stories[3].title not in body
            assert runner.title in body
        assert "Also: the rest of the news" in html
    news.render(eid)
    assert compiles[0] == 1  # kept: a later use compiles nothing


def test_run_holds_an_edition_until_it_is_approved_and_sends_it_once(home: Path, cli: Cli) -> None:
    cli("init", "--example")
    cli("lists", "edit", "main", "--require-approval")
    held = json.loads(cli("run", "--json").stdout)
    (entry,) = held["lists"]
    assert held["exit_code"] == 0 and "sent" not in entry
    assert entry["awaiting_approval"]["approve"] == f"digest edition approve --list main --date {entry['date']}"
    assert entry["awaiting_approval"]["desk"] == f"digest preview --list main --date {entry['date']}"
    assert not mails(home)
    line = cli("run").stderr
    assert "waiting for approval, nothing sent" in line and "digest edition approve --list main" in line
    assert not mails(home)

    with Newsletter.open(home) as news:
        edition = news.edition(date=entry["date"])
        lead = news.draft(edition).stories[0]
        news.edit_story(edition, lead.story_id, title="Approved headline")
    approved = json.loads(
        cli("edition", "approve", "--list", "main", "--date", entry["date"], "--by", "ada", "--json").stdout
    )
    assert approved["approved"]["by"] == "ada"
    sent = json.loads(cli("run", "--json").stdout)
    assert sent["lists"][0]["sent"] == 5 and "awaiting_approval" not in sent["lists"][0]
    got = mails(home)
    assert len(got) == 5 and all("Approved headline" in parts(m)[0] for m in got)
    again = json.loads(cli("run", "--json").stdout)
    assert again["lists"][0].get("sent", 0) == 0 and len(mails(home)) == 5  # never twice


def test_a_change_after_approval_holds_the_edition_again(home: Path, cli: Cli) -> None:
    cli("init", "--example")
    cli("lists", "edit", "main", "--require-approval")
    day = json.loads(cli("run", "--json").stdout)["lists"][0]["date"]
    with Newsletter.open(home) as news:
        edition = news.edition(date=day)
        news.approve_edition(edition)
        news.drop_story(edition, news.draft(edition).stories[0].story_id)
    assert "awaiting_approval" in json.loads(cli("run", "--json").stdout)["lists"][0]
    assert not mails(home)


def test_digest_send_refuses_an_edition_waiting_for_approval(news: Newsletter, eid: int, home: Path, cli: Cli) -> None:
    cli("lists", "edit", "main", "--require-approval")
    refused = cli("send", code=1).stderr
    assert "waiting for approval" in refused and "digest edition approve --list main --date" in refused
    cli("send", "--to", "me@example.com")  # a test copy needs no approval
    cli("send", "--dry-run")
    assert not [m for m in mails(home) if "[TEST]" not in str(m["Subject"])]
    news.approve_edition(eid)
    assert json.loads(cli("send", "--json").stdout)["sent"] == 5


def test_an_approval_given_while_a_run_ranks_keeps_what_was_approved(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor approves while a run is ranking: the run's new ranking must not replace what they approved."""
    import digest.pipeline

    cli("init", "--example")
    cli("lists", "edit", "main", "--require-approval")
    day = json.loads(cli("run", "--json").stdout)["lists"][0]["date"]  # built and held
    with Newsletter.open(home) as news:
        eid = news.edition("main", day)
        approved = [s.story_id for s in news.draft(eid).stories]
    real_rank = digest.pipeline.rank

    def rank_while_the_editor_approves(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_rank(*args, **kwargs)
        with Newsletter.open(home) as editor:  # their click, on another connection, mid-ranking
            editor.approve_edition(eid, by="ada")
        return result

    from dataclasses import replace as dc_replace

    def reversed_rank(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = rank_while_the_editor_approves(*args, **kwargs)
        return dc_replace(result, picked=list(reversed(result.picked)))  # a ranking unlike the approved one

    monkeypatch.setattr(digest.pipeline, "rank", reversed_rank)
    cli("build", "--list", "main", "--date", day)
    with Newsletter.open(home) as news:
        assert [s.story_id for s in news.draft(eid).stories] == approved
        assert news.draft(eid).approved is not None
    monkeypatch.setattr(digest.pipeline, "rank", real_rank)
    cli("run")
    for mail in mails(home):
        html, _ = parts(mail)
        with Newsletter.open(home) as news:
            first = news.draft(eid).stories[0].title
        assert first in html


def test_an_edit_landing_between_build_and_send_is_held_not_sent_around(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk change just before the send takes its lock clears the approval: the send refuses, nothing goes."""
    import digest.pipeline

    cli("init", "--example")
    cli("lists", "edit", "main", "--require-approval")
    day = json.loads(cli("run", "--json").stdout)["lists"][0]["date"]
    with Newsletter.open(home) as news:
        eid = news.edition("main", day)
        news.approve_edition(eid, by="ada")
        victim = news.draft(eid).stories[1].story_id
    real_send = digest.pipeline.send_edition

    def edit_then_send(*args, **kwargs):  # type: ignore[no-untyped-def]
        with Newsletter.open(home) as editor:  # the desk's drop, after build checked the approval
            editor.drop_story(eid, victim)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(digest.pipeline, "send_edition", edit_then_send)
    out = json.loads(cli("run", "--json", code=1).stdout)
    assert "waiting for approval" in out["lists"][0]["error"]
    assert mails(home) == []
    monkeypatch.setattr(digest.pipeline, "send_edition", real_send)
    with Newsletter.open(home) as news:
        news.approve_edition(eid, by="ada")
        stories = [s.story_id for s in news.draft(eid).stories]
    cli("run")
    assert len(mails(home)) == 5 and victim not in stories


def test_an_approval_names_what_the_editor_saw_and_is_refused_once_it_changed(
    news: Newsletter, eid: int, home: Path, cli: Cli
) -> None:
    seen = news.draft(eid).fingerprint
    with Newsletter.open(home) as other:  # another editor (or a new ranking) changes it meanwhile
        other.drop_story(eid, news.draft(eid).stories[0].story_id)
    with pytest.raises(Exception, match="changed since you looked"):
        news.approve_edition(eid, by="ada", seen=seen)
    assert news.draft(eid).approved is None
    line = cli("edition", "approve", "--seen", seen, code=1).stderr.strip()
    assert "changed since you looked" in line and "digest edition show" in line and "\n" not in line
    now = json.loads(cli("edition", "show", "--json").stdout)["fingerprint"]
    assert now != seen
    assert json.loads(cli("edition", "approve", "--seen", now, "--json").stdout)["approved"]["by"] == "cli"
