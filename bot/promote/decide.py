"""Which planned stacks a merge may publish from its pull request's run, and why not (pure).

Promotion publishes the very bytes the pull request built and smoke-tested instead of
building them again. It decides per lane, a stack and architecture (`bot.arch.lane`:
`heroku-24`, `heroku-24-arm64`), the unit of one build job; here "stack" means a lane. A
stack is promoted only when everything checks out:

* the run is a successful run of the pull-request workflow (that file, no other) for the
  merged head commit, of this repository (never a fork's);
* its artifact `release-bot-stack-<stack>` is there (not expired) and holds, for every
  (component, version) the merged versions.toml plans on that stack, a manifest naming that
  component, version, stack and architecture, the source sha256 versions.toml pins, the
  recipe hash the merged configuration gives and the stack's build image;
* each tarball's bytes have the manifest's sha256 and size, and its `.sha256` sidecar says so;
* a build against a requirement (XSP against Mono) names the requirement's bytes promoted
  with it or published;
* the builder inputs it was built with (the builder Dockerfile, the bot) are this bot's.

Anything else is a reason to build the stack as usual; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.arch import DEFAULT_ARCH, describe_build, lane
from bot.build.manifest import Manifest
from bot.forge.actions import WorkflowRun

ARTIFACT_PREFIX = "release-bot-stack-"


def artifact_for(lane: str) -> str:
    """The build job's workflow artifact of a stack and architecture (`bot.arch.lane`):
    `release-bot-stack-heroku-24`, `release-bot-stack-heroku-24-arm64`."""
    return ARTIFACT_PREFIX + lane


@dataclass(frozen=True, slots=True)
class Expected:
    """One build the merged versions.toml plans, as the promoted artifact must match it."""

    component: str
    version: str
    stack: str
    source_sha256: str
    recipe_sha256: str
    build_image: str
    arch: str = DEFAULT_ARCH

    @property
    def lane(self) -> str:
        return lane(self.stack, self.arch)

    def describe(self) -> str:
        return describe_build(self.component, self.version, self.stack, self.arch)


@dataclass(frozen=True, slots=True)
class BuilderInputs:
    """What the builder image and the build steps come from, besides versions.toml."""

    dockerfile_sha256: str
    bot_version: str

    def to_dict(self) -> dict[str, str]:
        return {"dockerfile_sha256": self.dockerfile_sha256, "bot_version": self.bot_version}


@dataclass(frozen=True, slots=True)
class Found:
    """One artifact as the downloaded workflow artifact holds it (read by the runner)."""

    name: str  # the tarball's file name
    manifest: Manifest | None
    manifest_problem: str = ""  # why `manifest` is None
    tarball_sha256: str | None = None  # None: no tarball
    tarball_size: int = 0
    sidecar: str | None = None  # the .sha256 file's text; None: missing


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the pull request's run left for one stack and architecture (`lane`, as
    `bot.arch.lane` names it); `problem` when it left nothing usable (no such artifact,
    expired, not a zip)."""

    lane: str
    found: tuple[Found, ...] = ()
    builder: BuilderInputs | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class StackDecision:
    lane: str  # the stack and architecture (bot.arch.lane)
    promote: bool
    reasons: tuple[str, ...] = ()  # why not (one line each, naming the artifact)
    files: tuple[str, ...] = ()  # the tarballs to publish (with their sidecar and manifest)


@dataclass(frozen=True, slots=True)
class RunChoice:
    run: WorkflowRun | None
    refused: tuple[str, ...] = ()


def choose_run(runs: Sequence[WorkflowRun], workflow_path: str, repository: str,
               head_sha: str) -> RunChoice:
    """The newest successful run of `workflow_path` for `head_sha` in `repository`; every
    other run for that commit is named with the reason it is refused."""
    refused: list[str] = []
    chosen: WorkflowRun | None = None
    for run in sorted(runs, key=lambda r: r.id, reverse=True):
        where = f"run {run.id} ({run.url})"
        if run.path != workflow_path:
            refused.append(f"{where} is of {run.path}, not {workflow_path}")
        elif run.head_repository.lower() != repository.lower():
            refused.append(f"{where} is from the fork {run.head_repository or '(unknown)'}")
        elif run.head_sha != head_sha:
            refused.append(f"{where} built {run.head_sha[:12]}, not {head_sha[:12]}")
        elif run.conclusion != "success":
            refused.append(f"{where} did not succeed ({run.conclusion})")
        elif chosen is None:
            chosen = run
    return RunChoice(chosen, tuple(refused))


def _check_one(want: Expected, got: Found) -> list[str]:
    m = got.manifest
    if m is None:
        return [f"{got.name}: unusable manifest ({got.manifest_problem})"]
    if (m.component, m.version, m.stack, m.arch) != \
            (want.component, want.version, want.stack, want.arch):
        return [f"{got.name}: its manifest is for "
                f"{describe_build(m.component, m.version, m.stack, m.arch)}, "
                f"versions.toml asks for {want.describe()}"]
    problems: list[str] = []
    if m.source.sha256 != want.source_sha256:
        problems.append(f"{got.name}: built from source sha256 {m.source.sha256[:12]}…, "
                        f"versions.toml pins {want.source_sha256[:12]}…")
    recipe = f"{m.provenance.recipe_sha256[:12]}…" if m.provenance else "(none recorded)"
    if m.provenance is None or m.provenance.recipe_sha256 != want.recipe_sha256:
        problems.append(f"{got.name}: recipe hash {recipe} differs from the merged "
                        f"configuration's {want.recipe_sha256[:12]}…")
    if m.build_image != want.build_image:
        problems.append(f"{got.name}: built on {m.build_image or '(unknown)'}, the stack's "
                        f"build image is {want.build_image}")
    if got.tarball_sha256 is None:
        problems.append(f"{got.name}: the tarball is missing")
    elif got.tarball_sha256 != m.sha256 or got.tarball_size != m.size:
        problems.append(f"{got.name}: tampered: its bytes have sha256 "
                        f"{got.tarball_sha256[:12]}… ({got.tarball_size} bytes), its manifest "
                        f"says {m.sha256[:12]}… ({m.size} bytes)")
    if got.sidecar is None:
        problems.append(f"{got.name}: the .sha256 sidecar is missing")
    elif got.sidecar.split()[:2] != [m.sha256, got.name]:
        problems.append(f"{got.name}: the .sha256 sidecar disagrees with its manifest")
    return problems


def decide_stack(expected: Sequence[Expected], evidence: Evidence, builder: BuilderInputs,
                 published: Mapping[tuple[str, str], str]) -> StackDecision:
    """Promote `evidence.lane` or say why not. `expected`: the lane's planned builds;
    `builder`: this bot's builder inputs; `published`: (component, version) -> sha256 of
    what the store publishes on this stack and architecture (for a requirement not built
    here)."""
    here = evidence.lane
    name = artifact_for(here)
    if evidence.problem:
        return StackDecision(here, False, (f"{name}: {evidence.problem}",))
    reasons: list[str] = []
    if evidence.builder is None:
        reasons.append(f"{name}: no builder inputs recorded (builder/{here}.json)")
    elif evidence.builder != builder:
        reasons.append(f"{name}: built with other builder inputs ({evidence.builder.to_dict()}"
                       f", this bot has {builder.to_dict()})")
    by_ident = {(f.manifest.component, f.manifest.version): f for f in evidence.found
                if f.manifest is not None and lane(f.manifest.stack, f.manifest.arch) == here}
    files: list[str] = []
    for want in expected:
        got = by_ident.get((want.component, want.version))
        if got is None:
            stray = [f for f in evidence.found if f.manifest is not None
                     and f.manifest.component == want.component]
            if stray:
                reasons.extend(_check_one(want, stray[0]))
            else:
                bad = [f.name for f in evidence.found if f.manifest is None]
                reasons.append(f"{name}: no artifact of {want.describe()}"
                               + (f" (unusable: {', '.join(bad)})" if bad else ""))
            continue
        problems = _check_one(want, got)
        reasons.extend(problems)
        if not problems:
            files.append(got.name)
    promoted = {ident: f.manifest.sha256 for ident, f in by_ident.items()
                if f.name in files and f.manifest is not None}
    for want in expected:
        got = by_ident.get((want.component, want.version))
        if got is None or got.manifest is None:
            continue
        for dep, against in got.manifest.built_against.items():
            ident = (dep, against.version)
            if against.sha256 not in (promoted.get(ident), published.get(ident)):
                reasons.append(f"{got.name}: built against {dep} {against.version} "
                               f"{against.sha256[:12]}…, which is neither promoted with it "
                               "nor published")
    if reasons:
        return StackDecision(here, False, tuple(reasons))
    return StackDecision(here, True, files=tuple(files))
