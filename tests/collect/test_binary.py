"""A binary file given as a source is refused with a clear line, never stored as a story."""

from __future__ import annotations

import os
from pathlib import Path


def test_binary_file_is_not_a_story(cli, home: Path) -> None:
    cli("init")
    blob = home / "photo.jpg"
    blob.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + os.urandom(4096))
    result = cli("collect", str(blob), code=1)
    assert "binary" in result.stderr and "Traceback" not in result.stderr
    assert cli("stories", "list", "--json").stdout.strip() == "[]"


def test_text_with_a_few_odd_characters_is_still_text(cli, home: Path) -> None:
    cli("init")
    article = home / "note.txt"
    article.write_text(
        "Harbor ferry adds a night service\n\nThe ferry will run until 1am from May.\x0c\n", encoding="utf-8"
    )
    cli("collect", str(article))
    assert "Harbor ferry adds a night service" in cli("stories", "list").stdout
