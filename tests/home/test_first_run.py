"""The whole pipeline end to end on embedded defaults, and the errors a newcomer meets first."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path

from tests.support import NOW
from tests.support.newsletter import setup_newsletter


def test_run_end_to_end_then_rerun_sends_nothing(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    first = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    assert first["exit_code"] == 0
    assert first["collect"]["new"] == 2
    [entry] = first["lists"]
    assert entry["sent"] == 2 and entry["failed"] == 0
    emls = sorted((home / "outbox" / f"edition-{entry['edition']}").glob("*.eml"))
    assert [p.name.split("-", 1)[1] for p in emls] == ["ada@example.com.eml", "bob@example.org.eml"]
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "Bridge reopens after repairs" in html and "Bridge reopens after repairs" in text
    assert "<script" not in html and "alert(1)" not in html
    assert "utm_source" not in html
    assert "%%digest." not in html and "%%digest." not in text
    assert Path(entry["web_copy"]).is_file()

    second = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    [again] = second["lists"]
    assert again["edition"] == entry["edition"]
    assert again["sent"] == 0 and again["skipped"] == 2
    assert len(list((home / "outbox" / f"edition-{entry['edition']}").glob("*.eml"))) == 2
    log = (home / "digest.log").read_text().splitlines()
    assert len(log) == 2 and json.loads(log[1])["exit_code"] == 0


def test_broken_feed_file_is_one_clear_line(cli, home: Path) -> None:
    cli("init")
    bad = home / "broken.xml"
    bad.write_text("<rss><channel><item><title>cut", encoding="utf-8")
    result = cli("collect", str(bad), code=1)
    assert "broken.xml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_broken_source_does_not_stop_the_others(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    bad = home / "broken.xml"
    bad.write_text('<?xml version="1.0"?><rss><channel><item>', encoding="utf-8")
    cli("sources", "add", str(bad), "--name", "broken")
    result = cli("collect", "--json", code=3)
    data = json.loads(result.stdout)
    assert data["failed"] == 1 and data["new"] == 2
    listed = json.loads(cli("sources", "list", "--json").stdout)
    health = {s["name"]: s for s in listed}
    assert health["broken"]["consecutive_failures"] == 1 and health["broken"]["last_error"]
    assert health["local"]["consecutive_failures"] == 0 and health["local"]["last_success_at"]


def test_unknown_list_name(cli, home: Path) -> None:
    cli("init")
    result = cli("subscribers", "add", "ada@example.com", "--list", "nope", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no list named 'nope'" in lines[0] and "digest lists add nope" in lines[0]


def test_missing_home(cli, tmp_path: Path) -> None:
    result = cli("--home", str(tmp_path / "nowhere"), "sources", "list", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "init" in lines[0]


def test_uninitialised_home(cli, home: Path) -> None:
    result = cli("sources", "list", code=1)
    assert "digest init" in result.stderr


def test_bad_config_value(cli, home: Path) -> None:
    cli("init")
    (home / "digest.toml").write_text('[rank]\nhalf_life_hours = "soon"\n', encoding="utf-8")
    result = cli("rank", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rank.half_life_hours" in lines[0] and "must be a number" in lines[0]


def test_bad_env_value(cli, home: Path, monkeypatch) -> None:
    cli("init")
    monkeypatch.setenv("DIGEST_SEND_PROVIDER", "pigeon")
    result = cli("send", code=1)
    assert "send.provider" in result.stderr and "outbox, sendgrid, smtp" in result.stderr


def test_unknown_config_key(cli, home: Path) -> None:
    cli("init")
    (home / "digest.toml").write_text('nmae = "typo"\n', encoding="utf-8")
    result = cli("sources", "list", code=1)
    assert "unknown setting 'nmae'" in result.stderr


def test_store_uses_wal_and_named_migrations(store) -> None:
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.applied_migrations()[0] == "001_initial"


def test_max_stories_is_capped_where_gmail_would_clip(cli, home) -> None:
    cli("init")
    (home / "digest.toml").write_text("[rank]\nmax_stories = 40\n", encoding="utf-8")
    result = cli("rank", code=1)
    assert "rank.max_stories" in result.stderr and "at most 15" in result.stderr


def test_bounds_and_option_names_in_errors(cli, home) -> None:
    cli("init")
    (home / "digest.toml").write_text("[rank]\nmax_stories = 0\n", encoding="utf-8")
    assert "must be at least 1" in cli("rank", code=1).stderr
    (home / "digest.toml").write_text("[send]\nbatch_size = 'many'\n", encoding="utf-8")
    assert "must be an integer" in cli("rank", code=1).stderr
    (home / "digest.toml").write_text("", encoding="utf-8")
    assert "--since 'notadate'" in cli("stories", "list", "--since", "notadate", code=1).stderr


def test_a_misspelt_variable_is_named(cli, home, monkeypatch) -> None:
    cli("init")
    monkeypatch.setenv("DIGEST_SEND_PROVIDR", "sendgrid")
    result = cli("sources", "list", code=1)
    assert "DIGEST_SEND_PROVIDR is not a digest setting; did you mean DIGEST_SEND_PROVIDER?" in result.stderr


def test_tables_stay_readable_with_long_values(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    bad = home / ("a-very-long-folder-name-" * 4)
    bad.mkdir()
    (bad / "broken.xml").write_text('<?xml version="1.0"?><rss><channel><item>', encoding="utf-8")
    cli("sources", "add", str(bad), "--name", "broken")
    cli("collect", code=3)
    lines = cli("sources", "list").stdout.splitlines()
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert any("…" in line for line in lines)
    assert max(len(cell.strip()) for line in lines for cell in re.split(r"\s{2,}", line)) <= 60
