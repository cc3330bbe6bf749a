"""Paginated, conditional, rate-limit-aware GETs of GitHub lists, sent as PyGithub sends them.

The request is what PyGithub's requester would send (its base URL, auth header, User-Agent,
API version header; a `next` link is sent to the configured host), but through our pooled
HTTP client, and the JSON page is parsed directly: PyGithub's request machinery costs
~0.1 ms of Python per page, and its shared connection keeps the request being built in
attributes (two concurrent GETs can swap URLs).

Each page is sent with the ETag last seen for it (kept in the `ConditionalCache` state file,
keyed `github:<api url><path>`, with only the item fields the caller reads), so an unchanged
list answers 304, which GitHub does not charge to the rate limit. A 5xx, a network error, a
429 or a rate-limit 403 (secondary: `Retry-After`; primary: `x-ratelimit-remaining: 0` +
reset) is waited out and retried.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from github import Consts, Github

from bot.errors import UpstreamError
from bot.http import NETWORK_ERRORS, RETRY_STATUSES, retry_after_seconds
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


@dataclass(frozen=True, slots=True)
class _Api:
    """Where and how PyGithub's requester sends a GET (read once per listing)."""

    gh: Github
    origin: str  # scheme://host[:port]
    prefix: str  # the API root's path ("" for api.github.com, "/api/v3" for Enterprise)
    user_agent: str
    api_version: str | None

    @classmethod
    def of(cls, gh: Github) -> _Api:
        settings = gh.requester.kwargs
        base = urlsplit(str(settings["base_url"]))
        return cls(gh, f"{base.scheme}://{base.netloc}", base.path.rstrip("/"),
                   str(settings["user_agent"]), settings["api_version"])

    def url(self, url: str) -> str:
        """A path below the API root, or a `next` link (its path and query, on our host)."""
        if url.startswith("/"):
            return self.origin + self.prefix + url
        link = urlsplit(url)
        return self.origin + link.path + (f"?{link.query}" if link.query else "")

    def headers(self, send: dict[str, str]) -> dict[str, str]:
        headers = dict(send)
        auth = self.gh.requester.auth
        if auth is not None:
            auth.authentication(headers)  # per request, as PyGithub does (tokens may renew)
        headers["User-Agent"] = self.user_agent
        if self.api_version is not None:
            headers[Consts.headerApiVersion] = self.api_version
        return headers


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


def _get(api: _Api, deps: SourceDeps, url: str, send: dict[str, str]
         ) -> tuple[int, dict[str, str], bytes]:
    policy = deps.http.policy
    stats = deps.github_stats
    target = api.url(url)
    last = ""
    for attempt in range(policy.attempts):
        try:
            reply = deps.http.exchange("GET", target, api.headers(send))
        except NETWORK_ERRORS as exc:
            if stats is not None:
                stats.record(None, {})
            last, wait = type(exc).__name__, policy.delay(attempt, None)
        else:
            status, headers = reply.status_code, reply.headers.fields  # lower-case names
            if stats is not None:
                stats.record(status, headers)
            if status < 300 or status == 304:
                return status, headers, reply.content
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


def _only(items: list[Any], fields: Sequence[str]) -> list[Any]:
    """The items with only `fields` (what the caller reads): the state file keeps no more."""
    return [{k: item[k] for k in fields if k in item} if isinstance(item, dict) else item
            for item in items]


def list_all(deps: SourceDeps, path: str, fields: Sequence[str]) -> list[Any]:
    """Every item of a paginated GitHub list (`path` relative to the API root), each item
    (a JSON object) with only the given `fields`."""
    if deps.github is None:
        raise UpstreamError("a GitHub upstream needs a GitHub client; set GITHUB_TOKEN")
    api = _Api.of(deps.github())
    cache = deps.http.cache
    base = api.gh.requester.base_url.rstrip("/")
    url: str | None = f"{path}?{urlencode({'per_page': PER_PAGE})}"
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        key = "github:" + (url if url.startswith("http") else base + url)
        status, headers, body = _get(api, deps, url, cache.validators(key))
        cached = cache.body(key) if status == 304 else None
        if cached is not None:
            page = json.loads(cached)
            data, url = page["items"], page["next"]
        else:
            if status == 304:  # validators without a body: ask again, unconditionally
                status, headers, body = _get(api, deps, url, {})
            try:
                data = json.loads(body) if body else []
            except ValueError:  # an HTML page (SSO, a proxy) in place of the API's JSON
                data = None
            if not isinstance(data, list):
                raise UpstreamError(f"GitHub sent an unexpected answer for {url}; "
                                    "check the repo in versions.toml")
            data = _only(data, fields)
            next_url = _next_link(headers)
            etag = headers.get("etag")
            if etag:
                cache.store(key, {"ETag": etag}, json.dumps({"items": data, "next": next_url}))
            url = next_url
        items.extend(data)
    return items
