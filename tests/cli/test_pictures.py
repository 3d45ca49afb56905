"""Pictures: score bars in rank --explain, a small chart in stats, and stats --chart FILE (PNG or SVG)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.cli.common import bar
from tests.support import NOW
from tests.support.render import CHROMIUM, CHROMIUM_ARGS, need_chromium


@pytest.fixture
def sent(cli, initialised: Path) -> Path:
    cli("init", "--example")
    cli("run", "--now", NOW.isoformat())
    return initialised


def test_bars_are_drawn_in_eighths_on_one_scale() -> None:
    assert bar(1.0, 1.0, 10) == "█" * 10
    assert bar(0.5, 1.0, 10) == "█" * 5 + " " * 5
    assert bar(0.0625, 1.0, 2) == "▏ "  # one eighth of a cell
    assert bar(3.0, 1.0, 4) == "████" and bar(1.0, 0.0, 4) == "    "


def test_rank_explain_draws_each_part_as_a_bar(cli, sent: Path) -> None:
    out = cli("rank", "--explain", "--now", NOW.isoformat()).stdout
    rows = re.findall(r"^ +(recency|engagement|coverage|keywords) +([ ▏▎▍▌▋▊▉█]{20}) (\d+\.\d{4})$", out, re.M)
    assert len(rows) >= 8, out
    top = max(float(v) for _, _, v in rows)
    for _, drawn, value in rows:  # the longest part fills the bar; each is in proportion to its value
        cells = drawn.count("█") + sum(" ▏▎▍▌▋▊▉".index(c) / 8 for c in drawn if c in "▏▎▍▌▋▊▉")
        assert abs(cells - 20 * float(value) / top) <= 0.125 + 1e-9


def test_stats_draws_each_edition(cli, sent: Path) -> None:
    out = cli("stats").stdout
    assert re.search(r"^#\d+ main \d{4}-\d\d-\d\d$", out, re.M)
    assert re.search(r"^  sent    █{30} 5$", out, re.M) and re.search(r"^  opened  +0$", out, re.M)


@pytest.mark.parametrize("name", ["stats.png", "stats.svg"])
def test_stats_chart_writes_a_picture(cli, sent: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    result = cli("stats", "--chart", str(path))
    assert f"Wrote the chart to {path}" in result.stderr
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") if name.endswith(".png") else b"<svg" in data[:2000]


def test_stats_chart_refuses_other_formats_in_one_line(cli, sent: Path, tmp_path: Path) -> None:
    line = cli("stats", "--chart", str(tmp_path / "stats.jpg"), code=1).stderr.strip()
    assert "must end in .png or .svg" in line and len(line.splitlines()) == 1


@pytest.fixture
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_shows_the_chart(cli, sent: Path, tmp_path: Path, browser: Any) -> None:
    path = tmp_path / "stats.png"
    cli("stats", "--chart", str(path))
    (tmp_path / "show.html").write_text('<img id="c" src="stats.png">', encoding="utf-8")
    page = browser.new_page()
    page.goto((tmp_path / "show.html").as_uri())
    page.wait_for_function("document.getElementById('c').complete")
    width, height = page.evaluate(
        "[document.getElementById('c').naturalWidth, document.getElementById('c').naturalHeight]"
    )
    assert width >= 600 and height >= 300


def test_why_a_story_lost_is_coloured_on_a_terminal_only(cli, sent: Path) -> None:
    args = ["rank", "--explain", "--now", NOW.isoformat()]
    coloured = cli.runner.invoke(_app(), args, env={"FORCE_COLOR": "1"}).stdout
    assert re.search(r"\x1b\[33m +lost: ", coloured)
    plain = cli.runner.invoke(_app(), args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[33m" not in plain and re.search(r"^ +lost: ", plain, re.M)


def _app():  # noqa: ANN202
    from digest.cli import app

    return app
