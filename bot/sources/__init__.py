"""Upstream sources as plug-ins: a registry keyed by the `type` written in versions.toml.

Each source lists raw candidates for one upstream type (`Source.candidates`) and declares the
keys of its upstream table (`Source.keys`, `Source.required`: the config loader validates
with them); `filters` turns candidates into releases. `releases(upstream, deps)` is the one
entry point.
"""

from __future__ import annotations

from types import MappingProxyType

from bot.config import Upstream
from bot.errors import ConfigError
from bot.sources.base import Candidate, Release, Source, SourceDeps
from bot.sources.filters import Selection, escape_name, select
from bot.sources.github import GitHubReleasesSource, GitHubTagsSource
from bot.sources.gitlab_tags import GitLabTagsSource
from bot.sources.html_index import HtmlIndexSource

SOURCES: MappingProxyType[str, Source] = MappingProxyType({
    "html-index": HtmlIndexSource(),
    "github-tags": GitHubTagsSource(),
    "github-releases": GitHubReleasesSource(),
    "gitlab-tags": GitLabTagsSource(),
})


def source_for(upstream: Upstream, deps: SourceDeps) -> Source:
    try:
        return SOURCES[upstream.type]
    except KeyError:
        raise ConfigError(deps.config_path, f"unknown upstream type {upstream.type!r}",
                          fix=f"use one of: {', '.join(SOURCES)}") from None


def releases(upstream: Upstream, deps: SourceDeps) -> Selection:
    """The upstream's valid releases, newest first (raises UpstreamError when it is down)."""
    return select(upstream, source_for(upstream, deps).candidates(upstream, deps))


def describe(upstream: Upstream) -> str:
    """A short, safe label for messages: `html-index https://...` / `github-tags owner/name`."""
    return f"{upstream.type} {upstream.url if upstream.repo is None else upstream.repo}"


__all__ = [
    "SOURCES",
    "Candidate",
    "Release",
    "Selection",
    "Source",
    "SourceDeps",
    "describe",
    "escape_name",
    "releases",
    "source_for",
]
