"""Configuration: ``digest.toml`` in the newsletter's home, overridden by ``DIGEST_*`` variables.

One variable, ``DIGEST_HOME`` (or ``--home``), moves every path. Settings are typed dataclasses;
a top-level key ``k`` is overridden by ``DIGEST_K`` and a key ``k`` of section ``[s]`` by
``DIGEST_S_K`` (so ``DIGEST_SENDGRID_HOST`` sets ``[sendgrid] host``). Secrets are never read
from the file: only from the environment (see :func:`secret`).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digest import __version__
from digest.errors import ConfigError, HomeError

CONFIG_FILE = "digest.toml"
SECRETS = ("SENDGRID_API_KEY", "DIGEST_SECRET", "DIGEST_SMTP_PASSWORD", "DIGEST_DESK_PASSWORD")


@dataclass
class SenderSettings:
    """Defaults for new lists: who the mail is from and the footer's postal address."""

    from_email: str = "digest@example.com"
    from_name: str = "digest"
    reply_to: str = ""
    address: str = ""  # never a made-up one: real providers refuse to send without a real address
    unsubscribe_mailto: str = ""  # an address whose mail you act on: List-Unsubscribe then offers mailto: too
    subject_prefix: str = ""


@dataclass
class CollectSettings:
    user_agent: str = f"digest/{__version__} (newsletter digest builder)"
    timeout: float = 20.0  # seconds to connect, and between two reads
    total_timeout: float = 120.0  # seconds for a whole download (a server trickling bytes cannot hold a run)
    max_bytes: int = 10_000_000
    concurrency: int = 8
    max_redirects: int = 5
    parse_workers: int = 0  # processes parsing feeds at once; 0: one per CPU
    parallel_parse_bytes: int = 1_000_000  # parse in a process pool only when a run fetched at least this much
    parse_timeout: float = 30.0  # seconds to read one document before it is given up (0: no limit)
    sponsored: str = "skip"  # items labelled sponsored/advertorial: "skip" them, or "keep" them as stories
    stale_days: float = 3.0  # a working source that brought nothing new for this long is stale (doctor, desk)


@dataclass
class RankSettings:
    """How Top Stories are chosen: score = source_weight^source_weight × (recency_weight × recency
    + engagement_weight × engagement + coverage_weight × log2(outlets) + keyword_weight × boosts)
    + pin_boost if pinned."""

    half_life_hours: float = 24.0  # recency halves every this many hours
    window_hours: float = 72.0  # stories older than this are not candidates
    max_stories: int = 10
    min_stories: int = 1  # fewer new stories than this: nothing to send (see skip_when_nothing_new)
    per_source: int = 3  # at most this many stories from one source
    min_score: float = 0.0  # the bar a story must clear
    recency_weight: float = 1.0
    source_weight: float = 1.0  # exponent on each source's weight (0 ignores source weights)
    engagement_weight: float = 0.5
    coverage_weight: float = 0.5
    keyword_weight: float = 1.0
    pin_boost: float = 100.0
    boost: list[str] = field(default_factory=list)  # words or phrases; a list's own boost/block replace these
    block: list[str] = field(default_factory=list)
    skip_when_nothing_new: bool = True  # false: build with fewer than min_stories (but never with none)
    undated_age_hours: float = 24.0  # a story without a trustworthy date counts as at least this old
    similarity: float = 0.35  # Jaccard of title+lead words above which two stories are one event
    title_similarity: float = 0.7  # Jaccard of title words (titles of 4+ words) above which they merge
    cluster_pool: int = 5000  # near-duplicates are sought among this many best stories (+ pinned, boosted, sent)
    history_days: float = 30.0  # editions this recent count for "already sent"
    runners_up: int = 20  # runners-up kept for --explain


@dataclass
class SendSettings:
    provider: str = "outbox"
    batch_size: int = 1000
    concurrency: int = 4  # requests in flight at once (sendgrid)
    lock_timeout: float = 0.0  # seconds to wait for another process sending the same edition (--wait)


@dataclass
class SendGridSettings:
    host: str = "https://api.sendgrid.com"
    timeout: float = 30.0  # between reads
    deadline: float = 120.0  # a whole request, answer included: a reply trickled in slowly ends unknown
    categories: list[str] = field(default_factory=lambda: ["digest"])
    asm_group_id: int = 0
    sandbox: bool = False
    click_tracking: bool = False  # SendGrid rewrites every link through its domain when on
    open_tracking: bool = False  # SendGrid adds a tracking pixel when on
    max_attempts: int = 5  # per request, for a 429 or a refused connection (a 5xx is unknown, never retried)
    max_wait: float = 60.0  # longest single wait for a 429 (Retry-After, X-RateLimit-Reset) or a backoff, seconds
    backoff: float = 0.5  # first backoff after a refused connection, seconds; doubles per attempt, with jitter
    webhook_public_key: str = ""  # Event Webhook verification key (Mail Settings > Signed Event Webhook)
    # Event Webhook deliveries signed, and events that happened, longer ago than this are refused (replays).
    # SendGrid retries a delivery for up to 24 hours, so keep it above that.
    event_max_age_hours: float = 72.0


@dataclass
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    username: str = ""
    security: str = "starttls"  # starttls | ssl | none
    timeout: float = 30.0
    connections: int = 4  # connections in flight at once, each reused for the whole send


@dataclass
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000


@dataclass
class WebSettings:
    """The reader's pages of ``digest serve``: signup, confirmation, preferences."""

    confirm_days: int = 7  # a confirmation mail's link is refused after this many days
    welcome: bool = False  # send a welcome mail (templates/welcome.*) once someone confirms
    per_ip: int = 10  # signups one IP address may make per hour
    per_address: int = 3  # confirmation mails one address may be sent per hour (per list)


@dataclass
class TrackSettings:
    """What digest itself counts (SendGrid's own tracking is under [sendgrid])."""

    # each story's links go through a signed redirect on 'digest serve' (/c/TOKEN), counted per story and
    # edition, never per reader; off by default
    clicks: bool = False


@dataclass
class StoreSettings:
    """How long digest.db keeps per-reader rows."""

    # an edition older than this keeps its counts, not its per-reader ledger and delivery events (unsubscribes,
    # complaints, bounces and drops are kept whatever their age); 0 keeps everything
    retention_days: int = 90


@dataclass
class Settings:
    name: str = "My Digest"
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "UTC"
    default_list: str = "main"
    sender: SenderSettings = field(default_factory=SenderSettings)
    collect: CollectSettings = field(default_factory=CollectSettings)
    rank: RankSettings = field(default_factory=RankSettings)
    send: SendSettings = field(default_factory=SendSettings)
    sendgrid: SendGridSettings = field(default_factory=SendGridSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    web: WebSettings = field(default_factory=WebSettings)
    track: TrackSettings = field(default_factory=TrackSettings)
    store: StoreSettings = field(default_factory=StoreSettings)


CHOICES: dict[str, tuple[str, ...]] = {
    "send.provider": ("outbox", "sendgrid", "smtp"),
    "collect.sponsored": ("skip", "keep"),
    "smtp.security": ("starttls", "ssl", "none"),
}
# Upper bounds: an edition of more than 15 stories outgrows Gmail's 102 KB clipping limit with the
# shipped templates (see digest.render.MAX_STORIES).
MAXIMA: dict[str, float] = {"rank.max_stories": 15}
MINIMA: dict[str, float] = {
    "rank.max_stories": 1,
    "rank.half_life_hours": 0.01,
    "send.batch_size": 1,
    "web.confirm_days": 1,
    "web.per_ip": 1,
    "web.per_address": 1,
    "send.concurrency": 1,
    "smtp.connections": 1,
    "collect.concurrency": 1,
    "store.retention_days": 0,
}


@dataclass
class Config:
    """Where the newsletter lives and how it is set up."""

    home: Path
    settings: Settings

    @property
    def toml_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def db_path(self) -> Path:
        return self.home / "digest.db"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def templates_dir(self) -> Path:
        return self.home / "templates"

    @property
    def subscribers_dir(self) -> Path:
        return self.home / "subscribers"

    @property
    def log_path(self) -> Path:
        """One JSON line per ``digest run``."""
        return self.home / "digest.log"

    @property
    def cron_log_path(self) -> Path:
        """What cron's runs print (progress, errors), kept apart from the JSON lines of digest.log."""
        return self.home / "cron.log"

    @property
    def public_url(self) -> str:
        return self.settings.public_url.rstrip("/")

    def local_links_warning(self, provider: str | None = None) -> str | None:
        """Set when real mail would carry links to this machine only (``public_url`` is loopback)."""
        chosen = provider or self.settings.send.provider
        host = (urlsplit(self.public_url).hostname or "").lower()
        if chosen == "outbox" or not (host in ("localhost", "::1") or host.startswith("127.")):
            return None
        return (
            f"warning: public_url is {self.public_url}, so the unsubscribe links in this mail lead nowhere;"
            " set public_url (or DIGEST_PUBLIC_URL) to where 'digest serve' is reachable"
        )


def resolve_home(home: str | Path | None = None, env: typing.Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    raw = home if home is not None else env.get("DIGEST_HOME") or "."
    return Path(raw).expanduser().resolve()


def load(
    home: str | Path | None = None,
    env: typing.Mapping[str, str] | None = None,
    require_home: bool = True,
) -> Config:
    """Read ``digest.toml`` (if present) and the environment into a :class:`Config`."""
    env = os.environ if env is None else env
    path = resolve_home(home, env)
    if require_home and not path.is_dir():
        raise HomeError(f"newsletter home {path} does not exist: create it with 'digest --home {path} init'")
    settings = Settings()
    toml_path = path / CONFIG_FILE
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{toml_path}: {exc}; fix the TOML syntax") from None
        _apply_file(settings, data, toml_path)
    _apply_env(settings, env)
    return Config(home=path, settings=settings)


def required_secrets(config: Config, provider: str | None = None) -> list[str]:
    """The environment variables a provider needs (the outbox needs none)."""
    chosen = provider or config.settings.send.provider
    if chosen == "sendgrid":
        return ["SENDGRID_API_KEY", "DIGEST_SECRET"]
    if chosen == "smtp":
        return ["DIGEST_SECRET"] + (["DIGEST_SMTP_PASSWORD"] if config.settings.smtp.username else [])
    return []


def secret(name: str, env: typing.Mapping[str, str] | None = None) -> str | None:
    """A secret from the environment; never from digest.toml, never logged."""
    if name not in SECRETS:
        raise ValueError(f"unknown secret {name}")
    value = (os.environ if env is None else env).get(name, "").strip()
    return value or None


def _apply_file(settings: Settings, data: dict[str, Any], origin: Path) -> None:
    for key, value in data.items():
        target = _field(settings, key)
        if target is None:
            raise ConfigError(f"{origin}: unknown setting '{key}'; known: {_names(settings)}")
        if dataclasses.is_dataclass(getattr(settings, key)):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: '{key}' must be a [{key}] table")
            section = getattr(settings, key)
            for sub, subvalue in value.items():
                if _field(section, sub) is None:
                    raise ConfigError(f"{origin}: unknown setting '{key}.{sub}'; known: {_names(section)}")
                _set(section, sub, subvalue, f"{key}.{sub}", f"{origin}")
        else:
            if key.upper() in SECRETS or "secret" in key.lower() or "api_key" in key.lower():
                raise ConfigError(f"{origin}: secrets do not belong in digest.toml; set them in the environment")
            _set(settings, key, value, key, f"{origin}")


# DIGEST_* variables that are not settings: the home, secrets, and the test suite's own switches
OTHER_VARIABLES = frozenset(
    {
        "DIGEST_HOME",
        "DIGEST_SECRET",
        "DIGEST_SMTP_PASSWORD",
        "DIGEST_DESK_PASSWORD",
        "DIGEST_MJML_BIN",
        "DIGEST_REGEN_GOLDEN",
        "DIGEST_NOW",
    }
)


@functools.cache
def setting_variables() -> frozenset[str]:
    """Every ``DIGEST_*`` variable that sets a setting (``DIGEST_S_K`` for ``[s] k``, ``DIGEST_K`` for ``k``)."""
    known: set[str] = set()
    settings = Settings()
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        subs = dataclasses.fields(value) if dataclasses.is_dataclass(value) else ()
        known.update(f"DIGEST_{f.name}_{sub.name}".upper() for sub in subs)
        known.add(f"DIGEST_{f.name}".upper())
    return frozenset(known)


def _apply_env(settings: Settings, env: typing.Mapping[str, str]) -> None:
    known = set(OTHER_VARIABLES) | setting_variables()
    for var in env:
        if var.startswith("DIGEST_") and var not in known:
            close = difflib.get_close_matches(var, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; unset it"
            raise ConfigError(f"{var} is not a digest setting{hint}")
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            for sub in dataclasses.fields(value):
                var = f"DIGEST_{f.name}_{sub.name}".upper()
                if var in env:
                    _set(
                        value,
                        sub.name,
                        _from_env(env[var], _type_of(value, sub.name), var),
                        f"{f.name}.{sub.name}",
                        var,
                    )
        else:
            var = f"DIGEST_{f.name}".upper()
            if var in env:
                _set(settings, f.name, _from_env(env[var], _type_of(settings, f.name), var), f.name, var)


def _field(obj: Any, name: str) -> dataclasses.Field[Any] | None:
    return next((f for f in dataclasses.fields(obj) if f.name == name), None)


def _names(obj: Any) -> str:
    return ", ".join(f.name for f in dataclasses.fields(obj))


def _type_of(obj: Any, name: str) -> Any:
    return typing.get_type_hints(type(obj))[name]


def _from_env(raw: str, kind: Any, var: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{var}={raw!r} is not a boolean; use true or false")
    if typing.get_origin(kind) is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a valid {kind.__name__}; fix the variable") from None


def _set(obj: Any, name: str, value: Any, dotted: str, origin: str) -> None:
    kind = _type_of(obj, name)
    ok: bool
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif typing.get_origin(kind) is list:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif isinstance(kind, types.GenericAlias):
        ok = True
    else:
        ok = isinstance(value, kind)
    if not ok:
        names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
        expected = "a list of strings" if typing.get_origin(kind) is list else names.get(kind, f"a {kind.__name__}")
        raise ConfigError(f"{origin}: '{dotted}' = {value!r} must be {expected}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"{origin}: '{dotted}' = {value!r} must not be negative")
    if dotted in MINIMA and value < MINIMA[dotted]:
        raise ConfigError(f"{origin}: '{dotted}' = {value!r} must be at least {MINIMA[dotted]:g}")
    if dotted in MAXIMA and value > MAXIMA[dotted]:
        raise ConfigError(f"{origin}: '{dotted}' = {value!r} must be at most {MAXIMA[dotted]:g}")
    choices = CHOICES.get(dotted)
    if choices and value not in choices:
        raise ConfigError(f"{origin}: '{dotted}' = {value!r} must be one of {', '.join(choices)}")
    setattr(obj, name, value)


DEFAULT_TOML = """\
# digest.toml: how this newsletter is set up. Secrets (SENDGRID_API_KEY, DIGEST_SECRET,
# DIGEST_SMTP_PASSWORD) come from the environment, never from this file.
# Every key can be overridden with DIGEST_<KEY> or DIGEST_<SECTION>_<KEY>.

name = "{name}"
# Base of every link in an email that leads back to 'digest serve' (unsubscribe, web version).
public_url = "http://127.0.0.1:8000"
timezone = "UTC"
default_list = "main"

[sender]
from_email = "digest@example.com"
from_name = "{name}"
reply_to = ""
# Your real postal address, shown in every email's footer (CAN-SPAM wants one). SMTP and SendGrid
# refuse to send a list without one; 'digest lists edit NAME --address' sets it per list.
address = {address}

[rank]
half_life_hours = 24.0
max_stories = 10
per_source = 3

[send]
# outbox writes one .eml per recipient into outbox/; sendgrid and smtp send for real.
provider = "outbox"
"""
