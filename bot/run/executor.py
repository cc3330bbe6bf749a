"""The run executor, pure: a `RunPlan` and the step functions in, an outcome per stack and
component out. It touches nothing itself (no Docker, store, network or file): the steps do.

Per stack, in plan order: `prepare` its directory, `take` the published artifacts it needs,
`build` what is new (requirements first), `smoke` it, then `deliver` it (publish, or keep it
for the publishing job) only when every build and check passed. A failure of any kind in one
stack, in any step, is recorded in that stack's outcome and the other stacks go on; after a
failure `salvage` keeps what tells why (the failed build's log). Then, when any stack
published something, `announce` writes the notes and the release; its failure is recorded
too. The run's exit is the most severe failure (`SEVERITY`, `exit_error`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.arch import DEFAULT_ARCH, lane
from bot.build.manifest import Manifest
from bot.errors import (
    BotError,
    BuildError,
    ExitCode,
    GitHubError,
    PublishError,
    SmokeError,
    UpstreamError,
    UsageError,
)
from bot.notes.model import ReleaseNotes
from bot.notes.publisher import Announced
from bot.report import Reporter
from bot.run.plan import RunPlan, StackRun, Target
from bot.smoke.results import SmokeResult
from bot.store.publish import PublishResult

# Most severe first: a bug, a configuration that cannot run, the store (what is published may
# be incomplete), the release, a build, an upstream it needs, the smoke checks.
SEVERITY = (ExitCode.INTERNAL, ExitCode.USAGE, ExitCode.PUBLISH, ExitCode.GITHUB,
            ExitCode.BUILD, ExitCode.UPSTREAM, ExitCode.SMOKE)
ERRORS: dict[ExitCode, type[BotError]] = {
    ExitCode.USAGE: UsageError, ExitCode.PUBLISH: PublishError, ExitCode.GITHUB: GitHubError,
    ExitCode.BUILD: BuildError, ExitCode.UPSTREAM: UpstreamError, ExitCode.SMOKE: SmokeError,
}


@dataclass(frozen=True, slots=True)
class Steps:
    """What the executor drives; each may raise anything (the failure is recorded)."""

    prepare: Callable[[StackRun], Path]  # the stack's (empty) working directory
    take: Callable[[Target, Path], Manifest]  # a published artifact, into the directory
    build: Callable[[Target, Path], Manifest]  # a build, into the directory
    smoke: Callable[[StackRun, Sequence[Manifest], Path], list[SmokeResult]]
    deliver: Callable[[StackRun, Path, StackOutcome], PublishResult | None]  # None: kept
    announce: Callable[[RunPlan, Sequence[StackOutcome]], tuple[ReleaseNotes, Announced]]
    salvage: Callable[[StackRun, Path], None]  # after a failure: keep what tells why


@dataclass(frozen=True, slots=True)
class ComponentOutcome:
    target: Target
    manifest: Manifest | None  # None: not built (its build failed, or an earlier step did)
    state: str  # "published", "kept", "not published", "build failed", "not built"


@dataclass
class StackOutcome:
    stack: str
    builds: tuple[Target, ...] = ()
    arch: str = DEFAULT_ARCH
    built: list[Manifest] = field(default_factory=list)
    smoke: list[SmokeResult] = field(default_factory=list)
    failure: Exception | None = None  # what kept the stack from publishing (not the checks)
    step: str = ""  # the step that failed
    published: PublishResult | None = None
    delivered: bool = False  # published, or kept for the publishing job

    @property
    def lane(self) -> str:
        return lane(self.stack, self.arch)

    @property
    def passed(self) -> bool:
        return self.failure is None and all(r.passed for r in self.smoke)

    @property
    def components(self) -> list[ComponentOutcome]:
        """Each build of the stack: what became of it."""
        done = "published" if self.published is not None else "kept"
        after = done if self.delivered else "not published"
        outcomes = [ComponentOutcome(t, m, after) for t, m in zip(self.builds, self.built,
                                                                  strict=False)]
        rest = self.builds[len(self.built):]
        failed = self.step == "build" and bool(rest)
        outcomes += [ComponentOutcome(t, None, "build failed" if failed and i == 0
                                      else "not built") for i, t in enumerate(rest)]
        return outcomes


@dataclass
class RunOutcome:
    stacks: list[StackOutcome]
    notes: ReleaseNotes | None = None
    announced: Announced | None = None
    failure: Exception | None = None  # of `announce`


def describe(exc: Exception) -> str:
    if isinstance(exc, BotError):
        return exc.message
    return f"internal error {type(exc).__name__}: {exc} (rerun with --debug and report it)"


def exit_code_of(exc: Exception) -> ExitCode:
    return exc.exit_code if isinstance(exc, BotError) else ExitCode.INTERNAL


def run_stack(run: StackRun, steps: Steps, reporter: Reporter) -> StackOutcome:
    outcome = StackOutcome(run.stack, run.builds, run.arch)
    directory: Path | None = None
    try:
        outcome.step = "prepare"
        directory = steps.prepare(run)
        outcome.step = "take"
        manifests = [steps.take(target, directory) for target in run.fetch]
        outcome.step = "build"
        for target in run.builds:
            outcome.built.append(steps.build(target, directory))
        manifests += outcome.built
        if run.smoke:
            outcome.step = "smoke"
            outcome.smoke = steps.smoke(run, manifests, directory)
        if not outcome.passed:
            failed = [r for r in outcome.smoke if not r.passed]
            reporter.error(f"{run.lane}: not published, smoke checks failed: "
                           + "; ".join(f"{r.name}: {r.detail}" for r in failed))
            outcome.step = ""
            return outcome
        outcome.step = "deliver"
        outcome.published = steps.deliver(run, directory, outcome)
        outcome.delivered = True
        outcome.step = ""
    except Exception as exc:  # noqa: BLE001 - recorded; the other stacks go on
        outcome.failure = exc
        reporter.error(f"{run.lane}: {describe(exc)}")
        if directory is not None:
            _salvage(steps, run, directory, reporter)
    return outcome


def _salvage(steps: Steps, run: StackRun, directory: Path, reporter: Reporter) -> None:
    try:
        steps.salvage(run, directory)
    except Exception as exc:  # noqa: BLE001 - the stack has failed already
        reporter.warning(f"{run.lane}: could not keep the failure's logs: {describe(exc)}")


def execute(plan: RunPlan, steps: Steps, reporter: Reporter) -> RunOutcome:
    outcome = RunOutcome([run_stack(run, steps, reporter) for run in plan.stacks])
    if any(o.published is not None for o in outcome.stacks):
        try:
            outcome.notes, outcome.announced = steps.announce(plan, outcome.stacks)
        except Exception as exc:  # noqa: BLE001 - recorded: the artifacts are published
            outcome.failure = exc
            reporter.error(describe(exc))
    return outcome


def failures(outcome: RunOutcome) -> list[tuple[ExitCode, str, Exception | None]]:
    """Every failure of the run: its exit code, what to say, the exception (None: checks)."""
    found: list[tuple[ExitCode, str, Exception | None]] = []
    broken = [o for o in outcome.stacks if o.failure is not None]
    by_message: dict[str, list[str]] = {}
    for o in broken:  # one source failing fails every stack the same way: say it once
        assert o.failure is not None
        by_message.setdefault(describe(o.failure), []).append(o.lane)
    listed = "; ".join(f"{', '.join(stacks)}: {message}" for message, stacks in by_message.items())
    for o in broken:
        assert o.failure is not None
        found.append((exit_code_of(o.failure),
                      f"{len(broken)} stack(s) failed and were not published: {listed}",
                      o.failure))
    checks = [o for o in outcome.stacks if o.failure is None and not o.passed]
    if checks:
        listed = "; ".join(f"{o.lane}: " + ", ".join(r.name for r in o.smoke if not r.passed)
                           for o in checks)
        found.append((ExitCode.SMOKE, f"smoke checks failed, those stacks were not "
                                      f"published: {listed}; see the smoke table above", None))
    if outcome.failure is not None:
        found.append((exit_code_of(outcome.failure), describe(outcome.failure),
                      outcome.failure))
    return found


def exit_error(outcome: RunOutcome) -> Exception | None:
    """What the run ends with: None when everything passed; else, for the most severe failure,
    the unexpected exception itself (exit 1, its traceback with --debug) or a `BotError` of
    its exit code saying every failure once."""
    found = failures(outcome)
    if not found:
        return None
    code = min((c for c, _, _ in found), key=SEVERITY.index)
    if code == ExitCode.INTERNAL:
        return next(exc for c, _, exc in found if c == code and exc is not None)
    return ERRORS[code]("; ".join(dict.fromkeys(message for _, message, _ in found)))
