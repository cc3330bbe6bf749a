"""Paginated, conditional, rate-limit-aware GETs through PyGithub's requester.

PyGithub builds each request (auth, headers, URL) and sends it through the connection we hand
it (`requestJson(cnx=...)`): a `_Exchange` on our pooled HTTP client, one per request. Its own
connection object is shared by all threads and keeps the request being built in attributes
(two concurrent GETs can swap URLs), and it costs a `requests` call per page.

Each page is sent with the ETag last seen for it (kept in the `ConditionalCache` state file,
keyed `github:<api url><path>`), so an unchanged list answers 304, which GitHub does not
charge to the rate limit. A 5xx, a network error, a 429 or a rate-limit 403 (secondary:
`Retry-After`; primary: `x-ratelimit-remaining: 0` + reset) is waited out and retried.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from github import Github

from bot.curl import Reply
from bot.errors import UpstreamError
from bot.http import NETWORK_ERRORS, RETRY_STATUSES, HttpClient, reply_text, retry_after_seconds
from bot.sources.base import SourceDeps

PER_PAGE = 100
MAX_PAGES = 20


@dataclass
class GitHubStats:
    requests: int = 0
    not_modified: int = 0
    quota: int = 0  # responses GitHub charges to the primary rate limit (all but 304)
    retries: int = 0
    remaining: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, headers: dict[str, Any]) -> None:
        with self._lock:
            self.requests += 1
            if status == 304:
                self.not_modified += 1
            elif status is not None:
                self.quota += 1
            left = str(headers.get("x-ratelimit-remaining", ""))
            if left.isdigit():
                self.remaining = int(left) if self.remaining is None else min(
                    self.remaining, int(left))

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


class _Reply:
    """What PyGithub reads from a connection's response."""

    def __init__(self, reply: Reply) -> None:
        self.status = reply.status_code
        self._reply = reply

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self._reply.headers.items())

    def read(self) -> str:
        return reply_text(self._reply)


class _Exchange:
    """PyGithub's connection interface (`request`, then `getresponse`) on our HTTP client."""

    def __init__(self, http: HttpClient, origin: str) -> None:
        self._http = http
        self._origin = origin  # scheme://host[:port]; PyGithub passes the path
        self._sent: tuple[str, str, dict[str, str]] | None = None

    def request(self, verb: str, url: str, input: object, headers: dict[str, str],
                stream: bool = False) -> None:
        if input is not None or stream:
            raise UpstreamError("release-bot only reads from GitHub here; this is a bug")
        self._sent = (verb, url, headers)

    def getresponse(self) -> _Reply:
        if self._sent is None:
            raise UpstreamError("GitHub response read before a request; this is a bug")
        verb, url, headers = self._sent
        return _Reply(self._http.exchange(verb, self._origin + url, headers))

    def close(self) -> None:
        """Connections stay in the HTTP client's pool."""


def _next_link(headers: dict[str, Any]) -> str | None:
    for part in str(headers.get("link", "")).split(","):
        url, _, rel = part.partition(";")
        if rel.strip() == 'rel="next"':
            return url.strip().strip("<>")
    return None


def _wait_for(status: int, headers: dict[str, Any]) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final."""
    wait = retry_after_seconds({str(k): str(v) for k, v in headers.items()})
    if status == 403 and wait is None:
        return None  # forbidden for real (a private repo, a bad token)
    if status in RETRY_STATUSES or status == 403:
        return wait if wait is not None else -1.0
    return None


def _get(gh: Github, deps: SourceDeps, url: str, send: dict[str, str]
         ) -> tuple[int, dict[str, Any], str]:
    policy = deps.http.policy
    stats = deps.github_stats
    base = urlsplit(gh.requester.base_url)
    cnx = cast(Any, _Exchange(deps.http, f"{base.scheme}://{base.netloc}"))
    last = ""
    for attempt in range(policy.attempts):
        try:
            status, headers, body = gh.requester.requestJson("GET", url, headers=dict(send),
                                                             cnx=cnx)
        except NETWORK_ERRORS as exc:
            if stats is not None:
                stats.record(None, {})
            last, wait = type(exc).__name__, policy.delay(attempt, None)
        else:
            if stats is not None:
                stats.record(status, headers)
            if status < 300 or status == 304:
                return status, headers, body
            retry = _wait_for(status, headers)
            if retry is None:
                raise UpstreamError(f"GitHub answered HTTP {status} for {url}; check the repo "
                                    "in versions.toml and the token's access")
            last, wait = f"HTTP {status}", policy.delay(attempt, retry if retry >= 0 else None)
        if attempt + 1 < policy.attempts:
            if stats is not None:
                stats.retried()
            deps.sleep(wait)
    raise UpstreamError(f"GitHub kept failing for {url} ({last} after {policy.attempts} "
                        "attempts); try again later")


def list_all(deps: SourceDeps, path: str) -> list[Any]:
    """Every item of a paginated GitHub list (`path` relative to the API root)."""
    if deps.github is None:
        raise UpstreamError("a GitHub upstream needs a GitHub client; set GITHUB_TOKEN")
    gh = deps.github()
    cache = deps.http.cache
    base = gh.requester.base_url.rstrip("/")
    url: str | None = f"{path}?{urlencode({'per_page': PER_PAGE})}"
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        key = "github:" + (url if url.startswith("http") else base + url)
        status, headers, body = _get(gh, deps, url, cache.validators(key))
        cached = cache.body(key) if status == 304 else None
        if cached is not None:
            page = json.loads(cached)
            data, url = page["items"], page["next"]
        else:
            if status == 304:  # validators without a body: ask again, unconditionally
                status, headers, body = _get(gh, deps, url, {})
            data = json.loads(body) if body else []
            if not isinstance(data, list):
                raise UpstreamError(f"GitHub sent an unexpected answer for {url}; "
                                    "check the repo in versions.toml")
            next_url = _next_link(headers)
            etag = headers.get("etag")
            if etag:  # the page as sent (it parsed as a list), not re-encoded from `data`
                cache.store(key, {"ETag": str(etag)},
                            f'{{"items": {body or "[]"}, "next": {json.dumps(next_url)}}}')
            url = next_url
        items.extend(data)
    return items
