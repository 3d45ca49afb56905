"""Provider webhooks: SendGrid's signed Event Webhook at ``POST /webhooks/sendgrid``.

The signature (ECDSA over timestamp + raw body) is checked with the official client's
``EventWebhook`` helper; anything that does not verify gets 403 and changes nothing. Without a
configured key ([sendgrid] webhook_public_key or DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY) the route
answers 503 so that SendGrid keeps retrying until it is set. A delivery signed longer ago than
``[sendgrid] event_max_age_hours`` is refused (403), and so is each event that happened before then; a
malformed event is skipped and counted, the rest of its batch kept.
"""

from __future__ import annotations

import json

from sendgrid.helpers.eventwebhook import EventWebhook
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from digest import clock
from digest.config import Config
from digest.send.events import record_events
from digest.web.common import open_store

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY = 20_000_000


def verify(public_key: str, raw: bytes, signature: str | None, timestamp: str | None) -> bool:
    """True only for a well-formed signature that matches; never raises."""
    if not signature or not timestamp:
        return False
    try:
        return bool(EventWebhook(public_key).verify_signature(raw.decode("utf-8"), signature, timestamp))
    except Exception:  # malformed base64 or DER, a bad body encoding: the helper raises instead of saying False
        return False


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, read as it streams in; None as soon as it passes ``limit`` bytes (or says it will)."""
    try:
        declared = int(request.headers.get("content-length", "0"))
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _recent(stamp: str | None, max_age: float) -> bool:
    """Whether a signature's timestamp (epoch seconds) is within ``max_age`` seconds of now (a minute ahead at most)."""
    try:
        when = int(stamp or "")
    except ValueError:
        return False
    now = clock.now().timestamp()
    return now - max_age <= when <= now + 60


def routes(config: Config) -> list[BaseRoute]:
    async def sendgrid_events(request: Request) -> Response:
        key = config.settings.sendgrid.webhook_public_key.strip()
        if not key:
            return PlainTextResponse("set [sendgrid] webhook_public_key to receive events\n", status_code=503)
        raw = await read_capped(request, MAX_BODY)
        if raw is None:
            return PlainTextResponse("too large\n", status_code=413)
        stamp = request.headers.get(TIMESTAMP)
        if not verify(key, raw, request.headers.get(SIGNATURE), stamp):
            return PlainTextResponse("invalid signature\n", status_code=403)
        max_age = config.settings.sendgrid.event_max_age_hours * 3600
        if max_age > 0 and not _recent(stamp, max_age):  # a signed batch replayed later changes nothing
            return PlainTextResponse("signed too long ago (a replay?)\n", status_code=403)
        try:
            events = json.loads(raw)
        except ValueError:
            return PlainTextResponse("the body is not JSON\n", status_code=400)
        if not isinstance(events, list):
            return PlainTextResponse("expected a JSON array of events\n", status_code=400)

        def record() -> dict[str, int]:
            with open_store(config) as store:
                return record_events(store, events, max_age_s=max_age or None)

        return JSONResponse(await run_in_threadpool(record))

    return [Route("/webhooks/sendgrid", sendgrid_events, methods=["POST"])]
