"""The source plug-in contract: what every upstream type returns, and what it is given.

A source lists *candidates* (raw tag or file names, untrusted) for one `Upstream`;
`bot.sources.filters` turns them into `Release`s with the upstream's pattern, include/exclude
and ignore list. A raw name never leaves this package except repr-escaped in a warning.
Each source declares the keys its `[[components.X.upstream]]` table may and must have:
the config loader validates with them (`bot.sources.SOURCES` is the one list of types).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.config import Upstream
from bot.versions import Version

if TYPE_CHECKING:
    from bot.http import HttpClient
    from bot.sources.github import GitHubApi, GitHubStats

# the keys every upstream type takes (bot.sources.filters reads them)
FILTER_KEYS = frozenset({"pattern", "include", "exclude", "ignore"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry as the upstream lists it. `name` is untrusted (a tag name, a file path)."""

    name: str
    url: str | None = None  # the tag or release page, or the index page
    tarball_url: str | None = None  # the archive the upstream itself links, if any
    prerelease: bool = False
    draft: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """A valid version found upstream. `tag` is sanitised (display only, never a path)."""

    version: Version
    tag: str
    url: str | None = None
    tarball_url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceDeps:
    """What sources may use: the HTTP client, where GitHub's API is (and its token), the
    GitLab token, and the path of the config being polled (named in config errors)."""

    http: HttpClient
    github: GitHubApi | None = None  # None: api.github.com, anonymously
    gitlab_token: str | None = None
    github_stats: GitHubStats | None = None
    config_path: str = "versions.toml"


class Source(Protocol):
    """One upstream type (`type = "..."` in versions.toml)."""

    @property
    def keys(self) -> frozenset[str]:
        """The keys its upstream table may have besides `type`."""

    @property
    def required(self) -> frozenset[str]:
        """The keys it must have."""

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        """Everything the upstream lists; raises UpstreamError (one line) when it cannot."""
