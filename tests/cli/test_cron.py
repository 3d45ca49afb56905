"""What cron appends to cron.log: every line timestamped, failing sources named with since when, progress lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from digest.cli import common
from digest.cli.common import LineProgress, progress_line
from tests.support import NOW

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


@pytest.fixture
def broken(cli, initialised: Path) -> Path:
    cli("init", "--example")
    cli("sources", "add", str(initialised / "example-feeds"), "--name", "gone")  # exists now...
    (initialised / "town.xml").write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    cli("sources", "add", str(initialised / "town.xml"), "--name", "town")
    (initialised / "town.xml").unlink()  # ...and breaks before the run
    return initialised


def test_run_not_on_a_terminal_names_the_broken_source_on_timestamped_lines(cli, broken: Path) -> None:
    cli("run", "--now", NOW.isoformat(), code=3)  # a first failure: it never worked
    result = cli("run", "--now", NOW.isoformat(), code=3)
    lines = result.stderr.splitlines()
    assert lines and all(STAMP.match(line) for line in lines), result.stderr
    named = [line for line in lines if "source 'town'" in line]
    assert len(named) == 1 and "never collected successfully (2 run(s) in a row)" in named[0], named
    assert any(re.search(r"collecting: \d+/\d+ done in", line) for line in lines)


def test_failing_since_its_last_success(cli, broken: Path) -> None:
    (broken / "town.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Town</title>'
        "<item><title>A</title><link>https://t.example/a</link></item></channel></rss>",
        encoding="utf-8",
    )
    cli("collect")
    (broken / "town.xml").unlink()
    (failing,) = json.loads(cli("run", "--json", code=3).stdout)["failing_sources"]
    assert failing["name"] == "town" and failing["since"] == NOW.isoformat()
    assert failing["failures"] == 1 and failing["error"]
    human = cli("run", code=3).stderr
    assert f"source 'town' failing since {failing['since']} (2 run(s) in a row)" in human


def test_other_commands_print_plain_lines_after_a_run(cli, broken: Path) -> None:
    cli("run", code=3)
    assert not STAMP.match(cli("stories", "pin", "1").stderr)


def test_progress_lines_say_the_rate_and_time_left(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert progress_line("sending main", 1200, 5000, 5.0) == "sending main: 1200/5000 (240/s, about 16 s left)"
    assert progress_line("sending main", 300, None, 3.0) == "sending main: 300 (100/s)"
    monkeypatch.setattr(common, "PROGRESS_EVERY", 0.0)
    with LineProgress() as bar:
        task = bar.add_task("sending main", total=None)
        bar.advance(task, 10)
        bar.advance(task, 5)
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"sending main: 10 \(\d+/s\)", lines[0]) and re.fullmatch(
        r"sending main: 15 \(\d+/s\)", lines[1]
    )
    assert re.fullmatch(r"sending main: 15 done in \d+\.\d s( \(\d+/s\))?", lines[-1])


def test_a_step_with_a_total_says_its_line_when_it_ends_not_when_the_run_does(capsys) -> None:
    with LineProgress() as bar:
        build = bar.add_task("building main", total=1)
        send = bar.add_task("sending main", total=None)
        bar.advance(build)
        assert capsys.readouterr().err.startswith("building main: 1/1 done in")  # already said
        bar.update(send, total=300)
        bar.advance(send, 300)
        (line,) = capsys.readouterr().err.splitlines()
        assert re.fullmatch(r"sending main: 300/300 done in \d+\.\d s( \(\d+/s\))?", line)
    assert capsys.readouterr().err == ""  # nothing said twice at the end


def test_a_run_in_a_log_says_one_line_per_step(cli, initialised: Path) -> None:
    (initialised / "town.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Town</title><item><title>Market moves</title>'
        "<link>https://town.example/market</link><pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    cli("sources", "add", str(initialised / "town.xml"), "--name", "town")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    for i in range(3):
        cli("subscribers", "add", f"reader{i}@example.com", "--list", "main")
    lines = cli("run", "--provider", "outbox", "--now", NOW.isoformat()).stderr.splitlines()
    steps = [line.split(" ", 1)[1] for line in lines if " done in " in line]
    assert [s.split(":")[0] for s in steps] == ["collecting", "building main", "sending main"], lines
    assert re.match(r"sending main: 3/3 done in \d+\.\d s", steps[2]), steps


def test_schedule_install_without_crontab_names_the_package(
    cli, initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no crontab on it
    line = cli("schedule", "--at", "06:30", "--install", code=1).stderr.strip()
    assert "apt install cron" in line and "30 6 * * *" in line and len(line.splitlines()) == 1


def test_run_prints_a_file_url_to_open(cli, broken: Path) -> None:
    said = cli("run", code=3).stderr
    url = said.rsplit("Open the rendered digest in a browser: ", 1)[1].split()[0]
    assert url.startswith("file:///") and url.endswith(".html")
