"""Every public link digest makes, in one place: the routes of ``digest serve`` that mail, feeds and pages
point at.

The paths are a contract: sent mail keeps linking to them for years (``design/cli.md`` lists them), so a
path here is never renamed, only added. Each builder takes ``public_url`` first, with or without a sub-path
or a trailing slash (``https://example.org/news/`` gives ``https://example.org/news/lists/main/``).

Two kinds of link:

- **Signed** (:func:`unsubscribe`, :func:`confirm`, :func:`preferences`): ``{public_url}/{purpose}/{token}``,
  one per reader and list; the token is made and checked by :mod:`digest.tokens`, which stays the one
  home of signing.
- **Tracked** (:func:`click`, only with ``[track] clicks``): ``{public_url}/c/{token}``, one per story and
  edition, the same for every reader; ``digest serve`` counts the click and redirects to the story.
- **Public** (:func:`edition`, :func:`archive`, :func:`list_page`, :func:`list_feed`, :func:`story`): the same
  for every reader. The archive's own pages link to each other with :func:`relative` hrefs (from the same
  paths), so they work under any sub-path and as static files.

A new link (a click redirect, a page) gets its path function and its builder here, and a test in
``tests/web/test_urls.py`` that the app answers it.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote, urlsplit

from digest import tokens

# -- paths, relative to public_url (no leading slash) ---------------------------------------------


def signup_path() -> str:
    return ""


def subscribe_path() -> str:
    return "subscribe"


def archive_path() -> str:
    return "editions"


def edition_path(edition_id: int) -> str:
    return f"editions/{int(edition_id)}"


def list_path(list_name: str) -> str:
    return f"lists/{quote(list_name, safe='')}/"


def feed_path(list_name: str) -> str:
    return f"{list_path(list_name)}feed.atom"


def story_path(story_id: int) -> str:
    return f"stories/{int(story_id)}"


def click_path(token: str) -> str:
    return f"c/{token}"


def token_path(purpose: str, token: str) -> str:
    return f"{purpose}/{token}"


# -- absolute links --------------------------------------------------------------------------------


def sub_path(public_url: str) -> str:
    """The path ``public_url`` puts before every route (``/news`` for ``https://example.org/news/``), or ``""``."""
    return urlsplit(public_url).path.rstrip("/")


def join(public_url: str, path: str = "") -> str:
    """``path`` under ``public_url``, keeping its sub-path: the base is a folder, never replaced."""
    return f"{public_url.rstrip('/')}/{path}" if path else public_url.rstrip("/")


def click(public_url: str, key: bytes, edition_id: int, story_id: int) -> str:
    """A story's tracked link in one edition: ``{public_url}/c/{token}`` (see :func:`digest.tokens.sign_click`)."""
    return join(public_url, click_path(tokens.sign_click(key, edition_id, story_id)))


def signed(
    public_url: str, key: bytes, purpose: str, subscriber_id: int, list_id: int, issued: int | None = None
) -> str:
    """The page a signed token leads to: ``{public_url}/{purpose}/{token}``."""
    return join(public_url, token_path(purpose, tokens.sign(key, purpose, subscriber_id, list_id, issued)))


def unsubscribe(public_url: str, key: bytes, subscriber_id: int, list_id: int) -> str:
    """The reader's unsubscribe page (also the ``List-Unsubscribe`` one-click target)."""
    return signed(public_url, key, "unsubscribe", subscriber_id, list_id)


def confirm(public_url: str, key: bytes, subscriber_id: int, list_id: int, issued: int | None = None) -> str:
    """The page that confirms a subscription (``issued``, Unix seconds, makes the link expire)."""
    return signed(public_url, key, "confirm", subscriber_id, list_id, issued)


def preferences(public_url: str, key: bytes, subscriber_id: int, list_id: int) -> str:
    """The reader's preferences page (``/preferences/TOKEN``): topics, frequency, pause, name, leaving."""
    return signed(public_url, key, "preferences", subscriber_id, list_id)


def unsubscribe_placeholder(public_url: str) -> str:
    """What a copy nobody in particular reads (web version, preview, archive) shows as its unsubscribe link."""
    return join(public_url, "unsubscribe")


def signup(public_url: str) -> str:
    """The signup page: the newsletter's public lists and a form."""
    return join(public_url, signup_path()) + "/"


def subscribe(public_url: str) -> str:
    """Where the signup form (or a JSON client) POSTs."""
    return join(public_url, subscribe_path())


def edition(public_url: str, edition_id: int) -> str:
    """An edition's web copy: every email's "View in your browser"."""
    return join(public_url, edition_path(edition_id))


def archive(public_url: str) -> str:
    """Every list's sent editions."""
    return join(public_url, archive_path())


def list_page(public_url: str, list_name: str) -> str:
    """One list's sent editions."""
    return join(public_url, list_path(list_name))


def list_feed(public_url: str, list_name: str) -> str:
    """One list's Atom feed."""
    return join(public_url, feed_path(list_name))


def story(public_url: str, story_id: int) -> str:
    """One story's page."""
    return join(public_url, story_path(story_id))


# -- links between the archive's own pages ---------------------------------------------------------


def relative(page: str, target: str, suffix: str = "") -> str:
    """The href from the page at path ``page`` to the path ``target`` (both relative to public_url).

    ``suffix`` is added to a target that is a file (``.html`` in the static archive). Relative hrefs let
    the archive work under any sub-path and from a folder of files, with no base to know.
    """
    folder = page if page.endswith("/") else posixpath.dirname(page)
    slash = "/" if target.endswith("/") else ""
    href = posixpath.relpath(target.rstrip("/") or ".", folder or ".")
    return f"{href}{slash}" if slash else f"{href}{suffix}"
