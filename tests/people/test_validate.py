"""Address policy: the corpus vectors, the documented policy, and the fast path agreeing with email-validator."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from digest.errors import SubscriberError
from digest.subscribers import validate
from digest.subscribers.validate import (
    clean_name,
    normalize_email,
    parse_attributes,
    slow_normalize_email,
)


def _outcome(fn, raw: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return fn(raw)
    except SubscriberError:
        return None


def _vectors(corpus: Path, name: str) -> list[dict[str, str]]:
    with (corpus / "email" / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_vectors_valid_exactly_the_labelled_ones(corpus: Path) -> None:
    rows = _vectors(corpus, "email_vectors.csv")
    assert len(rows) == 224
    wrong = [
        (r["address"], r["expected_valid"])
        for r in rows
        if (_outcome(normalize_email, r["address"]) is not None) != (r["expected_valid"] == "true")
    ]
    assert wrong == []


def test_policy_dependent_vectors_follow_the_conservative_policy(corpus: Path) -> None:
    """Documented policy (validate.py): conservative — none of these 134 is accepted, and the column agrees."""
    assert validate.POLICY == "conservative"
    rows = _vectors(corpus, "email_vectors_policy_dependent.csv")
    assert len(rows) == 134
    accepted = [r["address"] for r in rows if _outcome(normalize_email, r["address"]) is not None]
    expected = [r["address"] for r in rows if r["expected_valid_conservative"] == "true"]
    assert accepted == expected
    # The permissive column is different, so this test really tells the two policies apart.
    assert any(r["expected_valid_rfc_permissive"] == "true" for r in rows)


def test_fast_path_agrees_with_email_validator_on_the_corpus(corpus: Path) -> None:
    addresses = [
        r["address"]
        for name in ("email_vectors.csv", "email_vectors_policy_dependent.csv")
        for r in _vectors(corpus, name)
    ]
    assert sum(validate._fast(a) is not None for a in addresses) > 10  # both quick paths are really exercised
    assert sum(validate._fast(a) is None and validate._cached(a) is not None for a in addresses) >= 5
    for address in addresses:
        assert _outcome(normalize_email, address) == _outcome(slow_normalize_email, address), address


def _near_misses(n: int, seed: int = 6) -> list[str]:
    """Plain-looking addresses with the edge cases the fast path must leave to email-validator."""
    rnd = random.Random(seed)
    locals_ = [
        "a",
        "Ab.c",
        "x+tag",
        "first.last",
        "-dash",
        "under_score",
        "a..b",
        ".lead",
        "trail.",
        "POSTMASTER",
        "Info",
        "sales",
        "a" * 64,
        "b" * 65,
        "q'uote",
        "sp ace",
        "é",
        "",
        "1",
        "a.b-c+d_e",
    ]
    labels = [
        "example",
        "EXAMPLE",
        "ex-ample",
        "-bad",
        "bad-",
        "xn--nxasmq6b",
        "ab--cd",
        "a" * 63,
        "b" * 64,
        "1",
        "sub",
        "co",
        "c0m",
        "x_y",
        "",
        "bücher",
        "郵件",
        "ＥＸＡＭＰＬＥ",
        "a＠b",
        "straße",
        "ǅz",
        "\u200bz",
        "١٢",
        "עִתוֹן",
        "xn--bcher-kva",
        "xn--zz",
        "a．b",
        "⒈x",
        "İ",
        "a b",
        "a<b>",
        "(c)",
    ]
    tlds = [
        "com",
        "COM",
        "org",
        "io",
        "123",
        "c0m",
        "test",
        "local",
        "localhost",
        "onion",
        "invalid",
        "arpa",
        "x",
        "a" * 63,
        "a" * 64,
        "museum",
        "ai1",
        "台灣",
        "рф",
        "xn--p1ai",
        "ＣＯＭ",
        "com．",
    ]
    out = []
    for _ in range(n):
        local = rnd.choice(locals_)
        domain = ".".join(
            rnd.choice(labels[:3] if rnd.random() < 0.5 else labels)
            for _ in range(rnd.randint(0, 4))
            if rnd.random() < 0.9
        )
        domain = f"{domain}.{rnd.choice(tlds)}" if domain else rnd.choice(tlds)
        address = f"{local}@{domain}"
        if rnd.random() < 0.05:
            address = address * 3  # too long / two @
        out.append(address)
    out += [f"{'a' * 60}@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 50}.com"]  # near the 254 limit
    for n in range(40, 64):  # Unicode domains whose IDNA form crosses the length limits
        out += [f"{'a' * n}@{'ü' * 20}.{'b' * 60}.{'c' * 60}.{'d' * n}.de", f"{'a' * n}@{'ü' * 50}.{'e' * 60}.com"]
    return out


def test_fast_path_agrees_with_email_validator_on_generated_near_misses() -> None:
    addresses = _near_misses(12000)
    assert sum(validate._fast(a) is not None for a in addresses) > 300
    assert sum(validate._fast(a) is None and validate._cached(a) is not None for a in addresses) > 100
    assert sum(_outcome(slow_normalize_email, a) is None for a in addresses) > 500
    disagree = [a for a in addresses if _outcome(normalize_email, a) != _outcome(slow_normalize_email, a)]
    assert disagree == []


def test_normalisation_lowercases_domain_and_role_mailboxes_only() -> None:
    assert normalize_email("Ada.Lovelace@Example.COM") == "Ada.Lovelace@example.com"
    assert normalize_email("PostMaster@Example.com") == "postmaster@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "a@example.com\r\nBcc: x@evil.com",
        "a@example.com\n",
        "a\0@example.com",
        "a@exa\tmple.com",
        "a@example.com\u2028",
        " a@example.com",
        "a@example.com ",
    ],
)
def test_header_injection_and_stray_whitespace_never_get_in(raw: str) -> None:
    with pytest.raises(SubscriberError):
        normalize_email(raw)


@pytest.mark.parametrize(
    "raw", ["Ada\r\nBcc: x@evil.com", "Ada\nLovelace", "Ada\0", "Ada\x1b[31m", "A\u2029B", "x" * 201]
)
def test_names_with_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(SubscriberError):
        clean_name(raw)


def test_names_are_trimmed_and_unicode_kept() -> None:
    assert clean_name("  Zoë Ångström  ") == "Zoë Ångström"


def test_attributes_must_be_a_json_object() -> None:
    assert parse_attributes("") == {}
    assert parse_attributes('{"city": "Oslo", "n": 2}') == {"city": "Oslo", "n": 2}
    for bad in ("[1, 2]", "{city: Oslo}", '"text"', "{"):
        with pytest.raises(SubscriberError, match="attributes"):
            parse_attributes(bad)


def test_check_deliverability_asks_dns_once_per_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS lies outside the machine, so it is the one thing replaced here (with email-validator's own hook)."""
    from email_validator import EmailUndeliverableError, deliverability

    asked: list[str] = []

    def fake_dns(domain: str, domain_i18n: str, timeout=None, dns_resolver=None):  # type: ignore[no-untyped-def]
        asked.append(domain)
        if domain.startswith("nomail."):
            raise EmailUndeliverableError(f"The domain name {domain_i18n} does not accept email.")
        return {"mx": [(10, f"mx.{domain}")], "mx_fallback_type": None}

    monkeypatch.setattr(deliverability, "validate_email_deliverability", fake_dns)
    validate._undeliverable.cache_clear()
    try:
        assert normalize_email("a@Takes.example.com", check_deliverability=True) == "a@takes.example.com"
        assert normalize_email("b@takes.example.com", check_deliverability=True) == "b@takes.example.com"
        with pytest.raises(SubscriberError, match="does not accept email"):
            normalize_email("c@nomail.example.com", check_deliverability=True)
        assert normalize_email("c@nomail.example.com") == "c@nomail.example.com"  # no DNS unless asked
        assert asked == ["takes.example.com", "nomail.example.com"]
    finally:
        validate._undeliverable.cache_clear()
