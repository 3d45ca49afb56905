"""Queries on delivery events reported by providers (webhooks) and per-edition stats."""

from __future__ import annotations

from digest.store.base import QueryBase


class EventQueries(QueryBase):
    pass
