"""The errors a user can act on.

Every :class:`DigestError` message is one line that says what went wrong and how to fix it.
The CLI prints it and exits with code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re

# Where a message's fix starts: "what went wrong: run 'digest build'" or "...; pick another with --port".
_FIX = re.compile(
    r"(?:: |; |, | \()(?=(?:run|use|give|create|export|set|fix|pick|add|pass|check|see|unset|did you mean|try|"
    r"install|edit|remove|rename|wait|put|name|keep|ask|open|collect|lower|raise|make|start|choose|delete)\b)"
)


def split_hint(message: str) -> tuple[str, str]:
    """(what went wrong, how to fix it) of a one-line message; the hint is empty when none is said."""
    found = list(_FIX.finditer(message))
    if not found:
        return message, ""
    cut = found[0]
    hint = message[cut.end() :]
    if cut.group(0) == " (" and hint.endswith(")"):
        hint = hint[:-1]
    return message[: cut.start()], hint


class DigestError(Exception):
    """A problem the user can fix; the message names the fix."""

    exit_code = 1

    @property
    def hint(self) -> str:
        """How to fix it, as the message says (``--json`` errors carry it on its own)."""
        return split_hint(str(self))[1]


class ConfigError(DigestError):
    """digest.toml or a DIGEST_* variable is missing or wrong."""


class HomeError(DigestError):
    """The newsletter home does not exist or has not been initialised."""


class StoreError(DigestError):
    """The SQLite store cannot be opened or is busy."""


class SourceError(DigestError):
    """A source cannot be fetched or parsed."""


class NotFoundError(DigestError):
    """A named thing (list, source, story, edition, subscriber) does not exist."""


class TemplateError(DigestError):
    """A template failed to render; the message names the file and line."""


class SubscriberError(DigestError):
    """An address or subscriber operation was refused."""


class ProviderError(DigestError):
    """The mail provider refused or failed; the message carries the provider's words."""


class LockedError(DigestError):
    """Another process holds the send lock for this edition."""


class NothingToSendError(DigestError):
    """No edition, or no new stories, to send."""
