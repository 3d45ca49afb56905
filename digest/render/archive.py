"""The web archive: an index of past editions and each edition's web copy.

Only editions that went to at least one reader and whose date has come are shown: a draft, or an
edition built for a later date, never is. The same pages serve two ways: :func:`write_archive`
writes them as static files (``digest render --archive DIR``), and ``digest.web.archive`` serves
them at ``/editions`` and ``/lists/NAME/`` (with ``/lists/NAME/feed.atom``). Links between pages
are relative, so the archive works under any sub-path of ``public_url``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest import clock, urls
from digest.config import Config
from digest.errors import DigestError
from digest.i18n import DEFAULT, messages
from digest.models import MailingList
from digest.render import render_edition
from digest.render.feed import atom_feed
from digest.render.templates import environment, long_date, render_template
from digest.store import Store

Values = Callable[[int], dict[str, str]]


def today(store: Store, config: Config) -> str:
    """The last date the archive shows: an edition dated later is not out yet, whatever was sent.

    Today as editions are dated, in the configured timezone or a list's own, whichever is furthest on: in
    Kiritimati the edition of the 25th goes out while UTC is still on the 24th, and its web copy must be there.
    """
    zones = {config.settings.timezone} | {lst.timezone for lst in store.lists() if lst.timezone}
    return max(clock.local_date(zone) for zone in zones)


def entries(store: Store, config: Config, list_id: int | None = None) -> list[dict[str, Any]]:
    """Editions that went out to at least one reader, newest first, with what the index shows."""
    return [
        {
            "id": e.id,
            "date": e.date,
            "date_long": long_date(e.date),
            "list": e.list,
            "list_title": e.list_title,
            "subject": e.subject,
            "stories": e.stories,
            "sent_at": e.sent_at,
            "built_at": e.built_at,
        }
        for e in store.published_editions(today(store, config), list_id)
    ]


def index_page(
    config: Config,
    rows: list[dict[str, Any]],
    href: Callable[[dict[str, Any]], str],
    *,
    title: str | None = None,
    feed_href: str | None = None,
    language: str = DEFAULT,
) -> str:
    t = messages(language or DEFAULT)
    context = {
        "newsletter": {"name": config.settings.name, "public_url": config.public_url},
        "title": title,
        "feed_href": feed_href,
        "editions": [{**r, "href": href(r), "date_long": t.long_date(r["date"])} for r in rows],
        "t": t.strings,
        "lang": t.tag,
        "dir": t.direction,
    }
    return render_template(environment(config), "archive.html.j2", context)


def _hrefs(page: str, suffix: str = "") -> Callable[[dict[str, Any]], str]:
    """Each entry's href from the page at path ``page`` (``suffix``: ``.html`` for the static files)."""
    return lambda r: urls.relative(page, urls.edition_path(r["id"]), suffix)


def archive_page(config: Config, rows: list[dict[str, Any]], language: str = DEFAULT) -> str:
    """Every list's sent editions, as served at ``/editions`` (``language``: the default list's)."""
    return index_page(config, rows, _hrefs(urls.archive_path()), language=language)


def site_language(store: Store, config: Config) -> str:
    """The language of pages about no one list (signup, the whole archive): the default list's."""
    for lst in store.lists():
        if lst.name == config.settings.default_list:
            return lst.language or DEFAULT
    return DEFAULT


def list_page(
    config: Config, lst: MailingList, rows: list[dict[str, Any]], *, page: str | None = None, suffix: str = ""
) -> str:
    """One list's sent editions with its feed, as served at ``/lists/NAME/`` (``page``: where it is written)."""
    page = page or urls.list_path(lst.name)
    feed = urls.relative(page, urls.feed_path(lst.name))
    return index_page(config, rows, _hrefs(page, suffix), title=list_title(lst), feed_href=feed, language=lst.language)


def edition_page(store: Store, config: Config, edition_id: int, values: Values) -> str:
    """The edition as the web version shows it (nobody's personal links)."""
    html, _ = render_edition(store, config, edition_id).fill(values(edition_id))
    return html


@dataclass
class ArchiveReport:
    out: Path
    index: Path
    pages: list[Path] = field(default_factory=list)
    lists: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.index),
            "editions": len(self.pages),
            "pages": [str(p) for p in self.pages],
            "lists": [str(p) for p in self.lists],
        }


def write_archive(
    store: Store,
    config: Config,
    out: Path,
    values: Values,
    list_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveReport:
    """Write the archive of every edition that went out as static files, all links relative.

    ``out/index.html`` lists them all, ``out/editions/<id>.html`` is each web copy, and each list
    gets ``out/lists/<name>/index.html`` and its Atom feed ``out/lists/<name>/feed.atom``.
    """
    rows = entries(store, config, list_id)
    pages_dir = out / "editions"
    if out.exists() and not out.is_dir():
        raise DigestError(f"cannot write the archive into {out}: it is a file; give a folder (new or existing)")
    try:
        pages_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(out, exc) from None
    report = ArchiveReport(out=out, index=out / "index.html")
    pages: dict[int, str] = {}
    for row in rows:
        page = pages_dir / f"{row['id']}.html"
        pages[row["id"]] = edition_page(store, config, row["id"], values)
        _write(page, pages[row["id"]])
        report.pages.append(page)
        if progress:
            progress(len(report.pages), len(rows))  # (done, of)
    language = site_language(store, config)
    _write(report.index, index_page(config, rows, _hrefs("index.html", ".html"), language=language))
    lists = [store.list_by_id(list_id)] if list_id is not None else store.lists()
    for lst in lists:
        mine = [r for r in rows if r["list"] == lst.name]
        folder = out / "lists" / lst.name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(folder, exc) from None
        _write(
            folder / "index.html",
            list_page(config, lst, mine, page=urls.list_path(lst.name) + "index.html", suffix=".html"),
        )
        _write(folder / "feed.atom", atom_feed(config, lst, mine, lambda eid: pages[eid]))
        report.lists.append(folder)
    return report


def list_title(lst: MailingList) -> str:
    """What readers see for a list: its title, else its name."""
    return lst.display_title


def _write(path: Path, text: str) -> None:
    """Write through a temporary file so a reader never sees half a page."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise write_error(path, exc) from None


def write_error(path: Path, exc: OSError) -> DigestError:
    """The one line for an output file that cannot be written: what the system said, and what to give instead."""
    if isinstance(exc, FileNotFoundError):
        fix = "give a path in an existing folder"
    elif isinstance(exc, IsADirectoryError):
        fix = "that is a folder; give a file's path"
    elif isinstance(exc, (NotADirectoryError, FileExistsError)):
        fix = "part of the path is a file, not a folder; give another path"
    elif isinstance(exc, PermissionError):
        fix = "give a path you may write to"
    else:
        fix = "give another path"
    return DigestError(f"cannot write {path}: {exc.strerror or exc}; {fix}")
