"""Promote a merged pull request's artifacts, thinly: find its run, download each planned
stack's artifact, let `decide` judge it, keep what passes for the publish job.

Nothing here fails the merge's build: a GitHub error, a missing run or artifact, or an
artifact that does not match becomes a warning naming it, and the stack is built as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import GitHubError
from bot.forge.actions import ActionsReader, ArtifactGone, MergedPull, RunArtifact, WorkflowRun
from bot.promote.decide import (
    BuilderInputs,
    Evidence,
    Expected,
    StackDecision,
    artifact_for,
    choose_run,
    decide_stack,
)
from bot.promote.evidence import keep, published_on, read_evidence, unpack
from bot.report import Reporter
from bot.store.layout import Index


@dataclass(frozen=True, slots=True)
class PromoteRequest:
    commit: str  # the pushed (merge) commit
    repository: str  # owner/name
    workflow_path: str  # .github/workflows/<the pull-request workflow>
    out: Path  # what passed goes here (the promote job uploads it)
    work: Path  # scratch: one directory per downloaded artifact


@dataclass
class PromoteOutcome:
    decisions: list[StackDecision] = field(default_factory=list)
    pull: MergedPull | None = None
    run: WorkflowRun | None = None

    @property
    def promoted(self) -> list[str]:
        """The lanes (bot.arch.lane) promoted."""
        return [d.lane for d in self.decisions if d.promote]


def _evidence(actions: ActionsReader, artifact: RunArtifact | None, run: WorkflowRun,
              lane: str, work: Path) -> Evidence:
    name = artifact_for(lane)
    if artifact is None:
        return Evidence(lane, problem=f"run {run.id} has no artifact {name}")
    if artifact.expired:
        return Evidence(lane, problem=f"expired in run {run.id} (artifact {artifact.id})")
    try:
        data = actions.download(artifact, work / f"{lane}.zip")
    except ArtifactGone:
        return Evidence(lane, problem=f"expired in run {run.id} (artifact {artifact.id})")
    problem = unpack(data, lane, work / lane)
    if problem:
        return Evidence(lane, problem=problem)
    return read_evidence(lane, work / lane)


def promote(expected: Mapping[str, Sequence[Expected]], index: Index, actions: ActionsReader,
            request: PromoteRequest, builder: BuilderInputs, reporter: Reporter
            ) -> PromoteOutcome:
    """Decide per planned lane (stack and architecture, the keys of `expected`); a promoted
    one is copied into `request.out`."""
    outcome = PromoteOutcome()
    stacks = ", ".join(expected) or "nothing"
    try:
        outcome.pull = pull = actions.merged_pull(request.commit)
        if pull is None:
            reporter.warning(f"commit {request.commit[:12]} merged no pull request of "
                             f"{request.repository}: nothing to promote, building {stacks}")
            return outcome
        choice = choose_run(actions.completed_runs(pull.head_sha), request.workflow_path,
                            request.repository, pull.head_sha)
        for refused in choice.refused:
            reporter.warning(f"not promoting from {refused}")
        if choice.run is None:
            reporter.warning(f"pull request #{pull.number} has no successful run of "
                             f"{request.workflow_path} for its head {pull.head_sha[:12]}: "
                             f"building {stacks}")
            return outcome
        outcome.run = run = choice.run
        artifacts = {a.name: a for a in actions.artifacts(run.id)}
        for lane, wants in expected.items():
            evidence = _evidence(actions, artifacts.get(artifact_for(lane)), run, lane,
                                 request.work)
            published = published_on(index, wants[0].stack, wants[0].arch)
            outcome.decisions.append(decide_stack(wants, evidence, builder, published))
    except GitHubError as exc:
        reporter.warning(f"cannot promote ({exc.message}): building {stacks}")
        outcome.decisions = []
        return outcome
    for decision in outcome.decisions:
        if decision.promote:
            keep(request.work / decision.lane, request.out, decision.lane, decision.files,
                 _record(decision, pull, run))
            reporter.info(f"{decision.lane}: promoting {', '.join(decision.files)} from pull "
                          f"request #{pull.number}, run {run.id} ({run.url})")
        else:
            for reason in decision.reasons:
                reporter.warning(f"{decision.lane}: not promoted, building it instead: "
                                 f"{reason}")
    return outcome


def _record(decision: StackDecision, pull: MergedPull, run: WorkflowRun) -> dict[str, object]:
    return {"schema": 1, "lane": decision.lane, "artifacts": list(decision.files),
            "pull": {"number": pull.number, "url": pull.url, "head_sha": pull.head_sha},
            "run": {"id": run.id, "url": run.url, "workflow": run.path}}
