"""Routes for preview (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from digest.config import Config


def routes(config: Config) -> list[BaseRoute]:
    return []
