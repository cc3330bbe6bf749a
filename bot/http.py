"""The one HTTP client for upstreams: urllib3's pools and `Retry`, and one conditional-request
cache.

`HttpClient` sends every request a source, the poll, the source cache and `verify` make:

* Retries are urllib3's `Retry`: connection and read errors, 429 and 5xx, and a 403 that
  carries `Retry-After` (GitHub's secondary rate limit), with exponential backoff;
  `Retry-After` is honoured up to `RetryPolicy.max_delay`. Any other status is final.
  Redirects are urllib3's too (at most MAX_REDIRECTS); a redirect to another host drops the
  credentials (`Authorization`, GitLab's `PRIVATE-TOKEN`) and cookies.
* A GET read whole (listings, API pages) is conditional: it goes out with the ETag /
  Last-Modified of the answer last stored for its URL, and a 304 hands back the stored body
  (`response.from_cache`). Every answer is revalidated, whatever max-age an upstream sends: a
  poll sees a new release at once. The store (`StateCache`) is one msgpack file in the state
  dir, read once and written at the end of a run, and only when an answer changed; it holds
  response headers and bodies, never a request header (a token).
* A streamed GET (source tarballs, verify's downloads) is never conditional nor stored, so
  nothing large is buffered; neither is a ranged GET or any other method (HEAD probes).

Nothing is read from the environment: proxies, NO_PROXY and the CA bundle come from
`Settings` (without a bundle: certifi's, as requests would use). The connection pools hold
`pool_size` connections per host (at least the worker count of a poll or a verify), so
concurrent requests reuse connections. urllib3 rather than requests: requests' session adds
about 90 us of CPU to each request, which is most of a poll's cost on a fast network.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # untyped

import certifi
import urllib3
from requests.utils import parse_header_links
from urllib3 import BaseHTTPResponse, HTTPHeaderDict
from urllib3.exceptions import HTTPError, InvalidHeader, MaxRetryError, ResponseError
from urllib3.util import make_headers
from urllib3.util.retry import Retry

from bot.errors import UpstreamError
from bot.http_cache import VALIDATORS, StateCache, Stored, lower_headers

if TYPE_CHECKING:
    from typing import Self

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "release-bot (+https://github.com/)"
# sent with every request (a caller's headers win): pages come compressed, as requests asked
_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
# Connections kept per host: at least the worker count of a poll (bot.poll.WORKERS) and of a
# verify (bot.verify.runner.WORKERS), so that concurrent requests reuse connections.
POOL_SIZE = 32
MAX_REDIRECTS = 10
# dropped on a redirect to another host: urllib3's list, and GitLab's token header
_CREDENTIALS = frozenset({*Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT, "PRIVATE-TOKEN"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: `attempts` in all, backoff `base_delay` * 2^n capped
    at `max_delay` (which caps a `Retry-After` too), `timeout` per connect and per read."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 30.0


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or, when the rate limit is
    spent (`x-ratelimit-remaining: 0`), until GitHub's `x-ratelimit-reset`."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    remaining = headers.get("x-ratelimit-remaining") or headers.get("X-RateLimit-Remaining")
    reset = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
    if remaining == "0" and reset and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


class _Retry(Retry):
    """urllib3's `Retry`, with GitHub's secondary rate limit (403 + Retry-After) waited out
    too, its waits capped at `backoff_max` and made through `pause`, each retry and redirect
    `counted`."""

    RETRY_AFTER_STATUS_CODES = frozenset({403, *Retry.RETRY_AFTER_STATUS_CODES})
    pause: Callable[[float], None] = staticmethod(time.sleep)
    counted: Callable[[bool], None] = staticmethod(lambda redirect: None)  # each new request

    def new(self, **kw: Any) -> Self:
        made = super().new(**kw)
        made.pause, made.counted = self.pause, self.counted
        return made

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        made = super().increment(*args, **kwargs)  # raises once the retries are spent
        last = made.history[-1]
        self.counted(bool(last.redirect_location) and last.error is None)
        return made

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            with suppress(InvalidHeader):  # an unreadable Retry-After: the backoff
                wait = self.get_retry_after(response)
        wait = min(wait or self.get_backoff_time(), self.backoff_max)
        if wait > 0:
            self.pause(wait)


class Answer:
    """A response: urllib3's (`raw`), with the few conveniences of requests' the bot uses.
    `from_cache`: a 304 answered with the stored body (status 200, the stored headers)."""

    __slots__ = ("_content", "from_cache", "headers", "raw", "status_code")

    def __init__(self, raw: BaseHTTPResponse) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.headers: HTTPHeaderDict = raw.headers
        self.from_cache = False
        self._content: bytes | None = None

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.raw.data
        return self._content

    @property
    def text(self) -> str:
        """The body decoded by its Content-Type's charset (UTF-8 when it names none)."""
        kind = self.headers.get("Content-Type", "")
        charset = "utf-8"
        if "charset" in kind.lower():  # a parameter: the email parser reads it
            message = Message()
            message["content-type"] = kind
            charset = str(message.get_param("charset") or charset)
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # an unknown charset
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The `Link` header's links by `rel`."""
        header = self.headers.get("Link")
        return {} if not header else {
            link.get("rel") or link["url"]: link for link in parse_header_links(header)}

    def iter_content(self, size: int) -> Iterator[bytes]:
        """The body (decoded as served: gzip undone), `size` bytes at a time."""
        return self.raw.stream(size, decode_content=True)

    def close(self) -> None:
        """Give the connection back (closed first when the body was not read to its end)."""
        if self._content is None and not self.raw.closed:
            self.raw.close()
        self.raw.release_conn()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class HttpStats:
    requests: int = 0  # sent, retries included
    not_modified: int = 0  # answered 304: the stored body was used
    retries: int = 0
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
        if self.http is None and self.https is None:
            return None
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
        self.ca_bundle = ca_bundle or certifi.where()
        tries = self.policy.attempts - 1
        # each kind of retry `tries` times, redirects MAX_REDIRECTS times (urllib3 waits out
        # a Retry-After of a status outside the forcelist only while `total` is left)
        retry = _Retry(total=tries + MAX_REDIRECTS, connect=tries, read=tries, status=tries,
                       other=tries,
                       redirect=MAX_REDIRECTS, backoff_factor=self.policy.base_delay,
                       backoff_max=self.policy.max_delay, status_forcelist=RETRY_STATUSES,
                       raise_on_status=False, remove_headers_on_redirect=_CREDENTIALS)
        retry.pause = pause
        retry.counted = lambda redirect: self.stats.add(requests=1, retries=int(not redirect))
        self.retry = retry
        ca = {"ca_cert_dir": self.ca_bundle} if Path(self.ca_bundle).is_dir() else {
            "ca_certs": self.ca_bundle}
        self._pool_kw: dict[str, Any] = {"maxsize": pool_size, "block": False, **ca,
                                         "timeout": urllib3.Timeout(self.policy.timeout)}
        self._direct = urllib3.PoolManager(**self._pool_kw)
        self._via: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = self.proxies.for_url(url)
        if proxy is None:
            return self._direct
        manager = self._via.get(proxy)
        if manager is None:
            parts = urlsplit(proxy)  # credentials in the proxy's URL: Proxy-Authorization
            login = (f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                     if parts.username else None)
            made = urllib3.ProxyManager(proxy, proxy_headers=make_headers(
                proxy_basic_auth=login) if login else None, **self._pool_kw)
            with self._lock:
                manager = self._via.setdefault(proxy, made)
        return manager

    def close(self) -> None:
        """Save the cache, close the connections kept alive (the client can still be used
        afterwards)."""
        self.cache.save()
        for manager in (self._direct, *self._via.values()):
            manager.clear()

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
             stream: bool = False) -> Answer:
        """One request with the retry policy, whatever status it ends with; a GET read whole
        is conditional (see the module's doc), a streamed one never. Raises urllib3's
        `HTTPError`s."""
        sent = {**_HEADERS, **headers} if headers else dict(_HEADERS)
        stored = None
        cached = method == "GET" and not stream and not any(k.lower() == "range" for k in sent)
        if cached and (stored := self.cache.get(url)) is not None:
            sent.update(stored.conditions())
        self.stats.add(requests=1)
        response = Answer(self._manager(url).urlopen(
            method, url, headers=sent, retries=self.retry, preload_content=not stream))
        if stored is not None and response.status_code == 304:
            self._answer_from(stored, url, response)
        elif cached and response.status_code == 200:
            self.cache.put(url, Stored.of(response.headers, response.content))
        return response

    def _answer_from(self, stored: Stored, url: str, response: Answer) -> None:
        """Make a 304 the stored answer, its headers updated by the 304's (kept again only
        when its validators changed: an unchanged upstream writes nothing)."""
        headers = {**stored.headers, **lower_headers(response.headers, ("content-length",))}
        if any(headers.get(k) != stored.headers.get(k) for k in VALIDATORS):
            self.cache.put(url, Stored(headers, stored.body))
        response.status_code = 200
        response.headers = HTTPHeaderDict(headers)
        response._content = stored.body
        response.from_cache = True
        self.stats.add(not_modified=1)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                stream: bool = False, allow_status: Collection[int] = ()) -> Answer:
        """`send`, the body read unless `stream`; a network failure or a status other than 2xx
        and `allow_status` is an UpstreamError (one line, naming the URL)."""
        try:
            response = self.send(method, url, headers=headers, stream=stream)
        except HTTPError as exc:
            # a ResponseError is the only MaxRetryError reason urllib3 has for redirects
            if isinstance(exc, MaxRetryError) and isinstance(exc.reason, ResponseError):
                raise UpstreamError(f"{method} {url} was redirected more than {MAX_REDIRECTS}"
                                    " times; check the URL in the config") from None
            raise UpstreamError(f"{method} {url} failed ({failure(exc)}); the upstream may "
                                "be down, try again later") from None
        status = response.status_code
        if status < 300 or status in allow_status:
            return response
        response.close()
        if status in RETRY_STATUSES or (status == 403 and "Retry-After" in response.headers):
            raise UpstreamError(f"{method} {url} failed after {self.policy.attempts} attempts "
                                f"(HTTP {status}); the upstream may be down, try again later")
        raise UpstreamError(f"{method} {url} answered HTTP {status}; check the URL in the "
                            "config or the upstream's status")

    def get_text(self, url: str) -> str:
        """A page as text (a conditional GET: on 304, the stored body)."""
        return self.request("GET", url).text

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
               allow_status: Collection[int] = ()) -> Iterator[Answer]:
        """A GET whose body is read by the caller (never stored); closed on exit."""
        response = self.request("GET", url, headers=headers, stream=True,
                                allow_status=allow_status)
        try:
            yield response
        finally:
            response.close()


def failure(exc: BaseException) -> str:
    """What went wrong with a request, in a word or two (no URL: the caller names it)."""
    reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc
    name = type(reason).__name__
    return {"NewConnectionError": "connection refused", "NameResolutionError":
            "host not found", "ConnectTimeoutError": "connect timeout", "ReadTimeoutError":
            "read timeout", "ProtocolError": "connection reset"}.get(name, name)
