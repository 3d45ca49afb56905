"""Readers see display names only: a source's own title, never a name made up on disk."""

from __future__ import annotations

from pathlib import Path

TEXT = (
    "Harbour council votes to rebuild the old ferry pier before summer.\n\n"
    "The council met on Tuesday and agreed the plan. Work starts in March.\n"
)


def test_a_text_file_shows_no_made_up_source_until_the_editor_names_it(cli, initialised: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    article = tmp_path / "000_72929514e6e39e36.txt"
    article.write_text(TEXT, encoding="utf-8")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    cli("collect", str(article))
    cli("build")
    text = cli("render", "--format", "text").stdout
    assert "Harbour council votes to rebuild the old ferry pier" in text
    assert "000_72929514e6e39e36" not in text  # the file's stem is the editor's, not a source
    assert "000_72929514e6e39e36" not in cli("render", "--format", "html").stdout
    # the editor still sees which source it is, and can give it a name readers will see
    assert "000_72929514e6e39e36" in cli("stories", "list").stdout
    cli("sources", "edit", "000_72929514e6e39e36", "--title", "Harbour Gazette")
    assert "Harbour Gazette" in cli("render", "--format", "text").stdout
