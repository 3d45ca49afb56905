"""One JSON contract: every command's --json output (a success and a provoked error) matches docs/json.md.

The schemas are read from docs/json.md itself, which is generated from the types in digest/cli/shapes.py;
objects are closed, so a key added or dropped in the code without the document fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
from typer.testing import CliRunner

from digest.cli import app
from digest.cli.jsondoc import documents, generate, parse
from tests.support import NOW, ROOT
from tests.support.sendgrid_standin import StandIn

DOC = ROOT / "docs" / "json.md"
SCHEMAS = parse(DOC.read_text(encoding="utf-8")) if DOC.is_file() else {}

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Extra</title><link>https://extra.example/</link>
<item><title>Ferry timetable changes</title><link>https://extra.example/ferry</link><guid>f-1</guid>
<pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate><description>From December.</description></item>
</channel></rss>
"""


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example newsletter after one run (outbox): editions, sends and subscribers to report on."""
    home = tmp_path_factory.mktemp("json") / "news"
    with pytest.MonkeyPatch.context() as mp:
        for var in list(os.environ):
            if var.startswith("DIGEST_") or var == "SENDGRID_API_KEY":
                mp.delenv(var)
        mp.setenv("DIGEST_NOW", NOW.isoformat())
        runner = CliRunner()
        for args in (["init", "--example"], ["run"]):
            done = runner.invoke(app, ["--home", str(home), *args])
            assert done.exit_code == 0, done.output
        (home / "extra.xml").write_text(FEED, encoding="utf-8")
        (home / "gone.xml").write_text(FEED, encoding="utf-8")
        (home / "edit.xml").write_text(FEED, encoding="utf-8")
        (home / "opml-feed.xml").write_text(FEED, encoding="utf-8")
        local = (home / "opml-feed.xml").as_uri()  # a local file, so that a later collect reads it
        (home / "feeds.opml").write_text(
            f'<opml version="2.0"><body><outline text="News" xmlUrl="{local}"/></body></opml>', encoding="utf-8"
        )
        (home / "people.csv").write_text("email,name\nnew@example.com,New\nnot-an-address,Bad\n", encoding="utf-8")
        (home / "subscribers").mkdir(exist_ok=True)
        (home / "subscribers" / "main.csv").write_text("email,name\nsync@example.com,Sync\n", encoding="utf-8")
        yield home


DESK = [["lists", "add", "desk", "--from-email", "desk@example.com"], ["build", "--list", "desk"]]

# command -> (steps run first, the command's own arguments, expected exit codes)
CASES: dict[str, tuple[list[list[str]], list[str], set[int]]] = {
    "--version": ([], ["--version"], {0}),
    "init": ([], ["init"], {0}),
    "run": ([], ["run"], {0}),
    "schedule": ([], ["schedule", "--at", "06:30"], {0}),
    "sources add": ([["sources", "remove", "extra"]], ["sources", "add", "{home}/extra.xml", "--name", "extra"], {0}),
    "sources list": ([], ["sources", "list"], {0}),
    "sources remove": ([["sources", "add", "{home}/gone.xml", "--name", "gone"]], ["sources", "remove", "gone"], {0}),
    "sources edit": (
        [["sources", "add", "{home}/edit.xml", "--name", "edit-me"]],
        ["sources", "edit", "edit-me", "--title", "Extra News", "--weight", "1.5"],
        {0},
    ),
    "sources import": ([], ["sources", "import", "{home}/feeds.opml"], {0}),
    "sources export": ([], ["sources", "export"], {0}),
    "collect": ([], ["collect"], {0}),
    "stories list": ([], ["stories", "list", "--limit", "3"], {0}),
    "stories show": ([], ["stories", "show", "1"], {0}),
    "stories pin": ([], ["stories", "pin", "1", "--off"], {0}),
    "stories drop": ([], ["stories", "drop", "1", "--off"], {0}),
    "stories picks": ([], ["stories", "picks"], {0}),
    "rank": ([], ["rank", "--explain"], {0}),
    "build": ([], ["build"], {0}),
    # a list of its own, built and never sent (main's edition went out): the desk can change it
    "edition show": (DESK, ["edition", "show", "--list", "desk"], {0}),
    "edition drop": (DESK, ["edition", "drop", "28", "--list", "desk"], {0}),
    "edition swap": (DESK, ["edition", "swap", "31", "29", "--list", "desk"], {0}),
    "edition move": (DESK, ["edition", "move", "19", "--to", "1", "--list", "desk"], {0}),
    "edition pin": (DESK, ["edition", "pin", "20", "--list", "desk"], {0}),
    "edition edit": (DESK, ["edition", "edit", "20", "--title", "Edited", "--subject", "Mine", "--list", "desk"], {0}),
    "edition approve": (DESK, ["edition", "approve", "--list", "desk"], {0}),
    "edition reset": (DESK, ["edition", "reset", "--list", "desk"], {0}),
    "render": ([], ["render", "--archive", "{home}/site"], {0}),
    "templates init": ([], ["templates", "init"], {0}),
    "templates list": ([], ["templates", "list"], {0}),
    "doctor": ([], ["doctor"], {0, 1}),
    "lists add": ([], ["lists", "add", "weekly{n}", "--from-email", "news@example.com"], {0}),
    "lists edit": ([], ["lists", "edit", "main", "--address", "1 Quay St, Harbor City"], {0}),
    "lists keywords": ([], ["lists", "keywords", "main"], {0}),
    "lists list": ([], ["lists", "list"], {0}),
    "subscribers add": ([], ["subscribers", "add", "grace{n}@example.com", "--name", "Grace"], {0}),
    "subscribers unsubscribe": ([], ["subscribers", "unsubscribe", "ada@example.com"], {0}),
    "subscribers remove": (
        [["subscribers", "add", "erase{n}@example.com"]],
        ["subscribers", "remove", "erase{n}@example.com", "--yes"],
        {0},
    ),
    "subscribers show": ([], ["subscribers", "show", "grace@example.com"], {0}),
    "subscribers list": ([], ["subscribers", "list"], {0}),
    "subscribers import": ([], ["subscribers", "import", "{home}/people.csv"], {3}),
    "subscribers export": ([], ["subscribers", "export", "--out", "{home}/out.csv"], {0}),
    "subscribers sync": ([], ["subscribers", "sync"], {0}),
    "send": ([], ["send"], {0}),
    "stats": ([], ["stats"], {0}),
}
SERVING = {"preview", "serve", "subscribers sync-suppressions"}  # tested below on their own


def _fill(args: list[str], home: Path, n: int) -> list[str]:
    return [a.replace("{home}", str(home)).replace("{n}", str(n)) for a in args]


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args)


def _document(stdout: str) -> Any:
    """Exactly one JSON document, and nothing else, on stdout."""
    decoder = json.JSONDecoder()
    text = stdout.strip()
    doc, end = decoder.raw_decode(text)
    assert end == len(text), f"more than one document on stdout: {text[end:][:200]!r}"
    return doc


def _validate(doc: Any, command: str) -> None:
    try:
        jsonschema.validate(doc, SCHEMAS[command])
    except jsonschema.ValidationError as exc:
        pytest.fail(
            f"digest {command} --json printed what docs/json.md does not say: {exc.message} at {list(exc.path)}."
            " Update its type in digest/cli/shapes.py, then: python -m digest.cli.jsondoc --write docs/json.md"
        )


def test_the_document_is_generated_from_the_types() -> None:
    assert DOC.read_text(encoding="utf-8") == generate(), "run: python -m digest.cli.jsondoc --write docs/json.md"


def test_every_command_with_json_is_documented_and_tested() -> None:
    root = typer.main.get_command(app)
    with_json: set[str] = set()

    def walk(cmd: Any, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        elif any("--json" in getattr(p, "opts", []) for p in cmd.params):
            with_json.add(" ".join(path))

    walk(root, [])
    documented = set(documents()) - {"--version"}
    assert with_json == documented, "add the command's document to digest/cli/jsondoc.py documents()"
    assert set(CASES) | SERVING == set(documents()), "add a case for the command to CASES"


@pytest.mark.parametrize("command", list(CASES))
def test_success_matches_the_documented_shape(news: Path, command: str) -> None:
    steps, args, codes = CASES[command]
    for n, step in enumerate(steps):
        _invoke(["--home", str(news), *_fill(step, news, n)])
    done = _invoke(["--home", str(news), *_fill(args, news, 0), "--json"])
    assert done.exit_code in codes, done.output
    _validate(_document(done.stdout), command)


@pytest.mark.parametrize("command", list(CASES))
def test_errors_are_one_json_document_with_the_exit_code(tmp_path: Path, command: str) -> None:
    not_a_home = tmp_path / "a-file"
    not_a_home.write_text("", encoding="utf-8")
    _, args, _ = CASES[command]
    if command == "--version":  # cannot fail on its own: a usage error instead
        done = _invoke(["--version", "--json", "--no-such-option"])
        assert done.exit_code == 2
    else:
        done = _invoke(["--home", str(not_a_home), *_fill(args, tmp_path, 0), "--json"])
        assert done.exit_code == 1, done.output
    doc = _document(done.stdout)
    _validate(doc, "error")
    assert doc["error"]["exit_code"] == done.exit_code
    assert doc["error"]["message"]


@pytest.mark.parametrize("command", [c for c in CASES if c != "--version"])
def test_usage_errors_under_json_are_documents_too(command: str) -> None:
    done = _invoke([*CASES[command][1], "--no-such-option", "--json"])
    assert done.exit_code == 2
    doc = _document(done.stdout)
    _validate(doc, "error")
    assert "--no-such-option" in doc["error"]["message"] and "--help" in doc["error"]["hint"]


def test_an_error_names_its_fix_on_its_own(tmp_path: Path) -> None:
    done = _invoke(["--home", str(tmp_path / "nowhere"), "stats", "--json"])
    error = _document(done.stdout)["error"]
    assert error["hint"] == f"create it with 'digest --home {tmp_path / 'nowhere'} init'"
    assert error["message"].endswith(error["hint"]) and done.exit_code == 1


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["render", "--format", "html", "--json"], "--json"),
        (["render", "--json"], "--json"),
        (["render", "--archive", "site", "--format", "text"], "--format"),
        (["render", "--archive", "site", "--as", "ada@example.com"], "--as"),
        (["subscribers", "export", "--json"], "--json"),
    ],
)
def test_options_that_do_not_apply_are_refused(news: Path, args: list[str], refused: str) -> None:
    done = _invoke(["--home", str(news), *args])
    assert done.exit_code == 1
    line = done.stdout.strip() if "--json" in args else done.stderr.strip()
    assert refused in line and "does not apply" in line and len(line.splitlines()) <= 8


def test_sync_suppressions_document(news: Path) -> None:
    with StandIn() as standin, pytest.MonkeyPatch.context() as mp:
        from tests.support.send import sendgrid_env

        for k, v in sendgrid_env(standin.url).items():
            mp.setenv(k, v)
        done = _invoke(["--home", str(news), "subscribers", "sync-suppressions", "--json"])
    assert done.exit_code == 0, done.output
    _validate(_document(done.stdout), "subscribers sync-suppressions")
    failed = _invoke(["--home", str(news), "subscribers", "sync-suppressions", "--json"])  # no key now
    assert failed.exit_code == 1
    _validate(_document(failed.stdout), "error")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["preview", "serve"])
def test_serving_commands_print_their_url_as_one_document(news: Path, command: str) -> None:
    env = {**os.environ, "DIGEST_HOME": str(news), "DIGEST_SECRET": "x" * 64, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", "from digest.cli import main; main()", command, "--port", "0", "--json"]
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            text = ""
            while True:  # the document is printed once the server answers, then nothing more
                line = proc.stdout.readline()
                assert line, proc.stderr.read() if proc.stderr else ""
                text += line
                if line.startswith("}"):
                    break
            doc = _document(text)
            _validate(doc, command)
            assert doc["url"].startswith("http://127.0.0.1:")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
