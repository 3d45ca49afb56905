"""The README is what a newcomer follows: keep its commands, CLI reference and packaging true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from digest.cli.reference import BEGIN, END, generate
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_blocks() -> list[str]:
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", README, re.S | re.M)
    assert section, "README has no '## Quick start' section"
    return re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", section.group(1), re.S | re.M)


def test_quick_start_has_exactly_two_shell_blocks() -> None:
    blocks = quick_start_blocks()
    assert len(blocks) == 2
    assert "init --example" in blocks[0] and "run" in blocks[0]
    assert "pytest" in blocks[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = quick_start_blocks()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines()


def test_cli_reference_is_generated_from_help() -> None:
    start, end = README.index(BEGIN), README.index(END) + len(END)
    assert README[start:end] == generate(), "run: python -m digest.cli.reference --write README.md"


def test_every_command_of_the_surface_is_documented() -> None:
    surface = ROOT.parent / "shared" / "design" / "cli.md"
    if not surface.is_file():
        pytest.skip("../shared/design/cli.md is absent")
    for command in (
        "init",
        "sources add",
        "collect",
        "rank",
        "build",
        "render",
        "lists add",
        "subscribers add",
        "send",
        "run",
        "schedule",
    ):
        assert f"`digest {command}`" in README, command


@pytest.mark.slow
def test_wheel_ships_templates_and_runs_the_quick_start(tmp_path: Path) -> None:
    """``pip install .`` (not editable): the templates and example come from inside the package."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    [wheel] = list(wheel_dir.glob("digest-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "digest/templates/digest.mjml.j2",
        "digest/templates/digest.txt.j2",
        "digest/examples/subscribers.csv",
        "digest/examples/stories.json",
    ):
        assert needed in names, needed
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "DIGEST_HOME": str(tmp_path / "news")}
    env.pop("DIGEST_SECRET", None)
    probe = "import digest, sys; print(digest.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert where.stdout.startswith(str(site)), "the test must exercise the installed copy, not the checkout"
    run = [sys.executable, "-c", "from digest.cli import main; main()"]
    subprocess.run([*run, "init", "--example"], env=env, check=True, capture_output=True, timeout=120, cwd=tmp_path)
    done = subprocess.run([*run, "run"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Open the rendered digest in a browser:" in done.stderr
    url = done.stderr.rsplit("Open the rendered digest in a browser:", 1)[1].split()[0]
    assert url.startswith("file:///")
    html = Path(unquote(urlsplit(url).path))
    assert html.is_file() and "<mjml" not in html.read_text() and "Top Stories" in html.read_text()
    assert len(list((tmp_path / "news" / "outbox").glob("edition-*/*.eml"))) == 5
    again = subprocess.run([*run, "run"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert again.returncode == 0 and "nothing sent" in again.stderr


def test_the_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    section = re.search(r"^## Using digest from Python\n(.*?)(?=^## )", README, re.S | re.M)
    assert section, "README has no '## Using digest from Python' section"
    (code,) = re.findall(r"^```python\n(.*?)^```", section.group(1), re.S | re.M)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\d+ new stories, sent 5, already had it 0", printed[-1])
    from digest import Newsletter

    with Newsletter.open(tmp_path / "my-digest") as news:
        assert news.unsubscribe("ada@example.com") == []  # she had already left the list
        again = news.send(news.build().edition, provider="outbox")
        assert (again.sent, again.skipped) == (0, 5)


def test_the_public_api_is_pinned() -> None:
    import digest

    assert digest.__all__ == ["Newsletter", "__version__"]
    assert {name for name in vars(digest.Newsletter) if not name.startswith("_")} == {
        "open",
        "init",
        "create",
        "close",
        "home",
        "list_name",
        "add_source",
        "collect",
        "rank",
        "build",
        "edition",
        "render",
        "copy",
        "write_archive",
        "send",
        "send_test",
        "run",
        "add_list",
        "edit_list",
        "subscribe",
        "import_subscribers",
        "unsubscribe",
        "draft",
        "drop_story",
        "swap_story",
        "move_story",
        "pin_story",
        "edit_story",
        "edit_edition",
        "approve_edition",
        "reset_edition",
        "source_health",
        "edition_stats",
        "story_clicks",
        "pick_story",
        "list_picks",
    }
