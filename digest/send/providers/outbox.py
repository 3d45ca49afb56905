"""The ``outbox`` provider: one ``.eml`` file per recipient, no account needed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from digest.send.message import MessageTemplate, Templates
from digest.send.providers.base import BatchResult, EditionMail, Recipient

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class OutboxProvider:
    name = "outbox"
    concurrency = 1

    def __init__(self, directory: Path, batch_size: int = 1000) -> None:
        self.directory = directory
        self.batch_size = batch_size
        self._templates = Templates("digest.local")

    def folder(self, mail: EditionMail) -> Path:
        if mail.kind != "edition":  # one-off mails (confirmation, welcome): one folder each, newest per reader
            return self.directory / mail.kind
        return self.directory / (f"test-{mail.edition_id}" if mail.test else f"edition-{mail.edition_id}")

    def template(self, mail: EditionMail) -> MessageTemplate:
        """The edition's shared parts, encoded once for all its batches."""
        return self._templates.get(mail)

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> list[bytes]:
        return self.template(mail).render_batch(recipients)

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        folder = self.folder(mail)
        folder.mkdir(parents=True, exist_ok=True)
        template = self.template(mail)
        date, stamp = template.stamps()
        for r in recipients:  # one message at a time: memory holds one, not the batch
            data = template.render(r, date, stamp)
            path = os.path.join(folder, f"{r.subscriber_id:08d}-{_UNSAFE.sub('_', r.email)}.eml")
            tmp = path + ".tmp"  # written whole, then renamed: a reader of the folder never sees half a message
            write_file(tmp, data)
            os.replace(tmp, path)
        return BatchResult("sent", message_id=f"outbox:{folder.name}")

    def close(self) -> None:
        self._templates.clear()


def write_file(path: str, data: bytes) -> None:
    """``data`` as the whole of the file at ``path``: no buffered file object around one write."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
