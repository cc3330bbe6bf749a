"""Polling: which components have a newer upstream version whose source tarball exists.

`poll_components` gathers every upstream's releases concurrently (a `ThreadPoolExecutor`),
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

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import partial
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Literal

from bot.config import Component, Config, Upstream
from bot.errors import BotError
from bot.report import Reporter
from bot.sources import Release, Selection, SourceDeps, describe, releases
from bot.sources.filters import release_order
from bot.sources.github import GitHubApi, GitHubStats
from bot.versions import Version

if TYPE_CHECKING:
    from bot.app import App

Status = Literal["up-to-date", "update-available", "error"]
# Threads of a poll (this one included), at most one per upstream: enough for the requests
# of a few dozen upstreams in flight; more only add GIL contention to the CPU-bound parts.
WORKERS = 8
FAST_THREADS = 2  # threads of a poll while answers come fast (see _share)
GROW_AFTER = 0.005  # seconds: how often _share looks whether the network sets the pace
PROBES = 3


@dataclass(frozen=True, slots=True)
class PollResult:
    component: str
    current: Version
    latest: Version | None  # the proposed version, else the newest known (None: nothing known)
    status: Status
    error: str | None = None  # one line, for `error`
    release: Release | None = None  # for `update-available`; tarball_url = the source URL
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
    if len(listings) == 1:  # a selection is already one release per version, newest first
        return list(listings[0].releases)
    by_version: dict[str, Release] = {}
    for selection in listings:
        for release in selection.releases:
            by_version.setdefault(release.version.text, release)
    return sorted(by_version.values(), key=release_order, reverse=True)


def choose(component: Component, found: Sequence[Release], deps: SourceDeps,
           probes: int = PROBES, warnings: Sequence[str] = ()) -> PollResult:
    """The newest release above the current version whose source tarball exists."""
    current = (component.version.parts, component.version.text)  # = release_order's key
    newer = [r for r in found if release_order(r) > current]
    notes = list(warnings)
    try:
        for release in newer[:probes]:
            url = component.source_url(release.version)
            if deps.http.exists(url):
                return PollResult(component.name, component.version, release.version,
                                  "update-available",
                                  release=replace(release, tarball_url=url),
                                  warnings=tuple(notes))
            notes.append(f"{component.name} {release.version} is listed upstream but its "
                         f"source {url} does not answer; not proposed")
    except BotError as exc:
        return PollResult(component.name, component.version, None, "error",
                          error=f"source tarball check: {exc.message}", warnings=tuple(notes))
    known = [r.version for r in found if release_order(r) <= current]
    latest = component.version if newer else (known[0] if known else None)
    return PollResult(component.name, component.version, latest, "up-to-date",
                      warnings=tuple(notes))


def _decide(c: Component, done: Sequence[_Listing], deps: SourceDeps) -> PollResult:
    """A component's result from its listings (probing tarballs when something is newer)."""
    notes = [w for d, u in zip(done, c.upstream, strict=True) if d.selection is not None
             for w in d.selection.warnings(f"{c.name}: {describe(u)}")]
    errors = [d.error for d in done if d.error is not None]
    if errors:
        return PollResult(c.name, c.version, None, "error", error="; ".join(errors),
                          warnings=tuple(notes))
    if not c.upstream:
        return PollResult(c.name, c.version, None, "up-to-date",
                          warnings=(f"{c.name} has no upstream to poll",))
    found = merge([d.selection for d in done if d.selection is not None])
    return choose(c, found, deps, warnings=notes)


class _Component:
    """One component's listings as they complete; the last one to finish decides."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.listings: list[_Listing | None] = [None] * len(component.upstream)
        self.result: PollResult | None = None
        self._left = len(component.upstream)
        self._lock = threading.Lock()

    def listed(self, index: int, listing: _Listing) -> bool:
        """Record a listing; True for the last one."""
        with self._lock:
            self.listings[index] = listing
            self._left -= 1
            return self._left == 0


def _share(tasks: Sequence[Callable[[], None]], workers: int) -> None:
    """Run `tasks` on at most `workers` threads, each taking the next task from one queue
    until none is left. This thread starts on the first task at once (a thread's start waits
    for the OS to run it: milliseconds on a loaded machine), with one helper beside it: two
    threads keep a core busy while answers come fast, and more would only contend for the GIL
    (on loopback, eight threads cost a fifth more CPU than two). A watcher looks every
    GROW_AFTER seconds and, when fewer tasks finished in that time than threads run them (the
    network, not the CPU, sets the pace), starts the other helpers.
    A task's exception (a bug: upstream failures are values) is raised here."""
    queue: SimpleQueue[Callable[[], None]] = SimpleQueue()
    for task in tasks:
        queue.put(task)
    finished = itertools.count()  # next() is atomic: the tasks done, +1

    def drain() -> None:
        with suppress(Empty):
            while True:
                queue.get_nowait()()
                next(finished)

    limit = max(1, min(workers, len(tasks)))
    # the helpers, and the watcher's thread when there is one
    with ThreadPoolExecutor(max(1, limit - 1) + (limit > FAST_THREADS),
                            thread_name_prefix="poll") as pool:
        helpers = [pool.submit(drain) for _ in range(min(limit, FAST_THREADS) - 1)]
        over = threading.Event()

        def watch() -> None:
            seen = next(finished)
            while not over.wait(GROW_AFTER):
                now = next(finished)
                if now - seen - 1 < len(helpers) + 1:  # each next() here counts one too
                    helpers.extend(pool.submit(drain) for _ in range(limit - 1 - len(helpers)))
                    return
                seen = now

        watcher = pool.submit(watch) if limit > FAST_THREADS else None
        try:
            drain()
        finally:
            over.set()
            if watcher is not None:
                watcher.result()  # no helper is added after this
        for done in helpers:
            done.result()


def poll_components(config: Config, deps: SourceDeps, reporter: Reporter,
                    names: Sequence[str] | None = None, *, workers: int = WORKERS
                    ) -> list[PollResult]:
    """Poll the named components (default: all), in config order; never raises for an
    upstream failure (that component's result is an `error`).

    Every upstream is listed by a task, on `workers` threads at most (`_share`); the task
    that completes a component's last listing goes on to decide it (the tarball probes), so
    probes start as soon as their listing is in rather than after every listing queued before
    them. Config errors of a source name `config.path`."""
    components = [config.component(n) for n in names] if names else list(
        config.components.values())
    states = [_Component(c) for c in components]
    deps = replace(deps, config_path=config.path)

    def list_one(state: _Component, index: int) -> None:
        listing = _list(state.component.upstream[index], deps)
        if state.listed(index, listing):
            done = [d for d in state.listings if d is not None]
            state.result = _decide(state.component, done, deps)

    _share([partial(list_one, state, i) for state in states
            for i in range(len(state.component.upstream))], workers)
    ordered = []
    for state in states:
        if state.result is None:  # no upstream: nothing was listed
            state.result = _decide(state.component, [], deps)
        ordered.append(state.result)
    for result in ordered:
        for note in result.warnings:
            reporter.warning(note)
    return ordered


def deps_from_app(app: App) -> SourceDeps:
    """Source dependencies from the composition root (GitHub's API: the token when set)."""
    settings = app.settings
    return SourceDeps(http=app.http, github=GitHubApi(settings.github_api_url,
                                                      settings.github_token),
                      gitlab_token=settings.gitlab_token, github_stats=GitHubStats())


def poll_with_app(app: App, names: Sequence[str] | None = None) -> list[PollResult]:
    return poll_components(app.config, deps_from_app(app), app.reporter, names)
