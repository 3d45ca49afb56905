"""The doctor command: check configuration, secrets, provider reachability, sender domain records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, state, table

if TYPE_CHECKING:
    pass


def doctor(
    ctx: typer.Context,
    provider: str = typer.Option(None, "--provider", help="Check this provider instead of [send] provider."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check configuration, secrets (set or not, never shown), the provider, postal address, public_url,
    and the From domain's SPF, DMARC and DKIM records.

    Also how the last run went (exit code, when) and the sources' health: failing ones (last error, since when)
    and stale ones (nothing new for the collect section's stale_days).

    Exit code 1 when a check fails; warnings do not fail.

    Examples:

        digest doctor
        digest doctor --provider sendgrid --json
    """
    from digest.doctor import run_checks

    st = state(ctx)
    checks = run_checks(st.store, st.config, provider)
    if json_out:
        out_json([c.as_dict() for c in checks])
    else:
        table([c.as_dict() for c in checks], ["status", "name", "detail"], wrap=("name", "detail"))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
