"""Render once: one MJML compile per edition per template change, reused by send, web copy, preview and archive."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

import digest.render.mjml as mjml_module
from digest.config import load
from digest.models import Edition
from digest.render import edition_context, render_edition, stamp
from digest.store import Store
from tests.conftest import Cli


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many times MJML was compiled since the last call (every compile goes through ``mjml2html``)."""
    count = [0]
    real = mjml_module.mjml2html

    def counting(*args: object, **kwargs: object) -> str:
        count[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mjml_module, "mjml2html", counting)

    def taken() -> int:
        n, count[0] = count[0], 0
        return n

    return taken


def only_edition(store: Store) -> Edition:
    (edition_id,) = [r["id"] for r in store.rows("SELECT id FROM editions")]
    return store.edition(edition_id)


def subjects(folder: Path) -> set[str]:
    return {str(message_from_bytes(p.read_bytes(), policy=default)["Subject"]).strip() for p in folder.glob("*.eml")}


def test_digest_run_compiles_once_per_edition_and_template_change(
    home: Path, cli: Cli, compiles: Callable[[], int]
) -> None:
    cli("init", "--example")
    compiles()
    cli("run")
    assert compiles() == 1  # build renders once; send and the web copy reuse it
    config = load(home)
    with Store(config.db_path) as store:
        edition = only_edition(store)
        sent_subject = edition.subject
    assert sent_subject and subjects(home / "outbox" / f"edition-{edition.id}") == {sent_subject}
    web_copy = (home / "outbox" / f"edition-{edition.id}.html").read_text(encoding="utf-8")
    assert f"<title>{sent_subject}</title>" in web_copy

    cli("run")
    assert compiles() == 0  # a re-run reuses the kept rendition
    cli("send")
    cli("render", "--format", "html")
    cli("render", "--archive", str(home / "site"))
    assert compiles() == 0  # so do a later send, the preview and the archive

    (home / "templates").mkdir(exist_ok=True)
    (home / "templates" / "subject.txt.j2").write_text("Edited: {{ lead.title }}\n", encoding="utf-8")
    cli("run")
    assert compiles() == 1  # the template changed: rendered once again
    with Store(config.db_path) as store:
        new_subject = store.edition(edition.id).subject
    assert new_subject.startswith("Edited: ") and new_subject != sent_subject
    web_copy = (home / "outbox" / f"edition-{edition.id}.html").read_text(encoding="utf-8")
    assert f"<title>{new_subject}</title>" in web_copy
    cli("send", "--to", "tester@example.com")
    assert subjects(home / "outbox" / f"test-{edition.id}") == {f"[TEST] {new_subject}"}  # one subject
    cli("run")
    assert compiles() == 0


def test_the_stamp_follows_the_config_and_the_frozen_content(
    home: Path, cli: Cli, compiles: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init", "--example")
    cli("collect")
    cli("build")
    config = load(home)
    with Store(config.db_path) as store:
        edition = only_edition(store).id
        compiles()
        first = render_edition(store, config, edition)
        assert compiles() == 0 and first.stamp == stamp(config, edition_context(store, config, edition))
        assert store.rendition(edition, first.stamp) == first
        assert store.rendition(edition, "another stamp") is None

        monkeypatch.setenv("DIGEST_NAME", "Another Name")  # config the templates show
        renamed = load(home)
        assert render_edition(store, renamed, edition).stamp != first.stamp
        assert compiles() == 1

        # the edition's frozen content: a rebuild with fewer stories is another artefact
        store.conn.execute("DELETE FROM edition_stories WHERE edition_id = ? AND rank = 2", (edition,))
        fewer = render_edition(store, renamed, edition)
        assert compiles() == 1 and fewer.stamp != first.stamp and fewer.html != first.html
        assert render_edition(store, renamed, edition) == fewer and compiles() == 0

        # a template edited in place, twice within a second and to the same size, is still seen
        override = home / "templates" / "preheader.txt.j2"
        override.parent.mkdir(exist_ok=True)
        override.write_text("First take {{ edition.date }}\n", encoding="utf-8")
        assert render_edition(store, renamed, edition).preheader.startswith("First take")
        override.write_text("Other take {{ edition.date }}\n", encoding="utf-8")
        assert render_edition(store, renamed, edition).preheader.startswith("Other take")
        assert compiles() == 2
        assert store.scalar("SELECT count(*) FROM renditions") == 1  # one kept per edition


def test_a_build_that_cannot_render_leaves_no_edition_behind(home: Path, cli: Cli) -> None:
    cli("init", "--example")
    cli("collect")
    (home / "templates").mkdir(exist_ok=True)
    (home / "templates" / "digest.mjml.j2").write_text("<mjml><mj-body><mj-section>\n", encoding="utf-8")
    result = cli("build", code=1)
    assert "MJML does not compile" in result.stderr
    with Store(load(home).db_path) as store:
        assert store.scalar("SELECT count(*) FROM editions") == 0
        assert store.scalar("SELECT count(*) FROM renditions") == 0
