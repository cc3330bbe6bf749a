"""GitHub upstreams: `github-tags` and `github-releases`, as plain REST calls.

GET {api}/repos/{repo}/tags (or /releases) ?per_page=100 through the shared HTTP client,
with the token (when set) and GitHub's API version header, following `Link: rel="next"` for
at most MAX_PAGES pages; a `next` link is sent to the configured API host only (its path and
query), so the token goes nowhere else. Each page is a conditional request (the HTTP client's
cache sends the ETag last seen), and GitHub does not charge a 304 to the rate limit: an
unchanged list costs no quota. 5xx, 429 and a secondary rate limit (403 + Retry-After) are
retried by the client; a spent primary rate limit is an error naming when it resets.
Releases that are drafts or prereleases are skipped unless the upstream sets `drafts` /
`prereleases`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from bot.config import Upstream
from bot.errors import ConfigError, UpstreamError
from bot.http import retry_after_seconds
from bot.sources.base import FILTER_KEYS, Candidate, SourceDeps

if TYPE_CHECKING:
    from bot.http import Answer

DEFAULT_API = "https://api.github.com"
WEB = "https://github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 20
_FINAL = range(400, 500)  # 4xx after the client's retries: explained here
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")  # what quote(name, safe="") leaves as it is


@dataclass(frozen=True, slots=True)
class GitHubApi:
    """Where GitHub's REST API is (`GITHUB_API_URL`) and the token to send, if any."""

    url: str = DEFAULT_API
    token: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def on_host(self, link: str) -> str:
        """A `next` link's path and query, on the API's own host."""
        api, parts = urlsplit(self.url), urlsplit(link)
        return f"{api.scheme}://{api.netloc}{parts.path}" + (f"?{parts.query}" if parts.query
                                                              else "")


@dataclass
class GitHubStats:
    requests: int = 0
    not_modified: int = 0
    quota: int = 0  # answers GitHub charges to the primary rate limit (all but 304)
    remaining: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: Answer) -> None:
        left = str(response.headers.get("x-ratelimit-remaining", ""))
        with self._lock:
            self.requests += 1
            if response.from_cache:
                self.not_modified += 1
            else:
                self.quota += 1
            if left.isdigit():
                self.remaining = int(left) if self.remaining is None else min(
                    self.remaining, int(left))


def _refusal(response: Answer, url: str, config: str) -> UpstreamError:
    status = response.status_code
    wait = retry_after_seconds(response.headers)
    if status in (403, 429) and wait is not None:
        return UpstreamError(f"GitHub's rate limit is spent (HTTP {status} for {url}; it resets "
                             f"in {wait:.0f} s); set GITHUB_TOKEN, or poll again later")
    return UpstreamError(f"GitHub answered HTTP {status} for {url}; check the repo in "
                         f"{config} and the token's access")


def list_all(deps: SourceDeps, path: str) -> list[Any]:
    """Every item of a paginated GitHub list (`path` below the API root)."""
    api = deps.github or GitHubApi()
    url: str | None = f"{api.url.rstrip('/')}{path}?{urlencode({'per_page': PER_PAGE})}"
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        response = deps.http.request("GET", url, headers=api.headers(), allow_status=_FINAL)
        if deps.github_stats is not None:
            deps.github_stats.record(response)
        if response.status_code >= 400:
            raise _refusal(response, url, deps.config_path)
        try:
            data = response.json()
        except ValueError:  # an HTML page (SSO, a proxy) in place of the API's JSON
            data = None
        if not isinstance(data, list):
            raise UpstreamError(f"GitHub sent an unexpected answer for {url}; check the repo "
                                f"in {deps.config_path}")
        items.extend(data)
        link = response.links.get("next", {}).get("url")
        url = api.on_host(link) if link else None
    return items


def quote_name(name: str) -> str:
    return name if _URL_SAFE.fullmatch(name) else quote(name, safe="")


def repo_of(upstream: Upstream, deps: SourceDeps) -> str:
    if upstream.repo is None:
        raise ConfigError(deps.config_path, f"{upstream.type} upstream without repo",
                          fix='add repo = "owner/name"')
    return upstream.repo


def _text(item: dict[str, object], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _named(upstream: Upstream, deps: SourceDeps, what: str, key: str
           ) -> Iterator[tuple[str, dict[str, object], str]]:
    """(repo, item, its name) of each listed item (`what`: tags or releases) with a name."""
    repo = repo_of(upstream, deps)
    for item in list_all(deps, f"/repos/{repo}/{what}"):
        if isinstance(item, dict) and (name := _text(item, key)) is not None:
            yield repo, item, name


class GitHubTagsSource:
    keys = FILTER_KEYS | {"repo"}
    required = frozenset({"repo"})

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        return [Candidate(name=name, url=f"{WEB}/{repo}/releases/tag/{quote_name(name)}",
                          tarball_url=_text(item, "tarball_url"))
                for repo, item, name in _named(upstream, deps, "tags", "name")]


class GitHubReleasesSource:
    keys = FILTER_KEYS | {"repo", "prereleases", "drafts"}
    required = frozenset({"repo"})

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        return [Candidate(name=name, url=_text(item, "html_url"),
                          tarball_url=_text(item, "tarball_url"),
                          prerelease=item.get("prerelease") is True,
                          draft=item.get("draft") is True)
                for _, item, name in _named(upstream, deps, "releases", "tag_name")]
