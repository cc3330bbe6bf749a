"""The source plug-in contract: what every upstream type returns, and what it is given.

A source lists *candidates* (raw tag or file names, untrusted) for one `Upstream`;
`bot.sources.filters` turns them into `Release`s with the upstream's pattern, include/exclude
and ignore list. A raw name never leaves this package except repr-escaped in a warning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.config import Upstream
from bot.http import HttpClient
from bot.versions import Version

if TYPE_CHECKING:
    from github import Github

    from bot.sources.github_api import GitHubStats

T = TypeVar("T")


def once(factory: Callable[[], T]) -> Callable[[], T]:
    """`factory`, called at most once even from several threads (a lazily built client)."""
    lock = threading.Lock()
    made: list[T] = []

    def get() -> T:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry as the upstream lists it. `name` is untrusted (a tag name, a file path)."""

    name: str
    url: str | None = None  # the tag or release page, or the index page
    tarball_url: str | None = None  # the archive the upstream itself links, if any
    published: str | None = None
    prerelease: bool = False
    draft: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """A valid version found upstream. `tag` is sanitised (display only, never a path)."""

    version: Version
    tag: str
    url: str | None = None
    tarball_url: str | None = None
    published: str | None = None


@dataclass(frozen=True, slots=True)
class SourceDeps:
    """What sources may use: the upstream HTTP port and a lazy PyGithub client.

    `github` is a factory so that configs without GitHub upstreams never build a client
    (nor need a token). `sleep` is injected so tests wait out rate limits instantly.
    """

    http: HttpClient
    github: Callable[[], Github] | None = None
    gitlab_token: str | None = None
    sleep: Callable[[float], None] = time.sleep
    github_stats: GitHubStats | None = field(default=None)


class Source(Protocol):
    """One upstream type (`type = "..."` in versions.toml)."""

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        """Everything the upstream lists; raises UpstreamError (one line) when it cannot."""
