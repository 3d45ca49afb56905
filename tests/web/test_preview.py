"""The preview app and the web archive, through Starlette's test client, and the static archive command."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import lxml.html
import pytest
from starlette.testclient import TestClient

from digest.models import Ranked
from digest.web import create_app
from tests.support.archive import send_to_a_reader
from tests.support.render import HOSTILE, STORIES, Edition, edition_fixture, seed  # noqa: F401


def client(edition: Edition, preview: bool = True) -> TestClient:
    return TestClient(create_app(edition.config, preview=preview))


def test_the_preview_page_shows_subject_preheader_frames_text_and_why(edition: Edition) -> None:
    with client(edition) as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        doc = lxml.html.fromstring(page.text)
        assert (
            doc.get_element_by_id("subject").text_content()
            == "Wayfarer browser finally drops third-party cookies + 4 more"
        )
        assert doc.get_element_by_id("preheader").text_content().startswith("Startup unveils")
        assert doc.xpath("//iframe[@id='desktop']/@src") == ["/preview/email.html"]
        assert doc.xpath("//iframe[@id='mobile']/@src") == ["/preview/email.html"]
        assert "Unsubscribe: https://news.example/unsubscribe" in doc.get_element_by_id("text").text_content()
        stories = doc.get_element_by_id("stories")
        assert STORIES[3]["title"] in stories.text_content()
        bar = stories.xpath(".//div[@class='bar']")[0]
        assert bar.get("aria-label").startswith("score 2.00: recency 1.00")
        email = c.get("/preview/email.html")
        assert email.status_code == 200 and "<mjml" not in email.text and "%%digest" not in email.text
        assert c.get("/preview").text == page.text


def test_the_preview_picks_the_list_and_date_asked_for(edition: Edition) -> None:
    seed(
        edition.store,
        [{"title": "Other list story", "url": "https://x.example/1", "source": "X"}],
        list_name="other",
        date="2026-11-20",
        config=edition.config,
    )
    with client(edition) as c:
        page = c.get("/", params={"list": "other", "date": "2026-11-20"})
        assert "Other list story" in page.text
        assert "/preview/email.html?list=other&amp;date=2026-11-20" in page.text
        assert "Other list story" in c.get("/preview/email.html", params={"list": "other"}).text
        missing = c.get("/", params={"list": "nope"})
        assert missing.status_code == 200
        assert "no list named 'nope'" in lxml.html.fromstring(missing.text).get_element_by_id("error").text_content()
        assert c.get("/preview/email.html", params={"list": "nope"}).status_code == 404


def test_the_version_changes_with_templates_and_the_store(edition: Edition) -> None:
    with client(edition) as c:
        first = c.get("/preview/state").json()["version"]
        assert c.get("/preview/state").json()["version"] == first
        path = edition.config.templates_dir / "subject.txt.j2"
        path.parent.mkdir(parents=True)
        path.write_text("Changed {{ lead.title }}\n", encoding="utf-8")
        second = c.get("/preview/state").json()["version"]
        assert second != first
        assert "Changed Wayfarer" in c.get("/").text
        time.sleep(0.01)
        edition.store.freeze_edition(
            edition.list_id, "2026-11-25", "s", "p", "2026-11-25T07:00:00Z", [Ranked(1, "t", None, None, 1.0, {})]
        )
        assert c.get("/preview/state").json()["version"] != second


def shipped_lead() -> str:
    from digest.render.templates import default_templates_dir

    return (default_templates_dir() / "partials" / "lead.mjml.j2").read_text(encoding="utf-8")


def test_a_template_error_shows_on_the_page_instead_of_the_edition(edition: Edition) -> None:
    path = edition.config.templates_dir / "partials" / "lead.mjml.j2"
    path.parent.mkdir(parents=True)
    path.write_text("{% if %}\n", encoding="utf-8")
    with client(edition) as c:
        page = c.get("/")
        assert page.status_code == 200
        error = lxml.html.fromstring(page.text).get_element_by_id("error").text_content()
        assert f"{path}:1:" in error
        assert "/preview/desk.js" in page.text  # still polling, so fixing the file reloads the page
        # an MJML mistake mjml-python would let through shows there too
        path.write_text(shipped_lead().replace("<mj-button ", '<mj-button colr="red" ', 1), encoding="utf-8")
        error = lxml.html.fromstring(c.get("/").text).get_element_by_id("error").text_content()
        assert f"{path}:" in error and "unknown attribute colr" in error


def test_the_web_archive_serves_the_index_and_each_editions_web_version(edition: Edition) -> None:
    send_to_a_reader(edition.store, edition.config, edition.edition_id)
    with client(edition, preview=False) as c:
        home = c.get("/")  # 'digest serve' has the signup page at /, not the preview
        assert home.status_code == 200 and 'action="/subscribe"' in home.text and "/preview/state" not in home.text
        index = c.get("/editions")
        assert index.status_code == 200
        assert f'href="editions/{edition.edition_id}"' in index.text and "Wayfarer browser" in index.text
        page = c.get(f"/editions/{edition.edition_id}")
        assert page.status_code == 200 and "Wayfarer browser" in page.text and "%%digest" not in page.text
        assert f'href="https://news.example/editions/{edition.edition_id}"' in page.text
        assert c.get("/editions/999").status_code == 404
        assert c.get("/editions/abc").status_code == 404


def test_render_archive_writes_an_index_and_one_page_per_edition(edition: Edition, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other, _ = seed(
        edition.store,
        [{"title": HOSTILE, "url": "https://x.example/1", "source": "X"}],
        list_name="other",
        date="2026-11-20",
        config=edition.config,
    )
    send_to_a_reader(edition.store, edition.config, edition.edition_id)
    send_to_a_reader(edition.store, edition.config, other, "other")
    out = tmp_path / "site"
    report = json.loads(cli("render", "--archive", str(out), "--json").stdout)
    assert report["editions"] == 2 and Path(report["index"]) == out / "index.html"
    index = (out / "index.html").read_text()
    doc = lxml.html.fromstring(index)
    assert doc.xpath("//a/@href") == [f"editions/{edition.edition_id}.html", f"editions/{other}.html"]
    assert HOSTILE in doc.text_content() and "<script>" not in index
    page = (out / "editions" / f"{edition.edition_id}.html").read_text()
    assert "Wayfarer browser" in page and "%%digest" not in page
    assert sorted(os.listdir(out / "editions")) == sorted([f"{edition.edition_id}.html", f"{other}.html"])
    only = json.loads(cli("render", "--archive", str(tmp_path / "one"), "--list", "other", "--json").stdout)
    assert only["editions"] == 1


def test_preview_command_serves_on_localhost_and_opens_the_browser(
    edition: Edition,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import digest.cli.preview as preview_cli
    import digest.web

    served: list[tuple[str, int, bool]] = []
    opened: list[str] = []

    def fake_serve(config, host: str, port: int, preview: bool = False, ready=None) -> None:  # type: ignore[no-untyped-def]
        digest.web.desk_password(host) if preview else None
        served.append((host, port, preview))
        if ready is not None:
            ready(f"http://{host}:{port}")

    monkeypatch.setattr(digest.web, "serve", fake_serve)
    monkeypatch.setattr(preview_cli.webbrowser, "open", opened.append)

    class Now:
        def __init__(self, delay: float, fn, args=()) -> None:  # type: ignore[no-untyped-def]
            self.fn, self.args = fn, args

        def start(self) -> None:
            self.fn(*self.args)

    monkeypatch.setattr(preview_cli.threading, "Timer", Now)
    result = cli("preview", "--port", "8123", "--open", "--list", "golden")
    assert served == [("127.0.0.1", 8123, True)]
    assert opened == ["http://127.0.0.1:8123/?list=golden"]
    assert "Previewing on http://127.0.0.1:8123/?list=golden" in result.stderr
    cli("preview", "--port", "8124")
    assert served[-1] == ("127.0.0.1", 8124, True) and len(opened) == 1


def test_render_to_a_path_that_cannot_be_written_is_one_line(
    edition: Edition,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.html"
    got = cli("render", "--out", str(missing), code=1)
    assert f"cannot write {missing}: No such file or directory; give a path in an existing folder" in " ".join(
        got.stderr.split()
    )
    assert "Traceback" not in got.stderr
    a_file = tmp_path / "hostname"
    a_file.write_text("not a folder\n")
    archived = cli("render", "--archive", str(a_file), code=1)
    assert f"cannot write the archive into {a_file}: it is a file" in " ".join(archived.stderr.split())
    assert a_file.read_text() == "not a folder\n"
    below_a_file = cli("render", "--archive", str(a_file / "archive"), code=1)
    assert "cannot write" in below_a_file.stderr and "Traceback" not in below_a_file.stderr
