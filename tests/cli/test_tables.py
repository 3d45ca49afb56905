"""Tables fit the terminal, align CJK text by cells, keep advice whole, and colour only where colour belongs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.cells import cell_len

from digest.cli.common import table

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[0-9;]+)m")


def test_sources_list_fits_the_width_it_is_given(cli, initialised: Path) -> None:
    deep = initialised / ("a-very-long-folder-name-" * 4) / "東京の駅と新しい路線のニュース.xml"
    deep.parent.mkdir(parents=True)
    deep.write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    cli("sources", "add", str(deep), "--name", "東京ニュース", "--tag", "transport", "--tag", "japan")
    cli("collect")  # an empty feed: the problem column has a warning to show
    for width in (100, 72):
        out = cli.runner.invoke(_app(), ["sources", "list"], env={"COLUMNS": str(width)}).stdout
        lines = out.splitlines()
        assert len(lines) == 2 and all(cell_len(line) <= width for line in lines), out
        assert "東京" in lines[1] and "…" in lines[1]


def test_cjk_cells_align(capsys) -> None:
    table([{"title": "東京の新しい駅", "n": 1}, {"title": "Harbor news", "n": 22}], ["title", "n"])
    lines = capsys.readouterr().out.splitlines()
    starts = {cell_len(line.rstrip()[: line.rstrip().rindex(" ") + 1]) for line in lines}
    assert len(starts) == 1, lines  # the second column begins at the same cell on every line


def test_doctor_advice_is_never_cut(cli, initialised: Path) -> None:
    checks = json.loads(cli("doctor", "--json").stdout)
    out = cli.runner.invoke(_app(), ["doctor"], env={"COLUMNS": "60"}).stdout
    shown = "".join(out.split())  # wrapping only moves text to the next line
    for check in checks:
        assert "".join(check["detail"].split()) in shown, (check, out)
    assert "…" not in out and all(cell_len(line) <= 60 for line in out.splitlines())


def test_colour_on_a_terminal_only_and_never_with_no_color(cli, initialised: Path) -> None:
    plain = cli.runner.invoke(_app(), ["doctor"]).stdout  # not a terminal
    assert "\x1b[" not in plain
    forced = cli.runner.invoke(_app(), ["doctor"], env={"FORCE_COLOR": "1", "COLUMNS": "100"}).stdout
    assert COLOUR.search(forced)
    no_color = cli.runner.invoke(_app(), ["doctor"], env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert not COLOUR.search(no_color)


def _app():  # noqa: ANN202
    from digest.cli import app

    return app


def test_a_long_listing_streams_page_by_page_in_the_first_pages_widths(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import digest.cli.common as common

    monkeypatch.setattr(common, "PAGE", 3)
    pulled: list[int] = []

    def rows():  # type: ignore[no-untyped-def]
        for i in range(8):
            pulled.append(i)
            yield {"email": f"reader{i}@example.com" + "x" * (i * 6), "name": "名前" * (i % 3), "status": "confirmed"}

    table(rows(), ["email", "name", "status"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 9 and lines[0].split() == ["email", "name", "status"]  # one header, every row
    at = {cell_len(line[: line.index("confirmed")]) for line in lines[1:]}
    assert at == {lines[0].index("status")}  # one set of columns, in cells (CJK counts two)
    assert lines[4].split()[0].endswith("…") and "reader7" in lines[8]  # cut to the first page's width
    assert pulled == list(range(8))
