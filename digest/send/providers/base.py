"""The one small interface every mail provider implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from digest.errors import ProviderError
from digest.models import Rendered


class UnknownOutcomeStop(ProviderError):
    """The whole run must stop (as :class:`ProviderError`), but an earlier attempt of this batch may have been
    accepted (e.g. a 401 after a 5xx): the batch is recorded *unknown*, not failed, so it is not re-sent."""


@dataclass
class EditionMail:
    """What is the same for every recipient of an edition."""

    edition_id: int
    list_id: int
    list_name: str
    from_email: str
    from_name: str
    reply_to: str
    list_id_header: str  # RFC 2919 List-Id value, e.g. "main <main.digest.example.com>"
    rendered: Rendered
    categories: list[str] = field(default_factory=list)
    test: bool = False
    web_url: str = ""  # the edition's web version: the same for every recipient
    kind: str = "edition"  # or a one-off mail to one person: "confirm", "welcome" (no list headers, no ledger)
    unsubscribe_mailto: str = ""  # [sender] unsubscribe_mailto: a mailto: List-Unsubscribe beside the https one
    feedback_id: str = ""  # Gmail's Feedback-ID (edition:list:digest:domain): complaint rates per list in Postmaster

    def list_unsubscribe(self, unsubscribe_url: str) -> str:
        """The List-Unsubscribe value (RFC 2369): the one-click https link, then the mailto: when one is set."""
        value = f"<{unsubscribe_url}>"
        if self.unsubscribe_mailto:
            value += f", <mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{self.list_name}>"
        return value

    @property
    def list_headers(self) -> bool:
        """Whether messages carry List-Unsubscribe and List-Id: an edition's real send only, not a test copy nor
        a one-off mail to someone not (yet) receiving the list."""
        return not self.test and self.kind == "edition"

    @property
    def subject(self) -> str:
        """The rendered subject: its one source (the edition row keeps a copy of it for listings)."""
        return self.rendered.subject


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
    """How one batch ended.

    ``status`` is the batch's fate: ``sent``, ``failed`` (certainly not sent: safe to send again) or
    ``unknown`` (may or may not have left: never re-sent without ``--retry-unknown``). ``outcomes``
    overrides it for single recipients (subscriber id -> (status, error)), e.g. an SMTP server
    refusing one address or a connection lost after some messages went.
    """

    status: str
    message_id: str | None = None
    error: str | None = None
    attempts: int = 1
    outcomes: dict[int, tuple[str, str | None]] = field(default_factory=dict)


class Provider(Protocol):
    name: str
    batch_size: int
    concurrency: int  # how many batches may be in flight at once (send_batch is called from that many threads)

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> object:
        """Build everything one batch needs (messages, request body); sends nothing (``--dry-run`` stops here)."""
        ...

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        """Send one batch; must not raise for a batch-level failure (return ``failed``/``unknown``).

        Raise :class:`digest.errors.ProviderError` only when the whole run must stop (a refused
        key or login, an unreachable server), and only when nothing of this batch has left; raise
        :class:`UnknownOutcomeStop` instead when the run must stop but some of the batch may have left.
        """
        ...

    def close(self) -> None: ...
