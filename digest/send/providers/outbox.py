"""The ``outbox`` provider: one ``.eml`` file per recipient, no account needed."""

from __future__ import annotations

import os
import re
from email.message import EmailMessage
from pathlib import Path

from digest.send.message import build_message
from digest.send.providers.base import BatchResult, EditionMail, Recipient


class OutboxProvider:
    name = "outbox"
    concurrency = 1

    def __init__(self, directory: Path, batch_size: int = 1000) -> None:
        self.directory = directory
        self.batch_size = batch_size

    def folder(self, mail: EditionMail) -> Path:
        return self.directory / (f"test-{mail.edition_id}" if mail.test else f"edition-{mail.edition_id}")

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> list[EmailMessage]:
        return [build_message(mail, r, "digest.local") for r in recipients]

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        folder = self.folder(mail)
        folder.mkdir(parents=True, exist_ok=True)
        for r, msg in zip(recipients, self.prepare(mail, recipients), strict=True):
            safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", r.email)
            path = folder / f"{r.subscriber_id:08d}-{safe}.eml"
            tmp = path.with_suffix(".eml.tmp")
            tmp.write_bytes(bytes(msg))
            os.replace(tmp, path)
        return BatchResult("sent", message_id=f"outbox:{folder.name}")

    def close(self) -> None:
        return None
