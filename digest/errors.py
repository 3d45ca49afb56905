"""The errors a user can act on.

Every :class:`DigestError` message is one line that says what went wrong and how to fix it.
The CLI prints it and exits with code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import re
import sqlite3

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


def machine_fault(exc: BaseException) -> str | None:
    """One line saying what a fault of the machine (a full disk, a read-only home, a store locked for too long)
    means and how to fix it; None for anything else (a bug keeps its traceback).

    SQLite rolls back the transaction it was in, so the store is left as it was before that write: a batch it
    could not mark in flight never left, and one it could not finish stays in flight, for the next run to
    report unknown.
    """
    if isinstance(exc, sqlite3.DatabaseError):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return (
                f"the store is locked by another process ({exc}); let it finish (or stop it) and run again,"
                " and keep digest.db off network file systems"
            )
        if "full" in text:
            return f"the disk is full ({exc}); nothing half-written was kept: free some space and run again"
        if "readonly" in text or "read-only" in text:
            return f"the store cannot be written ({exc}); make the home and digest.db writable and run again"
        if "unable to open" in text or "disk i/o" in text:
            return f"the store cannot be read or written ({exc}); check the home's disk and permissions"
        return None
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full writing {exc.filename or 'a file'}; free some space and run again"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write {exc.filename or 'a file'} ({exc.strerror}); make the home writable and run again"
    return None
