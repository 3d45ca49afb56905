"""A SendGrid stand-in for tests: a real HTTP server on 127.0.0.1 that checks every request.

``POST /v3/mail/send`` bodies are validated against SendGrid's own OpenAPI schema
(``../shared/sendgrid/sendgrid_mock_patched.json``) plus every rule the shared README lists that
the schema does not encode; accepted bodies are recorded. The stand-in can be told to answer
429 (with ``X-RateLimit-*``), 500, 503, to hang, to drop the connection, or to be slow (the body
is accepted first, the answer comes late: what a ``kill -9`` mid-request looks like).
``GET /v3/suppression/{unsubscribes,bounces,spam_reports}`` serves pages of suppressions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from tests.support import SENDGRID_SPEC as SPEC
from tests.support import need_shared

SCHEMA_POINTER = "#/components/requestBodies/PostMailSend/content/application~1json/schema"
MAX_BYTES = 30 * 1024 * 1024
KINDS = ("unsubscribes", "bounces", "spam_reports")

_validator: Draft202012Validator | None = None

# ``format: email`` is an RFC 5321 mailbox: ASCII only (an internationalised address is ``idn-email``). jsonschema's
# own check is just "contains an @", so the stand-in brings SendGrid's: a dot-atom or quoted local part, a domain
# of LDH labels (IDNA's xn-- labels included), at most 254 characters.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MAILBOX = re.compile(
    rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")@(?:{_LABEL}\.)+{_LABEL}'
)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("email")
def is_email(value: object) -> bool:
    return not isinstance(value, str) or (len(value) <= 254 and _MAILBOX.fullmatch(value) is not None)


def validator() -> Draft202012Validator:
    """The mail/send body schema, with its ``$ref``s resolved inside the same document, formats checked."""
    global _validator
    if _validator is None:
        need_shared(SPEC)
        doc = json.loads(SPEC.read_text(encoding="utf-8"))
        _validator = Draft202012Validator({**doc, "$ref": SCHEMA_POINTER}, format_checker=FORMATS)
    return _validator


def schema_errors(body: Any) -> list[dict[str, Any]]:
    """SendGrid's 400 errors for a body the schema refuses: each names its field (``personalizations.3.to.0.email``)."""
    out = []
    for e in list(validator().iter_errors(body))[:5]:
        where = ".".join(map(str, e.absolute_path))
        message = (
            "Does not contain a valid address." if e.validator == "format" else f"{where or '(body)'}: {e.message}"
        )
        out.append({"message": message, "field": where or None, "help": None})
    return out


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def rule_violations(body: dict[str, Any], now: float | None = None) -> list[str]:
    """The README's rules that the schema does not encode."""
    now = time.time() if now is None else now
    problems: list[str] = []
    personalizations = body.get("personalizations") or []
    if not personalizations:
        problems.append("personalizations: at least 1 is required")
    if len(personalizations) > 1000:
        problems.append("personalizations: at most 1000")
    seen: set[str] = set()
    total = 0
    top_args = body.get("custom_args") or {}
    for i, p in enumerate(personalizations):
        people = [*p.get("to", []), *p.get("cc", []), *p.get("bcc", [])]
        if not p.get("to"):
            problems.append(f"personalizations[{i}].to: at least 1 recipient")
        total += len(people)
        for person in people:
            address = str(person.get("email", "")).lower()
            if address in seen:
                problems.append(f"personalizations[{i}]: {address} appears more than once in the request")
            seen.add(address)
        subs = p.get("substitutions")
        if subs is not None:
            if _size(subs) > 10_000:
                problems.append(f"personalizations[{i}].substitutions: over 10,000 bytes")
            if p.get("dynamic_template_data") is not None:
                problems.append(f"personalizations[{i}]: substitutions mixed with dynamic_template_data")
        own = p.get("custom_args") or {}
        if any(not isinstance(v, str) for v in own.values()):
            problems.append(f"personalizations[{i}].custom_args: values must be strings")
        args = {**top_args, **own} if isinstance(top_args, dict) else own
        if _size(args) > 10_000:
            problems.append(f"personalizations[{i}].custom_args: over 10,000 bytes")
        if "send_at" in p and not isinstance(p["send_at"], int):
            problems.append(f"personalizations[{i}].send_at: must be an integer")
    if total > 1000:
        problems.append(f"at most 1000 recipients per request, got {total}")
    if not isinstance(top_args, dict) or any(not isinstance(v, str) for v in top_args.values()):
        problems.append("custom_args: must be an object of string values")
    categories = body.get("categories") or []
    if len(categories) > 10 or len(set(categories)) != len(categories) or any(len(c) > 255 for c in categories):
        problems.append("categories: at most 10, unique, each at most 255 characters")
    if "send_at" in body:
        if not isinstance(body["send_at"], int) or body["send_at"] > now + 72 * 3600:
            problems.append("send_at: an integer Unix time at most 72 hours ahead")
        if "send_each_at" in body:
            problems.append("send_at: not together with send_each_at")
    if "asm" in body:
        asm = body["asm"] or {}
        if "group_id" not in asm:
            problems.append("asm.group_id is required")
        if len(asm.get("groups_to_display") or []) > 25:
            problems.append("asm.groups_to_display: at most 25")
    return problems[:20]


@dataclass
class Request:
    """One mail/send request as the stand-in saw it."""

    action: str
    status: int
    body: dict[str, Any] | None
    at: float
    thread: str


@dataclass
class StandIn:
    api_key: str = "SG.test-key"
    delay: float = 0.0  # slow mode: seconds between accepting a body and answering
    hang_for: float = 20.0  # how long "hang" holds a request before closing without an answer
    max_bytes: int = MAX_BYTES  # SendGrid's 30 MB; lower it to see a 413 without building 30 MB
    accepted: list[dict[str, Any]] = field(default_factory=list)  # bodies queued for delivery
    sandboxed: list[dict[str, Any]] = field(default_factory=list)  # valid bodies in sandbox mode
    requests: list[Request] = field(default_factory=list)  # every mail/send request, in order
    suppressions: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    suppression_queries: list[dict[str, str]] = field(default_factory=list)
    max_in_flight: int = 0
    on_request: Callable[[bytes], None] | None = None  # called with each mail/send body as it arrives

    def __post_init__(self) -> None:
        self.script: deque[str] = deque()
        self.lock = threading.Lock()
        self.release = threading.Event()
        self._in_flight = 0
        self.server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------
    def then(self, *actions: str) -> StandIn:
        """Answer the next mail/send requests with these actions, in order: ok, 429, 500, 503, 400, hang, drop,
        accept500 (accepted for delivery, then answered 500), trickle (accepted, the answer a byte at a time)."""
        self.script.extend(actions)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), name="sendgrid-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> StandIn:
        need_shared(SPEC)  # without SendGrid's schema the stand-in could not check what it is sent
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what arrived ----------------------------------------------------------------------
    def deliveries(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(personalization, body) for every recipient of every accepted request."""
        with self.lock:
            bodies = list(self.accepted)
        for body in bodies:
            for p in body["personalizations"]:
                yield p, body

    def addresses(self) -> list[str]:
        return [p["to"][0]["email"] for p, _ in self.deliveries()]

    @staticmethod
    def render(p: dict[str, Any], body: dict[str, Any]) -> dict[str, str]:
        """What SendGrid makes of one personalization: each content type with its substitutions applied."""
        out = {}
        for part in body["content"]:
            value = part["value"]
            for key, sub in (p.get("substitutions") or {}).items():
                value = value.replace(key, sub)
            out[part["type"]] = value
        return out

    # -- deciding an answer ----------------------------------------------------------------
    def next_action(self) -> str:
        with self.lock:
            return self.script.popleft() if self.script else "ok"


def _error(message: str, field_name: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field_name, "help": None}]}


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return None

    def _leave(self) -> None:
        """Count this request as answered before the answer leaves (the client may send its next one at once)."""
        if getattr(self, "_counted", False):
            with self.standin.lock:
                self.standin._in_flight -= 1
            self._counted = False

    def _answer(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        self._leave()
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.standin.api_key}":
            return True
        self._answer(401, _error("The provided authorization grant is invalid, expired, or revoked"))
        return False

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        kind = parts.path.removeprefix("/v3/suppression/")
        if kind not in KINDS:
            self._answer(404, _error("not found"))
            return
        if not self._authorised():
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.standin.suppression_queries.append({"kind": kind, **query})
        limit, offset = int(query.get("limit", 500)), int(query.get("offset", 0))
        if not 1 <= limit <= 500 or offset < 0:
            self._answer(400, _error("limit must be 1..500 and offset at least 0", "limit"))
            return
        self._answer(200, self.standin.suppressions[kind][offset : offset + limit])

    def do_POST(self) -> None:  # noqa: N802
        s = self.standin
        if urlsplit(self.path).path != "/v3/mail/send":
            self._answer(404, _error("not found"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if s.on_request is not None:
            s.on_request(raw)
        action = s.next_action()
        with s.lock:
            s._in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s._in_flight)
        self._counted = True
        try:
            self._mail_send(raw, action)
        finally:
            self._leave()

    def _record(self, action: str, status: int, body: dict[str, Any] | None) -> None:
        with self.standin.lock:
            self.standin.requests.append(Request(action, status, body, time.time(), threading.current_thread().name))

    def _mail_send(self, raw: bytes, action: str) -> None:
        s = self.standin
        if action == "drop":
            self._record(action, 0, None)
            self.close_connection = True
            return
        if action == "hang":
            self._record(action, 0, None)
            s.release.wait(s.hang_for)
            self.close_connection = True
            return
        if not self._authorised():
            self._record(action, 401, None)
            return
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._record(action, 415, None)
            self._answer(415, _error("Content-Type should be application/json"))
            return
        if len(raw) > s.max_bytes:
            self._record(action, 413, None)
            self._answer(413, _error("The JSON payload you have included in your request is too large."))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._record(action, 400, None)
            self._answer(400, _error("Bad Request: the body is not JSON"))
            return
        errors = schema_errors(body)
        errors += [
            {"message": m, "field": None, "help": None}
            for m in (rule_violations(body) if isinstance(body, dict) else [])
        ]
        if errors:
            self._record(action, 400, body)
            self._answer(400, {"errors": errors})
            return
        if action == "429":
            self._record(action, 429, body)
            reset = int(time.time()) + 1
            self._answer(
                429,
                _error("too many requests"),
                {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            )
            return
        if action == "trickle":  # accepted, then the 202 sent one byte at a time, each within any read timeout
            with s.lock:
                s.accepted.append(body)
            self._record(action, 202, body)
            self._leave()
            answer = (
                b"HTTP/1.1 202 Accepted\r\nX-Message-Id: trickled\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            try:
                for byte in answer:
                    if s.release.wait(0.2):
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass  # the client gave up: what this action is for
            self.close_connection = True
            return
        if action == "accept500":  # accepted (queued for delivery), then an error answer: the ambiguous case
            with s.lock:
                s.accepted.append(body)
            self._record(action, 500, body)
            self._answer(500, _error("Internal server error"))
            return
        if action in ("500", "503", "400"):
            self._record(action, int(action), body)
            self._answer(int(action), _error(f"stand-in told to answer {action}"))
            return
        sandbox = bool(((body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"))
        with s.lock:
            (s.sandboxed if sandbox else s.accepted).append(body)
        self._record(action, 200 if sandbox else 202, body)
        if s.delay:
            s.release.wait(s.delay)
        self._answer(200 if sandbox else 202, None, {"X-Message-Id": f"standin-{len(s.requests)}"})
