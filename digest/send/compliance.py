"""What the law and the mailbox providers ask of every real send: a real postal address in the footer.

CAN-SPAM (and most anti-spam laws) want a valid physical postal address in every commercial email; a
placeholder ("1 Example Street") is as bad as none. The outbox and dry runs send nothing, so they are free to
render without one; a real provider (SMTP, SendGrid) refuses, naming the fix.
"""

from __future__ import annotations

import re

from digest.errors import ConfigError
from digest.models import MailingList

# Addresses copied from samples and templates; matched as words, case-insensitively, after folding spaces.
_PLACEHOLDER = re.compile(
    r"\bexample (street|st|road|rd|avenue|ave|lane|media)\b|\banytown\b|\b123 main (street|st)\b"
    r"|\byour (postal |street |mailing )?address\b|^\(set |\bchange ?me\b|\blorem ipsum\b|\b(todo|tbd|fixme)\b"
    r"|\bexample\.(com|org|net)\b|\bacme (corp|inc)\b",
    re.I,
)
LOCAL_PROVIDERS = ("outbox",)


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot go out as the footer's postal address, or None when it can."""
    text = " ".join(address.split())
    if not text:
        return "no postal address"
    if _PLACEHOLDER.search(text):
        return f"a placeholder postal address ({text!r})"
    return None


def address_fix(list_name: str) -> str:
    return f"set the list's real postal address with 'digest lists edit {list_name} --address \"…\"'"


def require_postal_address(list_row: MailingList, provider: str) -> None:
    """Refuse a real send of a list without a real postal address (the outbox may render without one)."""
    if provider in LOCAL_PROVIDERS:
        return
    problem = address_problem(list_row.address)
    if problem:
        raise ConfigError(
            f"list '{list_row.name}' has {problem}, and every email must carry a real one (CAN-SPAM):"
            f" {address_fix(list_row.name)}"
        )
