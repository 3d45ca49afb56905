"""Helpers for archive tests: an edition counts as published once it went to a reader."""

from __future__ import annotations

from digest.config import Config
from digest.render import render_edition
from digest.send import send_edition
from digest.store import Store


def send_to_a_reader(store: Store, config: Config, edition_id: int, list_name: str = "golden") -> None:
    """Give the list one more confirmed reader and send the edition to them through the outbox."""
    lst = store.list_(list_name)
    with store.transaction(immediate=True):
        sid = store.next_subscriber_id()
        store.insert_subscribers([(sid, f"reader{sid}@example.org", "", "{}", "2026-11-01T00:00:00+00:00")])
        store.insert_subscriptions(lst.id, [(sid, "confirmed")], "2026-11-01T00:00:00+00:00")
    report = send_edition(store, config, edition_id, render_edition(store, config, edition_id), provider="outbox")
    assert report.sent == 1
