"""The stats command: per-edition sending and delivery figures."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, state, table
from digest.errors import NotFoundError

if TYPE_CHECKING:
    pass


def stats(
    ctx: typer.Context,
    edition: int = typer.Option(None, "--edition", help="One edition's id (default: every edition)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Per edition: sent, failed, unknown (the ledger) and people delivered, bounced, opened, clicked, unsubscribed.

    Delivery figures come from SendGrid's Event Webhook, received by 'digest serve' at /webhooks/sendgrid.

    Examples:

        digest stats
        digest stats --edition 3 --json
    """
    st = state(ctx)
    rows = [asdict(r) for r in st.store.edition_stats(edition)]
    if edition is not None and not rows:
        raise NotFoundError(f"no edition with id {edition}: see 'digest stats' for the editions")
    if json_out:
        out_json(rows)
        return
    table(
        rows,
        [
            "edition",
            "list",
            "date",
            "sent",
            "failed",
            "unknown",
            "delivered",
            "bounced",
            "opened",
            "clicked",
            "unsubscribed",
            "complained",
        ],
    )


def register(app: typer.Typer) -> None:
    app.command()(stats)
