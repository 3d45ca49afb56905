"""The ``sendgrid`` provider: the official client, up to 1000 recipients per request.

Each recipient is one personalization (nobody sees another address) carrying its own
substitutions (unsubscribe URL, name, web URL), list headers and ``custom_args``.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors

from digest.config import Config, secret
from digest.errors import ConfigError, ProviderError
from digest.render import placeholder
from digest.send.message import list_headers
from digest.send.providers.base import BatchResult, EditionMail, Recipient

MAX_PER_REQUEST = 1000


def _reason(body: Any) -> str:
    try:
        data = json.loads(body)
        return "; ".join(e.get("message", "") for e in data.get("errors", [])) or str(data)
    except (TypeError, ValueError, AttributeError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else str(body))[:300]


class SendGridProvider:
    name = "sendgrid"

    def __init__(self, api_key: str, *, host: str, timeout: float = 30.0, batch_size: int = MAX_PER_REQUEST,
                 categories: list[str] | None = None, asm_group_id: int = 0, sandbox: bool = False,
                 max_attempts: int = 5, max_wait: float = 60.0) -> None:
        self.client = sendgrid.SendGridAPIClient(api_key=api_key, host=host)
        self.client.client.timeout = timeout
        self.batch_size = min(batch_size, MAX_PER_REQUEST)
        self.categories = categories or []
        self.asm_group_id = asm_group_id
        self.sandbox = sandbox
        self.max_attempts = max_attempts
        self.max_wait = max_wait

    @classmethod
    def from_config(cls, config: Config) -> SendGridProvider:
        key = secret("SENDGRID_API_KEY")
        if not key:
            raise ConfigError("SENDGRID_API_KEY is not set: export your SendGrid API key (Mail Send permission)")
        s = config.settings.sendgrid
        import os

        host = os.environ.get("DIGEST_SENDGRID_HOST") or s.host
        return cls(key, host=host, timeout=s.timeout, batch_size=config.settings.send.batch_size,
                   categories=s.categories, asm_group_id=s.asm_group_id, sandbox=s.sandbox,
                   max_attempts=s.max_attempts, max_wait=s.max_wait)

    def body(self, mail: EditionMail, recipients: list[Recipient]) -> dict[str, Any]:
        html = mail.rendered.html
        text = mail.rendered.text
        personalizations = []
        for r in recipients:
            to: dict[str, str] = {"email": r.email}
            if r.name:
                to["name"] = r.name
            p: dict[str, Any] = {
                "to": [to],
                "substitutions": {placeholder(k): v for k, v in r.values.items()},
                "custom_args": {"edition_id": str(mail.edition_id), "subscriber_id": str(r.subscriber_id),
                                "list_id": str(mail.list_id)},
            }
            if not mail.test:
                p["headers"] = list_headers(mail, r)
            personalizations.append(p)
        sender: dict[str, str] = {"email": mail.from_email}
        if mail.from_name:
            sender["name"] = mail.from_name
        body: dict[str, Any] = {
            "personalizations": personalizations,
            "from": sender,
            "subject": ("[TEST] " if mail.test else "") + mail.subject,
            "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": html}],
        }
        if mail.reply_to:
            body["reply_to"] = {"email": mail.reply_to}
        if self.categories:
            body["categories"] = self.categories[:10]
        if self.asm_group_id:
            body["asm"] = {"group_id": self.asm_group_id}
        if self.sandbox:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        body = self.body(mail, recipients)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.client.client.mail.send.post(request_body=body)
                message_id = response.headers.get("X-Message-Id") if response.headers else None
                return BatchResult("sent", message_id=message_id, attempts=attempt)
            except http_errors.UnauthorizedError as exc:
                raise ProviderError(f"SendGrid refused the API key (401: {_reason(exc.body)});"
                                    " check SENDGRID_API_KEY") from None
            except http_errors.ForbiddenError as exc:
                raise ProviderError(f"SendGrid forbids this key from sending (403: {_reason(exc.body)});"
                                    " give it the Mail Send permission") from None
            except http_errors.TooManyRequestsError as exc:
                if attempt >= self.max_attempts:
                    return BatchResult("failed", error=f"429 rate limited {attempt} times", attempts=attempt)
                reset = (exc.headers or {}).get("X-RateLimit-Reset")
                wait = float(reset) - time.time() if reset else 1.0
                time.sleep(min(max(wait, 0.1), self.max_wait))
            except (http_errors.BadRequestsError, http_errors.PayloadTooLargeError, http_errors.NotFoundError) as exc:
                return BatchResult("failed", error=f"{exc.status_code}: {_reason(exc.body)}", attempts=attempt)
            except http_errors.HTTPError as exc:
                if exc.status_code < 500 or attempt >= self.max_attempts:
                    return BatchResult("unknown" if exc.status_code >= 500 else "failed",
                                       error=f"{exc.status_code}: {_reason(exc.body)}", attempts=attempt)
                time.sleep(min(self.max_wait, 0.2 * 2 ** attempt * (0.5 + random.random())))
            except (TimeoutError, OSError) as exc:
                return BatchResult("unknown", error=f"no answer from SendGrid: {exc}", attempts=attempt)

    def close(self) -> None:
        return None
