"""HTTP for upstreams: timeouts, retries with backoff and jitter, Retry-After, conditional GETs.

Retries happen on 5xx, 429 and network errors only; a 4xx other than 429 is final. A
`ConditionalCache` (a JSON state file) remembers ETag / Last-Modified per URL so an unchanged
upstream answers 304 and costs nothing. `HttpClient.requests` counts what was sent.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

from bot.config.edit import write_atomic
from bot.errors import UpstreamError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "release-bot (+https://github.com/)"


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
                self.entries[url] = entry

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            text = json.dumps(self.entries, sort_keys=True)
        write_atomic(self.path, text)


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


class HttpClient:
    """The upstream HTTP port's real adapter (requests)."""

    def __init__(self, session: requests.Session | None = None, *,
                 policy: RetryPolicy | None = None,
                 cache: ConditionalCache | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.policy = policy or RetryPolicy()
        self.cache = cache or ConditionalCache()
        self.stats = HttpStats()
        self._sleep = sleep

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                stream: bool = False, allow_status: frozenset[int] = frozenset(),
                **kwargs: Any) -> requests.Response:
        """Send with retries. Returns the response for 2xx, 304 and `allow_status`;
        raises UpstreamError (one line, naming the URL) otherwise."""
        last_error = ""
        for attempt in range(self.policy.attempts):
            self.stats.add(requests=1)
            try:
                response = self.session.request(method, url, headers=dict(headers or {}),
                                                stream=stream, timeout=self.policy.timeout,
                                                **kwargs)
            except requests.RequestException as exc:
                last_error = f"{type(exc).__name__}"
                wait = self.policy.delay(attempt, None)
            else:
                status = response.status_code
                if status < 300 or status == 304 or status in allow_status:
                    return response
                retry_after = retry_after_seconds(response.headers)
                secondary = status == 403 and retry_after is not None
                if status not in RETRY_STATUSES and not secondary:
                    response.close()
                    raise UpstreamError(f"{method} {url} answered HTTP {status}; check the URL "
                                        "in versions.toml or the upstream's status")
                response.close()
                last_error = f"HTTP {status}"
                wait = self.policy.delay(attempt, retry_after)
            if attempt + 1 < self.policy.attempts:
                self.stats.add(retries=1)
                self._sleep(wait)
        raise UpstreamError(f"{method} {url} failed after {self.policy.attempts} attempts "
                            f"({last_error}); the upstream may be down, try again later")

    def get_text(self, url: str, *, headers: Mapping[str, str] | None = None,
                 conditional: bool = True) -> str:
        """GET a page; with `conditional`, send validators and reuse the cached body on 304."""
        send = dict(headers or {})
        if conditional:
            send.update(self.cache.validators(url))
        response = self.request("GET", url, headers=send)
        if response.status_code == 304:
            self.stats.add(not_modified=1)
            cached = self.cache.body(url)
            if cached is not None:
                return cached
            response = self.request("GET", url, headers=dict(headers or {}))
        text = response.text
        self.stats.add(bytes=len(response.content))
        if conditional:
            self.cache.store(url, response.headers, text)
        return text

    def exists(self, url: str) -> bool:
        """Does a file answer at `url`? HEAD, falling back to a 1-byte ranged GET."""
        response = self.request("HEAD", url, allow_status=frozenset({403, 404, 405, 410}))
        response.close()
        if response.status_code < 300:
            return True
        if response.status_code in (404, 410):
            return False
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
