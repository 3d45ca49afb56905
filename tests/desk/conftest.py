"""The desk's fixtures: the example newsletter, collected and built, opened through the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digest import Newsletter
from tests.conftest import Cli


@pytest.fixture
def news(home: Path, cli: Cli) -> Iterator[Newsletter]:
    """The example newsletter (4 sources, list 'main', 5 readers) with today's edition built, not sent."""
    cli("init", "--example")
    cli("collect")
    cli("build")
    with Newsletter.open(home) as opened:
        yield opened


@pytest.fixture
def eid(news: Newsletter) -> int:
    return news.edition()
