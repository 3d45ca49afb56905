"""Getting a document's bytes: local files, or HTTP(S) with timeouts, a size cap and conditional GET."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from digest.config import CollectSettings
from digest.errors import SourceError


@dataclass
class Fetched:
    data: bytes | None  # None: not modified since the last fetch
    url: str | None  # the final URL (after redirects), the base for relative links
    etag: str | None = None
    last_modified: str | None = None


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(f"{path} is {size} bytes, over the {max_bytes}-byte cap ([collect] max_bytes)")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


class _LazyTLS(httpx.BaseTransport):
    """Plain HTTP and HTTPS on their own connection pools, the HTTPS one (and its TLS context: loading the CA
    certificates costs ~30 ms of CPU, as much as a whole re-poll of 200 local feeds) made on the first https URL."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._pools: dict[str, httpx.HTTPTransport] = {}

    def _pool(self, scheme: str) -> httpx.HTTPTransport:
        with self._lock:
            if scheme not in self._pools:  # verify=False for plain HTTP: a bare context, never used to connect
                self._pools[scheme] = httpx.HTTPTransport(verify=scheme == "https", limits=self._limits)
            return self._pools[scheme]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool("https" if request.url.scheme == "https" else "http").handle_request(request)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def new_client(settings: CollectSettings) -> httpx.Client:
    """The one HTTP client of a collection run: its connection pools and TLS context are set up once and
    shared by every fetch (a TLS context costs ~30 ms of CPU: building one per feed was most of a re-poll)."""
    workers = max(1, settings.concurrency)
    return httpx.Client(
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        transport=_LazyTLS(httpx.Limits(max_connections=workers, max_keepalive_connections=workers)),
    )


def fetch_url(
    url: str,
    settings: CollectSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
) -> Fetched:
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": "application/atom+xml, application/rss+xml, "
        "application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    client = client or new_client(settings)
    try:
        timeout = httpx.Timeout(settings.timeout)
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                response.read()  # no body: reading the end of it keeps the connection for the next feed
                return Fetched(None, str(response.url), etag, last_modified)
            if response.status_code >= 400:
                raise SourceError(f"{url} answered HTTP {response.status_code} {response.reason_phrase}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > settings.max_bytes:
                raise SourceError(
                    f"{url} is {declared} bytes, over the {settings.max_bytes}-byte cap ([collect] max_bytes)"
                )
            chunks: list[bytes] = []
            total = 0
            deadline = time.monotonic() + settings.total_timeout
            for chunk in response.iter_bytes():  # decoded: the cap also holds for gzip bombs
                total += len(chunk)
                if total > settings.max_bytes:
                    raise SourceError(f"{url} is over the {settings.max_bytes}-byte cap ([collect] max_bytes)")
                if time.monotonic() > deadline:
                    raise SourceError(f"{url} took over {settings.total_timeout:g}s to send ([collect] total_timeout)")
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                str(response.url),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.TimeoutException:
        raise SourceError(f"{url} timed out after {settings.timeout:g}s ([collect] timeout)") from None
    except httpx.TooManyRedirects:
        raise SourceError(f"{url} redirected more than {settings.max_redirects} times") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {exc}") from None
    finally:
        if own:
            client.close()
