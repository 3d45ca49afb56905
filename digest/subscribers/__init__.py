"""People and lists: validated addresses, consent kept, CSV import that loses nothing good."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from digest.errors import SubscriberError
from digest.store import Store
from digest.store.people import LEFT


def normalize_email(raw: str, *, check_deliverability: bool = False) -> str:
    """The normalised address, or :class:`SubscriberError` saying why it is not one."""
    if any(c in raw for c in "\r\n\0"):
        raise SubscriberError(f"{raw!r} contains a line break or NUL; addresses cannot")
    try:
        return validate_email(raw.strip(), check_deliverability=check_deliverability).normalized
    except EmailNotValidError as exc:
        raise SubscriberError(f"{raw!r} is not a valid address: {exc}") from None


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def add(store: Store, email: str, list_name: str, *, name: str = "", attributes: dict[str, Any] | None = None,
        status: str | None = None, force: bool = False) -> tuple[int, str]:
    """Subscribe one person to a list; never re-subscribes someone who left unless ``force``."""
    address = normalize_email(email)
    list_row = store.list_(list_name)
    if not force and store.is_erased(email_hash(address)):
        raise SubscriberError(f"{address} asked to be erased; use --force-resubscribe only with their new consent")
    with store.transaction():
        sid = store.upsert_subscriber(address, name, attributes)
        current = store.subscription(sid, list_row["id"])
        if current in LEFT and not force:
            raise SubscriberError(f"{address} is {current} on '{list_name}'; they are not re-subscribed"
                                  " (use --force-resubscribe only with their new consent)")
        wanted = status or ("unconfirmed" if list_row["double_opt_in"] else "confirmed")
        if current is None or force or (current == "unconfirmed" and wanted == "confirmed"):
            store.set_subscription(sid, list_row["id"], wanted)
    return sid, store.subscription(sid, list_row["id"]) or wanted


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each CSV record; line numbers count physical lines, header = 1."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "email" not in [f.strip().lower() for f in reader.fieldnames]:
            raise SubscriberError(f"{path}: no 'email' column in the header; expected email,name,attributes")
        line = reader.line_num
        for row in reader:
            yield line + 1, {(k or "").strip().lower(): (v or "") for k, v in row.items()}
            line = reader.line_num


def import_csv(store: Store, path: Path, list_name: str, *, force: bool = False) -> ImportReport:
    report = ImportReport()
    list_row = store.list_(list_name)
    with store.transaction():
        for line, row in read_rows(path):
            raw = row.get("email", "")
            try:
                address = normalize_email(raw)
                attrs = json.loads(row["attributes"]) if row.get("attributes", "").strip() else {}
                if not isinstance(attrs, dict):
                    raise SubscriberError("attributes must be a JSON object")
            except SubscriberError as exc:
                report.rejected.append({"line": line, "email": raw, "reason": str(exc)})
                continue
            except json.JSONDecodeError as exc:
                report.rejected.append({"line": line, "email": raw, "reason": f"attributes are not JSON: {exc}"})
                continue
            before = store.find_subscriber(address)
            before_status = store.subscription(before["id"], list_row["id"]) if before else None
            try:
                sid, status = add(store, address, list_name, name=row.get("name", "").strip(), attributes=attrs,
                                  force=force)
            except SubscriberError as exc:
                report.rejected.append({"line": line, "email": raw, "reason": str(exc)})
                continue
            after = store.find_subscriber(address)
            if before is None or before_status is None:
                report.added += 1
            elif before_status != status or (after and (after["name"], after["attributes"]) !=
                                             (before["name"], before["attributes"])):
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def export_csv(store: Store, list_name: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "attributes"])
    list_id = store.list_(list_name)["id"] if list_name else None
    for row in store.subscribers(list_id):
        found = store.find_subscriber(row["email"])
        attrs = json.dumps(found["attributes"] if found else {}, ensure_ascii=False)
        writer.writerow([_safe_cell(row["email"]), _safe_cell(row["name"]), attrs])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """Spreadsheet formula injection guard: a leading = + - @ tab or CR is quoted with '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
