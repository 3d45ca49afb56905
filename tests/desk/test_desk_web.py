"""The desk page of ``digest preview`` over HTTP: what it shows, and each action as a POST with a CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from starlette.testclient import TestClient

from digest import Newsletter
from digest.config import load
from digest.web import create_app


@pytest.fixture
def desk(news: Newsletter, home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load(home), preview=True), base_url="http://127.0.0.1:8001") as client:
        yield client


def page(client: TestClient) -> lxml.html.HtmlElement:
    answer = client.get("/")
    assert answer.status_code == 200
    return lxml.html.fromstring(answer.text)


def form_of(doc: lxml.html.HtmlElement, form_id: str) -> dict[str, str]:
    form = doc.get_element_by_id(form_id)
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}
    fields.update({s.get("name"): s.xpath("./option/@value")[0] for s in form.xpath(".//select[@name]")})
    fields.update({t.get("name"): t.text or "" for t in form.xpath(".//textarea[@name]")})
    return fields


def post(client: TestClient, doc: lxml.html.HtmlElement, form_id: str, fragment: bool = True, **changes: str):  # type: ignore[no-untyped-def]
    data = form_of(doc, form_id) | changes
    headers = {"X-Desk-Fragment": "1"} if fragment else {}
    return client.post("/preview/act", data=data, headers=headers, follow_redirects=False)


def story_ids(doc: lxml.html.HtmlElement) -> list[int]:
    return [int(i) for i in doc.xpath("//ol[@id='stories']/li/@data-story")]


def test_the_desk_shows_score_bars_in_parts_sources_also_covered_and_runners_up(
    desk: TestClient, news: Newsletter, eid: int
) -> None:
    draft = news.draft(eid)
    doc = page(desk)
    assert story_ids(doc) == [s.story_id for s in draft.stories]
    legend = doc.xpath("//ul[@class='legend']")[0].text_content()
    for label in ("Recency", "Source", "Engagement", "Coverage", "Keywords", "Pin"):
        assert label in legend
    first = doc.get_element_by_id(f"story-{draft.stories[0].story_id}")
    bar = first.xpath(".//div[@class='bar']")[0]
    assert bar.get("role") == "img" and bar.get("aria-label").startswith(f"score {draft.stories[0].score:.2f}: recency")
    widths = [float(re.search(r"width:([\d.]+)%", s.get("style")).group(1)) for s in bar.xpath("./span")]  # type: ignore[union-attr]
    assert widths and 0 < sum(widths) <= 100.01
    assert draft.stories[0].source and draft.stories[0].source in first.text_content()
    covered = next(s for s in draft.stories if s.also)
    shown = doc.get_element_by_id(f"story-{covered.story_id}").text_content()
    assert "also covered by " + ", ".join(covered.also) in shown
    runners = doc.get_element_by_id("runners-up")
    assert len(runners.xpath("./li")) == len(draft.runners_up)
    assert f"Why it lost: {draft.runners_up[0].why_lost}" in runners.text_content()
    text = doc.text_content()
    assert "engagement_figures" not in text and not re.search(r"\d\.\d{4,}", text)  # no raw floats
    assert doc.xpath("//iframe[@id='desktop']/@src") == ["/preview/email.html"]
    assert doc.get_element_by_id("health") is not None


def test_each_action_changes_the_edition_and_answers_the_fragment(desk: TestClient, news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    a, b, c = (s.story_id for s in start.stories[:3])
    runner = start.runners_up[0].story_id

    answer = post(desk, page(desk), f"f-drop-{a}")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    frag = lxml.html.fromstring(answer.text)
    assert a not in story_ids(frag) and "Dropped the story." in frag.get_element_by_id("notice").text_content()
    assert a not in [s.story_id for s in news.draft(eid).stories]

    post(desk, page(desk), f"f-swap-{b}", runner_up=str(runner))
    now_in = [s.story_id for s in news.draft(eid).stories]
    assert runner in now_in and b not in now_in

    post(desk, page(desk), f"f-down-{c}")
    before = [s.story_id for s in news.draft(eid).stories]
    post(desk, page(desk), f"f-up-{c}")
    after = [s.story_id for s in news.draft(eid).stories]
    assert after.index(c) == before.index(c) - 1

    post(desk, page(desk), f"f-pin-{c}")
    pinned = news.draft(eid).story(c)
    assert pinned is not None and pinned.pinned

    answer = post(desk, page(desk), f"f-edit-{c}", title="The desk's headline", blurb="The desk's blurb.")
    edited = news.draft(eid).story(c)
    assert edited is not None and edited.title == "The desk's headline" and edited.blurb == "The desk's blurb."
    shown = lxml.html.fromstring(answer.text).get_element_by_id(f"story-{c}").text_content()
    assert f"Original headline: {edited.original_title}" in shown

    post(desk, page(desk), "f-edition", subject="Desk subject", preheader="Desk preheader")
    assert (news.draft(eid).subject, news.draft(eid).preheader) == ("Desk subject", "Desk preheader")
    assert page(desk).get_element_by_id("subject").text_content() == "Desk subject"

    answer = post(desk, page(desk), "f-approve", by="Ada")
    assert news.draft(eid).approved is not None and news.draft(eid).approved.by == "Ada"  # type: ignore[union-attr]
    assert "Approved by Ada" in lxml.html.fromstring(answer.text).get_element_by_id("approval").text_content()

    post(desk, page(desk), "f-reset")
    fresh = news.draft(eid)
    assert not fresh.changes and [s.story_id for s in fresh.stories] == [s.story_id for s in start.stories]


def test_a_test_copy_goes_to_the_address_given(desk: TestClient, news: Newsletter, eid: int, home: Path) -> None:
    doc = page(desk)
    assert form_of(doc, "f-test")["to"]  # the list's own address, to start with
    answer = post(desk, doc, "f-test", to="editor@example.com")
    assert "Sent a test copy to editor@example.com." in answer.text
    sent = [p.read_text(errors="replace") for p in (home / "outbox").rglob("*.eml")]
    assert len(sent) == 1 and "editor@example.com" in sent[0]
    bad = post(desk, page(desk), "f-test", to="not an address")
    assert bad.status_code == 400 and "notice bad" in bad.text


def test_without_the_script_an_action_redirects_back_to_its_story(desk: TestClient, news: Newsletter, eid: int) -> None:
    c = news.draft(eid).stories[2].story_id
    answer = post(desk, page(desk), f"f-down-{c}", fragment=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/#story-{c}"


def test_an_action_without_the_csrf_token_or_cookie_changes_nothing(
    desk: TestClient, news: Newsletter, eid: int
) -> None:
    doc = page(desk)
    a = news.draft(eid).stories[0].story_id
    forged = post(desk, doc, f"f-drop-{a}", csrf="0" * 32)
    assert forged.status_code == 403 and "expired" in forged.text
    desk.cookies.clear()  # another site's form: the browser sends no SameSite=Strict cookie
    assert post(desk, doc, f"f-drop-{a}").status_code == 403
    assert post(desk, doc, "f-approve").status_code == 403
    draft = news.draft(eid)
    assert a in [s.story_id for s in draft.stories] and draft.approved is None and not draft.changes
    # the refusal set a fresh cookie and token: the same action from the page now goes through
    assert post(desk, page(desk), f"f-drop-{a}").status_code == 200


def test_a_refused_action_says_why_in_the_notice(desk: TestClient, news: Newsletter, eid: int) -> None:
    doc = page(desk)
    a = news.draft(eid).stories[0].story_id
    answer = post(desk, doc, f"f-swap-{a}", runner_up="999999")
    assert answer.status_code == 400
    assert lxml.html.fromstring(answer.text).get_element_by_id("notice").text_content().strip()
    assert post(desk, doc, f"f-drop-{a}", action="explode").status_code == 400
    for odd in ("²", "١", "9" * 40):  # digits to str.isdigit, not numbers int() or SQLite take
        assert post(desk, doc, f"f-drop-{a}", story=odd).status_code == 400
        assert post(desk, doc, f"f-drop-{a}", edition=odd).status_code in (400, 404)
    assert not news.draft(eid).changes


def test_every_desk_answer_has_the_security_headers(desk: TestClient, news: Newsletter, eid: int) -> None:
    first = desk.get("/")
    assert "samesite=strict" in first.headers["set-cookie"].lower()  # the CSRF cookie, this site's only
    doc = lxml.html.fromstring(first.text)
    a = news.draft(eid).stories[0].story_id
    answers = [
        first,
        desk.get("/preview/desk.css"),
        desk.get("/preview/desk.js"),
        post(desk, doc, f"f-down-{a}"),
        post(desk, doc, f"f-drop-{a}", csrf="x"),
    ]
    for answer in answers:
        h = answer.headers
        assert (
            "script-src 'self';" in h["content-security-policy"]
            and "frame-ancestors 'self'" in h["content-security-policy"]
        )
        assert (h["x-frame-options"], h["x-content-type-options"], h["referrer-policy"]) == (
            "SAMEORIGIN",
            "nosniff",
            "no-referrer",
        )


def test_once_sending_has_started_the_desk_offers_no_changes_and_refuses_them(
    desk: TestClient, news: Newsletter, eid: int
) -> None:
    doc = page(desk)
    a = news.draft(eid).stories[0].story_id
    news.send(eid, provider="outbox")
    now = page(desk)
    assert "sending has started" in now.get_element_by_id("approval").text_content()
    assert not now.xpath(f"//form[@id='f-drop-{a}']")
    refused = post(desk, doc, f"f-drop-{a}")
    assert refused.status_code == 400 and a in [s.story_id for s in news.draft(eid).stories]


def test_source_health_names_failing_sources_since_when_with_their_error(desk: TestClient, news: Newsletter) -> None:
    assert "Every source is fetching and fresh." in page(desk).get_element_by_id("health").text_content()
    broken = news.store.sources()[0]
    news.store.record_fetch(broken.id, error="HTTP 503 from the feed")
    health = page(desk).get_element_by_id("health").text_content()
    assert broken.display_name in health and "HTTP 503 from the feed" in health and "failing since" in health


def test_a_field_sent_back_unchanged_is_no_edit_and_a_change_after_approval_says_it_clears_it(
    desk: TestClient, news: Newsletter, eid: int
) -> None:
    post(desk, page(desk), "f-edition", subject="Only the subject")
    last = news.draft(eid)
    assert last.subject == "Only the subject" and last.preheader == last.original_preheader
    assert last.changes[-1].args.get("preheader") is None  # the template's preheader still follows the stories
    same = post(desk, page(desk), "f-edition")
    assert "Nothing to save" in same.text and len(news.draft(eid).changes) == len(last.changes)

    post(desk, page(desk), "f-approve", by="Ada")
    a = news.draft(eid).stories[0].story_id
    notice = lxml.html.fromstring(post(desk, page(desk), f"f-drop-{a}").text).get_element_by_id("notice")
    assert "Dropped the story." in notice.text_content() and "is cleared" in notice.text_content()
    assert news.draft(eid).approved is None


def test_the_desk_charts_sends_opens_and_clicks_and_shows_each_storys_clicks(
    news: Newsletter, home: Path, eid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_TRACK_CLICKS", "true")
    config = load(home)
    with Newsletter.open(home) as tracked:
        tracked.render(eid)  # the tracked links are in the edition's rendering
        report = tracked.send(eid, provider="outbox")
        lead = tracked.draft(eid).stories[0]
        html = tracked.copy(eid).decode("utf-8")
    link = next(h for h in lxml.html.fromstring(html).xpath("//a/@href") if "/c/" in h)
    with TestClient(create_app(config)) as served:
        assert served.get("/" + link.split("/", 3)[3], follow_redirects=False).status_code == 302
    with TestClient(create_app(config, preview=True), base_url="http://127.0.0.1:8001") as client:
        doc = page(client)
    figures = doc.get_element_by_id("figures")
    row = figures.xpath(".//tr[@class='this']")[0]
    cells = [td.text_content() for td in row.xpath("./td")]
    assert cells[0] == str(report.sent) and cells[3] == "1"  # sent, opened, clicked (SendGrid), story clicks
    widths = [float(re.search(r"width:([\d.]+)%", s.get("style")).group(1)) for s in row.xpath(".//span[@style]")]  # type: ignore[union-attr]
    assert max(widths) == 100.0  # one scale: the largest figure fills its cell
    shown = doc.get_element_by_id(f"story-{lead.story_id}").text_content()
    assert "1 click (" in shown and "% of sends" in shown
