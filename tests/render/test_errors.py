"""Template errors name the file and line (Jinja's and MJML's); CI validates with the reference compiler."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from digest.errors import TemplateError
from digest.render import render_edition
from digest.render.mjml import unbalanced_line, validate_strict
from digest.render.templates import default_templates_dir
from tests.support.render import Edition, edition_fixture, seed  # noqa: F401

MJML_BIN = os.environ.get("DIGEST_MJML_BIN")  # read at import: conftest clears DIGEST_* for each test


def override(edition: Edition, name: str, text: str) -> Path:
    path = edition.config.templates_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shipped(name: str) -> str:
    return (default_templates_dir() / name).read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_jinja_syntax_error_names_file_and_line(edition: Edition, cli) -> None:  # type: ignore[no-untyped-def]
    source = shipped("partials/story.mjml.j2").replace("{% if story.summary %}", "{% if story.summary %%}")
    path = override(edition, "partials/story.mjml.j2", source)
    result = cli("render", code=1)
    assert f"{path}:{line_of(source, '{% if story.summary %%}')}:" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_undefined_value_names_file_and_line(edition: Edition) -> None:
    source = shipped("partials/footer.mjml.j2").replace("{{ list.address }}", "{{ list.adress }}")
    path = override(edition, "partials/footer.mjml.j2", source)
    with pytest.raises(TemplateError) as info:
        render_edition(edition.store, edition.config, edition.edition_id)
    assert f"{path}:{line_of(source, 'list.adress')}" in str(info.value) and "adress" in str(info.value)


def test_an_mjml_error_with_a_byte_offset_names_file_and_line(edition: Edition) -> None:
    source = shipped("partials/head.mjml.j2").replace("<mj-title>", "<mj-titel />\n    <mj-title>")
    path = override(edition, "partials/head.mjml.j2", source)
    with pytest.raises(TemplateError) as info:
        render_edition(edition.store, edition.config, edition.edition_id)
    message = str(info.value)
    assert f"{path}:{line_of(source, '<mj-titel')}:" in message
    assert "MJML does not compile" in message and "rendered MJML line" in message and "position" not in message


def test_an_mjml_error_with_only_a_message_names_file_and_line(edition: Edition, cli) -> None:  # type: ignore[no-untyped-def]
    source = shipped("partials/footer.mjml.j2").replace("      </mj-column>\n", "", 1)
    assert source != shipped("partials/footer.mjml.j2")
    path = override(edition, "partials/footer.mjml.j2", source)
    result = cli("render", code=1)
    assert f"{path}:{line_of(source, '<mj-column')}:" in result.stderr
    assert "unexpected end of stream" in result.stderr and "Traceback" not in result.stderr


def test_unbalanced_line_finds_the_tag_left_open() -> None:
    assert unbalanced_line("<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n</mj-section>\n</mj-body></mjml>") == 4
    assert unbalanced_line("<mjml>\n<mj-body>\n</mj-body>\n</mjml>\n</mjml>") == 5
    assert unbalanced_line("<mjml><mj-body><mj-text><mj-x></mj-text><mj-image /></mj-body></mjml>") is None


def test_templates_init_copies_the_defaults_and_the_copy_wins(edition: Edition, cli) -> None:  # type: ignore[no-untyped-def]
    import json

    done = json.loads(cli("templates", "init", "--json").stdout)
    copied = edition.config.templates_dir
    assert (copied / "digest.mjml.j2").read_text() == shipped("digest.mjml.j2")
    assert {str(copied / "partials" / "story.mjml.j2"), str(copied / "subject.txt.j2")} <= set(done["written"])
    (copied / "subject.txt.j2").write_text("Today: {{ lead.title }}\n", encoding="utf-8")
    again = json.loads(cli("templates", "init", "--json").stdout)
    assert again["written"] == [] and len(again["kept"]) == len(done["written"])
    assert (copied / "subject.txt.j2").read_text() == "Today: {{ lead.title }}\n"
    assert "<title>Today: Wayfarer browser" in cli("render").stdout
    listed = json.loads(cli("templates", "list", "--json").stdout)
    assert all(row["overridden"] for row in listed)
    cli("templates", "init", "--force")
    assert (copied / "subject.txt.j2").read_text() == shipped("subject.txt.j2")


@pytest.fixture
def mjml_bin() -> str:
    if not MJML_BIN:
        if os.environ.get("CI"):
            pytest.fail("DIGEST_MJML_BIN is not set in CI (.ci/run installs npm mjml and exports it)")
        pytest.skip(
            "DIGEST_MJML_BIN is unset: run 'npm install --prefix .ci mjml@4' and export"
            " DIGEST_MJML_BIN=$PWD/.ci/node_modules/.bin/mjml"
        )
    assert shutil.which(MJML_BIN), f"DIGEST_MJML_BIN={MJML_BIN} is not executable"
    return MJML_BIN


def test_the_shipped_templates_pass_the_reference_compiler_in_strict_mode(edition: Edition, mjml_bin: str) -> None:
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    html = validate_strict(rendered.mjml, mjml_bin)
    assert "Wayfarer browser finally drops third-party cookies" in html
    # The other branches: a lone lead story with no picture, summary, source or link.
    bare, _ = seed(edition.store, [{"title": "Only story"}], list_name="bare", config=edition.config)
    assert "Only story" in validate_strict(render_edition(edition.store, edition.config, bare).mjml, mjml_bin)


def test_strict_validation_rejects_a_bad_attribute_and_an_unknown_tag(edition: Edition, mjml_bin: str) -> None:
    rendered = render_edition(edition.store, edition.config, edition.edition_id)
    bad_attribute = rendered.mjml.replace('<mj-text font-size="28px"', '<mj-text colour="red" font-size="28px"', 1)
    assert bad_attribute != rendered.mjml
    with pytest.raises(TemplateError, match="colour"):
        validate_strict(bad_attribute, mjml_bin)
    with pytest.raises(TemplateError, match="mj-foo"):
        validate_strict(rendered.mjml.replace("</mj-body>", "<mj-foo></mj-foo></mj-body>"), mjml_bin)
