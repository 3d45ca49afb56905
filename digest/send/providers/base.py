"""The one small interface every mail provider implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from digest.render import Rendered


@dataclass
class EditionMail:
    """What is the same for every recipient of an edition."""

    edition_id: int
    list_id: int
    list_name: str
    subject: str
    from_email: str
    from_name: str
    reply_to: str
    list_id_header: str  # RFC 2919 List-Id value, e.g. "main <main.digest.example.com>"
    rendered: Rendered
    categories: list[str] = field(default_factory=list)
    test: bool = False


@dataclass
class Recipient:
    subscriber_id: int
    email: str
    name: str
    values: dict[str, str]  # placeholder values: unsubscribe_url, web_url, name, email

    @property
    def unsubscribe_url(self) -> str:
        return self.values["unsubscribe_url"]


@dataclass
class BatchResult:
    status: str  # sent | failed | unknown
    message_id: str | None = None
    error: str | None = None
    attempts: int = 1


class Provider(Protocol):
    name: str
    batch_size: int

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        """Send one batch; must not raise for a batch-level failure (return ``failed``/``unknown``).

        Raise :class:`digest.errors.ProviderError` only when the whole run must stop
        (a bad API key, an unreachable server).
        """
        ...

    def close(self) -> None: ...
