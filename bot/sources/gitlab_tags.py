"""`gitlab-tags`: tags through GitLab's v4 API (`url` defaults to https://gitlab.com).

GET {url}/api/v4/projects/{owner%2Fname}/repository/tags, every page (`Link: rel="next"` or
`X-Next-Page`). Pages are conditional requests (the HTTP client's cache sends the ETag last
seen), so an unchanged project answers 304. GITLAB_TOKEN, when set, is sent as PRIVATE-TOKEN,
to the configured GitLab host only: not along a redirect or a `next` link to another host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from bot.config import Upstream
from bot.errors import ConfigError, UpstreamError
from bot.sources.base import FILTER_KEYS, Candidate, SourceDeps

if TYPE_CHECKING:
    from bot.http import Answer

DEFAULT_URL = "https://gitlab.com"
PER_PAGE = 100
MAX_PAGES = 20


def _next_url(first: str, response: Answer) -> str | None:
    link = response.links.get("next", {}).get("url")
    if link:
        return str(link)
    page = str(response.headers.get("X-Next-Page", "")).strip()
    if page.isdigit():
        return f"{first}&page={page}"
    return None


def list_tags(deps: SourceDeps, base: str, repo: str) -> list[Any]:
    first = (f"{base}/api/v4/projects/{quote(repo, safe='')}/repository/tags?"
             + urlencode({"per_page": PER_PAGE}))
    auth = {"PRIVATE-TOKEN": deps.gitlab_token} if deps.gitlab_token else {}
    url: str | None = first
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        # the token to the GitLab host only; the client drops it on a redirect elsewhere
        same = urlsplit(url)[:2] == urlsplit(base)[:2]
        response = deps.http.request("GET", url, headers=auth if same else None)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, list):
            raise UpstreamError(f"GitLab sent an unexpected answer for {url}; check url "
                                f"and repo in {deps.config_path}")
        items.extend(data)
        url = _next_url(first, response)
    return items


class GitLabTagsSource:
    keys = FILTER_KEYS | {"url", "repo"}
    required = frozenset({"repo"})

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        if upstream.repo is None:
            raise ConfigError(deps.config_path, "gitlab-tags upstream without repo",
                              fix='add repo = "group/project"')
        base = (upstream.url or DEFAULT_URL).rstrip("/")
        found = []
        for item in list_tags(deps, base, upstream.repo):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            found.append(Candidate(
                name=name, url=f"{base}/{upstream.repo}/-/tags/{quote(name, safe='')}"))
        return found
