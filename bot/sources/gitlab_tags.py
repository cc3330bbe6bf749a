"""`gitlab-tags`: tags through GitLab's v4 API (`url` defaults to https://gitlab.com).

GET {url}/api/v4/projects/{owner%2Fname}/repository/tags, every page (`Link: rel="next"` or
`X-Next-Page`). Pages are conditional requests (their ETag and items kept in the state file),
so an unchanged project answers 304. GITLAB_TOKEN, when set, is sent as PRIVATE-TOKEN, to
the configured GitLab host only: not along a redirect or a `next` link to another host.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests

from bot.config import Upstream
from bot.errors import ConfigError, UpstreamError
from bot.http import HttpClient
from bot.sources.base import Candidate, SourceDeps

DEFAULT_URL = "https://gitlab.com"
PER_PAGE = 100
MAX_PAGES = 20
MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _next_url(first: str, headers: Any, links: dict[str, dict[str, str]]) -> str | None:
    if "next" in links and links["next"].get("url"):
        return links["next"]["url"]
    page = str(headers.get("X-Next-Page", "")).strip()
    if page.isdigit():
        return f"{first}&page={page}"
    return None


def _get(http: HttpClient, url: str, headers: dict[str, str], auth: dict[str, str],
         base: str) -> requests.Response:
    """GET `url`, the token sent only to `base`'s host (requests would keep PRIVATE-TOKEN on
    a redirect to another host: it drops only Authorization), so redirects are followed here."""
    if not auth:
        return http.request("GET", url, headers=headers)
    home = urlsplit(base)[:2]
    for _ in range(MAX_REDIRECTS + 1):
        send = {**auth, **headers} if urlsplit(url)[:2] == home else headers
        response = http.request("GET", url, headers=send, allow_redirects=False,
                                allow_status=REDIRECTS)
        if not response.is_redirect:
            return response
        response.close()
        url = urljoin(url, response.headers["location"])
    raise UpstreamError(f"GitLab redirected more than {MAX_REDIRECTS} times (last to {url}); "
                        "check url and repo in versions.toml")


def list_tags(deps: SourceDeps, base: str, repo: str) -> list[Any]:
    http, cache = deps.http, deps.http.cache
    first = (f"{base}/api/v4/projects/{quote(repo, safe='')}/repository/tags?"
             + urlencode({"per_page": PER_PAGE}))
    auth = {"PRIVATE-TOKEN": deps.gitlab_token} if deps.gitlab_token else {}
    url: str | None = first
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        key = "gitlab:" + url
        response = _get(http, url, cache.validators(key), auth, base)
        cached = cache.body(key) if response.status_code == 304 else None
        response.close()
        if cached is not None:
            http.stats.add(not_modified=1)
            page = json.loads(cached)
            data, url = page["items"], page["next"]
        else:
            if response.status_code == 304:
                response = _get(http, url, {}, auth, base)
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, list):
                raise UpstreamError(f"GitLab sent an unexpected answer for {url}; check url "
                                    "and repo in versions.toml")
            next_url = _next_url(first, response.headers, response.links)
            cache.store(key, response.headers, json.dumps({"items": data, "next": next_url}))
            http.stats.add(bytes=len(response.content))
            url = next_url
        items.extend(data)
    return items


class GitLabTagsSource:
    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        if upstream.repo is None:
            raise ConfigError("versions.toml", "gitlab-tags upstream without repo",
                              fix='add repo = "group/project"')
        base = (upstream.url or DEFAULT_URL).rstrip("/")
        found = []
        for item in list_tags(deps, base, upstream.repo):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            commit = item.get("commit")
            published = commit.get("created_at") if isinstance(commit, dict) else None
            found.append(Candidate(
                name=name,
                url=f"{base}/{upstream.repo}/-/tags/{quote(name, safe='')}",
                published=published if isinstance(published, str) else None,
            ))
        return found
