"""`gitlab-tags`: tags through GitLab's v4 API (`url` defaults to https://gitlab.com).

GET {url}/api/v4/projects/{owner%2Fname}/repository/tags, every page (`Link: rel="next"` or
`X-Next-Page`). Pages are conditional requests (the HTTP client's cache sends the ETag last
seen), so an unchanged project answers 304. GITLAB_TOKEN, when set, is sent as PRIVATE-TOKEN,
to the configured GitLab host only: not along a redirect or a `next` link to another host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from bot.config import Upstream
from bot.errors import ConfigError, UpstreamError
from bot.sources.base import FILTER_KEYS, Candidate, SourceDeps

if TYPE_CHECKING:
    import requests

    from bot.http import HttpClient

DEFAULT_URL = "https://gitlab.com"
PER_PAGE = 100
MAX_PAGES = 20
MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _next_url(first: str, response: requests.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    if link:
        return str(link)
    page = str(response.headers.get("X-Next-Page", "")).strip()
    if page.isdigit():
        return f"{first}&page={page}"
    return None


def _get(http: HttpClient, url: str, auth: dict[str, str], base: str, config: str
         ) -> requests.Response:
    """GET `url`, the token sent only to `base`'s host (requests would keep PRIVATE-TOKEN on
    a redirect to another host: it drops only Authorization), so redirects are followed here."""
    if not auth:
        return http.request("GET", url)
    home = urlsplit(base)[:2]
    for _ in range(MAX_REDIRECTS + 1):
        send = auth if urlsplit(url)[:2] == home else {}
        response = http.request("GET", url, headers=send, allow_redirects=False,
                                allow_status=REDIRECTS)
        if not response.is_redirect:
            return response
        url = urljoin(url, response.headers["location"])
    raise UpstreamError(f"GitLab redirected more than {MAX_REDIRECTS} times (last to {url}); "
                        f"check url and repo in {config}")


def list_tags(deps: SourceDeps, base: str, repo: str) -> list[Any]:
    first = (f"{base}/api/v4/projects/{quote(repo, safe='')}/repository/tags?"
             + urlencode({"per_page": PER_PAGE}))
    auth = {"PRIVATE-TOKEN": deps.gitlab_token} if deps.gitlab_token else {}
    url: str | None = first
    items: list[Any] = []
    pages = 0
    while url is not None and pages < MAX_PAGES:
        pages += 1
        response = _get(deps.http, url, auth, base, deps.config_path)
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
            commit = item.get("commit")
            published = commit.get("created_at") if isinstance(commit, dict) else None
            found.append(Candidate(
                name=name,
                url=f"{base}/{upstream.repo}/-/tags/{quote(name, safe='')}",
                published=published if isinstance(published, str) else None,
            ))
        return found
