"""Polling: which components have a newer upstream version whose source tarball exists.

`poll_components` gathers every upstream's releases concurrently (a bounded thread pool),
merges them per component, and probes the component's `source` URL for the newest versions
above the current one (newest first, at most `probes` of them): a version is proposed only
when its tarball answers. One failing upstream makes its component's result an `error` value;
the others go on. Warnings (skipped tag names, tag-only versions) are emitted in component
order once everything is done.

API used by `release-bot pr`: `poll_with_app(app, names)` or `poll_components(config, deps,
reporter, names)`; each `PollResult.release` (for `update-available`) carries the version,
the tag or release page and `tarball_url = component.source_url(version)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from bot.config import Component, Config, Upstream
from bot.errors import BotError
from bot.report import Reporter
from bot.sources import Release, Selection, SourceDeps, describe, releases
from bot.sources.base import once
from bot.sources.github_api import GitHubStats
from bot.versions import Version

if TYPE_CHECKING:
    from bot.app import App

Status = Literal["up-to-date", "update-available", "error"]
WORKERS = 8
PROBES = 3


@dataclass(frozen=True, slots=True)
class PollResult:
    component: str
    current: Version
    latest: Version | None  # the proposed version, else the newest known (None: nothing known)
    status: Status
    error: str | None = None  # one line, for `error`
    release: Release | None = None  # for `update-available`; tarball_url = the source URL
    unavailable: tuple[Version, ...] = ()  # newer versions listed upstream without a tarball
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, str | None]:
        return {
            "component": self.component,
            "current": self.current.text,
            "latest": None if self.latest is None else self.latest.text,
            "status": self.status,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class _Listing:
    selection: Selection | None
    error: str | None


def _list(upstream: Upstream, deps: SourceDeps) -> _Listing:
    try:
        return _Listing(releases(upstream, deps), None)
    except BotError as exc:
        return _Listing(None, f"{describe(upstream)}: {exc.message}")


def merge(listings: Sequence[Selection]) -> list[Release]:
    """One release per version, newest first; the first upstream listing a version wins."""
    by_version: dict[str, Release] = {}
    for selection in listings:
        for release in selection.releases:
            by_version.setdefault(release.version.text, release)
    return sorted(by_version.values(), key=lambda r: r.version, reverse=True)


def choose(component: Component, found: Sequence[Release], deps: SourceDeps,
           probes: int = PROBES, warnings: Sequence[str] = ()) -> PollResult:
    """The newest release above the current version whose source tarball exists."""
    newer = [r for r in found if r.version > component.version]
    missing: list[Version] = []
    notes = list(warnings)
    try:
        for release in newer[:probes]:
            url = component.source_url(release.version)
            if deps.http.exists(url):
                return PollResult(component.name, component.version, release.version,
                                  "update-available",
                                  release=replace(release, tarball_url=url),
                                  unavailable=tuple(missing), warnings=tuple(notes))
            missing.append(release.version)
            notes.append(f"{component.name} {release.version} is listed upstream but its "
                         f"source {url} does not answer; not proposed")
    except BotError as exc:
        return PollResult(component.name, component.version, None, "error",
                          error=f"source tarball check: {exc.message}", warnings=tuple(notes))
    known = [r.version for r in found if r.version <= component.version]
    latest = component.version if newer else (known[0] if known else None)
    return PollResult(component.name, component.version, latest, "up-to-date",
                      unavailable=tuple(missing), warnings=tuple(notes))


def poll_components(config: Config, deps: SourceDeps, reporter: Reporter,
                    names: Sequence[str] | None = None, *, workers: int = WORKERS,
                    probes: int = PROBES) -> list[PollResult]:
    """Poll the named components (default: all), in config order; never raises for an
    upstream failure (that component's result is an `error`)."""
    components = [config.component(n) for n in names] if names else list(
        config.components.values())
    with ThreadPoolExecutor(max_workers=max(1, workers),
                            thread_name_prefix="poll") as pool:
        listings: dict[str, list[Future[_Listing]]] = {
            c.name: [pool.submit(_list, u, deps) for u in c.upstream] for c in components}
        pending: dict[str, Future[PollResult]] = {}
        results: dict[str, PollResult] = {}
        for c in components:
            done = [f.result() for f in listings[c.name]]
            notes = [w for d, u in zip(done, c.upstream, strict=True) if d.selection is not None
                     for w in d.selection.warnings(f"{c.name}: {describe(u)}")]
            errors = [d.error for d in done if d.error is not None]
            if errors:
                results[c.name] = PollResult(c.name, c.version, None, "error",
                                             error="; ".join(errors), warnings=tuple(notes))
            elif not c.upstream:
                results[c.name] = PollResult(c.name, c.version, None, "up-to-date",
                                             warnings=(f"{c.name} has no upstream to poll",))
            else:
                found = merge([d.selection for d in done if d.selection is not None])
                pending[c.name] = pool.submit(choose, c, found, deps, probes, notes)
        for name, future in pending.items():
            results[name] = future.result()
    ordered = [results[c.name] for c in components]
    for result in ordered:
        for note in result.warnings:
            reporter.warning(note)
    return ordered


def deps_from_app(app: App) -> SourceDeps:
    """Source dependencies from the composition root (GitHub client built on first use)."""
    return SourceDeps(http=app.http, github=once(lambda: app.github_reader),
                      gitlab_token=app.settings.gitlab_token, github_stats=GitHubStats())


def poll_with_app(app: App, names: Sequence[str] | None = None) -> list[PollResult]:
    return poll_components(app.config, deps_from_app(app), app.reporter, names)
