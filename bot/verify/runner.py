"""Verify a store: read its public index.json, then check every entry on a bounded pool.

Per entry (one task): where it points (`checks.placement`; an entry outside the store's
prefix is never fetched), the tarball streamed and hashed, its `.sha256` sidecar and its
`.json` manifest. Everything is read through the entries' public URLs, as a buildpack reads
them; the store is only asked for its naming (`url`, `public_url`), so nothing is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.errors import PublishError
from bot.store.layout import INDEX_KEY, Index, IndexEntry, checksum_key, manifest_key, parse_index
from bot.verify import checks
from bot.verify.checks import Problem
from bot.verify.reader import Fetched, PublicReader

WORKERS = 8
INDEX_LIMIT = 64 << 20
SIDECAR_LIMIT = 4096
MANIFEST_LIMIT = 64 << 20  # a manifest lists every file of the tarball


class StoreNaming(Protocol):
    """The part of an `ArtifactStore` verification uses: names, no reads or writes."""

    @property
    def url(self) -> str: ...

    def public_url(self, key: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Verified:
    entry: IndexEntry
    problems: tuple[Problem, ...]
    base_image: str | None = None  # the manifest's base_image_digest, if recorded
    downloaded: Fetched | None = None  # None: not fetched (outside the prefix)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def result(self) -> str:
        return ", ".join(dict.fromkeys(p.kind for p in self.problems)) or "ok"

    def line(self) -> str:
        """One line naming the entry and everything wrong with it."""
        return f"{self.entry.key[:200]}: " + "; ".join(f"{p.kind}: {p.detail}"
                                                       for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        e = self.entry
        got = self.downloaded
        return {"component": e.component, "version": e.version, "stack": e.stack,
                "arch": e.arch, "key": e.key, "url": e.url, "size": e.size, "sha256": e.sha256,
                "base_image_digest": self.base_image, "ok": self.ok, "result": self.result,
                "problems": [{"kind": p.kind, "detail": p.detail} for p in self.problems],
                "downloaded": None if got is None else {
                    "status": got.status, "size": got.size, "sha256": got.sha256 or None}}


@dataclass(frozen=True, slots=True)
class Verification:
    store: str
    index_url: str
    results: tuple[Verified, ...]

    @property
    def bad(self) -> list[Verified]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        total, bad = len(self.results), len(self.bad)
        if not bad:
            return f"verified {total} artifact(s) in {self.store}: all good"
        return (f"verified {total} artifact(s) in {self.store}: {total - bad} good, {bad} bad")


def read_public_index(store: StoreNaming, reader: PublicReader) -> tuple[Index, str]:
    """The index as a buildpack gets it (its public URL, anonymously), and that URL."""
    url = store.public_url(INDEX_KEY)
    got = reader.read(url, INDEX_LIMIT)
    if got.status in (404, 410) or got.error == "no such file":
        raise PublishError(f"no index.json at {url}: nothing is published there; check "
                           "--store / RELEASE_BOT_STORE or publish first")
    if got.over_limit:
        raise PublishError(f"{url} is larger than {INDEX_LIMIT} bytes; it is not a "
                           "release-bot index: restore it from the store's history")
    if not got.ok or got.data is None:
        hint = (": buildpacks cannot read it either; make the store public-read"
                if got.status in (401, 403) else "; check the network and the store")
        raise PublishError(f"cannot read {url} anonymously ({got.error}){hint}")
    return parse_index(got.data, url), url


def verify_entry(store: StoreNaming, reader: PublicReader, entry: IndexEntry,
                 base_url: str) -> Verified:
    """Every check of one entry (never raises for what the store holds: problems are values)."""
    try:
        expected: str | None = store.public_url(entry.key)
    except PublishError:  # a file:// store refuses keys that climb out of its directory
        expected = None
    problems = checks.placement(entry, expected, base_url)
    if any(p.kind in (checks.OUTSIDE, checks.WRONG_URL) for p in problems):  # never fetched
        return Verified(entry, tuple(problems))
    got = reader.digest(entry.url, max(entry.size, 0))
    problems += checks.artifact(entry, got)
    problems += checks.sidecar(entry, reader.read(store.public_url(checksum_key(entry.key)),
                                                  SIDECAR_LIMIT))
    found, base = checks.manifest(entry, reader.read(store.public_url(manifest_key(entry.key)),
                                                     MANIFEST_LIMIT))
    return Verified(entry, tuple(problems + found), base, got)


def _duplicates(entries: Sequence[IndexEntry], results: list[Verified]) -> list[Verified]:
    seen = Counter(e.ident for e in entries)
    return [r if seen[r.entry.ident] == 1 else replace(r, problems=(*r.problems, Problem(
        checks.DUPLICATE, f"{' '.join(r.entry.ident)} has {seen[r.entry.ident]} entries in "
        "index.json"))) for r in results]


def verify_store(store: StoreNaming, reader: PublicReader, *, workers: int = WORKERS
                 ) -> Verification:
    """Read the public index and verify every entry, at most `workers` at a time."""
    index, index_url = read_public_index(store, reader)
    base_url = index_url.removesuffix(INDEX_KEY)
    entries = index.entries
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(entries) or 1)),
                            thread_name_prefix="verify") as pool:
        results = list(pool.map(lambda e: verify_entry(store, reader, e, base_url), entries))
    return Verification(store.url, index_url, tuple(_duplicates(entries, results)))
