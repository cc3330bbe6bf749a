"""The HTTP client's conditional-request cache: URL -> the answer last stored for it (its
response headers and body), in one msgpack file in the state dir (see bot.http)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import msgpack  # type: ignore[import-untyped]

from bot.files import atomic_write

VALIDATORS = ("etag", "last-modified")
_UNSTORED = frozenset({"content-length", "content-encoding", "transfer-encoding",
                       "connection", "keep-alive", "set-cookie"})


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer kept for its URL: its response headers (names in lower case; never a request
    header, so never a token) and its body, as read."""

    headers: dict[str, str]
    body: bytes

    def conditions(self) -> dict[str, str]:
        """The conditional-request headers its validators make."""
        sent = {}
        if etag := self.headers.get("etag"):
            sent["If-None-Match"] = etag
        if modified := self.headers.get("last-modified"):
            sent["If-Modified-Since"] = modified
        return sent

    @classmethod
    def of(cls, headers: Mapping[str, str], body: bytes) -> Stored | None:
        """What to keep of a full answer (its headers case-insensitive): one with a
        validator that may be stored."""
        if ("ETag" not in headers and "Last-Modified" not in headers) or (
                "no-store" in headers.get("Cache-Control", "")):
            return None
        return cls(lower_headers(headers, _UNSTORED), body)


class StateCache:
    """The conditional-request cache: URL -> `Stored`, in one msgpack file, read on first use
    and written by `save()` when an entry changed. `path` None: kept in memory
    only. A damaged file (or one of another format) only costs full requests. Reads and writes
    of entries take no lock (a dict's get and set are atomic): a poll's threads never queue."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, Stored] | None = None
        self._dirty = False
        self._lock = threading.Lock()  # the first read of the file, and save()

    def _loaded(self) -> dict[str, Stored]:
        entries = self._entries
        if entries is not None:
            return entries
        with self._lock:
            if self._entries is None:
                self._entries = self._read()
            return self._entries

    def _read(self) -> dict[str, Stored]:
        with suppress(OSError, ValueError, TypeError):
            if self.path is not None and self.path.is_file():
                data = msgpack.unpackb(self.path.read_bytes())
                if isinstance(data, dict):
                    return {url: Stored(headers, body) for url, (headers, body) in (
                        (u, e) for u, e in data.items() if _well_formed(u, e))}
        return {}

    def get(self, url: str) -> Stored | None:
        return self._loaded().get(url)

    def put(self, url: str, stored: Stored | None) -> None:
        """Keep `stored` for `url` (None: forget what was kept)."""
        entries = self._loaded()
        if stored is not None:
            entries[url] = stored
            self._dirty = True
        elif entries.pop(url, None) is not None:
            self._dirty = True

    def save(self) -> None:
        """Write the file, unless nothing changed since it was read or written."""
        with self._lock:
            if not self._dirty or self.path is None or self._entries is None:
                return
            self._dirty = False
            entries = dict(self._entries)  # a copy made under the GIL
        atomic_write(self.path, msgpack.packb({url: (s.headers, s.body)
                                               for url, s in entries.items()}),
                     durable=False)  # a lost cache only costs a refetch


def lower_headers(headers: Mapping[str, str], dropped: Collection[str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in dropped}


def _well_formed(url: object, entry: object) -> bool:
    if not (isinstance(url, str) and isinstance(entry, list) and len(entry) == 2):
        return False
    headers, body = entry
    return isinstance(body, bytes) and isinstance(headers, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
