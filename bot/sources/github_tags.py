"""`github-tags`: the tags of a GitHub repository (GET /repos/{repo}/tags, all pages)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from bot.config import Upstream
from bot.errors import ConfigError
from bot.sources.base import Candidate, SourceDeps
from bot.sources.github_api import list_all

WEB = "https://github.com"
TAG_FIELDS = ("name", "tarball_url")  # what candidates() reads of a tag
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")  # what quote(name, safe="") leaves as it is


def quote_name(name: str) -> str:
    return name if _URL_SAFE.fullmatch(name) else quote(name, safe="")


def repo_of(upstream: Upstream) -> str:
    if upstream.repo is None:
        raise ConfigError("versions.toml", f"{upstream.type} upstream without repo",
                          fix='add repo = "owner/name"')
    return upstream.repo


class GitHubTagsSource:
    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        repo = repo_of(upstream)
        found = []
        for item in list_all(deps, f"/repos/{repo}/tags", TAG_FIELDS):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            found.append(Candidate(
                name=name,
                url=f"{WEB}/{repo}/releases/tag/{quote_name(name)}",
                tarball_url=item.get("tarball_url") if isinstance(item.get("tarball_url"), str)
                else None,
            ))
        return found
