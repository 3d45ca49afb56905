"""Creating a newsletter's home: ``digest.toml``, the store, and (optionally) a working example."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from digest import clock, subscribers
from digest.config import CONFIG_FILE, DEFAULT_TOML, load, resolve_home
from digest.errors import HomeError
from digest.examples import write_example_feeds
from digest.store import Store


@dataclass
class InitReport:
    home: Path
    created_config: bool
    sources: list[str] = field(default_factory=list)
    list_name: str | None = None
    subscribers: int = 0


def next_step(report: InitReport, prefix: str = "digest") -> str:
    """The command that moves a new home forward: run the example, or add the first source."""
    if report.sources:
        return f"{prefix} run"
    with Store(load(report.home).db_path) as store:
        has_sources, has_lists = bool(store.sources()), bool(store.lists())
    if not has_sources:
        return f"{prefix} sources add URL"
    if not has_lists:
        return f"{prefix} lists add main --from-email you@example.org"
    return f"{prefix} run"


def example_roster() -> Path:
    """The example subscribers CSV: packaged in the wheel, or ``subscribers/example.csv`` of a checkout."""
    packaged = Path(str(resources.files("digest"))) / "examples" / "subscribers.csv"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "subscribers" / "example.csv"


def init_home(
    home: str | Path | None,
    *,
    example: bool = False,
    name: str = "My Digest",
    address: str = "",
    now: datetime | None = None,
) -> InitReport:
    """Create the home; ``address`` (the sender's postal address) is written as given, never made up."""
    path = resolve_home(home)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission: say so, no traceback
        raise HomeError(f"cannot create the home {path}: {exc.strerror}; give a folder with --home") from None
    toml = path / CONFIG_FILE
    created = not toml.exists()
    if created:
        address = subscribers.clean_name(address)
        toml.write_text(
            DEFAULT_TOML.format(name=name.replace('"', "'"), address=json.dumps(address, ensure_ascii=False)),
            encoding="utf-8",
        )
    config = load(path)
    report = InitReport(home=path, created_config=created)
    with Store(config.db_path) as store:
        if not example:
            return report
        lists, people = len(store.lists()), store.subscriber_count()
        if lists or people:  # a live home: sample sources and fake readers must never join a real list
            raise HomeError(
                f"{path} already has {lists} list(s) and {people} subscriber(s): --example would add sample sources"
                " and example subscribers to them; run 'digest init --example' in an empty folder (--home DIR)"
            )
        for source in write_example_feeds(path / "example-feeds", now or clock.now()):
            if store.source_by_location(str(source.path)) is None:
                store.add_source(source.name, str(source.path), weight=source.weight, tags=source.tags)
            report.sources.append(source.name)
        list_name = config.settings.default_list
        if store.find_list(list_name) is None:
            subscribers.add_list(store, config, list_name)
        report.list_name = list_name
        imported = subscribers.import_csv(store, example_roster(), list_name)
        report.subscribers = imported.added + imported.updated + imported.unchanged
    return report
