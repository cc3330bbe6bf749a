"""`github-releases`: the releases of a GitHub repository (drafts and prereleases are
skipped unless the upstream sets `drafts` / `prereleases`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Upstream
from bot.sources.base import Candidate, SourceDeps
from bot.sources.github_api import list_all
from bot.sources.github_tags import repo_of

# what candidates() reads of a release
RELEASE_FIELDS = ("tag_name", "html_url", "tarball_url", "published_at", "prerelease", "draft")


def _text(item: dict[str, object], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


class GitHubReleasesSource:
    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        repo = repo_of(upstream)
        found = []
        for item in list_all(deps, f"/repos/{repo}/releases", RELEASE_FIELDS):
            if not isinstance(item, dict) or (name := _text(item, "tag_name")) is None:
                continue
            found.append(Candidate(
                name=name,
                url=_text(item, "html_url"),
                tarball_url=_text(item, "tarball_url"),
                published=_text(item, "published_at"),
                prerelease=item.get("prerelease") is True,
                draft=item.get("draft") is True,
            ))
        return found
