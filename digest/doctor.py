"""``digest doctor``: is this newsletter ready to send? Configuration, secrets, provider, DNS, sources' health.

Each check says ok, warn or fail, and what to do about it. Secrets are reported as set or not
set, never shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date as date_type
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import httpx

from digest import clock, consent
from digest.config import Config, required_secrets, secret
from digest.errors import DigestError
from digest.health import SourceHealth, SourceState, source_health
from digest.models import MailingList, RunRecord, parse_iso
from digest.send.compliance import LOCAL_PROVIDERS, address_fix, address_problem
from digest.send.providers.smtp import SmtpProvider
from digest.store import Store

Resolver = Callable[[str], list[str]]

# Mailbox providers whose addresses cannot be a newsletter's From: nobody but them may sign for these domains,
# so with their DMARC policy at reject (Yahoo, AOL, Gmail...) mail from any other server bounces.
FREE_MAIL = frozenset(
    [
        "yahoo.com",
        "ymail.com",
        "rocketmail.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "aol.com",
        "aim.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "comcast.net",
        "verizon.net",
    ]
)
# DKIM selectors each provider signs with once the sender's domain is authenticated.
DKIM_SELECTORS: dict[str, tuple[str, ...]] = {
    "sendgrid": ("s1", "s2"),
    "smtp": ("default", "selector1", "selector2", "google", "k1", "mail", "dkim", "s1", "s2"),
}
DKIM_HOWTO = {
    "sendgrid": "authenticate the domain in SendGrid (Settings > Sender Authentication) and publish its CNAMEs",
    "smtp": "publish your mail server's DKIM key as TXT <selector>._domainkey.DOMAIN",
}


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    source: SourceState | None = None  # a failing or stale source's check: its record
    last_run: RunRecord | None = None  # the last run's check, once there was one

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "detail": self.detail}
        if self.source is not None:
            out["source"] = asdict(self.source)
        if self.last_run is not None:
            out["last_run"] = asdict(self.last_run)
        return out


def dns_txt(name: str) -> list[str]:
    """TXT records of ``name`` (empty when there are none); raises OSError when DNS cannot answer."""
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=3.0)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise OSError(str(exc) or type(exc).__name__) from None
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _store_detail(store: Store, config: Config) -> str:
    """The store's path, migrations, size, and what retention would free now ([store] retention_days)."""
    said = f"{config.db_path}: {len(store.applied_migrations())} migrations applied, {_megabytes(store.store_bytes())}"
    days = config.settings.store.retention_days
    if days <= 0:
        return said + "; retention off ([store] retention_days = 0): every per-reader row is kept"
    today = clock.local_date(config.settings.timezone)
    before = (date_type.fromisoformat(today) - timedelta(days=days)).isoformat()
    would = store.retention(before)
    if not would.editions:
        return said + f"; retention ({days} days) has nothing to fold yet"
    size = f" (~{_megabytes(would.bytes)})" if would.bytes is not None else ""
    return (
        said + f"; retention ({days} days) would fold {would.editions} edition(s) before {before} into their counts,"
        f" freeing {would.sends} ledger and {would.events} event rows{size} at the next 'digest run'"
    )


def run_checks(
    store: Store, config: Config, provider: str | None = None, resolver: Resolver | None = None
) -> list[Check]:
    """Every check; ``resolver`` answers DNS TXT queries (default :func:`dns_txt`, replaced in tests)."""
    resolver = resolver or dns_txt
    chosen = provider or config.settings.send.provider
    real = chosen not in LOCAL_PROVIDERS
    checks = [
        Check("config", "ok", f"{config.toml_path} read; provider {chosen}"),
        Check("store", "ok", _store_detail(store, config)),
        _last_run_check(store),
    ]
    stale_hours = config.settings.collect.stale_days * 24
    checks += source_checks(source_health(store, clock.now(), stale_hours), stale_hours)
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
        problem = address_problem(row.address)
        if problem:
            # the outbox sends nothing, so there it is advice; a real provider refuses to send (send.compliance)
            status = "fail" if real else "warn"
            detail += f"; {problem} for the footer: {address_fix(row.name)}"
        checks.append(Check(f"list {row.name}", status, detail))
    checks.extend(_rhythm_checks(store, lists))
    for domain in sorted({row.from_email.rpartition("@")[2].lower() for row in lists}):
        checks.extend(_domain_checks(domain, resolver, chosen))
    return checks


HOURLY_GAP_H = 2.0  # runs further apart than this are not hourly: readers with a send time wait for the next one


def _rhythm_checks(store: Store, lists: list[MailingList]) -> list[Check]:
    """A list with a send time reaches each reader at the first run after it in their timezone: with runs a day
    apart, readers whose hour falls between runs get it only a day late, or never on time. Warn then."""
    timed = [lst.name for lst in lists if lst.send_at]
    starts = [parse_iso(s) for s in store.run_starts(3)]
    known = [s for s in starts if s is not None]
    if not timed or len(known) < 2:
        return []
    gap_h = max((a - b).total_seconds() for a, b in zip(known, known[1:], strict=False)) / 3600
    if gap_h <= HOURLY_GAP_H:
        return []
    return [
        Check(
            "schedule",
            "warn",
            f"{', '.join(timed)} send at each reader's own hour (--send-at), but 'digest run' ran {gap_h:.0f} hours"
            " apart: readers whose hour falls between runs wait for the next one; run it hourly with"
            " 'digest schedule --hourly --install'",
        )
    ]


def source_checks(health: SourceHealth, stale_hours: float) -> list[Check]:
    """One line for the sources, then one per source failing or stale (warnings: the others still send)."""
    if not health.sources:
        return [Check("sources", "warn", "no sources yet: add one with 'digest sources add URL'")]
    bad = [*health.failing, *health.stale]
    said = f"{health.sources} source(s): {len(health.failing)} failing, {len(health.stale)} stale"
    out = [Check("sources", "warn" if bad else "ok", said)]
    out += [Check(f"source {h.source}", "warn", h.detail(stale_hours), source=h) for h in bad]
    return out


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
            last_run=last,
        )
    parts = [f"{name}: {outcome}" for name, outcome in last.summary.lists.items()]
    if last.summary.error:
        parts.append(f"stopped: {last.summary.error}")
    if last.summary.failed_sources:
        parts.append(f"{last.summary.failed_sources} source(s) failed")
    detail = f"exit code {last.exit_code} at {last.finished_at}" + (f"; {'; '.join(parts)}" if parts else "")
    return Check("last run", "ok" if last.exit_code == 0 else "warn", detail, last_run=last)


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
    if provider not in LOCAL_PROVIDERS and urlsplit(config.public_url).scheme != "https":
        return Check(
            "public_url",
            "fail",
            f"public_url is {config.public_url}: one-click unsubscribe (RFC 8058, required by Gmail and Yahoo)"
            " needs HTTPS; serve 'digest serve' behind HTTPS and set public_url to its https:// address",
        )
    warning = config.local_links_warning(provider)
    return (
        Check("public_url", "warn", warning.removeprefix("warning: "))
        if warning
        else Check("public_url", "ok", config.public_url)
    )


_POLICY = re.compile(r"(?:^|;)\s*p\s*=\s*(\w+)", re.I)


def dmarc_policy(record: str) -> str:
    """The ``p=`` of a DMARC record, lower-cased (``none`` when absent)."""
    found = _POLICY.search(record)
    return found.group(1).lower() if found else "none"


def _domain_checks(domain: str, resolver: Resolver, provider: str) -> list[Check]:
    out = []
    dmarc: list[str] = []
    for label, name, prefix, fix in (
        ("SPF", domain, "v=spf1", "publish a TXT 'v=spf1 include:<provider> ~all' record"),
        ("DMARC", f"_dmarc.{domain}", "v=DMARC1", "publish a TXT record at _dmarc with 'v=DMARC1; p=none'"),
    ):
        try:
            records = [r for r in resolver(name) if r.lower().startswith(prefix.lower())]
        except OSError as exc:
            out.append(Check(f"{label} {domain}", "warn", f"could not ask DNS: {exc}"))
            continue
        if label == "DMARC":
            dmarc = records
        if records:
            out.append(Check(f"{label} {domain}", "ok", records[0]))
        else:
            out.append(Check(f"{label} {domain}", "warn", f"no {label} record for {name}: {fix}"))
    policy = dmarc_policy(dmarc[0]) if dmarc else "none"
    if domain in FREE_MAIL:
        # the outbox sends nothing: there this is advice for the day a real provider is set
        strict = policy in ("reject", "quarantine")
        status = "fail" if strict and provider not in LOCAL_PROVIDERS else "warn"
        out.append(
            Check(
                f"From {domain}",
                status,
                f"{domain} is a free-mail domain (DMARC p={policy}): mail from it sent by any other server is"
                f" {'rejected' if strict else 'likely junked'}; send from an address at a domain you own"
                " ('digest lists edit NAME --from-email news@yourdomain') and authenticate it",
            )
        )
    elif provider in DKIM_SELECTORS:
        out.append(_dkim_check(domain, resolver, provider, policy))
    return out


def _dkim_check(domain: str, resolver: Resolver, provider: str, policy: str) -> Check:
    selectors = DKIM_SELECTORS[provider]
    found: list[str] = []
    for selector in selectors:
        try:
            records = resolver(f"{selector}._domainkey.{domain}")
        except OSError as exc:
            return Check(f"DKIM {domain}", "warn", f"could not ask DNS: {exc}")
        if any("v=dkim1" in r.lower() or re.search(r"(^|;)\s*p=", r) for r in records):
            found.append(selector)
    if found:
        return Check(f"DKIM {domain}", "ok", f"selector {', '.join(found)} published for {provider}")
    tried = ", ".join(f"{s}._domainkey.{domain}" for s in selectors)
    # without DKIM for the From domain DMARC cannot align (the provider's own SPF domain is not yours)
    status = "fail" if policy in ("reject", "quarantine") else "warn"
    return Check(
        f"DKIM {domain}",
        status,
        f"no DKIM key at {tried}, so DMARC (p={policy}) cannot align: {DKIM_HOWTO[provider]}",
    )
