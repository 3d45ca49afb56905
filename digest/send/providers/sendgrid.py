"""The ``sendgrid`` provider: the official client, up to 1000 recipients per request.

Each recipient is one personalization (nobody sees another address) carrying its own
substitutions (unsubscribe URL, name, web URL), list headers and ``custom_args``; several
requests are in flight at once (``[send] concurrency``, one client per thread).

Outcomes (SendGrid has no idempotency key, so anything that may have been accepted is ``unknown``):

* 202 (200 in sandbox mode): sent, with ``X-Message-Id``.
* 429: waits for ``Retry-After`` or ``X-RateLimit-Reset`` (at most ``max_wait`` seconds) and retries; a
  429 was not accepted, so still 429 after ``max_attempts`` is *failed* (the next run sends it again).
* 5xx: *unknown* at once, never retried automatically: SendGrid may have queued it (it has no
  idempotency key, and a blind retry is how a batch goes out twice). ``--retry-unknown`` first asks
  the provider's events which readers it had in fact accepted.
* 400/404/413: *failed* with SendGrid's own message; the other batches go on. A 400 naming readers
  is split until those readers are alone (see :meth:`SendGridProvider._deliver`).
* 401/403: the whole run stops (:class:`ProviderError`) with a message about the key.
* a timeout or a dropped connection: *unknown*. A refused connection is tried again with backoff up to
  ``max_attempts``; then, or at once for an unknown host, the run stops (:class:`ProviderError`) with
  the batch *failed*: nothing of it left.

With ``--dry-run`` no API key is needed: the request bodies are built and nothing is sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import errno
import html
import http.client
import json
import random
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors

from digest import placeholders
from digest.config import Config, secret
from digest.errors import ConfigError, ProviderError
from digest.send.providers.address import ascii_address
from digest.send.providers.base import BatchResult, EditionMail, Recipient, UnknownOutcomeStop

MAX_PER_REQUEST = 1000
JSON_TYPE = "application/json; charset=utf-8"


def _ascii_or_as_is(email: str) -> str:
    """The sender's address in IDNA form (one SendGrid's schema takes); as it is if it has none (SendGrid says)."""
    try:
        return ascii_address(email)
    except ValueError:
        return email


def _refused_fields(body: Any) -> list[str]:
    """The ``field`` of each error in a SendGrid 400 body (e.g. ``personalizations.3.to.0.email``)."""
    try:
        data = json.loads(body)
        return [str(e.get("field") or "") for e in data.get("errors", []) if isinstance(e, dict)]
    except (TypeError, ValueError, AttributeError):
        return []


_PERSONALIZATION = re.compile(r"personalizations[.\[/](\d+)")


def _reason(body: Any) -> str:
    try:
        data = json.loads(body)
        return "; ".join(str(e.get("message", "")) for e in data.get("errors", [])) or str(data)[:300]
    except (TypeError, ValueError, AttributeError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else str(body))[:300]


def never_connected(exc: BaseException) -> str:
    """Why the connection was never established (so nothing of the request left), or "" if it may have been.

    Refused connections, unknown or unreachable hosts fail before a byte is sent; a timeout or a connection
    dropped later may come after SendGrid received the request, so they stay ambiguous.
    """
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror or reason})"
    if isinstance(reason, OSError) and reason.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return f"{reason.strerror or reason}"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its TLS certificate was refused ({reason.verify_message or reason})"
    return ""


class _TrackedHTTP(urllib.request.HTTPHandler):
    """urllib's handler, noting each connection's socket (for :meth:`SendGridProvider._deadline` to cut)."""

    def __init__(self, sockets: list[socket.socket]) -> None:
        super().__init__()
        self.sockets = sockets

    def http_open(self, req: Any) -> Any:
        sockets = self.sockets

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                sockets.append(self.sock)

        return self.do_open(Connection, req)


class _TrackedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, sockets: list[socket.socket]) -> None:
        super().__init__()
        self.sockets = sockets

    def https_open(self, req: Any) -> Any:
        sockets = self.sockets

        class Connection(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                sockets.append(self.sock)

        return self.do_open(Connection, req, context=getattr(self, "_context", None))


class _Json(bytes):
    """A request body already encoded; prints as its size, not its megabyte of JSON.

    python_http_client formats every payload into a debug message eagerly (even with debug off),
    which costs more than encoding it; this keeps that message cheap.
    """

    def __str__(self) -> str:
        return f"<{len(self)} bytes of JSON>"

    __repr__ = __str__


class _Encoded:
    """What python_http_client calls ``.encode('utf-8')`` on when the Content-Type is not bare application/json."""

    def __init__(self, body: bytes) -> None:
        self.data = body if isinstance(body, _Json) else _Json(body)

    def encode(self, _encoding: str = "utf-8") -> _Json:
        return self.data


def html_placeholder(name: str) -> str:
    """The HTML body's substitution key for slot ``name``: its value is HTML-escaped (the text body's is raw)."""
    return placeholders.token(name, "h")


class _Static:
    """What every request of an edition shares; the HTML body comes in variants (see :meth:`body`).

    Values the same for every recipient (the web version's URL) are written into the bodies once;
    only placeholders the templates use and that differ per recipient become substitutions. SendGrid
    puts a substitution into the text and the HTML as it is, so where a batch has a value that HTML
    must escape (a name like ``Ann & Bob``) that batch's HTML uses a second, escaped key.
    """

    SHARED = ("web_url",)

    def __init__(
        self,
        mail: EditionMail,
        categories: list[str],
        asm_group_id: int,
        sandbox: bool,
        tracking: tuple[bool, bool] = (False, False),
    ) -> None:
        text, body_html = mail.rendered.text, mail.rendered.html
        shared = {"web_url": f"{mail.web_url}"} if mail.web_url else {}
        text = placeholders.substitute(text, shared, escape=False)
        body_html = placeholders.substitute(body_html, shared, escape=True)
        used = (placeholders.used(text) | placeholders.used(body_html)) - set(shared)
        self.per_recipient = [
            (n, json.dumps(placeholders.token(n)), json.dumps(html_placeholder(n)))
            for n in placeholders.NAMES
            if n in used
        ]
        self.text, self.html = text, body_html
        sender: dict[str, str] = {"email": _ascii_or_as_is(mail.from_email)}
        if mail.from_name:
            sender["name"] = mail.from_name
        self.common: dict[str, Any] = {"from": sender, "subject": ("[TEST] " if mail.test else "") + mail.subject}
        if mail.reply_to:
            self.common["reply_to"] = {"email": _ascii_or_as_is(mail.reply_to)}
        wanted = categories + (["test"] if mail.test and "test" not in categories else [])
        if wanted:
            self.common["categories"] = wanted[:10]
        if asm_group_id:
            self.common["asm"] = {"group_id": asm_group_id}
        if sandbox:
            self.common["mail_settings"] = {"sandbox_mode": {"enable": True}}
        if mail.feedback_id:
            self.common["headers"] = {"Feedback-ID": mail.feedback_id}
        # Sent explicitly, whatever the account's defaults: click tracking rewrites every link (one-click
        # unsubscribe included) onto SendGrid's domain, and open tracking adds a pixel; both off unless asked.
        clicks, opens = tracking
        self.common["tracking_settings"] = {
            "click_tracking": {"enable": clicks, "enable_text": clicks},
            "open_tracking": {"enable": opens},
        }
        self._variants: dict[frozenset[str], str] = {}

    def encoded(self, escaped: frozenset[str]) -> str:
        """The rest of the body as JSON text after ``"personalizations":[...],`` (with its closing brace)."""
        found = self._variants.get(escaped)
        if found is None:
            body_html = self.html
            for name in escaped:
                body_html = body_html.replace(placeholders.token(name), html_placeholder(name))
            rest = {
                **self.common,
                "content": [{"type": "text/plain", "value": self.text}, {"type": "text/html", "value": body_html}],
            }
            found = json.dumps(rest, separators=(",", ":"))[1:]
            self._variants[escaped] = found
        return found


class SendGridProvider:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        *,
        host: str,
        timeout: float = 30.0,
        deadline: float = 120.0,
        batch_size: int = MAX_PER_REQUEST,
        concurrency: int = 4,
        categories: list[str] | None = None,
        asm_group_id: int = 0,
        sandbox: bool = False,
        click_tracking: bool = False,
        open_tracking: bool = False,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = api_key  # never printed or logged
        self.host = host.rstrip("/")
        self.timeout = timeout
        self.deadline = max(deadline, timeout)  # a whole request, answer included
        self.batch_size = max(1, min(batch_size, MAX_PER_REQUEST))
        self.concurrency = max(1, concurrency)
        self.categories = list(dict.fromkeys(c[:255] for c in (categories or [])))[:10]
        self.asm_group_id = asm_group_id
        self.sandbox = sandbox
        self.tracking = (click_tracking, open_tracking)
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep
        self._local = threading.local()
        self._static: dict[tuple[int, bool], _Static] = {}
        self._static_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, *, dry_run: bool = False) -> SendGridProvider:
        key = secret("SENDGRID_API_KEY") or ("dry-run: no key needed" if dry_run else "")
        if not key:
            raise ConfigError("SENDGRID_API_KEY is not set: export your SendGrid API key (Mail Send permission)")
        s = config.settings.sendgrid
        parts = urllib.parse.urlsplit(s.host)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # caught here, before any batch is written in flight: urllib would fail on it after
            raise ConfigError(
                f"[sendgrid] host {s.host!r} is not an http(s) URL; use https://api.sendgrid.com"
                " (or DIGEST_SENDGRID_HOST=http://127.0.0.1:PORT for a local stand-in)"
            )
        return cls(
            key,
            host=s.host,
            timeout=s.timeout,
            deadline=s.deadline,
            batch_size=config.settings.send.batch_size,
            concurrency=config.settings.send.concurrency,
            categories=s.categories,
            asm_group_id=s.asm_group_id,
            sandbox=s.sandbox,
            click_tracking=s.click_tracking,
            open_tracking=s.open_tracking,
            max_attempts=s.max_attempts,
            max_wait=s.max_wait,
            backoff=s.backoff,
        )

    def client(self) -> sendgrid.SendGridAPIClient:
        """One official client per thread (python_http_client mutates its headers per request)."""
        sg = getattr(self._local, "client", None)
        if sg is None:
            sg = sendgrid.SendGridAPIClient(api_key=self._api_key, host=self.host)
            sg.client.timeout = self.timeout
            # we encode the JSON ourselves (see _Encoded); the charset parameter tells the client so
            sg.client.request_headers["Content-Type"] = JSON_TYPE
            self._local.client = sg
        return sg

    # -- the request body ------------------------------------------------------------------
    def _static_part(self, mail: EditionMail) -> _Static:
        key = (id(mail), mail.test)
        with self._static_lock:
            found = self._static.get(key)
            if found is None:
                found = _Static(mail, self.categories, self.asm_group_id, self.sandbox, self.tracking)
                self._static = {key: found}  # one edition at a time
            return found

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> _Json:
        """The POST /v3/mail/send body for one batch, encoded: one personalization per recipient.

        Written as JSON text piece by piece (every string through ``json.dumps``): building dicts
        for ``json.dumps`` to walk costs twice as much, and this runs for every recipient.
        """
        recipients = self.writable(recipients)  # IDNA domains; a reader SendGrid cannot take is left out
        static = self._static_part(mail)
        keys = static.per_recipient
        escape, dumps = html.escape, json.dumps
        escaped = frozenset(
            name for name, _, _ in keys if any(escape(v) != v for v in (r.values.get(name, "") for r in recipients))
        )
        # a test copy says so: its events are no evidence that the edition reached the reader
        test = '"test":"yes",' if mail.test else ""
        args = f'"custom_args":{{{test}"edition_id":"{mail.edition_id}","list_id":"{mail.list_id}","subscriber_id":"'
        tail = (
            ""
            if not mail.list_headers
            else f',"headers":{{"List-Unsubscribe-Post":"List-Unsubscribe=One-Click","List-Id":'
            f'{dumps(mail.list_id_header)},"List-Unsubscribe":'
        )
        parts = []
        for r in recipients:
            values = r.values
            to = f'{{"email":{dumps(r.email)},"name":{dumps(r.name)}}}' if r.name else f'{{"email":{dumps(r.email)}}}'
            subs = []
            for name, raw_key, html_key in keys:
                value = values.get(name, "")
                subs.append(f"{raw_key}:{dumps(value)}")
                if name in escaped:
                    subs.append(f"{html_key}:{dumps(escape(value))}")
            p = f'{{"to":[{to}],{args}{r.subscriber_id}"}}'
            if subs:
                p += f',"substitutions":{{{",".join(subs)}}}'
            if tail:
                p += f"{tail}{dumps(mail.list_unsubscribe(values['unsubscribe_url']))}}}"
            parts.append(p + "}")
        return _Json(f'{{"personalizations":[{",".join(parts)}],{static.encoded(escaped)}'.encode())

    # -- sending ---------------------------------------------------------------------------
    @staticmethod
    def writable(
        recipients: list[Recipient], outcomes: dict[int, tuple[str, str | None]] | None = None
    ) -> list[Recipient]:
        """The recipients with their domains in IDNA form; one with a non-ASCII local part cannot be written in
        the form SendGrid takes (``format: email``) and fails alone (into ``outcomes``)."""
        out = []
        for r in recipients:
            if r.email.isascii():
                out.append(r)
                continue
            try:
                out.append(dataclasses.replace(r, email=ascii_address(r.email)))
            except ValueError as exc:
                if outcomes is not None:
                    outcomes[r.subscriber_id] = (
                        "failed",
                        f"not sent: {exc}; SendGrid takes only ASCII addresses: ask the reader for an ASCII"
                        " address, or send this list through an SMTP server with SMTPUTF8",
                    )
        return out

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        outcomes: dict[int, tuple[str, str | None]] = {}
        writable = self.writable(recipients, outcomes)
        if not writable:
            return BatchResult("failed", error=next(iter(outcomes.values()))[1], attempts=0, outcomes=outcomes)
        result = self._deliver(mail, writable, outcomes)
        if not outcomes:
            return result
        statuses = {status for status, _ in outcomes.values()}
        if len(outcomes) == len(recipients) and len(statuses) == 1:  # one fate for all: the batch's
            return dataclasses.replace(result, status=statuses.pop(), outcomes=outcomes)
        return dataclasses.replace(result, outcomes=outcomes)  # its status for everyone not in outcomes

    def _deliver(
        self,
        mail: EditionMail,
        recipients: list[Recipient],
        outcomes: dict[int, tuple[str, str | None]],
        split: bool = False,
    ) -> BatchResult:
        """Send ``recipients``; a 400 that names personalizations is split until the refused readers are alone.

        A 400 proves nothing of that request was accepted, so its parts may go again: the readers it names are
        tried alone and the rest together (or, when that does not narrow it, each half), until each refused
        reader fails alone with SendGrid's words and everyone else is sent. Once split, ``outcomes`` gets every
        reader whose fate is not ``sent`` and the result is ``sent``; unsplit, the result is the request's.
        """
        try:
            result, fields = self._post(self.prepare(mail, recipients))
        except ProviderError as exc:
            if not split:
                raise
            # the run must stop, but other parts of this batch went: record this part, the next batch stops it
            status = "unknown" if isinstance(exc, UnknownOutcomeStop) else "failed"
            outcomes.update((r.subscriber_id, (status, str(exc))) for r in recipients)
            return BatchResult(status, error=str(exc), attempts=1)
        named = {
            int(m.group(1)) for f in fields if (m := _PERSONALIZATION.match(f)) and int(m.group(1)) < len(recipients)
        }
        if result.status != "failed" or not named or len(recipients) == 1:
            if split and result.status != "sent":  # unsplit, the result's status is everyone's
                outcomes.update((r.subscriber_id, (result.status, result.error)) for r in recipients)
            return result
        suspects = [r for i, r in enumerate(recipients) if i in named]
        if len(suspects) < len(recipients) and len(suspects) <= 8:
            parts = [[r for i, r in enumerate(recipients) if i not in named], *([r] for r in suspects)]
        else:
            half = len(recipients) // 2
            parts = [recipients[:half], recipients[half:]]
        attempts, message_id = result.attempts, None
        for part in parts:
            got = self._deliver(mail, part, outcomes, split=True)
            attempts += got.attempts
            message_id = message_id or got.message_id
        return BatchResult("sent", message_id=message_id, error=result.error, attempts=attempts)

    def post(self, body: bytes) -> BatchResult:
        """POST /v3/mail/send (an encoded body from :meth:`prepare`) with the module docstring's retry rules."""
        return self._post(body)[0]

    def _deadline(self, endpoint: Any) -> tuple[threading.Timer, list[socket.socket]]:
        """A timer that cuts the request's connection once ``deadline`` seconds have passed, whatever it is doing
        (a reply trickled byte by byte never runs into the per-read ``timeout``); started by the caller."""
        sockets: list[socket.socket] = []
        opener = urllib.request.build_opener(_TrackedHTTP(sockets), _TrackedHTTPS(sockets))
        make = type(endpoint)._make_request
        endpoint._make_request = lambda _opener, request, timeout=None: make(endpoint, opener, request, timeout)

        def cut() -> None:
            for sock in list(sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        return threading.Timer(self.deadline, cut), sockets

    def _post(self, body: bytes) -> tuple[BatchResult, list[str]]:
        """:meth:`post`, and the fields a 400 names (none for any other answer).

        Only answers that prove nothing was accepted are tried again (a 429, a connection never established);
        anything that may have been accepted ends the request *unknown* at once: SendGrid has no idempotency key,
        so a blind retry after a 5xx or a timeout is how a batch goes out twice.
        """
        attempt = 0
        endpoint = self.client().client.mail.send
        encoded = _Encoded(body)
        while True:
            attempt += 1
            timer, _ = self._deadline(endpoint)
            timer.start()
            try:
                try:
                    response = endpoint.post(request_body=encoded)
                finally:
                    timer.cancel()
                headers = response.headers
                return BatchResult(
                    "sent", message_id=headers.get("X-Message-Id") if headers else None, attempts=attempt
                ), []
            except http_errors.UnauthorizedError as exc:
                raise ProviderError(
                    f"SendGrid refused the API key (401: {_reason(exc.body)}); check that"
                    " SENDGRID_API_KEY is a current key"
                ) from None
            except http_errors.ForbiddenError as exc:
                raise ProviderError(
                    f"SendGrid forbids this API key to send (403: {_reason(exc.body)});"
                    " give the key the Mail Send permission or verify the sender"
                ) from None
            except http_errors.TooManyRequestsError as exc:
                if attempt >= self.max_attempts:
                    return BatchResult(
                        "failed", error=f"429: still rate limited after {attempt} attempts", attempts=attempt
                    ), []
                self.sleep(self._rate_limit_wait(exc.headers))
            except (http_errors.BadRequestsError, http_errors.PayloadTooLargeError, http_errors.NotFoundError) as exc:
                fields = _refused_fields(exc.body) if exc.status_code == 400 else []
                return BatchResult("failed", error=f"{exc.status_code}: {_reason(exc.body)}", attempts=attempt), fields
            except http_errors.HTTPError as exc:
                if exc.status_code < 500:
                    return BatchResult("failed", error=f"{exc.status_code}: {_reason(exc.body)}", attempts=attempt), []
                return BatchResult(
                    "unknown",
                    error=f"{exc.status_code}: {_reason(exc.body)} (SendGrid may have queued it; not retried)",
                    attempts=attempt,
                ), []
            except (OSError, http.client.HTTPException) as exc:
                never = never_connected(exc)
                if not never:
                    late = f" within the {self.deadline:g} s deadline" if timer.finished.is_set() else ""
                    return BatchResult(
                        "unknown",
                        error=f"no answer from SendGrid{late} ({type(exc).__name__}: {exc});"
                        " it may or may not have accepted the batch",
                        attempts=attempt,
                    ), []
                if attempt >= self.max_attempts or not never.startswith("connection refused"):
                    # nothing of this batch left: failed (sent again next run), and the run stops
                    raise ProviderError(
                        f"cannot reach SendGrid at {self.host}: {never}; check"
                        " DIGEST_SENDGRID_HOST / [sendgrid] host and the network"
                    ) from None
                self.sleep(min(self.max_wait, self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)))

    def _rate_limit_wait(self, headers: Any) -> float:
        """How long a 429 asks to wait: ``Retry-After`` (seconds or an HTTP date), else ``X-RateLimit-Reset``
        (epoch seconds), else a second; never more than ``max_wait``."""
        wait = 1.0
        retry_after = headers.get("Retry-After") if headers else None
        reset = headers.get("X-RateLimit-Reset") if headers else None
        try:
            if retry_after:
                if retry_after.strip().isdigit():
                    wait = float(retry_after)
                else:
                    wait = email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time()
            elif reset:
                wait = float(reset) - time.time()
        except (TypeError, ValueError, OverflowError):
            wait = 1.0
        return min(max(wait, 0.05), self.max_wait)

    # -- suppressions ----------------------------------------------------------------------
    def suppressions(self, kind: str, page_size: int = 500) -> list[dict[str, Any]]:
        """Every entry of ``/v3/suppression/<kind>`` (unsubscribes, bounces, spam_reports), page by page."""
        endpoint = getattr(self.client().client.suppression, kind)
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            try:
                response = endpoint.get(query_params={"limit": page_size, "offset": offset})
            except (http_errors.UnauthorizedError, http_errors.ForbiddenError) as exc:
                raise ProviderError(
                    f"SendGrid refused to list {kind} ({exc.status_code}): give SENDGRID_API_KEY"
                    " the Suppressions read permission"
                ) from None
            except http_errors.HTTPError as exc:
                raise ProviderError(
                    f"SendGrid failed to list {kind} ({exc.status_code}: {_reason(exc.body)}); try again later"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise ProviderError(
                    f"cannot reach SendGrid at {self.host} ({exc}); check the network or DIGEST_SENDGRID_HOST"
                ) from None
            page = json.loads(response.body or b"[]")
            out.extend(page)
            if len(page) < page_size:
                return out
            offset += page_size

    def close(self) -> None:
        self._static = {}
