"""The provider registry: a name in ``[send] provider`` or ``--provider`` to a factory."""

from __future__ import annotations

from collections.abc import Callable

from digest.config import Config
from digest.errors import ConfigError
from digest.send.providers.base import BatchResult, EditionMail, Provider, Recipient, UnknownOutcomeStop


# Each factory imports its provider when chosen: smtplib, httpx and the SendGrid client load only for a send.
def _outbox(config: Config, dry_run: bool = False) -> Provider:
    from digest.send.providers.outbox import OutboxProvider

    return OutboxProvider(config.outbox_dir, config.settings.send.batch_size)


def _smtp(config: Config, dry_run: bool = False) -> Provider:
    from digest.send.providers.smtp import SmtpProvider

    return SmtpProvider.from_config(config, dry_run=dry_run)


def _sendgrid(config: Config, dry_run: bool = False) -> Provider:
    from digest.send.providers.sendgrid import SendGridProvider

    return SendGridProvider.from_config(config, dry_run=dry_run)


PROVIDERS: dict[str, Callable[[Config, bool], Provider]] = {
    "outbox": _outbox,
    "smtp": _smtp,
    "sendgrid": _sendgrid,
}


def get_provider(name: str, config: Config, *, dry_run: bool = False) -> Provider:
    """The named provider; ``dry_run`` builds one that only prepares (no credentials needed)."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown provider '{name}'; use one of {', '.join(PROVIDERS)}") from None
    return factory(config, dry_run)


__all__ = ["PROVIDERS", "BatchResult", "EditionMail", "Provider", "Recipient", "UnknownOutcomeStop", "get_provider"]
