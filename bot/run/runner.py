"""Run a `RunPlan` thinly: per stack fetch, build, smoke, publish; then notes and the release.

Each stack works in its own directory `<work>/<stack>/` (emptied first): the artifacts taken
from the store and those built here, so what is smoke-tested and published is exactly this
run's. A failure of one stack (a build, the checks) is a value: the other stacks go on, only
stacks whose builds and checks all passed are published, and the run fails at the end
(exit 4 for a build, 5 for the checks). Notes cover what the store publishes for the
versions in versions.toml, with this run's smoke results.

With `RunDeps.out` (`release-bot run --out DIR`, the build job of the GitHub Actions
pipeline) nothing is published or announced: what each stack built and checked, with its
smoke results, is copied into DIR for the publishing job.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.build.manifest import Manifest, artifact_name, load_manifest, manifest_name
from bot.build.plan import plan_build
from bot.build.runner import Builder
from bot.config import Config
from bot.containers.port import ContainerEngine
from bot.errors import (
    BotError,
    BuildError,
    GitHubError,
    PublishError,
    SmokeError,
    UpstreamError,
)
from bot.files import atomic_write
from bot.notes.collect import build_notes, current_entries, smoke_to_json, store_manifests
from bot.notes.model import NoteSmoke, ReleaseNotes
from bot.notes.publisher import Announced, Announcer, announce_with_assets
from bot.notes.render import render_notes
from bot.report import Reporter
from bot.run.plan import SMOKED, RunPlan, StackRun, Target
from bot.smoke.checks import new_run_id
from bot.smoke.plan import CHECKS, SmokePlan, plan_for_image, plan_from_artifacts
from bot.smoke.results import SmokeResult
from bot.smoke.runner import run_smoke
from bot.smoke.runtime import has_xsp
from bot.store.layout import artifact_key, checksum_line, manifest_key, read_index
from bot.store.port import ArtifactStore
from bot.store.publish import PublishResult, collect_artifacts, publish
from bot.versions import Version

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True, slots=True)
class RunDeps:
    """What the runner drives; built by `release-bot run` from the `App`."""

    config: Config
    store: ArtifactStore
    builder: Callable[[], Builder]  # called only when something is built
    engine: Callable[[], ContainerEngine]  # called only when checks run
    announcer: Callable[[], Announcer]
    reporter: Reporter
    templates: jinja2.Environment
    work_dir: Path  # <work>/<stack>/ per stack
    samples: Path
    smoke_results: Path  # where this run's smoke results are saved (JSON)
    runtime_image: str | None = None  # prepared runtime instead of one made of the artifacts
    cpus: int = 1
    ready_timeout: float = 60.0
    out: Path | None = None  # build and check only: what passed is copied here


@dataclass
class StackOutcome:
    stack: str
    built: list[Manifest] = field(default_factory=list)
    smoke: list[SmokeResult] = field(default_factory=list)
    failure: BotError | None = None  # a build or smoke failure that kept it from publishing
    published: PublishResult | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None and all(r.passed for r in self.smoke)


@dataclass
class RunOutcome:
    stacks: list[StackOutcome]
    notes: ReleaseNotes | None = None
    announced: Announced | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def take_from_store(store: ArtifactStore, target: Target, directory: Path) -> Manifest:
    """Copy a published artifact, its checksum and manifest into `directory`, verified."""
    key = artifact_key(target.component, target.version, target.stack)
    index, _ = read_index(store)
    entry = index.find(target.component, target.version, target.stack)
    tarball = store.read(key)
    stored_manifest = store.read(manifest_key(key))
    if entry is None or tarball is None or stored_manifest is None:
        raise PublishError(f"{target.describe()} is needed but {store.url} does not publish "
                           f"it (with its manifest); run without --component/--stack filters "
                           "so it is built too")
    if _sha256(tarball.data) != entry.sha256:
        raise PublishError(f"{store.public_url(key)} does not match the sha256 in index.json "
                           f"({entry.sha256[:12]}…); the store is damaged: republish it "
                           "with `release-bot publish --force`")
    name = artifact_name(target.component, target.version, target.stack)
    (directory / name).write_bytes(tarball.data)
    (directory / f"{name}.sha256").write_bytes(checksum_line(name, entry.sha256))
    path = directory / manifest_name(target.component, target.version, target.stack)
    path.write_bytes(stored_manifest.data)
    try:
        manifest = load_manifest(path)
    except BuildError as exc:
        raise PublishError(f"the store's manifest of {key} is unusable ({exc.message}); "
                           "republish it with `release-bot publish --force`") from None
    if (manifest.component, manifest.version, manifest.stack) != \
            (target.component, target.version, target.stack) or manifest.sha256 != entry.sha256:
        raise PublishError(f"{store.public_url(manifest_key(key))} describes another "
                           f"artifact or other bytes than {key}; republish it with "
                           "`release-bot publish --force`")
    return manifest


def smoke_plan(deps: RunDeps, run: StackRun, manifests: Sequence[Manifest], directory: Path,
               run_id: str) -> SmokePlan:
    present = {m.component for m in manifests}
    if deps.runtime_image is not None:
        xsp = has_xsp(deps.engine(), deps.runtime_image, run_id)
        only = [c.name for c in CHECKS if c.needs in present and (c.needs != "xsp" or xsp)]
        return plan_for_image(deps.runtime_image, has_xsp=xsp, only=only,
                              ready_timeout=deps.ready_timeout)
    run_images = {s.name: s.run_image for s in deps.config.stacks.values()}
    return plan_from_artifacts([m for m in manifests if m.component in SMOKED], directory,
                               stack=run.stack, run_images=run_images,
                               ready_timeout=deps.ready_timeout)


def run_stack(deps: RunDeps, run: StackRun) -> StackOutcome:
    outcome = StackOutcome(run.stack)
    directory = deps.work_dir / run.stack
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    manifests: list[Manifest] = []
    reporter = deps.reporter
    if run.fetch:
        with reporter.phase(f"{run.stack}: take published artifacts"):
            for target in run.fetch:
                manifests.append(take_from_store(deps.store, target, directory))
                reporter.info(f"took {target.describe()} from {deps.store.url}")
    try:
        for target in run.builds:
            plan = plan_build(deps.config, target.component, run.stack,
                              Version.parse(target.version) if target.sha256 else None,
                              cpus=deps.cpus, sha256=target.sha256)
            with reporter.phase(f"build {target.describe()}"):
                result = deps.builder().build(plan, directory)
            outcome.built.append(result.manifest)
            manifests.append(result.manifest)
    except (BuildError, UpstreamError) as exc:
        reporter.error(f"{run.stack}: {exc.message}")
        outcome.failure = exc
        if deps.out is not None:  # the failed build's log, for the job to keep
            (deps.out / "failed").mkdir(parents=True, exist_ok=True)
            for log in directory.glob("*.failed.log"):
                shutil.copy2(log, deps.out / "failed" / log.name)
        return outcome
    if run.smoke:
        with reporter.phase(f"{run.stack}: smoke tests"):
            run_id = new_run_id()  # labels every smoke container of this stack
            checks = smoke_plan(deps, run, manifests, directory, run_id)
            reporter.info(f"smoke: {checks.describe()}")
            try:
                outcome.smoke = run_smoke(deps.engine(), checks, deps.samples, reporter,
                                          run_id)
            except SmokeError as exc:  # the runtime image itself: every check fails
                outcome.smoke = [SmokeResult("runtime", False, 0.0, detail=exc.message)]
    if outcome.passed and deps.out is not None:
        keep_for_publishing(deps.out, run.stack, directory, outcome)
    elif outcome.passed:
        for target in run.unchecked:
            reporter.warning(f"no smoke checks for {target.component}: the sample apps need "
                             f"Mono; {target.describe()} is published unchecked")
        with reporter.phase(f"{run.stack}: publish to {deps.store.url}"):
            outcome.published = publish(deps.store, collect_artifacts(directory),
                                        force=False, reporter=reporter)
    else:
        failed = [r for r in outcome.smoke if not r.passed]
        reporter.error(f"{run.stack}: not published, smoke checks failed: "
                       + "; ".join(f"{r.name}: {r.detail}" for r in failed))
    return outcome


def keep_for_publishing(out: Path, stack: str, directory: Path, outcome: StackOutcome
                        ) -> None:
    """Copy what `outcome` built (tarball, checksum, manifest) and its smoke results, as
    `smoke/<stack>.json`, into `out`: what the publishing job publishes and announces."""
    out.mkdir(parents=True, exist_ok=True)
    for m in outcome.built:
        name = artifact_name(m.component, m.version, m.stack)
        for file in (name, f"{name}.sha256",
                     manifest_name(m.component, m.version, m.stack)):
            shutil.copy2(directory / file, out / file)
    if outcome.smoke:
        (out / "smoke").mkdir(exist_ok=True)
        atomic_write(out / "smoke" / f"{stack}.json",
                     json.dumps(smoke_to_json(stack, outcome.smoke), indent=2) + "\n")


def announce(deps: RunDeps, plan: RunPlan, outcomes: Sequence[StackOutcome]
             ) -> tuple[ReleaseNotes, Announced]:
    """Notes for what the store publishes for versions.toml, with this run's smoke results."""
    index, _ = read_index(deps.store)
    files = store_manifests(deps.store, current_entries(deps.config, index))
    smoke = [NoteSmoke(r.name, o.stack, r.passed, r.seconds, _detail(r), r.output_excerpt)
             for o in outcomes for r in o.smoke]
    published = {(m.component, m.version, o.stack) for o in outcomes if o.published
                 for m in o.built}
    unchecked = [t.describe() for s in plan.stacks for t in s.unchecked
                 if (t.component, t.version, t.stack) in published]
    runtime = (f"the prepared runtime image {deps.runtime_image} (it stands in for a runtime "
               "made of these artifacts)") if deps.runtime_image and smoke else ""
    notes, warnings = build_notes([f.manifest for f in files], index, deps.config,
                                  smoke=smoke, unchecked=unchecked, smoke_runtime=runtime)
    for warning in warnings:
        deps.reporter.warning(warning)
    body = render_notes(notes, deps.templates)
    try:
        announced = announce_with_assets(deps.announcer(), notes.tag, notes.title, body,
                                         {f.name: f.data for f in files})
    except GitHubError as exc:  # a rerun of `run` has nothing to do: say how to finish
        raise GitHubError(f"{exc.message}; the artifacts are published: announce them with "
                          "`release-bot release` once that is fixed") from None
    return notes, announced


def _detail(result: SmokeResult) -> str:
    if result.http_status is None:
        return result.detail
    latency = "" if result.latency_ms is None else f", {result.latency_ms:.0f} ms"
    return f"{result.detail} (HTTP {result.http_status}{latency})"


def execute(plan: RunPlan, deps: RunDeps) -> RunOutcome:
    outcome = RunOutcome([run_stack(deps, run) for run in plan.stacks])
    results = [item for o in outcome.stacks for item in smoke_to_json(o.stack, o.smoke)]
    if results:
        deps.smoke_results.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(deps.smoke_results, json.dumps(results, indent=2) + "\n")
    if deps.out is None and any(o.published for o in outcome.stacks):
        with deps.reporter.phase("release notes"):
            outcome.notes, outcome.announced = announce(deps, plan, outcome.stacks)
    return outcome


def raise_failures(outcome: RunOutcome) -> None:
    """The run's exit: 4 when a build failed, else 5 when checks failed, else fine."""
    builds = [o for o in outcome.stacks if o.failure is not None]
    if builds:
        first = builds[0].failure
        assert first is not None
        by_message: dict[str, list[str]] = {}
        for o in builds:  # one source failing fails every stack the same way: say it once
            by_message.setdefault(str(o.failure), []).append(o.stack)
        listed = "; ".join(f"{', '.join(stacks)}: {message}"
                           for message, stacks in by_message.items())
        error = type(first) if all(type(o.failure) is type(first) for o in builds) \
            else BuildError
        raise error(f"{len(builds)} stack(s) failed and were not published: {listed}")
    smoke = [o for o in outcome.stacks if not o.passed]
    if smoke:
        listed = "; ".join(f"{o.stack}: " + ", ".join(r.name for r in o.smoke if not r.passed)
                           for o in smoke)
        raise SmokeError(f"smoke checks failed, those stacks were not published: {listed}; "
                         "see the smoke table above")
