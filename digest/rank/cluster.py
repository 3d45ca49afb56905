"""Near-duplicate detection: one entry per event, whichever outlets or feed formats carried it.

Stories are sets of words. MinHash signatures (vectorised with numpy, salted with fixed seeds so
results never depend on the process) estimate the Jaccard similarity of two sets; locality-sensitive
hashing on bands of the signature proposes candidate pairs in time close to linear, and a candidate
pair merges only when its exact similarity clears the threshold. Exact URL matches always merge.
Connected stories form a cluster (union-find).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

NUM_PERM = 24
BANDS = 12  # 12 bands of 2 rows: pairs with Jaccard 0.5 become candidates with probability ~0.97
ROWS = NUM_PERM // BANDS
TITLE_FLOOR = 0.25
SUPPORTED_TITLE, LEAD_SUPPORT = 0.5, 0.25  # titles this alike merge when title+lead words are this alike too
SLACK = 0.2  # how far below the threshold a MinHash estimate may fall and still be checked exactly
# lead words found in more leads than this (a count, and a share of the pool) are boilerplate
BOILERPLATE_MIN, BOILERPLATE_SHARE = 4, 0.02
_PRIME = (1 << 31) - 1
_rng = np.random.default_rng(20261124)
_A = _rng.integers(1, _PRIME, NUM_PERM, dtype=np.int64)
_B = _rng.integers(0, _PRIME, NUM_PERM, dtype=np.int64)

WORD = re.compile(r"\w+(?:[.,'’]\w+)*")
_STOP = (
    "a an and are as at be by for from has have he her his how in is it its of on or she that the their this to"
    " was were what when which who why will with you your after over into about than then they them new"
    " says said le la les de des du et un une der die das und el los las y"
)
STOPWORDS = frozenset(_STOP.split())


_SUFFIXES = ("ings", "ing", "ed", "es", "s", "e")


def stem(word: str) -> str:
    """A crude, consistent stem (lanes/lane, charging/charges, minutes/minute all meet)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    """Stemmed lower-case words (stopwords and one-letter words left out) of ``text``."""
    return {stem(w) for w in WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS}


def numbers_differ(a: set[str], b: set[str]) -> bool:
    """Both titles carry numbers, and not the same ones."""
    na = {w for w in a if any(c.isdigit() for c in w)}
    nb = {w for w in b if any(c.isdigit() for c in w)}
    return bool(na and nb and na != nb)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def signatures(docs: Sequence[Iterable[str]]) -> np.ndarray:
    """MinHash signatures, shape ``(len(docs), NUM_PERM)``; an empty document matches nothing."""
    codes: list[int] = []
    starts = np.zeros(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        starts[i] = len(codes)
        before = len(codes)
        codes.extend(zlib.crc32(w.encode("utf-8", "surrogatepass")) for w in doc)
        if len(codes) == before:  # a unique value so that empty documents never collide
            codes.append((1 << 32) + i)
    if not docs:
        return np.zeros((0, NUM_PERM), dtype=np.int64)
    distinct, which = np.unique(np.asarray(codes, dtype=np.int64), return_inverse=True)
    hashed = (distinct[:, None] % _PRIME * _A[None, :] + _B[None, :]) % _PRIME
    return np.minimum.reduceat(hashed[which], starts, axis=0)


def similar_pairs(sig: np.ndarray, threshold: float, usable: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` whose estimated Jaccard similarity is at least ``threshold``.

    Each band buckets documents by its rows; every member of a bucket is compared with the bucket's
    first member (so the work is linear in the number of documents). ``usable`` masks documents
    that may take part.
    """
    n = len(sig)
    if n < 2:
        return []
    idx = np.arange(n) if usable is None else np.flatnonzero(usable)
    if len(idx) < 2:
        return []
    pairs: set[tuple[int, int]] = set()
    for band in range(BANDS):
        cols = sig[idx, band * ROWS : (band + 1) * ROWS]
        key = cols[:, 0] * _PRIME + cols[:, 1] if ROWS == 2 else cols[:, 0]
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
        leader_pos = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        members = idx[order[~first]]
        leaders = idx[order[leader_pos[~first]]]
        if len(members) == 0:
            continue
        agree = (sig[members] == sig[leaders]).mean(axis=1)
        for a, b in zip(leaders[agree >= threshold].tolist(), members[agree >= threshold].tolist(), strict=True):
            pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


def components(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Union-find: the label (lowest member index) of each of ``n`` items given linked pairs."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


MIN_SHARED = 3  # words two stories must share before their word sets may say they are one event


def _apart(a: int, b: int, urls: Sequence[str], sources: Sequence[int] | None) -> bool:
    """Two items of one source are two posts unless they are one URL: a feed does not cover its own story twice
    (a tumblr's four posts titled "Photo" are four posts)."""
    return sources is not None and sources[a] == sources[b] and (not urls[a] or urls[a] != urls[b])


def cluster(
    titles: Sequence[str],
    texts: Sequence[str],
    urls: Sequence[str],
    *,
    similarity: float,
    title_similarity: float,
    sources: Sequence[int] | None = None,
) -> list[int]:
    """Cluster label (lowest member index) of each story.

    Two stories are one event when their URLs are equal; when their titles (of four words or more,
    without different numbers) are at least ``title_similarity`` alike, or at least ``SUPPORTED_TITLE``
    alike with title and lead words at least ``LEAD_SUPPORT`` alike; or when their title and lead
    words are at least ``similarity`` alike and their titles share at least ``TITLE_FLOOR`` of their
    words. Lead words common to many stories of the pool are left out: a feed's boilerplate summary
    must not merge different stories. Word sets that share fewer than ``MIN_SHARED`` words say nothing
    (identical one-word titles with no lead), and two stories of one source (``sources``) merge only by URL.
    """
    n = len(titles)
    title_words = [words(t) for t in titles]
    lead_words = [words(x) for x in texts]
    seen = Counter(w for lw in lead_words for w in lw)
    common = {w for w, k in seen.items() if k > max(BOILERPLATE_MIN, BOILERPLATE_SHARE * n)}
    full_words = [tw | (lw - common) for tw, lw in zip(title_words, lead_words, strict=True)]
    # LSH proposes pairs on a loose estimate; the exact Jaccard similarity of the word sets decides
    pairs = [
        (a, b)
        for a, b in similar_pairs(signatures(full_words), similarity - SLACK)
        if jaccard(full_words[a], full_words[b]) >= similarity
        and len(full_words[a] & full_words[b]) >= MIN_SHARED
        and jaccard(title_words[a], title_words[b]) >= TITLE_FLOOR
        and not numbers_differ(title_words[a], title_words[b])
        and not _apart(a, b, urls, sources)
    ]
    # titles alike (four words or more), or fairly alike with leads that agree; never when the titles
    # carry different numbers ("iOS 17.1" and "iOS 17.2" are two events)
    long_titles = np.array([len(tw) >= 4 for tw in title_words], dtype=bool)
    loose = min(title_similarity, SUPPORTED_TITLE)
    for a, b in similar_pairs(signatures(title_words), loose - SLACK, long_titles):
        alike = jaccard(title_words[a], title_words[b])
        if numbers_differ(title_words[a], title_words[b]) or _apart(a, b, urls, sources):
            continue
        if alike >= title_similarity or (
            alike >= SUPPORTED_TITLE and jaccard(full_words[a], full_words[b]) >= LEAD_SUPPORT
        ):
            pairs.append((a, b))
    first_of_url: dict[str, int] = {}
    for i, url in enumerate(urls):
        j = first_of_url.setdefault(url, i) if url else i
        if j != i:
            pairs.append((j, i))
    return components(n, pairs)
