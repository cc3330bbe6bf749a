"""The one HTTP client for upstreams: a `requests` session, urllib3's `Retry`, and one
conditional-request cache.

`HttpClient` sends every request a source, the poll, the source cache and `verify` make:

* Retries are urllib3's `Retry` on the adapter: connection and read errors, 429 and 5xx,
  and a 403 that carries `Retry-After` (GitHub's secondary rate limit), with exponential
  backoff; `Retry-After` is honoured up to `RetryPolicy.max_delay`. Any other status is final.
* A GET read whole (listings, API pages) is conditional: it goes out with the ETag /
  Last-Modified of the answer last stored for its URL, and a 304 hands back the stored body
  (`response.from_cache`). Every answer is revalidated, whatever max-age an upstream sends: a
  poll sees a new release at once. The store (`StateCache`) is one msgpack file in the state
  dir, read once and written at the end of a run, and only when an answer changed; it holds
  response headers and bodies, never a request header (a token).
* A streamed GET (source tarballs, verify's downloads) is never conditional nor stored, so
  nothing large is buffered; neither is a ranged GET or any other method (HEAD probes).

The session does not read the environment (`trust_env = False`): proxies, NO_PROXY and the
CA bundle come from `Settings`. Its connection pools hold `pool_size` connections per host
(at least the worker count of a poll or a verify), so concurrent requests reuse connections.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # untyped

import msgpack  # type: ignore[import-untyped]
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from bot.errors import UpstreamError
from bot.files import atomic_write

if TYPE_CHECKING:
    from typing import Self

    from urllib3 import BaseHTTPResponse

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "release-bot (+https://github.com/)"
# Connections kept per host: at least the worker count of a poll (bot.poll.WORKERS) and of a
# verify (bot.verify.runner.WORKERS), so that concurrent requests reuse connections.
POOL_SIZE = 32
_VALIDATORS = ("etag", "last-modified")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: `attempts` in all, backoff `base_delay` * 2^n capped
    at `max_delay` (which caps a `Retry-After` too), `timeout` per connect and per read."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 30.0


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or, when the rate limit is
    spent (`x-ratelimit-remaining: 0`), until GitHub's `x-ratelimit-reset`."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - (now or time.time()))
        except (TypeError, ValueError):
            return None
    remaining = headers.get("x-ratelimit-remaining") or headers.get("X-RateLimit-Remaining")
    reset = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
    if remaining == "0" and reset and reset.isdigit():
        return max(0.0, int(reset) - (now or time.time()))
    return None


class _Retry(Retry):
    """urllib3's `Retry`, with GitHub's secondary rate limit (403 + Retry-After) waited out
    too, its waits capped at `backoff_max` and made through `pause`, each retry `counted`."""

    RETRY_AFTER_STATUS_CODES = frozenset({403, *Retry.RETRY_AFTER_STATUS_CODES})
    pause: Callable[[float], None] = staticmethod(time.sleep)
    counted: Callable[[], None] = staticmethod(lambda: None)

    def new(self, **kw: Any) -> Self:
        made = super().new(**kw)
        made.pause, made.counted = self.pause, self.counted
        return made

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        made = super().increment(*args, **kwargs)  # raises once the retries are spent
        self.counted()
        return made

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            with suppress(InvalidHeader):  # an unreadable Retry-After: the backoff
                wait = self.get_retry_after(response)
        wait = min(wait or self.get_backoff_time(), self.backoff_max)
        if wait > 0:
            self.pause(wait)


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
    def of(cls, response: requests.Response) -> Stored | None:
        """What to keep of a full answer: one with a validator that may be stored."""
        headers = response.headers
        if ("ETag" not in headers and "Last-Modified" not in headers) or (
                "no-store" in headers.get("Cache-Control", "")):
            return None
        return cls(_lower(headers, _UNSTORED), response.content)


class StateCache:
    """The conditional-request cache: URL -> `Stored`, in one msgpack file, read on first use
    and written by `save()` (and `close()`) when an entry changed. `path` None: kept in memory
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

    def close(self) -> None:
        self.save()


def _lower(headers: Mapping[str, str], dropped: Collection[str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in dropped}


def _well_formed(url: object, entry: object) -> bool:
    if not (isinstance(url, str) and isinstance(entry, list) and len(entry) == 2):
        return False
    headers, body = entry
    return isinstance(body, bytes) and isinstance(headers, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items())


@dataclass
class HttpStats:
    requests: int = 0  # sent, retries included
    not_modified: int = 0  # answered 304: the stored body was used
    retries: int = 0
    bytes: int = 0  # body bytes received
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


@dataclass(frozen=True)
class Proxies:
    """Proxy URLs per scheme and the NO_PROXY list, as read once by `Settings`."""

    http: str | None = None
    https: str | None = None
    no_proxy: str | None = None

    def for_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        proxy = self.https if parts.scheme == "https" else self.http
        if proxy is None:
            return None
        if self.no_proxy and proxy_bypass_environment(parts.netloc, {"no": self.no_proxy}):
            return None
        return proxy


class HttpClient:
    """The upstream HTTP port's real adapter."""

    def __init__(self, *, policy: RetryPolicy | None = None, cache: StateCache | None = None,
                 proxies: Proxies | None = None, ca_bundle: str | None = None,
                 pool_size: int = POOL_SIZE,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy or RetryPolicy()
        self.proxies = proxies or Proxies()
        self.stats = HttpStats()
        self.cache = cache or StateCache()
        retry = _Retry(total=self.policy.attempts - 1, backoff_factor=self.policy.base_delay,
                       backoff_max=self.policy.max_delay, status_forcelist=RETRY_STATUSES,
                       raise_on_status=False)
        retry.pause = pause
        retry.counted = lambda: self.stats.add(requests=1, retries=1)
        adapter = HTTPAdapter(pool_maxsize=pool_size, max_retries=retry)
        self.session = requests.Session()
        self.session.trust_env = False  # proxies and CA bundle come from Settings
        self.session.verify = ca_bundle or True
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        """Save the cache, close the connections kept alive (the client can still be used
        afterwards)."""
        self.cache.save()
        self.session.close()

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
             stream: bool = False, allow_redirects: bool = True) -> requests.Response:
        """One request with the retry policy, whatever status it ends with; a GET read whole
        is conditional (see the module's doc), a streamed one never. Raises requests'
        exceptions."""
        session = self.session
        sent = {**session.headers, **headers} if headers else session.headers
        stored = None
        cached = method == "GET" and not stream and not any(k.lower() == "range" for k in sent)
        if cached and (stored := self.cache.get(url)) is not None:
            sent = {**sent, **stored.conditions()}
        # Session.request's merging of settings is requests' dearest step: our session has
        # no cookies, auth, params or environment to merge, only its headers (merged above)
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, headers=sent, cookies=session.cookies)
        proxy = self.proxies.for_url(url)
        self.stats.add(requests=1)
        response = session.send(prepared, stream=stream, allow_redirects=allow_redirects,
                                timeout=self.policy.timeout, verify=session.verify, cert=None,
                                proxies={urlsplit(url).scheme: proxy} if proxy else {})
        if stored is not None and response.status_code == 304:
            self._answer_from(stored, url, response)
        elif cached and response.status_code == 200:
            self.cache.put(url, Stored.of(response))
        return response

    def _answer_from(self, stored: Stored, url: str, response: requests.Response) -> None:
        """Make a 304 the stored answer, its headers updated by the 304's (kept again only
        when its validators changed: an unchanged upstream writes nothing)."""
        headers = {**stored.headers, **_lower(response.headers, ("content-length",))}
        if any(headers.get(k) != stored.headers.get(k) for k in _VALIDATORS):
            self.cache.put(url, Stored(headers, stored.body))
        response.status_code, response.reason = 200, "OK"
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = stored.body  # the body of a response read whole
        response.from_cache = True  # type: ignore[attr-defined]  # read by the stats
        self.stats.add(not_modified=1)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                stream: bool = False, allow_status: Collection[int] = (),
                allow_redirects: bool = True) -> requests.Response:
        """`send`, the body read unless `stream`; a network failure or a status other than 2xx
        and `allow_status` is an UpstreamError (one line, naming the URL)."""
        try:
            response = self.send(method, url, headers=headers, stream=stream,
                                 allow_redirects=allow_redirects)
            status = response.status_code
            if status < 300 or status in allow_status:
                if not stream and not getattr(response, "from_cache", False):
                    self.stats.add(bytes=len(response.content))
                return response
        except requests.RequestException as exc:
            raise UpstreamError(f"{method} {url} failed ({type(exc).__name__}); the upstream "
                                "may be down, try again later") from None
        response.close()
        if status in RETRY_STATUSES or (status == 403 and "Retry-After" in response.headers):
            raise UpstreamError(f"{method} {url} failed after {self.policy.attempts} attempts "
                                f"(HTTP {status}); the upstream may be down, try again later")
        raise UpstreamError(f"{method} {url} answered HTTP {status}; check the URL in the "
                            "config or the upstream's status")

    def get_text(self, url: str, *, headers: Mapping[str, str] | None = None) -> str:
        """A page as text (a conditional GET: on 304, the stored body)."""
        return self.request("GET", url, headers=headers).text

    def exists(self, url: str) -> bool:
        """Does a file answer at `url`? HEAD, falling back to a 1-byte ranged GET."""
        head = self.request("HEAD", url, allow_status=(403, 404, 405, 410))
        if head.status_code < 300:
            return True
        if head.status_code in (404, 410):
            return False
        # streamed: a server that ignores Range must not send us the whole tarball
        with self.stream(url, headers={"Range": "bytes=0-0"},
                         allow_status=(403, 404, 410)) as response:
            return response.status_code < 300

    @contextmanager
    def stream(self, url: str, *, headers: Mapping[str, str] | None = None,
               allow_status: Collection[int] = ()) -> Iterator[requests.Response]:
        """A GET whose body is read by the caller (never stored); closed on exit."""
        response = self.request("GET", url, headers=headers, stream=True,
                                allow_status=allow_status)
        try:
            yield response
        finally:
            response.close()

