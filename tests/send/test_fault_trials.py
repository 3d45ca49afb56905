"""Random fault trials: kill -9 at a random moment, and SendGrid answering with random faults (accepted then
500, 5xx, 429, a dropped connection, a hang, a 400). After each trial the operator's recovery runs as the README
says (`digest send` again; SendGrid's events arrive; `digest send --retry-unknown`), and the trial counts
**duplicates** (a reader SendGrid accepted twice) and **silent losses** (a reader never accepted whom the ledger
does not report failed or unknown, or one the ledger calls sent that SendGrid never accepted). Both must be 0.

In the suite it runs a few trials; for a campaign:
``PYTHONPATH=. python -m tests.send.test_fault_trials --trials 40 [--seed 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support import NOW, ROOT, SENDGRID_SPEC, need_shared
from tests.support.send import ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

FAULTS = ["accept500", "500", "503", "429", "drop", "hang", "400"]
READERS = 240


def _digest(home: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(
        sendgrid_env(
            url,
            DIGEST_HOME=str(home),
            DIGEST_NOW=NOW.isoformat(),
            DIGEST_SEND_BATCH_SIZE="20",
            DIGEST_SEND_CONCURRENCY="2",
            DIGEST_SENDGRID_TIMEOUT="0.5",
            NO_PROXY="127.0.0.1,localhost",
            PYTHONPATH=str(ROOT),
        )
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from digest.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events_for(standin: StandIn, seen: set[tuple[str, str]]) -> list[dict[str, object]]:
    """What SendGrid's Event Webhook reports for every personalization it accepted (once each)."""
    out = []
    for p, _ in standin.deliveries():
        args = p["custom_args"]
        key = (args["edition_id"], args["subscriber_id"])
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "event": "processed",
                "email": p["to"][0]["email"],
                "timestamp": int(NOW.timestamp()),
                "sg_event_id": f"processed-{key[0]}-{key[1]}",
                **args,
            }
        )
    return out


def trial(seed: int, workdir: Path) -> dict[str, int]:
    """One trial; returns its counts."""
    from digest.send.events import record_events

    rng = random.Random(seed)
    home = workdir / f"home-{seed}"
    home.mkdir()
    with StandIn(delay=rng.choice([0.0, 0.02, 0.05]), hang_for=2.0) as standin:
        subprocess.run(
            [sys.executable, "-c", "from digest.cli import main; main()", "--home", str(home), "init"],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
        with open_store(home) as store:
            edition = make_edition(store, READERS, date=NOW.date().isoformat())
        standin.then(*(rng.choice(["ok"] * 5 + FAULTS) for _ in range(rng.randint(3, 12))))
        first = _digest(home, standin.url, "send", "--json")
        if rng.random() < 0.7:  # kill -9 at a random moment of the first run
            time.sleep(rng.uniform(0.0, 2.0))
            first.send_signal(signal.SIGKILL)
        first.communicate(timeout=120)

        seen: set[tuple[str, str]] = set()
        for round_ in range(6):  # the operator's recovery, as the README says
            if rng.random() < 0.3:
                standin.then(rng.choice(FAULTS))  # faults go on during recovery too
            args = ("send", "--json", "--retry-unknown") if round_ % 2 else ("send", "--json")
            if round_ % 2:
                with open_store(home) as store:  # SendGrid's events about what it accepted have arrived
                    record_events(store, _events_for(standin, seen))
            code = _digest(home, standin.url, *args).wait(timeout=120)
            with open_store(home) as store:
                counts = store.send_counts(edition)
            if code == 0 and counts.sent == READERS:
                break
        delivered = Counter(
            (p["custom_args"]["edition_id"], p["custom_args"]["subscriber_id"]) for p, _ in standin.deliveries()
        )
        with open_store(home) as store:
            statuses = {str(r["subscriber_id"]): r["status"] for r in ledger(store, edition)}
            people = [str(s.id) for s in store.subscribers(store.list_("main").id)]
    got = {sid for (_, sid) in delivered}
    lost = [sid for sid in people if sid not in got and statuses.get(sid) not in ("failed", "unknown")]
    lost += [sid for sid, status in statuses.items() if status == "sent" and sid not in got]
    return {
        "duplicates": sum(n - 1 for n in delivered.values()),
        "silent_losses": len(lost),
        "reported": sum(1 for sid in people if sid not in got),  # not reached, and the ledger says so
        "requests": len(standin.requests),
    }


def campaign(trials: int, seed: int, workdir: Path) -> dict[str, int]:
    total: Counter[str] = Counter()
    for i in range(trials):
        counts = trial(seed + i, workdir)
        total.update(counts)
        total["trials"] += 1
    return dict(total)


@pytest.mark.slow
def test_random_kills_and_faults_make_no_duplicate_and_no_silent_loss(tmp_path: Path) -> None:
    need_shared(SENDGRID_SPEC)
    trials = int(os.environ.get("DIGEST_FAULT_TRIALS", "2"))
    total = campaign(trials, seed=random.randrange(1_000_000), workdir=tmp_path)
    print(f"\nfault trials: {json.dumps(total)}")
    assert (total["duplicates"], total["silent_losses"]) == (0, 0), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    need = SENDGRID_SPEC
    if not need.exists():
        raise SystemExit(f"{need} is missing: the stand-in validates bodies against SendGrid's schema")
    with tempfile.TemporaryDirectory(prefix="fault-trials-") as tmp:
        total = campaign(args.trials, args.seed, Path(tmp))
    print(json.dumps(total))
    print(f"duplicates {total['duplicates']}, silent losses {total['silent_losses']} in {total['trials']} trials")


if __name__ == "__main__":
    main()
