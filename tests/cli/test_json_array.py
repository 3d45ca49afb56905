"""Lists too long to hold in memory are written as JSON item by item, laid out exactly as a whole document."""

from __future__ import annotations

import json

import pytest

from digest.cli.common import out_json, out_json_array

ROWS = [
    {"email": "ada@example.com", "name": "Ada \u00e9", "list": None, "receives": True},
    {"email": "bob@example.org", "nested": {"topics": ["a", "b"], "n": 1}, "empty": []},
]


@pytest.mark.parametrize("rows", [[], ROWS[:1], ROWS])
def test_a_streamed_array_is_byte_for_byte_the_whole_document(rows: list[dict], capsys: pytest.CaptureFixture) -> None:  # type: ignore[type-arg]
    out_json(rows)
    whole = capsys.readouterr().out
    out_json_array(iter(rows))
    streamed = capsys.readouterr().out
    assert streamed == whole and json.loads(streamed) == rows
