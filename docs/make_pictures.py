"""Regenerate every picture the README shows: the email at desktop and phone widths, the desk, the stats chart.

Run from the repository root with the test extras installed (headless Chromium at /usr/bin/chromium):
``python docs/make_pictures.py``. Nothing is fetched: the example newsletter is local.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def digest(home: Path, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIGEST_HOME": str(home), "PYTHONPATH": str(ROOT)}
    if now:
        env["DIGEST_NOW"] = now
    run = [sys.executable, "-c", "from digest.cli import main; main()", *args]
    return subprocess.run(run, env=env, capture_output=True, text=True, check=False)


def example(home: Path) -> None:
    """The example newsletter with three days of editions, as a reader of the README would have it."""
    digest(home, "init", "--example", now="2026-11-22T07:00:00Z")
    for day in ("2026-11-22", "2026-11-23", "2026-11-24"):
        digest(home, "run", now=f"{day}T07:00:00Z")


def desk(home: Path, out: Path) -> None:
    """The preview page (the desk): the edition at both widths and why each story was picked."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "DIGEST_HOME": str(home), "PYTHONPATH": str(ROOT), "DIGEST_NOW": "2026-11-24T07:00:00Z"}
    run = [sys.executable, "-c", "from digest.cli import main; main()", "preview", "--port", "0", "--json"]
    with subprocess.Popen(run, env=env, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            text = ""
            while not text.rstrip().endswith("}"):
                text += server.stdout.readline()
            url = json.loads(text)["url"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url, wait_until="networkidle")
                page.screenshot(path=str(out))
                browser.close()
        finally:
            server.terminate()
    print(f"Wrote {out}")


def main() -> None:
    import make_screenshot

    make_screenshot.main(DOCS / "screenshot.png", width=680)
    make_screenshot.main(DOCS / "phone.png", width=375)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "news"
        example(home)
        desk(home, DOCS / "desk.png")
        done = digest(home, "stats", "--chart", str(DOCS / "stats.png"))
        print(done.stderr.strip() or done.stdout.strip())


if __name__ == "__main__":
    main()
