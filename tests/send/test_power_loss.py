"""Power loss mid-send: the in-flight record is on disk before the request leaves (issue 14, finding 1).

``digest send`` runs as a subprocess whose WAL syncs are watched (tests/support/powerloss.py). The moment the
SendGrid stand-in receives the first request, the home is copied as a power cut would leave it (the WAL cut back
to its last synced length); the send is then resumed from that copy, as after the machine comes back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from tests.support import powerloss
from tests.support.send import email_of, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

N = 1500

pytestmark = pytest.mark.slow  # real subprocesses


def digest(home: Path, url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # a busy machine validates 1000-recipient bodies slowly: no read timeout may end a request here
    env.update(
        sendgrid_env(url, DIGEST_HOME=str(home), DIGEST_SEND_CONCURRENCY="1", DIGEST_SENDGRID_TIMEOUT="60", **extra)
    )
    return subprocess.run(
        [sys.executable, "-c", "from digest.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_power_cut_after_a_request_left_never_sends_its_readers_again(initialised: Path, tmp_path: Path) -> None:
    lib = powerloss.build_shim(tmp_path)
    with open_store(initialised) as store:
        edition = make_edition(store, N)
    cut = tmp_path / "after-power-cut"
    first_request: list[set[str]] = []
    taken = threading.Lock()

    def power_cut(raw: bytes) -> None:
        with taken:
            if not first_request:  # the instant the first request reached SendGrid
                powerloss.snapshot(initialised, cut)
                body = json.loads(raw)
                first_request.append({p["to"][0]["email"] for p in body["personalizations"]})

    with StandIn(on_request=power_cut) as before:
        done = digest(initialised, before.url, "send", "--json", **powerloss.env(lib))
        assert done.returncode == 0, done.stderr
    left = first_request[0]
    assert len(left) == 1000

    with StandIn() as after:  # the machine is back: the same command again, on what the disk held
        done = digest(cut, after.url, "send", "--json")
        report = json.loads(done.stdout)
        again = Counter(after.addresses())
    assert not left & set(again), f"{len(left & set(again))} readers SendGrid had accepted were sent again"
    assert report["unknown"] == len(left)  # reported, for --retry-unknown to reconcile
    assert set(again) == {email_of(i) for i in range(1, N + 1)} - left
    with open_store(cut) as store:
        unknown = {r["email"] for r in ledger(store, edition, "unknown")}
    assert unknown == left
