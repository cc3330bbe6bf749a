"""The run executor (bot.run.executor) on its own: plain functions as steps, no Docker, store
or network. A failure of any kind in one stack is recorded and the other stacks go on; the
run ends with the most severe failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import errors
from bot.build.manifest import Manifest, load_manifest
from bot.notes.model import ReleaseNotes
from bot.notes.publisher import Announced
from bot.run.executor import RunOutcome, StackOutcome, Steps, execute, exit_error
from bot.run.plan import RunPlan, StackRun, Target
from bot.smoke.results import SmokeResult
from bot.store.publish import PublishPlan, PublishResult
from tests.builtartifacts import make_artifact
from tests.recording import RecordingReporter

PUBLISHED = PublishResult(PublishPlan(()), (), index_written=True)
NOTES = ReleaseNotes((), ())


def stack(name: str, *components: str, fetch: Sequence[str] = (), smoke: bool = True
          ) -> StackRun:
    return StackRun(name, tuple(Target(c, "1.0", name) for c in components),
                    tuple(Target(c, "1.0", name) for c in fetch), smoke, ())


@dataclass
class Script:
    """Steps that succeed, except where `fail` names (step, stack) -> what they raise;
    every call is recorded as (step, stack[, component])."""

    root: Path
    fail: dict[tuple[str, str], Exception] = field(default_factory=dict)
    failing_checks: set[str] = field(default_factory=set)  # stacks whose checks fail
    keep: bool = False  # deliver keeps (the --out job) instead of publishing
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def _step(self, step: str, stack: str, *more: str) -> None:
        self.calls.append((step, stack, *more))
        if (step, stack) in self.fail:
            raise self.fail[step, stack]

    def prepare(self, run: StackRun) -> Path:
        self._step("prepare", run.stack)
        return self.root / run.stack

    def manifest(self, target: Target) -> Manifest:
        built = make_artifact(self.root / target.stack, target.component, target.version,
                              target.stack)
        return load_manifest(built.manifest)

    def take(self, target: Target, directory: Path) -> Manifest:
        self._step("take", target.stack, target.component)
        return self.manifest(target)

    def build(self, target: Target, directory: Path) -> Manifest:
        self._step("build", target.stack, target.component)
        return self.manifest(target)

    def smoke(self, run: StackRun, manifests: Sequence[Manifest], directory: Path
              ) -> list[SmokeResult]:
        self._step("smoke", run.stack, *(m.component for m in manifests))
        return [SmokeResult("console", run.stack not in self.failing_checks, 1.0,
                            detail="checked")]

    def deliver(self, run: StackRun, directory: Path, outcome: StackOutcome
                ) -> PublishResult | None:
        self._step("deliver", run.stack)
        return None if self.keep else PUBLISHED

    def announce(self, plan: RunPlan, outcomes: Sequence[StackOutcome]
                 ) -> tuple[ReleaseNotes, Announced]:
        self._step("announce", ",".join(o.stack for o in outcomes if o.published))
        return NOTES, Announced("notes.md", created=True)

    def salvage(self, run: StackRun, directory: Path) -> None:
        self._step("salvage", run.stack)

    def steps(self) -> Steps:
        return Steps(prepare=self.prepare, take=self.take, build=self.build, smoke=self.smoke,
                     deliver=self.deliver, announce=self.announce, salvage=self.salvage)

    def run(self, *stacks: StackRun) -> RunOutcome:
        return execute(RunPlan(stacks, ()), self.steps(), RecordingReporter())


def test_everything_passing_publishes_every_stack_then_announces(tmp_path: Path) -> None:
    script = Script(tmp_path)
    outcome = script.run(stack("a", "mono", "xsp"), stack("b", "xsp", fetch=["mono"]))
    assert script.calls == [
        ("prepare", "a"), ("build", "a", "mono"), ("build", "a", "xsp"),
        ("smoke", "a", "mono", "xsp"), ("deliver", "a"),
        ("prepare", "b"), ("take", "b", "mono"), ("build", "b", "xsp"),
        ("smoke", "b", "mono", "xsp"), ("deliver", "b"),
        ("announce", "a,b"),
    ]
    assert [(c.target.describe(), c.state) for o in outcome.stacks for c in o.components] == [
        ("mono 1.0 (a)", "published"), ("xsp 1.0 (a)", "published"),
        ("xsp 1.0 (b)", "published")]
    assert outcome.announced == Announced("notes.md", created=True)
    assert exit_error(outcome) is None


def test_a_publish_error_in_one_stack_lets_the_others_publish(tmp_path: Path) -> None:
    script = Script(tmp_path, fail={("deliver", "a"): errors.PublishError("the bucket said no")})
    outcome = script.run(stack("a", "mono"), stack("b", "mono"))
    a, b = outcome.stacks
    assert isinstance(a.failure, errors.PublishError) and a.step == "deliver"
    assert [c.state for c in a.components] == ["not published"]
    assert b.failure is None and b.published is PUBLISHED
    assert ("deliver", "b") in script.calls and ("announce", "b") in script.calls
    error = exit_error(outcome)
    assert isinstance(error, errors.PublishError) and error.exit_code == errors.ExitCode.PUBLISH
    assert "a: the bucket said no" in error.message


def test_a_failed_build_skips_the_rest_of_its_stack_only(tmp_path: Path) -> None:
    script = Script(tmp_path, fail={("build", "a"): errors.BuildError("make failed")})
    outcome = script.run(stack("a", "mono", "xsp"), stack("b", "mono"))
    a, b = outcome.stacks
    assert [(c.target.component, c.state) for c in a.components] == [
        ("mono", "build failed"), ("xsp", "not built")]
    assert a.step == "build" and not a.smoke
    assert [c for c in script.calls if c[1] == "a"] == [
        ("prepare", "a"), ("build", "a", "mono"), ("salvage", "a")]  # its log is kept
    assert b.published is PUBLISHED
    error = exit_error(outcome)
    assert isinstance(error, errors.BuildError)
    assert error.message == "1 stack(s) failed and were not published: a: make failed"


def test_failing_checks_keep_the_stack_from_publishing(tmp_path: Path) -> None:
    script = Script(tmp_path, failing_checks={"a"})
    outcome = script.run(stack("a", "mono"), stack("b", "mono"))
    a, b = outcome.stacks
    assert not a.passed and a.failure is None and a.published is None
    assert [c.state for c in a.components] == ["not published"]
    assert ("deliver", "a") not in script.calls and b.published is PUBLISHED
    error = exit_error(outcome)
    assert isinstance(error, errors.SmokeError)
    assert error.message.startswith("smoke checks failed, those stacks were not published: "
                                    "a: console")


def test_a_bug_in_one_stack_is_kept_for_the_end_and_raised_as_itself(tmp_path: Path) -> None:
    bug = KeyError("oops")
    script = Script(tmp_path, fail={("take", "a"): bug,
                                    ("build", "b"): errors.BuildError("make failed")})
    outcome = script.run(stack("a", "xsp", fetch=["mono"]), stack("b", "mono"),
                         stack("c", "mono"))
    assert [o.step for o in outcome.stacks] == ["take", "build", ""]
    assert [c.state for c in outcome.stacks[0].components] == ["not built"]
    assert outcome.stacks[2].published is PUBLISHED
    assert exit_error(outcome) is bug  # exit 1, with its own traceback under --debug


UPSTREAM, BUILD = errors.UpstreamError("index gone"), errors.BuildError("make failed")
STORE, USAGE = errors.PublishError("store"), errors.UsageError("no mono artifact")
FAILING_STEP = {errors.UpstreamError: "build", errors.BuildError: "build",
                errors.PublishError: "deliver", errors.UsageError: "smoke"}


@pytest.mark.parametrize(("failures", "expected"), [
    ({"a": UPSTREAM}, errors.UpstreamError),
    ({"a": UPSTREAM, "b": "checks"}, errors.UpstreamError),
    ({"a": UPSTREAM, "b": BUILD}, errors.BuildError),
    ({"a": BUILD, "b": STORE}, errors.PublishError),
    ({"a": STORE, "b": USAGE}, errors.UsageError),
    ({"a": "checks", "b": "checks"}, errors.SmokeError),
])
def test_the_exit_is_the_most_severe_failure(tmp_path: Path,
                                             failures: dict[str, Exception | str],
                                             expected: type[Exception]) -> None:
    script = Script(tmp_path, failing_checks={s for s, f in failures.items() if f == "checks"},
                    fail={(FAILING_STEP[type(f)], s): f for s, f in failures.items()
                          if isinstance(f, Exception)})
    outcome = script.run(stack("a", "mono"), stack("b", "mono"), stack("c", "mono"))
    assert outcome.stacks[2].published is PUBLISHED  # the healthy stack went on
    error = exit_error(outcome)
    assert type(error) is expected


def test_a_failed_announcement_is_recorded_with_exit_7(tmp_path: Path) -> None:
    script = Script(tmp_path, fail={("announce", "a"): errors.GitHubError("release refused")})
    outcome = script.run(stack("a", "mono"))
    assert outcome.stacks[0].published is PUBLISHED and outcome.announced is None
    error = exit_error(outcome)
    assert isinstance(error, errors.GitHubError) and error.message == "release refused"


def test_nothing_is_announced_when_nothing_was_published(tmp_path: Path) -> None:
    kept = Script(tmp_path, keep=True)  # `run --out`: delivered for the publishing job
    outcome = kept.run(stack("a", "mono"))
    assert [c.state for c in outcome.stacks[0].components] == ["kept"]
    failed = Script(tmp_path, failing_checks={"a"})
    failed.run(stack("a", "mono"))
    assert not any(c[0] == "announce" for c in kept.calls + failed.calls)
    assert exit_error(outcome) is None


def test_a_failing_salvage_does_not_hide_the_failure(tmp_path: Path) -> None:
    script = Script(tmp_path, fail={("build", "a"): errors.BuildError("make failed"),
                                    ("salvage", "a"): OSError("disk full")})
    outcome = script.run(stack("a", "mono"), stack("b", "mono"))
    assert isinstance(outcome.stacks[0].failure, errors.BuildError)
    assert outcome.stacks[1].published is PUBLISHED
