"""Template errors name the file and line (Jinja's and MJML's); CI validates with the reference compiler."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from digest.errors import TemplateError
from digest.render import render_edition
from digest.render.mjml import check_markup, unbalanced_line, validate_strict
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


# -- mistakes mjml-python lets through: checked in Python against MJML's vocabulary, no node needed ----------
MISTAKES = [
    ("partials/header.mjml.j2", '<mj-divider border-width="1px"', '<mj-dividr border-width="1px"', "<mj-dividr>"),
    ("partials/lead.mjml.j2", '<mj-text font-size="24px"', '<mj-text colr="red" font-size="24px"', "colr"),
    ("partials/footer.mjml.j2", "      </mj-column>", "      </mj-colum>", "</mj-colum>"),
    ("partials/header.mjml.j2", "<mj-column>", "<mj-column>\n        <mj-section></mj-section>", "cannot be inside"),
]


@pytest.mark.parametrize(("name", "old", "new", "said"), MISTAKES, ids=["tag", "attribute", "closing", "nesting"])
def test_an_mjml_mistake_mjml_python_ignores_names_file_and_line(
    edition: Edition, name: str, old: str, new: str, said: str
) -> None:
    source = shipped(name).replace(old, new, 1)
    assert source != shipped(name)
    path = override(edition, name, source)
    with pytest.raises(TemplateError) as info:
        render_edition(edition.store, edition.config, edition.edition_id)
    message = str(info.value)
    assert message.startswith(f"{path}:{line_of(source, new.strip().splitlines()[-1])}: "), message
    assert said in message and "\n" not in message


def test_the_suggestion_names_the_likely_fix() -> None:
    assert check_markup("<mjml><mj-body><mj-dividr /></mj-body></mjml>") == (
        1,
        "unknown MJML tag <mj-dividr> (did you mean mj-divider?)",
    )
    body = '<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text colr="red">{}</mj-text>'
    assert check_markup(body + "\n</mj-column></mj-section></mj-body></mjml>") == (
        5,
        "unknown attribute colr=… on <mj-text> (did you mean color?)",
    )
    # HTML inside mj-text is the email's, not MJML: never checked.
    html = '<mjml><mj-body><mj-section><mj-column><mj-text><p colr="x"><mj-nope></p></mj-text>'
    assert check_markup(html + "</mj-column></mj-section></mj-body></mjml>") is None
    assert check_markup("<mjml>\n<mj-body>\n</mj-body>\n</mj-bdy>") == (4, "</mj-bdy> does not close <mjml>")


def test_digest_build_exits_1_with_one_line_naming_the_template(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--example")
    cli("collect")
    source = shipped("partials/header.mjml.j2").replace("<mj-divider", "<mj-dividr", 1)
    path = home / "templates" / "partials" / "header.mjml.j2"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    result = cli("build", code=1)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}:{line_of(source, '<mj-dividr')}: unknown MJML tag <mj-dividr>"), line


def test_the_vocabulary_is_the_reference_compilers(mjml_bin: str) -> None:
    """digest/render/mjml_vocabulary.py holds what npm mjml itself allows (regenerate it if this fails)."""
    import json
    import subprocess

    from digest.render import mjml_vocabulary as vocabulary

    ci = Path(mjml_bin).resolve().parents[3]  # .ci/node_modules/mjml/bin/mjml
    script = Path(__file__).resolve().parents[2] / ".ci" / "mjml_vocabulary.js"
    dumped = json.loads(subprocess.run(["node", str(script), str(ci)], capture_output=True, check=True).stdout)
    for component, spec in dumped["components"].items():
        assert set(vocabulary.ATTRIBUTES[component].split()) == set(spec["attributes"]), component
    for parent, children in dumped["dependencies"].items():
        if all(isinstance(c, str) for c in children):
            assert set(vocabulary.CHILDREN[parent].split()) == set(children), parent
