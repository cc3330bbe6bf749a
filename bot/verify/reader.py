"""Public URLs read as a buildpack reads them: anonymously, streamed, never whole in memory.

* http(s): through the shared `bot.http.HttpClient` (its download session: never cached; no
  credentials, as it sends none and reads no `.netrc`), so retries on connection errors, 429
  and 5xx are urllib3's `Retry`; `Accept-Encoding: identity` and the raw body hashed
  undecoded, so the digest is the one of the bytes as served.
* file://: the file, read in chunks.

A failure is a value (`Fetched.error`), never an exception: verification reports it per entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from urllib3.exceptions import HTTPError, URLSchemeUnknown

from bot.http import HttpClient

CHUNK = 1 << 20
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a URL gave: its status, the bytes read (counted and hashed), why it stopped."""

    url: str
    status: int | None  # HTTP status; None for file:// and for a request that got no answer
    size: int = 0
    sha256: str = ""
    data: bytes | None = None  # kept only when asked for (small files)
    error: str = ""  # "" when the whole body was read
    over_limit: bool = False  # stopped reading: more bytes than allowed

    @property
    def ok(self) -> bool:
        return not self.error and not self.over_limit and self.status in (None, 200)


class PublicReader:
    """GETs public URLs; `digest` streams a large body, `read` keeps a small one."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def digest(self, url: str, limit: int) -> Fetched:
        """Size and sha256 of the body at `url`, reading at most `limit` + 1 bytes."""
        return self._consume(url, limit, keep=False)

    def read(self, url: str, limit: int) -> Fetched:
        """The body at `url` (`data`), refused past `limit` bytes."""
        return self._consume(url, limit, keep=True)

    def _consume(self, url: str, limit: int, *, keep: bool) -> Fetched:
        digest = hashlib.sha256()
        kept = bytearray()
        size = 0
        status: int | None = None
        try:
            with self._open(url) as (status, chunks):
                if status not in (None, 200):
                    return Fetched(url, status, error=f"HTTP {status}")
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        return Fetched(url, status, size, over_limit=True)
                    digest.update(chunk)
                    if keep:
                        kept += chunk
        except (HTTPError, OSError) as exc:
            return Fetched(url, status, size, error=_describe(exc))
        return Fetched(url, status, size, digest.hexdigest(), bytes(kept) if keep else None)

    @contextmanager
    def _open(self, url: str) -> Iterator[tuple[int | None, Iterator[bytes]]]:
        parts = urlsplit(url)
        if parts.scheme == "file":
            with Path(url2pathname(parts.path)).open("rb") as fh:
                yield None, iter(lambda: fh.read(CHUNK), b"")
            return
        if parts.scheme not in ("http", "https"):
            raise URLSchemeUnknown(parts.scheme)
        with self.http.send("GET", url, headers=IDENTITY, stream=True) as response:
            # the raw stream, undecoded: the bytes as served are what is hashed
            yield response.status_code, response.raw.stream(CHUNK, decode_content=False)


def _describe(exc: BaseException) -> str:
    """One short line for a failed read (no URL: the caller names it)."""
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return "no such file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    reason = type(exc).__name__
    return f"{reason}: {text[:160]}" if text else reason
