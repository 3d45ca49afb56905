"""docs/json.md, generated from the types of what each command prints with ``--json``.

``python -m digest.cli.jsondoc --write docs/json.md`` rewrites it; tests/cli/test_json.py runs every command
(a success and a provoked error) and validates what it printed against the schemas in that file.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from digest.cli import shapes

OUT = Path("docs/json.md")


def documents() -> dict[str, tuple[Any, str]]:
    """Each command (as typed after ``digest``) and the type of the document it prints, with a note."""
    from digest.send import SendReport

    s = shapes
    return {
        "--version": (s.VersionDoc, "`digest --version --json`."),
        "init": (s.InitDoc, ""),
        "run": (
            s.RunDoc,
            "`lists` has one entry per list: what was sent, or `skipped` (why), or `error`, or"
            " `awaiting_approval` (a list with `require_approval` holds its edition until approved; exit code 0).",
        ),
        "schedule": (s.ScheduleDoc, ""),
        "sources add": (s.SourceAdded, "`check` says what one look found (`ok` false: added, but not readable yet)."),
        "sources list": (list[s.SourceRow], ""),
        "sources remove": (s.SourceRemoved, ""),
        "sources edit": (s.SourceDoc, ""),
        "sources import": (
            s.SourcesImported,
            "`skipped`: feeds already among the sources, or not http(s) or file URLs.",
        ),
        "sources export": (list[s.SourceDoc], "With `--json`; without it the OPML document is the output."),
        "collect": (s.CollectDoc, "Exit code 3 when some sources failed, 1 when all did; the document is printed."),
        "stories list": (list[s.StoryRow], ""),
        "stories show": (s.StoryDoc, ""),
        "stories pin": (s.PinDoc, ""),
        "stories drop": (s.DropDoc, ""),
        "stories picks": (s.PicksDoc, ""),
        "rank": (s.RankDoc, "`stories` are picked (with `rank`), `runners_up` lost (with `reason`)."),
        "build": (s.BuildDoc, ""),
        "edition show": (s.DraftDoc, "The edition as the desk shows it; every `edition` command prints it changed."),
        "edition drop": (s.DraftDoc, ""),
        "edition swap": (s.DraftDoc, ""),
        "edition move": (s.DraftDoc, ""),
        "edition pin": (s.DraftDoc, ""),
        "edition edit": (s.DraftDoc, ""),
        "edition approve": (s.DraftDoc, ""),
        "edition reset": (s.DraftDoc, ""),
        "render": (s.ArchiveDoc, "With `--archive` only (an email is not JSON: `--json` with a format is refused)."),
        "preview": (s.ServingDoc, "Printed once the preview answers; the command then keeps serving."),
        "serve": (s.ServingDoc, "Printed once the server answers; the command then keeps serving."),
        "templates init": (s.TemplatesInitDoc, ""),
        "templates list": (list[s.TemplateRow], ""),
        "doctor": (list[s.CheckDoc], "Exit code 1 when a check fails; the document is printed."),
        "lists add": (s.ListDoc, ""),
        "lists edit": (s.ListDoc, ""),
        "lists keywords": (s.KeywordsDoc, ""),
        "lists list": (list[s.ListRow], ""),
        "subscribers add": (s.SubscriberAdded, ""),
        "subscribers unsubscribe": (s.Unsubscribed, ""),
        "subscribers remove": (s.Erased, ""),
        "subscribers show": (s.SubscriberDoc, ""),
        "subscribers list": (list[s.MemberRow], ""),
        "subscribers import": (s.ImportDoc, "Exit code 3 when some rows were refused; the document is printed."),
        "subscribers export": (s.ExportDoc, "With `--out` only: without it the CSV itself is the output."),
        "subscribers sync": (s.SyncDoc, ""),
        "subscribers sync-suppressions": (dict[str, dict[str, int]], "Per SendGrid list: `listed`, `changed`."),
        "send": (SendReport, "Counts are recipients; `requests` are provider calls. Exit 3: some failed or unknown."),
        "stats": (list[s.StatsRow], ""),
    }


# -- JSON Schema from Python types ---------------------------------------------------------------


def _library_types() -> dict[str, Any]:
    """The library's types that shapes.py names only for type checkers (it must not import them at start-up)."""
    from digest.collect import Probe, SourceResult
    from digest.health import SourceState
    from digest.models import RunRecord, RunSummary
    from digest.pipeline import FailingSource

    return {
        "Probe": Probe,
        "SourceResult": SourceResult,
        "FailingSource": FailingSource,
        "RunRecord": RunRecord,
        "RunSummary": RunSummary,
        "SourceState": SourceState,
    }


def _fields(tp: Any) -> tuple[dict[str, Any], set[str]]:
    """Each field's type and the required ones (``NotRequired`` read here: the annotations are strings)."""
    hints = typing.get_type_hints(tp, localns=_library_types(), include_extras=True)
    if dataclasses.is_dataclass(tp):
        names = [f.name for f in dataclasses.fields(tp)]
        return {n: hints[n] for n in names}, set(names)
    props, required = {}, set()
    for name, hint in hints.items():
        if get_origin(hint) is typing.NotRequired:
            props[name] = get_args(hint)[0]
        else:
            props[name] = get_args(hint)[0] if get_origin(hint) is typing.Required else hint
            required.add(name)
    return props, required


def schema(tp: Any) -> dict[str, Any]:
    """A JSON Schema for values of ``tp``: objects are closed (no key may appear that is not documented)."""
    if tp is Any:
        return {}
    if typing.is_typeddict(tp) or (dataclasses.is_dataclass(tp) and isinstance(tp, type)):
        props, required = _fields(tp)
        return {
            "type": "object",
            "properties": {k: schema(v) for k, v in props.items()},
            "required": [k for k in props if k in required],
            "additionalProperties": False,
        }
    origin, args = get_origin(tp), get_args(tp)
    if origin in (list, tuple):
        return {"type": "array", "items": schema(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema(args[1]) if args else {}}
    if origin in (typing.Union, types.UnionType):
        options = [schema(a) for a in args]
        if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
            return {"type": [o["type"] for o in options]}
        return {"anyOf": options}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null", Path: "string"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON schema for {tp!r}")


# -- a readable form of a schema, with the comments written beside each field --------------------


def _notes(source: str) -> dict[str, str]:
    return {name: note.strip() for name, note in re.findall(r"^\s+(\w+): [^#\n]*#\s*(.+)$", source, re.M)}


def _comments(tp: Any) -> dict[str, str]:
    """The comment written beside each field in the type's source (a TypedDict's bases' too)."""
    if getattr(tp, "__module__", None) == shapes.__name__:
        classes = {
            node.name: node for node in ast.parse(inspect.getsource(shapes)).body if isinstance(node, ast.ClassDef)
        }
        source = inspect.getsource(shapes)
        notes: dict[str, str] = {}
        todo = [tp.__name__]
        while todo:
            node = classes[todo.pop()]
            notes = _notes(ast.get_source_segment(source, node) or "") | notes
            todo.extend(b.id for b in node.bases if isinstance(b, ast.Name) and b.id in classes)
        return notes
    try:
        return _notes(inspect.getsource(tp))
    except (OSError, TypeError):
        return {}


def _readable(tp: Any, sch: dict[str, Any], indent: str) -> str:
    kind = sch.get("type")
    if "anyOf" in sch or isinstance(kind, list):
        parts = sch.get("anyOf") or [{"type": k} for k in kind]  # type: ignore[union-attr]
        inner = [a for a in get_args(tp) if a is not type(None)] or [tp]
        return " | ".join(_readable(inner[0] if p.get("type") != "null" else None, p, indent) for p in parts)
    if kind == "array":
        item_tp = get_args(tp)[0] if get_args(tp) else Any
        return f"[{_readable(item_tp, sch['items'], indent)}, ...]"
    if kind == "object" and "properties" in sch:
        notes, required = _comments(tp), set(sch["required"])
        props, _ = _fields(tp)
        lines = []
        for n, (key, sub) in enumerate(sch["properties"].items(), 1):
            value = _readable(props[key], sub, indent + "  ") + ("," if n < len(props) else "")
            extra = [] if key in required else ["optional"]
            if key in notes:
                extra.append(notes[key])
            lines.append(f'{indent}  "{key}": {value}' + (f"  // {'; '.join(extra)}" if extra else ""))
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    if kind == "object":
        value_tp = get_args(tp)[1] if len(get_args(tp)) == 2 else Any
        values = sch.get("additionalProperties") or {}
        return "{" + (f'"<key>": {_readable(value_tp, values, indent)}, ...' if values else "...") + "}"
    return str(kind or "any")


HEADER = """# The JSON that digest prints

<!-- generated by python -m digest.cli.jsondoc --write docs/json.md; tests/cli/test_json.py keeps it true -->

Every command that reports, lists or changes something takes `--json` and then prints exactly one JSON
document on stdout, and nothing else there (progress and logs go to stderr). Exit codes are the same as
without `--json`: 0 done, 1 a user error or a failure to act on, 2 a usage error, 3 partly done.

An error is one document too, with the same exit code:

```
{ERROR}
```

One name per concept across commands: `story_id`, `subscriber_id`, `list_id`, `source_id`, `edition` (an
edition's id), `list` (a list's name). Keys noted *alias* are older names, kept for one release.
Objects carry exactly the keys shown (`optional` ones may be absent); each schema below is what the
test validates against.
"""


def generate() -> str:
    error = _readable(shapes.ErrorDoc, schema(shapes.ErrorDoc), "")
    parts = [HEADER.replace("{ERROR}", error)]
    for command, (tp, note) in documents().items():
        sch = schema(tp)
        parts.append(f"## `digest {command} --json`\n")
        if note:
            parts.append(note + "\n")
        parts.append("```\n" + _readable(tp, sch, "") + "\n```\n")
        parts.append("<details><summary>JSON Schema</summary>\n\n```json\n" + json.dumps(sch) + "\n```\n</details>\n")
    parts.append("## Errors: the schema\n")
    parts.append("```json\n" + json.dumps(schema(shapes.ErrorDoc)) + "\n```\n")
    return "\n".join(parts)


def parse(text: str) -> dict[str, dict[str, Any]]:
    """The schema of each command in a docs/json.md text (``"error"`` for the error document)."""
    found = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r"^## `digest (.+?) --json`\n.*?```json\n(.*?)\n```", text, re.S | re.M)
    }
    error = re.search(r"^## Errors: the schema\n+```json\n(.*?)\n```", text, re.S | re.M)
    if error:
        found["error"] = json.loads(error.group(1))
    return found


def main(argv: list[str]) -> int:
    text = generate()
    if len(argv) == 2 and argv[0] == "--write":
        Path(argv[1]).write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
