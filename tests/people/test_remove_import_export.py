"""The people commands at their edges: remove asks first, re-imports change nothing, unwritable exports, folders
and ';'-separated files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def main_list(cli, initialised: Path) -> Path:  # type: ignore[no-untyped-def]
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("subscribers", "add", "grace@example.com", "--name", "Grace")
    return initialised


def _emails(cli) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["email"] for r in json.loads(cli("subscribers", "list", "--json").stdout)]


@pytest.mark.parametrize("answer", ["n\n", "no\n", "", "maybe\n"])
def test_remove_without_yes_erases_only_on_a_yes(cli, main_list: Path, answer: str) -> None:  # type: ignore[no-untyped-def]
    refused = cli("subscribers", "remove", "grace@example.com", input=answer, code=1)
    assert "not erased" in refused.stderr and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert _emails(cli) == ["grace@example.com"]


def test_remove_erases_on_a_typed_yes_or_with_yes(cli, main_list: Path) -> None:  # type: ignore[no-untyped-def]
    cli("subscribers", "add", "hal@example.com")
    out = cli("subscribers", "remove", "grace@example.com", "--json", input="y\n")
    # the question goes to stderr; CliRunner echoes the typed answer into stdout, a terminal does not
    assert json.loads(out.stdout[out.stdout.index("{") :]) == {
        "email": "grace@example.com",
        "erased": True,
        "files": 0,
        "log_lines": 0,
    }
    cli("subscribers", "remove", "hal@example.com", "--yes")
    assert _emails(cli) == []


def test_reimporting_a_file_with_the_same_address_twice_changes_nothing(
    cli,
    main_list: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    roster = tmp_path / "dupes.csv"
    roster.write_text("email,name\nnew1@example.com,One\nNEW1@EXAMPLE.COM,Uno\n", encoding="utf-8")
    first = json.loads(cli("subscribers", "import", str(roster), "--list", "main", "--json", code=3).stdout)
    assert (first["added"], first["updated"]) == (1, 0)
    assert first["rejected"] == [{"line": 3, "email": "NEW1@EXAMPLE.COM", "reason": "duplicate of line 2"}]
    again = json.loads(cli("subscribers", "import", str(roster), "--list", "main", "--json", code=3).stdout)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert [r["reason"] for r in again["rejected"]] == ["duplicate of line 2"]
    people = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [(p["email"], p["name"]) for p in people if p["email"].lower() == "new1@example.com"] == [
        ("new1@example.com", "One")
    ]


def test_export_to_a_path_that_cannot_be_written_is_one_line(cli, main_list: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nonexistent" / "x.csv"
    got = cli("subscribers", "export", "--out", str(missing), code=1)
    assert "Traceback" not in got.stderr and got.exception is None or isinstance(got.exception, SystemExit)
    assert f"cannot write {missing}: No such file or directory; give a path in an existing folder" in " ".join(
        got.stderr.split()
    )
    assert "folder" in cli("subscribers", "export", "--out", str(tmp_path), code=1).stderr


def test_importing_a_folder_says_it_is_a_folder(cli, main_list: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    got = cli("subscribers", "import", str(tmp_path), "--list", "main", code=1)
    assert "is a folder" in got.stderr and "CSV file" in got.stderr and "does not exist" not in got.stderr
    roster = tmp_path / "main.csv"
    roster.write_text("email\nx@example.com\n", encoding="utf-8")
    synced = cli("subscribers", "sync", str(roster), code=1)
    assert "sync takes a folder" in " ".join(synced.stderr.split())
    assert "does not exist" in cli("subscribers", "sync", str(tmp_path / "nope"), code=1).stderr


def test_a_semicolon_separated_csv_is_read(cli, main_list: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    roster = tmp_path / "excel.csv"
    roster.write_bytes(
        '\ufeffemail;name\r\nsemi@example.com;Semi Colon\r\n"quoted@example.com";"Doe; Jane"\r\n'.encode("utf-8")
    )
    got = json.loads(cli("subscribers", "import", str(roster), "--list", "main", "--json").stdout)
    assert (got["added"], got["rejected"]) == (2, [])
    people = {p["email"]: p["name"] for p in json.loads(cli("subscribers", "list", "--json").stdout)}
    assert people["semi@example.com"] == "Semi Colon" and people["quoted@example.com"] == "Doe; Jane"
    again = json.loads(cli("subscribers", "import", str(roster), "--list", "main", "--json").stdout)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_erasure_also_removes_their_outbox_messages_and_the_log_lines_naming_them(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--example")
    cli("run")
    people = json.loads(cli("subscribers", "list", "--json").stdout)
    gone, kept = people[0]["email"], people[1]["email"]
    outbox = home / "outbox"
    assert any(gone in p.name for p in outbox.glob("edition-*/*.eml"))
    log = home / "digest.log"
    before = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join([*before, f'{{"error": "bounce from {gone.upper()}"}}', f'{{"note": "{kept}"}}']) + "\n")
    (home / "cron.log").write_text(f"sent to {gone}\nall done\n", encoding="utf-8")

    out = json.loads(cli("subscribers", "remove", gone, "--yes", "--json").stdout)
    assert out["files"] == 1 and out["log_lines"] == 2
    left = [p.name for p in outbox.glob("edition-*/*.eml")]
    assert left and not any(gone in name for name in left) and any(kept in name for name in left)
    assert log.read_text(encoding="utf-8").splitlines() == [*before, f'{{"note": "{kept}"}}']
    assert (home / "cron.log").read_text(encoding="utf-8") == "all done\n"
