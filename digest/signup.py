"""The reader's own path: signing up, the confirmation mail and its click, the welcome mail, topics on offer.

The web app (``GET /``, ``POST /subscribe``, ``/confirm/TOKEN``) and ``digest subscribers add`` call these;
every status change goes through :mod:`digest.consent` (nobody who left comes back without their own click).

The confirmation and welcome mails are small one-off messages: rendered from ``templates/confirm.*`` and
``templates/welcome.*`` (a home may override them), sent through the configured provider (outbox, SMTP,
SendGrid) as a one-person batch outside the edition ledger, and recorded as an event (``confirm_mail``,
``welcome_mail``) with when and how it went. A confirmation link carries the time it was issued: it is
refused after ``[web] confirm_days``, and never brings back someone who left after it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from digest import clock, consent, tokens, urls
from digest.config import Config
from digest.errors import NotFoundError
from digest.models import MailingList, Rendered, Subscriber, iso
from digest.store import Store

MAIL_KINDS = ("confirm", "welcome")


def topics(store: Store) -> list[str]:
    """The topics a reader may choose: the tags of the sources (the same for every list for now)."""
    return sorted({tag for source in store.sources() for tag in source.tags if tag})


def confirm_link(
    store: Store, config: Config, subscriber_id: int, lst: MailingList, *, key: bytes | None = None
) -> str:
    """A signed confirmation link issued now (it expires after ``[web] confirm_days``)."""
    issued = int(clock.now().timestamp())
    return urls.confirm(config.public_url, key or tokens.signing_key(store), subscriber_id, lst.id, issued)


def render_mail(config: Config, kind: str, context: dict[str, Any]) -> Rendered:
    """A one-off mail (``confirm``, ``welcome``) from its three templates: subject, MJML, text."""
    from digest.render.mjml import compile_mjml
    from digest.render.templates import environment, render_template

    env = environment(config)
    subject = " ".join(render_template(env, f"{kind}_subject.txt.j2", context).split())
    context = {**context, "subject": subject}
    mjml = render_template(env, f"{kind}.mjml.j2", context)
    html = compile_mjml(mjml, f"{kind}.mjml.j2", env)
    text = render_template(env, f"{kind}.txt.j2", context)
    return Rendered(subject=subject, preheader="", html=html, text=text, mjml=mjml)


@dataclass(frozen=True)
class MailSent:
    kind: str
    status: str  # sent | failed | unknown (as a provider's batch)
    provider: str
    link: str = ""  # the confirmation link it carried
    error: str | None = None


def send_mail(
    store: Store,
    config: Config,
    kind: str,
    person: Subscriber,
    lst: MailingList,
    *,
    provider: str | None = None,
    via: str = "web",
) -> MailSent:
    """Render and send one confirmation or welcome mail to ``person`` about ``lst``; recorded as an event."""
    from digest.send import resolve_provider
    from digest.send.providers import EditionMail, Recipient

    impl = resolve_provider(config, provider)
    try:
        key = tokens.signing_key(store, require_env=impl.name != "outbox")
        context: dict[str, Any] = {
            "newsletter": {"name": config.settings.name, "public_url": config.public_url},
            "list": lst,
            "name": person.name,
            "email": person.email,
            "days": config.settings.web.confirm_days,
            "archive_url": urls.archive(config.public_url),
            "signup_url": urls.signup(config.public_url),
        }
        link = ""
        if kind == "confirm":
            link = confirm_link(store, config, person.id, lst, key=key)
            context["confirm_url"] = link
        else:
            context["preferences_url"] = urls.preferences(config.public_url, key, person.id, lst.id)
            context["unsubscribe_url"] = urls.unsubscribe(config.public_url, key, person.id, lst.id)
        rendered = render_mail(config, kind, context)
        domain = lst.from_email.rpartition("@")[2] or "digest.local"
        mail = EditionMail(
            edition_id=0,
            list_id=lst.id,
            list_name=lst.name,
            from_email=lst.from_email,
            from_name=lst.from_name,
            reply_to=lst.reply_to,
            list_id_header=f"{lst.name} <{lst.name}.{domain}>",
            rendered=rendered,
            categories=[kind],
            kind=kind,
        )
        values = {"unsubscribe_url": "", "web_url": "", "name": person.name, "email": person.email}
        result = impl.send_batch(mail, [Recipient(person.id, person.email, person.name, values)])
        status, error = result.outcomes.get(person.id, (result.status, result.error))
        name = impl.name
    finally:
        impl.close()
    consent.record(store, f"{kind}_mail", person.id, lst, via=via, provider=name, status=status, error=error)
    return MailSent(kind, status, name, link, error)


def recent_mails(store: Store, kind: str, subscriber_id: int, lst: MailingList, hours: float = 1.0) -> int:
    """How many ``kind`` mails went to the person about the list in the last ``hours``."""
    since = iso(clock.now() - timedelta(hours=hours))
    return store.count_events(f"{kind}_mail", since=since, subscriber_id=subscriber_id, list_id=lst.id)


@dataclass(frozen=True)
class SignupResult:
    """What one signup did per list (never shown to the person signing up: the page always says the same)."""

    list_name: str
    status: str | None
    mail: MailSent | None = None
    held: bool = False  # a confirmation mail was due but the per-address limit held it back


def sign_up(
    store: Store,
    config: Config,
    email: str,
    list_names: list[str],
    *,
    name: str = "",
    topic_names: list[str] | None = None,
    via: str = "web",
    provider: str | None = None,
    send: bool = True,
) -> list[SignupResult]:
    """Someone asks for these lists: each is joined under consent's rules and a confirmation mail goes where
    their click is needed (at most ``[web] per_address`` an hour per list). Unknown lists are errors."""
    from digest import subscribers

    address = subscribers.normalize_email(email.strip())  # what a form sends as typed
    clean = subscribers.clean_name(name)
    known = set(topics(store))
    chosen = sorted({t for t in topic_names or [] if t in known})
    attributes = {"topics": chosen} if chosen else {}
    results = []
    for list_name in dict.fromkeys(list_names):
        lst = store.list_(list_name)
        got = consent.sign_up(store, address, lst, name=clean, attributes=attributes, via=via)
        if got.subscriber_id is None or not got.needs_confirmation or not send:
            results.append(SignupResult(lst.name, got.status))
            continue
        if recent_mails(store, "confirm", got.subscriber_id, lst) >= config.settings.web.per_address:
            results.append(SignupResult(lst.name, got.status, held=True))
            continue
        person = store.subscriber_by_id(got.subscriber_id)
        assert person is not None
        sent = send_mail(store, config, "confirm", person, lst, provider=provider, via=via)
        results.append(SignupResult(lst.name, got.status, sent))
    return results


@dataclass(frozen=True)
class Confirmation:
    """A confirmation token, read: who, which list, their status now, and whether the link is still good."""

    person: Subscriber | None
    list: MailingList | None
    status: str | None
    issued: datetime | None
    expired: bool


def read_confirmation(store: Store, config: Config, token: str) -> Confirmation | None:
    """The confirmation link's claims, or None when the token is forged, altered or cut."""
    try:
        claims = tokens.verify(tokens.signing_key(store), token, "confirm")
    except tokens.BadToken:
        return None
    person = store.subscriber_by_id(claims.subscriber_id)
    try:
        lst: MailingList | None = store.list_by_id(claims.list_id)
    except NotFoundError:
        lst = None
    issued = datetime.fromtimestamp(claims.issued, UTC) if claims.issued is not None else None
    expired = issued is not None and clock.now() - issued > timedelta(days=config.settings.web.confirm_days)
    status = store.subscription(person.id, lst.id) if person and lst else None
    return Confirmation(person, lst, status, issued, expired)


def confirm(store: Store, config: Config, found: Confirmation, *, provider: str | None = None) -> bool:
    """The person pressed the confirm button: subscribe them (consent's rules) and, if set, welcome them."""
    if found.person is None or found.list is None or found.expired:
        return False
    moved = consent.confirm_by_click(store, found.person.id, found.list, issued=found.issued)
    if moved and config.settings.web.welcome:
        person = store.subscriber_by_id(found.person.id) or found.person
        send_mail(store, config, "welcome", person, found.list, provider=provider)
    return moved
