"""The steps of `release-bot run` over the real ports: the store, the builder, the container
engine, the announcer; `bot.run.executor` sequences them and records every failure.

Each stack and architecture works in its own directory `<work>/<lane>/` (emptied first; the
lane is `heroku-24`, or `heroku-24-arm64` for another architecture than amd64): the artifacts taken
from the store (streamed to disk, verified against index.json) and those built here, so what
is smoke-tested and published is exactly this run's. Notes cover what the store publishes
for the versions in versions.toml, with this run's smoke results, which are also saved as
JSON (`RunDeps.smoke_results`).

With `RunDeps.out` (`release-bot run --out DIR`, the build job of the GitHub Actions
pipeline) nothing is published or announced: what each stack built and checked, with its
smoke results, is copied into DIR for the publishing job (and a failed build's log into
DIR/failed/).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.arch import platform
from bot.build.manifest import Manifest, artifact_stem, load_manifest
from bot.build.plan import plan_build
from bot.build.runner import Builder
from bot.config import Config
from bot.containers.port import ContainerEngine
from bot.errors import BuildError, GitHubError, PublishError, SmokeError
from bot.files import atomic_write, sha256_file
from bot.notes.collect import build_notes, current_entries, smoke_to_json, store_manifests
from bot.notes.model import NoteSmoke, ReleaseNotes
from bot.notes.publisher import Announced, Announcer, announce_with_assets
from bot.notes.render import render_notes
from bot.report import Reporter
from bot.run.executor import RunOutcome, StackOutcome, Steps, execute
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
    """What the steps drive; built by `release-bot run` from the `App`."""

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


def take_from_store(store: ArtifactStore, target: Target, directory: Path) -> Manifest:
    """Copy a published artifact (streamed), its checksum and manifest into `directory`,
    verified against index.json."""
    key = artifact_key(target.component, target.version, target.stack, target.arch)
    index, _ = read_index(store)
    entry = index.find(target.component, target.version, target.stack, target.arch)
    stem = artifact_stem(target.component, target.version, target.stack, arch=target.arch)
    name = f"{stem}.tar.gz"
    tarball = directory / name
    stored_manifest = store.read(manifest_key(key)) if entry is not None else None
    if entry is None or stored_manifest is None or not store.download(key, tarball):
        raise PublishError(f"{target.describe()} is needed but {store.url} does not publish "
                           f"it (with its manifest); run without --component/--stack filters "
                           "so it is built too")
    if sha256_file(tarball) != entry.sha256:
        tarball.unlink()
        raise PublishError(f"{store.public_url(key)} does not match the sha256 in index.json "
                           f"({entry.sha256[:12]}…); the store is damaged: republish it "
                           "with `release-bot publish --force`")
    (directory / f"{name}.sha256").write_bytes(checksum_line(name, entry.sha256))
    path = directory / f"{stem}.json"
    path.write_bytes(stored_manifest.data)
    try:
        manifest = load_manifest(path)
    except BuildError as exc:
        raise PublishError(f"the store's manifest of {key} is unusable ({exc.message}); "
                           "republish it with `release-bot publish --force`") from None
    if (manifest.component, manifest.version, manifest.stack, manifest.arch) != \
            (target.component, target.version, target.stack, target.arch) \
            or manifest.sha256 != entry.sha256:
        raise PublishError(f"{store.public_url(manifest_key(key))} describes another "
                           f"artifact or other bytes than {key}; republish it with "
                           "`release-bot publish --force`")
    return manifest


def prepare(deps: RunDeps, run: StackRun) -> Path:
    directory = deps.work_dir / run.lane
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def take(deps: RunDeps, target: Target, directory: Path) -> Manifest:
    with deps.reporter.phase(f"take {target.describe()}"):
        manifest = take_from_store(deps.store, target, directory)
        deps.reporter.info(f"took {target.describe()} from {deps.store.url}")
    return manifest


def build(deps: RunDeps, target: Target, directory: Path) -> Manifest:
    plan = plan_build(deps.config, target.component, target.stack,
                      Version.parse(target.version) if target.sha256 else None,
                      cpus=deps.cpus, sha256=target.sha256, arch=target.arch)
    with deps.reporter.phase(f"build {target.describe()}"):
        return deps.builder().build(plan, directory).manifest


def smoke_plan(deps: RunDeps, run: StackRun, manifests: Sequence[Manifest], directory: Path,
               run_id: str) -> SmokePlan:
    present = {m.component for m in manifests}
    if deps.runtime_image is not None:
        xsp = has_xsp(deps.engine(), deps.runtime_image, run_id, platform(run.arch))
        only = [c.name for c in CHECKS if c.needs in present and (c.needs != "xsp" or xsp)]
        return plan_for_image(deps.runtime_image, has_xsp=xsp, only=only,
                              ready_timeout=deps.ready_timeout, arch=run.arch)
    return plan_from_artifacts([m for m in manifests if m.component in SMOKED], directory,
                               stack=run.stack, run_images=deps.config.run_images,
                               arch=run.arch, ready_timeout=deps.ready_timeout)


def smoke(deps: RunDeps, run: StackRun, manifests: Sequence[Manifest], directory: Path
          ) -> list[SmokeResult]:
    with deps.reporter.phase(f"{run.lane}: smoke tests"):
        run_id = new_run_id()  # labels every smoke container of this stack
        checks = smoke_plan(deps, run, manifests, directory, run_id)
        deps.reporter.info(f"smoke: {checks.describe()}")
        try:
            return run_smoke(deps.engine(), checks, deps.samples, deps.reporter, run_id)
        except SmokeError as exc:  # the runtime image itself: every check fails
            return [SmokeResult("runtime", False, 0.0, detail=exc.message)]


def deliver(deps: RunDeps, run: StackRun, directory: Path, outcome: StackOutcome
            ) -> PublishResult | None:
    """Publish what the stack built; with `out`, keep it for the publishing job (None)."""
    if deps.out is not None:
        keep_for_publishing(deps.out, run.lane, directory, outcome)
        return None
    for target in run.unchecked:
        deps.reporter.warning(f"no smoke checks for {target.component}: the sample apps need "
                              f"Mono; {target.describe()} is published unchecked")
    with deps.reporter.phase(f"{run.lane}: publish to {deps.store.url}"):
        return publish(deps.store, collect_artifacts(directory), force=False,
                       reporter=deps.reporter)


def salvage(deps: RunDeps, run: StackRun, directory: Path) -> None:
    """With `out`, a failed build's log, for the job to keep."""
    logs = sorted(directory.glob("*.failed.log"))
    if deps.out is None or not logs:
        return
    (deps.out / "failed").mkdir(parents=True, exist_ok=True)
    for log in logs:
        shutil.copy2(log, deps.out / "failed" / log.name)


def keep_for_publishing(out: Path, lane: str, directory: Path, outcome: StackOutcome
                        ) -> None:
    """Copy what `outcome` built (tarball, checksum, manifest) and its smoke results, as
    `smoke/<lane>.json`, into `out`: what the publishing job publishes and announces."""
    out.mkdir(parents=True, exist_ok=True)
    for m in outcome.built:
        for file in (m.artifact, f"{m.artifact}.sha256", f"{m.stem}.json"):
            shutil.copy2(directory / file, out / file)
    if outcome.smoke:
        (out / "smoke").mkdir(exist_ok=True)
        atomic_write(out / "smoke" / f"{lane}.json",
                     json.dumps(smoke_to_json(outcome.stack, outcome.smoke, outcome.arch),
                                indent=2) + "\n")


def announce(deps: RunDeps, plan: RunPlan, outcomes: Sequence[StackOutcome]
             ) -> tuple[ReleaseNotes, Announced]:
    """Notes for what the store publishes for versions.toml, with this run's smoke results."""
    with deps.reporter.phase("release notes"):
        index, _ = read_index(deps.store)
        files = store_manifests(deps.store, current_entries(deps.config, index))
        smoke = [NoteSmoke(r.name, o.stack, r.passed, r.seconds, _detail(r), r.output_excerpt,
                           o.arch) for o in outcomes for r in o.smoke]
        published = {(m.component, m.version, m.stack, m.arch) for o in outcomes if o.published
                     for m in o.built}
        unchecked = [t.describe() for s in plan.stacks for t in s.unchecked
                     if (t.component, t.version, t.stack, t.arch) in published]
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


def steps(deps: RunDeps) -> Steps:
    return Steps(prepare=partial(prepare, deps), take=partial(take, deps),
                 build=partial(build, deps), smoke=partial(smoke, deps),
                 deliver=partial(deliver, deps), announce=partial(announce, deps),
                 salvage=partial(salvage, deps))


def run(plan: RunPlan, deps: RunDeps) -> RunOutcome:
    """Execute the plan; save this run's smoke results (JSON) when checks ran."""
    outcome = execute(plan, steps(deps), deps.reporter)
    results = [item for o in outcome.stacks
               for item in smoke_to_json(o.stack, o.smoke, o.arch)]
    if results:
        atomic_write(deps.smoke_results, json.dumps(results, indent=2) + "\n")
    return outcome
