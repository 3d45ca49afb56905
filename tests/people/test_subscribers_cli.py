"""The people commands: names, --json shapes and exit codes from design/cli.md."""

from __future__ import annotations

import csv
import email
import io
import json
from email import policy
from pathlib import Path

import pytest

from digest import tokens
from digest.config import load
from digest.store import Store


@pytest.fixture
def main_list(cli, initialised: Path) -> Path:
    cli(
        "lists",
        "add",
        "main",
        "--from-email",
        "news@example.com",
        "--from-name",
        "The Digest",
        "--reply-to",
        "editor@example.com",
        "--subject-prefix",
        "[Daily]",
        "--address",
        "1 Main St, Oslo",
    )
    return initialised


def test_lists_add_with_sender_settings_and_list_json(cli, main_list: Path) -> None:
    cli("lists", "add", "weekly", "--from-email", "weekly@example.com", "--double-opt-in")
    rows = {r["name"]: r for r in json.loads(cli("lists", "list", "--json").stdout)}
    main = rows["main"]
    assert (main["from_email"], main["from_name"], main["reply_to"], main["subject_prefix"], main["address"]) == (
        "news@example.com",
        "The Digest",
        "editor@example.com",
        "[Daily]",
        "1 Main St, Oslo",
    )
    assert main["double_opt_in"] is False and rows["weekly"]["double_opt_in"] is True
    assert main["active"] == 0
    bad = cli("lists", "add", "x", "--from-email", "not an address", code=1)
    assert bad.stderr.startswith("Error:") and "Traceback" not in bad.stderr
    assert "exists already" in cli("lists", "add", "main", code=1).stderr
    assert "control" in cli("lists", "add", "y", "--from-name", "A\r\nBcc: x@evil.com", code=1).stderr


def test_subscribers_add_list_show_unsubscribe(cli, main_list: Path) -> None:
    added = json.loads(
        cli(
            "subscribers", "add", "Ada@Example.COM", "--name", "Ada", "--attributes", '{"city": "London"}', "--json"
        ).stdout
    )
    assert added["email"] == "Ada@example.com" and added["status"] == "confirmed" and added["confirm_url"] is None
    assert "line break" in cli("subscribers", "add", "x@example.com", "--name", "X\nY", code=1).stderr
    cli("subscribers", "add", "bob@example.org")
    listed = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [(r["email"], r["list"], r["status"]) for r in listed] == [
        ("Ada@example.com", "main", "confirmed"),
        ("bob@example.org", "main", "confirmed"),
    ]
    shown = json.loads(cli("subscribers", "show", "ada@example.com", "--json").stdout)
    assert shown["attributes"] == {"city": "London"} and shown["sent"] == []
    assert shown["subscriptions"][0]["list"] == "main"
    out = json.loads(cli("subscribers", "unsubscribe", "ada@example.com", "--json").stdout)
    assert out["unsubscribed"] == ["main"]
    assert (
        json.loads(cli("subscribers", "list", "--status", "unsubscribed", "--json").stdout)[0]["email"]
        == "Ada@example.com"
    )
    refused = cli("subscribers", "add", "ada@example.com", code=1)
    assert "unsubscribed" in refused.stderr and "--force-resubscribe" in refused.stderr
    assert "--force-resubscribe" in cli("subscribers", "import", "--help").stdout
    cli("subscribers", "add", "ada@example.com", "--force-resubscribe")
    assert "unknown status" in cli("subscribers", "list", "--status", "gone", code=1).stderr
    assert "no subscriber" in cli("subscribers", "show", "zed@example.com", code=1).stderr


def test_header_injection_is_refused_at_the_cli(cli, main_list: Path) -> None:
    for args in (["x@example.com\r\nBcc: all@example.com"], ["x@example.com", "--name", "X\r\nBcc: y@example.com"]):
        result = cli("subscribers", "add", *args, code=1)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert json.loads(cli("subscribers", "list", "--json").stdout) == []


def test_show_lists_what_they_were_sent(cli, home: Path) -> None:
    from tests.support import NOW

    cli("init", "--example")
    run = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    entry = run["lists"][0]
    who = json.loads(cli("subscribers", "list", "--json").stdout)[0]["email"]
    shown = json.loads(cli("subscribers", "show", who, "--json").stdout)
    sent = [(s["edition"], s["list"], s["status"]) for s in shown["sent"]]
    assert sent == [(entry["edition"], entry["list"], "sent")]


def test_double_opt_in_add_prints_a_working_confirmation_link(cli, main_list: Path) -> None:
    cli("lists", "add", "doi", "--double-opt-in")
    result = cli("subscribers", "add", "cy@example.com", "--list", "doi", "--no-email")
    link = result.stdout.strip()
    assert not (main_list / "outbox" / "confirm").exists()  # --no-email: the link only
    assert link.startswith("http://127.0.0.1:8000/confirm/")
    with Store(load(main_list).db_path) as store:
        claims = tokens.verify(tokens.signing_key(store), link.rsplit("/", 1)[1], "confirm")
        assert claims.subscriber_id == store.subscriber("cy@example.com").id
        assert claims.list_id == store.list_("doi").id
    again = json.loads(cli("subscribers", "add", "cy@example.com", "--list", "doi", "--json").stdout)
    assert again["status"] == "unconfirmed" and again["mail"] == {"provider": "outbox", "status": "sent", "error": None}
    (mail,) = (main_list / "outbox" / "confirm").glob("*.eml")
    body = email.message_from_bytes(mail.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    assert again["confirm_url"] in body and "cy@example.com" in body


def test_import_json_shape_exit_codes_rejects_and_reimport(cli, main_list: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text('email,name,attributes\nada@example.com,Ada,\nbob@example.org,Bob,"{""x"": 1}"\n')
    first = json.loads(cli("subscribers", "import", str(good), "--json").stdout)
    nothing_else = {"warnings": [], "warnings_count": 0, "suppressed": 0, "format": "digest", "unused_columns": []}
    assert first == {"added": 2, "updated": 0, "unchanged": 0, "rejected": [], "rejected_count": 0, **nothing_else}
    again = json.loads(cli("subscribers", "import", str(good), "--json").stdout)
    assert again == {"added": 0, "updated": 0, "unchanged": 2, "rejected": [], "rejected_count": 0, **nothing_else}
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("email,name\ncy@example.com,Cy\nnope,No\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("subscribers", "import", str(mixed), "--rejects", str(rejects), "--json", code=3)
    data = json.loads(result.stdout)
    assert data["added"] == 1 and [(r["line"], r["email"]) for r in data["rejected"]] == [(3, "nope")]
    assert list(csv.reader(io.StringIO(rejects.read_text())))[1][:3] == ["3", data["rejected"][0]["reason"], "nope"]
    human = cli("subscribers", "import", str(mixed), code=3)
    assert f"{mixed}:3:" in human.stderr and "1 unchanged, 1 rejected" in human.stderr
    assert "does not exist" in cli("subscribers", "import", str(tmp_path / "missing.csv"), code=1).stderr


def test_import_corpus_vectors_accepts_exactly_the_valid_ones(
    cli, main_list: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("digest.subscribers.importer.KEPT", 10_000)  # every reject in the report, to compare
    path = corpus / "email" / "email_vectors.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        vectors = list(csv.DictReader(fh))
    from digest.subscribers import normalize_email

    data = json.loads(cli("subscribers", "import", str(path), "--json", code=3).stdout)
    assert data["rejected_count"] == len(data["rejected"])
    valid = [v["address"] for v in vectors if v["expected_valid"] == "true"]
    invalid = [v["address"] for v in vectors if v["expected_valid"] != "true"]
    seen: set[str] = set()
    again = []  # a valid address that is the same person as an earlier row (e.g. IDNA and Unicode domain)
    for address in valid:
        key = normalize_email(address).lower()
        if key in seen:
            again.append(address)
        seen.add(key)
    assert sorted(r["email"] for r in data["rejected"]) == sorted(invalid + again)
    assert all(r["reason"] for r in data["rejected"])
    assert all(r["reason"].startswith("duplicate of line ") for r in data["rejected"] if r["email"] in again)
    assert data["added"] + data["updated"] + data["unchanged"] == len(valid) - len(again)
    with Store(load(main_list).db_path) as store:
        stored = {r.email.lower() for r in store.subscribers()}
        assert stored == {normalize_email(a).lower() for a in valid}
        # line numbers are physical lines where each record starts (quoted fields span lines)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        for r in data["rejected"]:
            if r["email"] and "\n" not in r["email"] and '"' not in r["email"]:
                assert text.split("\n")[r["line"] - 1].startswith(f'"{r["email"]}"'), r


def test_export_and_sync_from_the_cli(cli, main_list: Path) -> None:
    cli("subscribers", "add", "=danger@example.com", "--name", "@Evil")
    out = cli("subscribers", "export", "--list", "main").stdout
    assert out.splitlines() == ["email,name,attributes,status", "'=danger@example.com,'@Evil,,confirmed"]
    target = main_list / "roster.csv"
    cli("subscribers", "export", "--out", str(target))
    assert target.read_text().splitlines()[0] == "email,name,attributes"
    folder = main_list / "subscribers"
    folder.mkdir()
    (folder / "main.csv").write_text("email,name\nnew@example.com,New\n")
    synced = json.loads(cli("subscribers", "sync", "--json").stdout)
    assert synced["added"] == 1 and synced["lists"][0]["list"] == "main"
    (folder / "nolist.csv").write_text("email\nx@example.com\n")
    partial = json.loads(cli("subscribers", "sync", str(folder), "--json", code=3).stdout)
    assert partial["unchanged"] == 1 and "nolist" in partial["lists"][1]["error"]


def test_remove_erases_and_blocks_reimport(cli, main_list: Path, tmp_path: Path) -> None:
    cli("subscribers", "add", "ada@example.com", "--name", "Ada")
    assert json.loads(cli("subscribers", "remove", "ada@example.com", "--yes", "--json").stdout)["erased"] is True
    assert json.loads(cli("subscribers", "list", "--json").stdout) == []
    roster = tmp_path / "r.csv"
    roster.write_text("email\nada@example.com\n")
    data = json.loads(cli("subscribers", "import", str(roster), "--json", code=3).stdout)
    assert "erased" in data["rejected"][0]["reason"]
    assert "erase" in cli("subscribers", "remove", "--help").stdout.lower()


def test_lists_add_and_edit_set_what_readers_see(cli, main_list: Path) -> None:
    added = json.loads(
        cli("lists", "add", "daily", "--title", "The Daily", "--description", "Five stories a day.", "--json").stdout
    )
    assert (added["title"], added["description"], added["double_opt_in"]) == ("The Daily", "Five stories a day.", False)
    edited = json.loads(cli("lists", "edit", "daily", "--title", "Daily Digest", "--double-opt-in", "--json").stdout)
    assert (edited["title"], edited["description"], edited["double_opt_in"]) == (
        "Daily Digest",
        "Five stories a day.",
        True,
    )
    said = cli("lists", "edit", "daily", "--description", "")
    assert "Updated list 'daily': description" in said.stdout + said.stderr
    with Store(load(main_list).db_path) as store:
        assert store.list_("daily").description == ""
    bad = cli("lists", "edit", "nope", "--title", "x", code=1)
    assert "no list named 'nope'" in bad.stderr and "Traceback" not in bad.stderr
