"""``digest doctor``: is this newsletter ready to send? Configuration, secrets, provider, DNS.

Each check says ok, warn or fail, and what to do about it. Secrets are reported as set or not
set, never shown.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import dns.exception
import dns.resolver
import httpx

from digest import consent
from digest.config import Config, required_secrets, secret
from digest.errors import DigestError
from digest.send.providers.smtp import SmtpProvider
from digest.store import Store

Resolver = Callable[[str], list[str]]


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def dns_txt(name: str) -> list[str]:
    """TXT records of ``name`` (empty when there are none); raises OSError when DNS cannot answer."""
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=3.0)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise OSError(str(exc) or type(exc).__name__) from None
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def run_checks(store: Store, config: Config, provider: str | None = None, resolver: Resolver = dns_txt) -> list[Check]:
    chosen = provider or config.settings.send.provider
    checks = [
        Check("config", "ok", f"{config.toml_path} read; provider {chosen}"),
        Check("store", "ok", f"{config.db_path}: {len(store.applied_migrations())} migrations applied"),
        _last_run_check(store),
    ]
    checks.append(_secret_check(config, chosen))
    checks.append(_provider_check(config, chosen))
    checks.append(_public_url_check(config, chosen))
    lists = store.lists()
    if not lists:
        checks.append(Check("lists", "warn", "no lists yet: create one with 'digest lists add NAME'"))
    counts = store.status_counts()
    for row in lists:
        receiving = consent.receivers(row, counts.get(row.id, {}))
        detail = f"{receiving} receiving subscribers, from {row.from_email}"
        status = "ok" if receiving else "warn"
        if not row.address or row.address.startswith("(set"):
            status, detail = "warn", detail + "; no postal address for the footer ('digest lists add --address')"
        checks.append(Check(f"list {row.name}", status, detail))
    for domain in sorted({row.from_email.rpartition("@")[2] for row in lists}):
        checks.extend(_domain_checks(domain, resolver))
    return checks


def _last_run_check(store: Store) -> Check:
    """How the last ``digest run`` went (cron's runs are otherwise seen only in ``digest.log`` and ``cron.log``)."""
    last = store.last_run()
    if last is None:
        return Check("last run", "ok", "no 'digest run' yet")
    if last.exit_code is None or last.summary is None:
        return Check(
            "last run",
            "warn",
            f"started {last.started_at} and has not finished: still running, or stopped (killed) before it could"
            " record how it went",
        )
    parts = [f"{name}: {outcome}" for name, outcome in last.summary.lists.items()]
    if last.summary.error:
        parts.append(f"stopped: {last.summary.error}")
    if last.summary.failed_sources:
        parts.append(f"{last.summary.failed_sources} source(s) failed")
    detail = f"exit code {last.exit_code} at {last.finished_at}" + (f"; {'; '.join(parts)}" if parts else "")
    return Check("last run", "ok" if last.exit_code == 0 else "warn", detail)


def _secret_check(config: Config, provider: str) -> Check:
    needed = required_secrets(config, provider)
    missing = [name for name in needed if not secret(name)]
    if missing:
        return Check("secrets", "fail", f"{', '.join(missing)} not set: export them in the environment")
    if provider == "outbox" and not secret("DIGEST_SECRET"):
        return Check("secrets", "ok", "DIGEST_SECRET not set: unsubscribe links use a key kept in digest.db")
    return Check("secrets", "ok", f"{', '.join(needed) or 'none needed'} set")


def _provider_check(config: Config, provider: str) -> Check:
    try:
        if provider == "outbox":
            config.outbox_dir.mkdir(parents=True, exist_ok=True)
            probe = config.outbox_dir / ".doctor"
            probe.write_text("ok")
            probe.unlink()
            return Check("provider", "ok", f"outbox writes .eml files to {config.outbox_dir}")
        if provider == "sendgrid":
            return _sendgrid_check(config)
        return _smtp_check(config)
    except (OSError, DigestError) as exc:
        return Check("provider", "fail", str(exc))


def _sendgrid_check(config: Config) -> Check:
    key = secret("SENDGRID_API_KEY")
    if not key:
        return Check("provider", "fail", "SENDGRID_API_KEY not set")
    host = (os.environ.get("DIGEST_SENDGRID_HOST") or config.settings.sendgrid.host).rstrip("/")
    try:
        response = httpx.get(f"{host}/v3/scopes", headers={"Authorization": f"Bearer {key}"}, timeout=10.0)
    except httpx.HTTPError as exc:
        return Check("provider", "fail", f"cannot reach SendGrid at {host}: {exc}")
    if response.status_code in (401, 403):
        code = response.status_code
        return Check("provider", "fail", f"SendGrid refused the API key ({code}); check SENDGRID_API_KEY")
    if response.status_code != 200:
        return Check("provider", "warn", f"SendGrid answered {response.status_code} to GET /v3/scopes")
    scopes = response.json().get("scopes", [])
    if "mail.send" not in scopes:
        return Check("provider", "fail", "the API key lacks the mail.send scope: give it Mail Send permission")
    return Check("provider", "ok", f"SendGrid at {host} accepts the key (mail.send)")


def _smtp_check(config: Config) -> Check:
    s = config.settings.smtp
    SmtpProvider.from_config(config).check()  # a ProviderError says what failed and names the settings
    return Check("provider", "ok", f"SMTP {s.host}:{s.port} ({s.security}) accepts the connection")


def _public_url_check(config: Config, provider: str) -> Check:
    warning = config.local_links_warning(provider)
    return (
        Check("public_url", "warn", warning.removeprefix("warning: "))
        if warning
        else Check("public_url", "ok", config.public_url)
    )


def _domain_checks(domain: str, resolver: Resolver) -> list[Check]:
    out = []
    for label, name, prefix, fix in (
        ("SPF", domain, "v=spf1", "publish a TXT 'v=spf1 include:<provider> ~all' record"),
        ("DMARC", f"_dmarc.{domain}", "v=DMARC1", "publish a TXT record at _dmarc with 'v=DMARC1; p=none'"),
    ):
        try:
            records = [r for r in resolver(name) if r.lower().startswith(prefix.lower())]
        except OSError as exc:
            out.append(Check(f"{label} {domain}", "warn", f"could not ask DNS: {exc}"))
            continue
        if records:
            out.append(Check(f"{label} {domain}", "ok", records[0]))
        else:
            out.append(Check(f"{label} {domain}", "warn", f"no {label} record for {name}: {fix}"))
    return out
