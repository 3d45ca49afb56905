"""Import, export and sync through the library: the CSV format, the consent rules, erasure."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from digest import subscribers
from digest.errors import NotFoundError, SubscriberError
from digest.store import Store
from digest.subscribers.importer import KEPT, Importer


@pytest.fixture
def lists(store: Store) -> Store:
    store.add_list("main", from_email="news@example.com")
    store.add_list("doi", from_email="news@example.com", double_opt_in=True)
    return store


def write(tmp_path: Path, text: str, name: str = "in.csv", *, bom: bool = False, crlf: bool = False) -> Path:
    path = tmp_path / name
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def status_of(store: Store, email: str, list_name: str = "main") -> str | None:
    person = store.find_subscriber(email)
    return store.subscription(person.id, store.list_(list_name).id) if person else None


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_bom_crlf_and_quoted_line_breaks_with_physical_line_numbers(
    lists: Store, tmp_path: Path, bom: bool, crlf: bool
) -> None:
    path = write(
        tmp_path,
        (
            "email,name,attributes\n"
            'ada@example.com,Ada,"{""team"": ""engines""}"\n'
            '"bad\nline@example.com",Broken,\n'
            'grace@example.com,"Grace\nHopper",\n'
            "\n"
            "not-an-address,X,\n"
            "alan@example.org,Alan,[1]\n"
            'kat@example.net,"Katherine ""KJ"" Johnson",{}\n'
        ),
        bom=bom,
        crlf=crlf,
    )
    report = subscribers.import_csv(lists, path, "main")
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    lines = [r.line for r in report.rejected]
    # line 3: address with a line break; line 8 (after a blank line): bad address; line 9: attributes not
    # an object. Line numbers are where each record starts.
    assert lines == [3, 8, 9]
    reasons = [r.reason for r in report.rejected]
    assert "line break" in reasons[0] and "attributes" in reasons[2]
    assert lists.subscriber("ada@example.com").attributes == {"team": "engines"}
    assert lists.subscriber("kat@example.net").name == 'Katherine "KJ" Johnson'
    # line 5: a name with a line break is folded to one line (a header cannot carry it), with a warning
    assert lists.subscriber("grace@example.com").name == "Grace Hopper"
    assert [(w.line, "folded" in w.warning) for w in report.warnings] == [(5, True)]


def test_reimport_changes_nothing_and_updates_are_counted(lists: Store, tmp_path: Path) -> None:
    text = 'email,name,attributes\nada@example.com,Ada,\nbob@example.org,,"{""a"": 1}"\n'
    path = write(tmp_path, text)
    first = subscribers.import_csv(lists, path, "main")
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    dump = lists.rows("SELECT * FROM subscribers ORDER BY id"), lists.rows("SELECT * FROM subscriptions")
    again = subscribers.import_csv(lists, path, "main")
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 2, [])
    assert (lists.rows("SELECT * FROM subscribers ORDER BY id"), lists.rows("SELECT * FROM subscriptions")) == dump
    # Different case of the same address is the same person; a new name is an update, an empty one keeps it.
    changed = write(tmp_path, "email,name\nADA@EXAMPLE.COM,Ada Lovelace\nbob@example.org,\n", "b.csv")
    third = subscribers.import_csv(lists, changed, "main")
    assert (third.added, third.updated, third.unchanged) == (0, 1, 1)
    assert lists.subscriber("ada@example.com").name == "Ada Lovelace"
    assert lists.subscriber("bob@example.org").attributes == {"a": 1}
    assert lists.scalar("SELECT count(*) FROM subscribers") == 2


def test_duplicates_within_a_file_and_across_batches_count_once(lists: Store) -> None:
    rows = [
        ("a@example.com", "A1"),
        ("b@example.com", "B"),
        ("A@example.com", "A2"),
        ("c@example.com", "C"),
        ("d@example.com", "D"),
        ("a@example.com", "A3"),
    ]
    for run in range(2):
        imp = Importer(lists, "main", batch_size=3)
        for i, (email, name) in enumerate(rows):
            imp.feed(i + 2, email, name)
        report = imp.finish()
        # the first row of an address counts; later ones (in the same batch or a later one) are rejected
        assert [(r.line, r.reason) for r in report.rejected] == [
            (4, "duplicate of line 2"),
            (7, "duplicate of line 2"),
        ]
        assert (report.added, report.updated, report.unchanged) == ((4, 0, 0) if run == 0 else (0, 0, 4))
        assert lists.subscriber("a@example.com").name == "A1"


@pytest.mark.parametrize("left", ["unsubscribed", "bounced", "complained"])
def test_people_who_left_are_not_resubscribed_without_force(lists: Store, tmp_path: Path, left: str) -> None:
    sid, _ = subscribers.add(lists, "ada@example.com", "main", name="Ada")
    lists._set_subscription(sid, lists.list_("main").id, left)
    path = write(tmp_path, "email,name\nada@example.com,Ada Again\n")
    report = subscribers.import_csv(lists, path, "main")
    assert report.added == report.updated == 0
    assert report.rejected[0].line == 2 and left in report.rejected[0].reason
    assert "--force-resubscribe" in report.rejected[0].reason
    assert status_of(lists, "ada@example.com") == left
    assert lists.subscriber("ada@example.com").name == "Ada"  # nothing about them changed
    with pytest.raises(SubscriberError, match=left):
        subscribers.add(lists, "ada@example.com", "main")
    forced = subscribers.import_csv(lists, path, "main", force=True)
    assert forced.updated == 1 and status_of(lists, "ada@example.com") == "confirmed"


def test_remove_erases_but_an_import_cannot_add_them_back(lists: Store, tmp_path: Path) -> None:
    subscribers.add(lists, "ada@example.com", "main", name="Ada", attributes={"city": "London"})
    subscribers.add(lists, "ada@example.com", "doi")
    assert subscribers.remove(lists, "Ada@Example.com").email == "ada@example.com"
    assert lists.find_subscriber("ada@example.com") is None
    assert lists.scalar("SELECT count(*) FROM subscriptions") == 0
    everything = json.dumps([lists.rows(f"SELECT * FROM {t}") for t in ("subscribers", "subscriptions", "erasures")])
    assert "ada" not in everything.lower() and "London" not in everything
    path = write(tmp_path, "email,name\nADA@example.com,Ada\nbob@example.com,Bob\n")
    report = subscribers.import_csv(lists, path, "main")
    assert report.added == 1 and report.rejected[0].line == 2 and "erased" in report.rejected[0].reason
    assert lists.find_subscriber("ada@example.com") is None
    with pytest.raises(SubscriberError, match="erased"):
        subscribers.add(lists, "ada@example.com", "main")
    subscribers.add(lists, "ada@example.com", "main", force=True)
    assert status_of(lists, "ada@example.com") == "confirmed"
    assert lists.scalar("SELECT count(*) FROM erasures") == 0
    with pytest.raises(NotFoundError):
        subscribers.remove(lists, "nobody@example.com")


def test_ids_are_never_reused_after_an_erasure(lists: Store) -> None:
    """Links and the ledger name people by id: a newcomer must not inherit an erased person's."""
    subscribers.add(lists, "ada@example.com", "main")
    last, _ = subscribers.add(lists, "bob@example.com", "main")
    subscribers.remove(lists, "bob@example.com")
    newcomer, _ = subscribers.add(lists, "cy@example.com", "main")
    assert newcomer > last
    subscribers.add(lists, "dee@example.com", "main")
    subscribers.remove(lists, "dee@example.com")
    imported = subscribers.import_csv(lists, write(lists.path.parent, "email\neve@example.com\n"), "main")
    assert imported.added == 1 and lists.subscriber("eve@example.com").id > newcomer + 1


def test_remove_scrubs_the_send_ledger(lists: Store) -> None:
    from tests.support.send import make_edition

    edition = make_edition(lists, 3, list_name="big")
    lists.conn.execute(
        "INSERT INTO sends(edition_id, subscriber_id, email, status, created_at, updated_at)"
        " SELECT ?, id, email, 'sent', 'x', 'x' FROM subscribers",
        (edition,),
    )
    victim = lists.rows("SELECT email FROM subscribers ORDER BY id")[0]["email"]
    subscribers.remove(lists, victim)
    assert lists.scalar("SELECT count(*) FROM sends WHERE email = ?", (victim,)) == 0
    assert lists.scalar("SELECT count(*) FROM sends") == 3  # the ledger still counts the send


def test_double_opt_in_lists_start_unconfirmed_and_a_file_may_confirm_or_unsubscribe(
    lists: Store, tmp_path: Path
) -> None:
    subscribers.add(lists, "ada@example.com", "doi")
    assert status_of(lists, "ada@example.com", "doi") == "unconfirmed"
    path = write(
        tmp_path,
        "email,name,status\nada@example.com,,confirmed\nbob@example.com,,blocklisted\n"
        "cy@example.com,,unconfirmed\ndee@example.com,,maybe\n",
    )
    report = subscribers.import_csv(lists, path, "doi")
    assert (report.added, report.updated) == (2, 1)
    assert report.rejected[0].line == 5 and "status" in report.rejected[0].reason
    assert status_of(lists, "ada@example.com", "doi") == "confirmed"
    assert status_of(lists, "bob@example.com", "doi") == "unsubscribed"  # listmonk's blocklisted: kept out
    # A confirmed subscription is never downgraded by a file.
    again = subscribers.import_csv(
        lists, write(tmp_path, "email,status\nada@example.com,unconfirmed\n", "b.csv"), "doi"
    )
    assert again.unchanged == 1 and status_of(lists, "ada@example.com", "doi") == "confirmed"


def test_listmonk_export_columns_import_as_is(lists: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "uuid,email,name,attributes,status,created_at,updated_at\n"
            '6c0d1e2f-0000-4000-8000-000000000001,ada@example.com,Ada,"{""city"": ""London""}",enabled,'
            "2024-01-01 10:00:00,2024-01-01 10:00:00\n"
            "6c0d1e2f-0000-4000-8000-000000000002,spam@example.com,Spam,{},blocklisted,2024-01-01,2024-01-01\n"
        ),
    )
    report = subscribers.import_csv(lists, path, "main")
    assert (report.added, report.rejected) == (2, [])
    assert status_of(lists, "ada@example.com") == "confirmed"
    assert status_of(lists, "spam@example.com") == "unsubscribed"


def test_rejects_file_holds_each_refused_row_ready_to_fix(lists: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path, "email,name,attributes\nok@example.com,Ok,\n\"two\nlines@example.com\",T,\n=cmd|' /C calc'!A0,Evil,\n"
    )
    out = tmp_path / "rejects.csv"
    report = subscribers.import_csv(lists, path, "main", rejects=out)
    assert [r.line for r in report.rejected] == [3, 5]
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "reason", "email", "name", "attributes"]
    assert rows[1][0] == "3" and rows[1][2] == "two\nlines@example.com"
    assert rows[2][0] == "5" and rows[2][2].startswith("'=")  # formula neutralised in the file we write


def test_a_report_keeps_the_first_rejects_and_counts_them_all_while_the_file_gets_every_one(
    lists: Store,
    tmp_path: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    bad = [f"nobody{i}" for i in range(KEPT + 150)]
    path = write(tmp_path, "email,name\nok@example.com,Ok\n" + "".join(f"{b},X\n" for b in bad))
    out = tmp_path / "rejects.csv"
    report = subscribers.import_csv(lists, path, "main", rejects=out)
    assert report.added == 1 and report.rejected_count == len(bad)
    assert [r.line for r in report.rejected] == list(range(3, 3 + KEPT))  # the first ones, in file order
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + len(bad)  # the file holds every one
    shown = cli("subscribers", "import", str(path), "--list", "main", code=3)
    assert f"and {len(bad) - KEPT} more rejected rows: add --rejects FILE" in shown.stderr
    assert f"{len(bad)} rejected" in shown.stderr + shown.stdout
    data = json.loads(cli("subscribers", "import", str(path), "--list", "main", "--json", code=3).stdout)
    assert data["rejected_count"] == len(bad) and len(data["rejected"]) == KEPT


def test_export_is_formula_safe_and_round_trips(lists: Store, tmp_path: Path) -> None:
    subscribers.add(lists, "=sum@example.com", "main", name="+Plus", attributes={"k": "=1+1", "n": 1})
    subscribers.add(lists, "-dash@example.com", "main", name="@handle")
    subscribers.add(lists, "plain@example.com", "main", name="Zoë")
    subscribers.unsubscribe(lists, "plain@example.com")
    buf = io.StringIO()
    assert subscribers.write_export(lists, buf, "main") == 3
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == ["email", "name", "attributes", "status"]
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@")) and not row[1].startswith(("=", "+", "-", "@"))
    assert rows[1][:2] == ["'=sum@example.com", "'+Plus"]
    assert ["plain@example.com", "Zoë", "", "unsubscribed"] in rows
    # Into a fresh list: the same people, names, attributes and the unsubscribe kept.
    lists.add_list("copy", from_email="news@example.com")
    back = subscribers.import_csv(lists, write(tmp_path, buf.getvalue(), "export.csv"), "copy")
    assert (back.added, back.rejected) == (3, [])
    assert lists.subscriber("=sum@example.com").attributes == {"k": "=1+1", "n": 1}
    assert status_of(lists, "plain@example.com", "copy") == "unsubscribed"
    assert subscribers.export_csv(lists, "copy").splitlines()[1:] == buf.getvalue().splitlines()[1:]


def test_sync_applies_each_list_file_with_the_same_rules(lists: Store, tmp_path: Path) -> None:
    folder = tmp_path / "subscribers"
    folder.mkdir()
    write(folder, "email,name\nada@example.com,Ada\nbad,\n", "main.csv")
    write(folder, "email\nbob@example.com\n", "doi.csv")
    write(folder, "email\ncy@example.com\n", "ghost.csv")
    report = subscribers.sync(lists, folder)
    by_list = {e.list: e.as_dict() for e in report.lists}
    assert by_list["main"]["added"] == 1 and by_list["main"]["rejected"] == 1
    assert by_list["doi"]["added"] == 1 and status_of(lists, "bob@example.com", "doi") == "unconfirmed"
    assert "ghost" in by_list["ghost"]["error"] and report.failed == 1
    assert set(by_list["ghost"]) == {"list", "file", "error"}  # a file not applied: no counts
    assert report.total.rejected[0].file.endswith("main.csv")
    subscribers.unsubscribe(lists, "ada@example.com")
    again = subscribers.sync(lists, folder)
    assert again.total.added == 0 and status_of(lists, "ada@example.com") == "unsubscribed"


@pytest.mark.parametrize("worker", [False, True])
def test_bad_files_give_one_clear_error(lists: Store, tmp_path: Path, worker: bool) -> None:
    with pytest.raises(SubscriberError, match="no 'email' column"):
        subscribers.import_csv(lists, write(tmp_path, "name,city\nAda,London\n"), "main", worker=worker)
    with pytest.raises(SubscriberError, match="empty"):
        subscribers.import_csv(lists, write(tmp_path, "", "empty.csv"), "main", worker=worker)
    with pytest.raises(NotFoundError, match="lists add"):
        subscribers.import_csv(lists, write(tmp_path, "email\na@example.com\n", "x.csv"), "nope")


def test_the_reader_process_gives_the_same_result_in_the_same_order(
    lists: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large files are parsed and checked in a reader process; chunk and batch boundaries change nothing."""
    from digest.subscribers import importer, parallel

    monkeypatch.setattr(parallel, "CHUNK", 7)
    monkeypatch.setattr(importer, "BATCH", 11)
    lines = ["email,name,attributes"]
    for i in range(300):
        email = f"user{i % 250}@Example.com" if i % 3 else f"USER{i % 250}@example.com"  # repeats across chunks
        lines.append(f"{email},Name {i},{'{bad' if i % 41 == 0 else ''}")
        if i % 53 == 0:
            lines.append(f'"broken\n{i}@example.com",X,')
    path = write(tmp_path, "\n".join(lines) + "\n")
    lists.add_list("seq", from_email="news@example.com")
    for name in ("seq", "main"):  # someone who left both lists before the import
        subscribers.add(lists, "user7@example.com", name)
    subscribers.unsubscribe(lists, "user7@example.com")
    seq = subscribers.import_csv(lists, path, "seq", worker=False, rejects=tmp_path / "seq.csv")
    par = subscribers.import_csv(lists, path, "main", worker=True, rejects=tmp_path / "par.csv")
    assert par.as_dict() == seq.as_dict()
    lists.add_list("lean", from_email="news@example.com")  # without a rejects file, records are not sent back
    assert subscribers.import_csv(lists, path, "lean", worker=True).as_dict()["rejected"] == [
        r for r in seq.as_dict()["rejected"] if "unsubscribed" not in r["reason"]
    ]
    assert (tmp_path / "par.csv").read_text() == (tmp_path / "seq.csv").read_text()
    assert len(seq.rejected) > 10 and any("unsubscribed" in r.reason for r in seq.rejected)
    assert lists.rows("SELECT subscriber_id, status FROM subscriptions WHERE list_id = 1 ORDER BY 1") == lists.rows(
        "SELECT subscriber_id, status FROM subscriptions WHERE list_id = 3 ORDER BY 1"
    )


@pytest.mark.parametrize("worker", [False, True])
def test_a_bad_byte_or_an_unclosed_quote_names_its_line_and_the_good_rows_land(
    lists: Store, tmp_path: Path, worker: bool
) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        "email,name\nada@example.com,Ada\nzoe@example.com,Zo\xeb\nbob@example.org,Bob\n".encode("latin-1")
    )
    report = subscribers.import_csv(lists, latin, "main", worker=worker)
    assert [(r.line, "not UTF-8 (byte 0xeb)" in r.reason) for r in report.rejected] == [(3, True)]
    assert report.added == 2 and lists.find_subscriber("bob@example.org") is not None

    # a quote that never closes: that line is refused, the lines after it are read as the records they are
    unclosed = write(
        tmp_path, 'email,name\ncyd@example.com,Cyd\ndee@example.com,"Dee\neve@example.com,Eve\n', "unclosed.csv"
    )
    report = subscribers.import_csv(lists, unclosed, "main", worker=worker)
    assert [(r.line, "never closed" in r.reason) for r in report.rejected] == [(3, True)]
    assert report.added == 2 and lists.find_subscriber("eve@example.com") is not None

    # one that runs past the cell limit before the end of the file
    runaway = write(
        tmp_path,
        'email,name\nfay@example.com,"Fay\n' + "x" * 1_100_000 + "\ngus@example.com,Gus\n",
        "runaway.csv",
    )
    report = subscribers.import_csv(lists, runaway, "main", worker=worker)
    assert [r.line for r in report.rejected][:1] == [2] and "never closed" in report.rejected[0].reason
    assert lists.find_subscriber("gus@example.com") is not None


def test_a_folder_or_a_missing_file_is_one_clear_error_for_library_callers(lists: Store, tmp_path: Path) -> None:
    with pytest.raises(SubscriberError, match="is a folder.*subscribers sync"):
        subscribers.import_csv(lists, tmp_path, "main")
    with pytest.raises(NotFoundError, match="does not exist: give the path of a CSV file"):
        subscribers.import_csv(lists, tmp_path / "missing.csv", "main")


def test_a_quote_opened_on_the_last_line_is_named_as_such(lists: Store, tmp_path: Path) -> None:
    path = write(tmp_path, 'email,name\nada@example.com,Ada\n"unterminated@example.com,Oops,\n')
    report = subscribers.import_csv(lists, path, "main")
    assert report.added == 1
    assert [(r.line, "never closed" in r.reason) for r in report.rejected] == [(3, True)]
