"""digest: collect stories, rank a Top Stories digest, render it through MJML and send it.

The public API is :class:`digest.Newsletter`. It is loaded on first use so that ``import digest``
(and with it ``digest --version``) stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Newsletter", "__version__"]

if TYPE_CHECKING:
    from digest.newsletter import Newsletter


def __getattr__(name: str) -> Any:
    if name == "Newsletter":
        from digest.newsletter import Newsletter  # on first use: 'import digest' (the CLI's start) stays light

        return Newsletter
    raise AttributeError(f"module 'digest' has no attribute {name!r}")
