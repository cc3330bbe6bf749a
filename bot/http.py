"""HTTP for upstreams: timeouts, retries with backoff and jitter, Retry-After, conditional GETs.

Retries happen on 5xx, 429 and network errors only; a 4xx other than 429 is final. A
`ConditionalCache` (a JSON state file) remembers ETag / Last-Modified per URL so an unchanged
upstream answers 304 and costs nothing. `HttpClient.stats` counts what was sent.

Two transports, one retry policy: small answers read whole (`get_text`, `exists`, `fetch`: the
poll's hot path) go through libcurl (`bot.curl`), at a fraction of the CPU of a `requests` call;
streamed downloads and `request()` keep the `requests` session. Neither reads the environment:
proxies, NO_PROXY and the CA bundle come from `Settings` (the composition root), so `requests`
does not re-read them on every request (`trust_env = False`).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # untyped

import requests
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers

from bot.curl import CurlOptions, CurlTransport, Reply, TransportError
from bot.errors import UpstreamError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "release-bot (+https://github.com/)"
# Connections kept per host: at least the poll's worker count (bot.poll.WORKERS), so that
# concurrent checks reuse connections instead of opening and discarding extra ones.
POOL_SIZE = 32


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = min(self.max_delay, self.base_delay * float(2 ** attempt))
        jitter: float = random.uniform(0, backoff / 2)  # noqa: S311 - jitter, not crypto
        return backoff / 2 + jitter


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or GitHub's rate-limit reset."""
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


@dataclass
class ConditionalCache:
    """ETag / Last-Modified and the body last seen, per URL, kept in a JSON state file."""

    path: Path | None = None
    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _dirty: bool = False

    @classmethod
    def load(cls, path: Path | None) -> ConditionalCache:
        entries: dict[str, dict[str, str]] = {}
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    entries = {k: v for k, v in data.items() if isinstance(v, dict)}
            except (OSError, ValueError):
                entries = {}  # a damaged state file only costs a full request
        return cls(path, entries)

    def validators(self, url: str) -> dict[str, str]:
        with self._lock:
            entry = self.entries.get(url, {})
        headers = {}
        if "etag" in entry:
            headers["If-None-Match"] = entry["etag"]
        if "last_modified" in entry:
            headers["If-Modified-Since"] = entry["last_modified"]
        return headers

    def body(self, url: str) -> str | None:
        with self._lock:
            return self.entries.get(url, {}).get("body")

    def store(self, url: str, headers: Mapping[str, str], body: str) -> None:
        entry = {"body": body}
        if etag := headers.get("ETag"):
            entry["etag"] = etag
        if modified := headers.get("Last-Modified"):
            entry["last_modified"] = modified
        if len(entry) > 1:
            with self._lock:
                if self.entries.get(url) != entry:
                    self.entries[url] = entry
                    self._dirty = True

    def save(self) -> None:
        """Write the state file, unless nothing changed since it was loaded or saved."""
        if self.path is None:
            return
        with self._lock:
            if not self._dirty and self.path.exists():
                return
            text = json.dumps(self.entries, sort_keys=True)
            self._dirty = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic (temp file + rename) but not fsync'ed: a cache lost to a power cut only
        # costs full requests next time, and an fsync costs a poll milliseconds.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class HttpStats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


def reply_text(reply: Reply) -> str:
    """A body decoded like `requests` decodes text (the declared charset, else ISO-8859-1
    for text/*, UTF-8 for JSON), and as UTF-8 with replacement otherwise."""
    encoding = get_encoding_from_headers(reply.headers) or "utf-8"
    try:
        return reply.content.decode(encoding, errors="replace")
    except LookupError:  # an unknown charset name
        return reply.content.decode("utf-8", errors="replace")


class _Answer(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def close(self) -> None: ...


A = TypeVar("A", bound=_Answer)
NETWORK_ERRORS = (requests.RequestException, TransportError)


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
    """The upstream HTTP port's real adapter (libcurl for small answers, requests for streams)."""

    def __init__(self, session: requests.Session | None = None, *,
                 policy: RetryPolicy | None = None,
                 cache: ConditionalCache | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 proxies: Proxies | None = None,
                 ca_bundle: str | None = None,
                 pool_size: int = POOL_SIZE) -> None:
        self.policy = policy or RetryPolicy()
        self.cache = cache or ConditionalCache()
        self.stats = HttpStats()
        self.proxies = proxies or Proxies()
        self._sleep = sleep
        ca_certs = ca_bundle or DEFAULT_CA_BUNDLE_PATH
        self._ca_certs = ca_certs
        self._pool_size = pool_size
        self._session = session  # given, to be set up on first use
        self._ready: requests.Session | None = None
        self._session_lock = threading.Lock()
        self._curl = CurlTransport(CurlOptions(
            timeout=self.policy.timeout, http_proxy=self.proxies.http,
            https_proxy=self.proxies.https, no_proxy=self.proxies.no_proxy, ca_bundle=ca_certs,
            user_agent=USER_AGENT))

    @property
    def session(self) -> requests.Session:
        """The `requests` session for streams and `request()`, set up on first use (a poll
        never needs it)."""
        with self._session_lock:
            if self._ready is None:
                session = self._session or requests.Session()
                session.trust_env = False  # proxies and CA bundle come from Settings
                session.verify = self._ca_certs
                session.headers.setdefault("User-Agent", USER_AGENT)
                adapter = HTTPAdapter(pool_connections=8, pool_maxsize=self._pool_size)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._ready = session
            return self._ready

    def close(self) -> None:
        """Close the connections kept alive (the client can still be used afterwards)."""
        self._curl.close()
        with self._session_lock:
            if self._ready is not None:
                self._ready.close()

    def exchange(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        """One GET or HEAD read whole, following redirects; no retries and not counted in
        `stats` (`fetch` adds both). Raises TransportError."""
        return self._curl.exchange(method, url, {"Accept": "*/*", **headers})

    def _with_retries(self, method: str, url: str, send: Callable[[], A],
                      allow_status: frozenset[int]) -> A:
        """`send` with retries. Returns the answer for 2xx, 304 and `allow_status`; raises
        UpstreamError (one line, naming the URL) otherwise."""
        last_error = ""
        for attempt in range(self.policy.attempts):
            self.stats.add(requests=1)
            try:
                response = send()
            except NETWORK_ERRORS as exc:
                last_error = exc.name if isinstance(exc, TransportError) else type(exc).__name__
                wait = self.policy.delay(attempt, None)
            else:
                status = response.status_code
                if status < 300 or status == 304 or status in allow_status:
                    return response
                retry_after = retry_after_seconds(response.headers)
                secondary = status == 403 and retry_after is not None
                response.close()
                if status not in RETRY_STATUSES and not secondary:
                    raise UpstreamError(f"{method} {url} answered HTTP {status}; check the URL "
                                        "in versions.toml or the upstream's status")
                last_error = f"HTTP {status}"
                wait = self.policy.delay(attempt, retry_after)
            if attempt + 1 < self.policy.attempts:
                self.stats.add(retries=1)
                self._sleep(wait)
        raise UpstreamError(f"{method} {url} failed after {self.policy.attempts} attempts "
                            f"({last_error}); the upstream may be down, try again later")

    # -- the port ------------------------------------------------------------------------------

    def fetch(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
              allow_status: frozenset[int] = frozenset()) -> Reply:
        """A small answer read whole (listings, HEAD probes), with retries."""
        send = dict(headers or {})
        return self._with_retries(method, url, lambda: self.exchange(method, url, send),
                                  allow_status)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                stream: bool = False, allow_status: frozenset[int] = frozenset(),
                **kwargs: Any) -> requests.Response:
        """Send through `requests` with retries. Returns the response for 2xx, 304 and
        `allow_status`; raises UpstreamError (one line, naming the URL) otherwise."""
        proxy = self.proxies.for_url(url)
        proxies = {urlsplit(url).scheme: proxy} if proxy else {}
        send = dict(headers or {})
        return self._with_retries(method, url, lambda: self.session.request(
            method, url, headers=send, stream=stream, timeout=self.policy.timeout,
            proxies=proxies, **kwargs), allow_status)

    def get_text(self, url: str, *, headers: Mapping[str, str] | None = None,
                 conditional: bool = True) -> str:
        """GET a page; with `conditional`, send validators and reuse the cached body on 304."""
        send = dict(headers or {})
        if conditional:
            send.update(self.cache.validators(url))
        response = self.fetch("GET", url, headers=send)
        if response.status_code == 304:
            self.stats.add(not_modified=1)
            cached = self.cache.body(url)
            if cached is not None:
                return cached
            response = self.fetch("GET", url, headers=dict(headers or {}))
        text = reply_text(response)
        self.stats.add(bytes=len(response.content))
        if conditional:
            self.cache.store(url, response.headers, text)
        return text

    def exists(self, url: str) -> bool:
        """Does a file answer at `url`? HEAD, falling back to a 1-byte ranged GET."""
        head = self.fetch("HEAD", url, allow_status=frozenset({403, 404, 405, 410}))
        if head.status_code < 300:
            return True
        if head.status_code in (404, 410):
            return False
        # streamed: a server that ignores Range must not send us the whole tarball
        response = self.request("GET", url, headers={"Range": "bytes=0-0"}, stream=True,
                                allow_status=frozenset({403, 404, 410}))
        response.close()
        return response.status_code < 300

    @contextmanager
    def stream(self, url: str, *, headers: Mapping[str, str] | None = None,
               allow_status: frozenset[int] = frozenset()) -> Iterator[requests.Response]:
        response = self.request("GET", url, headers=headers, stream=True,
                                allow_status=allow_status)
        try:
            yield response
        finally:
            response.close()
