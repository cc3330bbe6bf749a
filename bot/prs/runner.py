"""The thin runner: carry out one component's plan through a forge, converging under races.

Per component: read the default branch head, versions.toml there and the PRs from
`release-bot/<component>`; plan; then (for create/update) point the branch at that head,
commit the edited file with its blob sha as optimistic lock, check the default branch did not
move meanwhile, and open or rewrite the PR. A stale base (the file or the default branch moved,
another run got there first) re-plans from the fresh state, a bounded number of times. An
"already exists" from a concurrent run is resolved by re-listing and updating: one PR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jinja2

from bot.errors import GitHubError
from bot.forge.port import Branch, FileAtRef, Forge, PullExists, PullRequest, RefExists, StaleBase
from bot.prs.plan import PrAction, Proposal, branch_for, plan_pr
from bot.report import Reporter

ATTEMPTS = 4
LABEL = "release-bot"

Planner = Callable[[Proposal, str, list[PullRequest]], PrAction]


@dataclass(frozen=True, slots=True)
class Outcome:
    action: PrAction
    number: int | None = None
    url: str | None = None


def reconcile(forge: Forge, proposal: Proposal, planner: Planner, reporter: Reporter, *,
              path: str = "versions.toml", attempts: int = ATTEMPTS) -> Outcome:
    for attempt in range(1, attempts + 1):
        base = forge.default_branch()  # the current state, read afresh each attempt
        file = forge.read_file(path, base.sha)
        action = planner(proposal, file.text, forge.list_pulls(branch_for(proposal.component)))
        if action.kind in ("noop", "skip-closed"):
            return Outcome(action, action.number)
        try:
            pull = _apply(forge, action, base, file)
        except StaleBase as exc:
            reporter.warning(f"{proposal.component}: {exc.message}; retrying from the fresh "
                             f"default branch ({attempt}/{attempts})")
            continue
        if LABEL not in pull.labels:
            forge.add_label(pull.number, LABEL)
        return Outcome(action, pull.number, pull.url)
    raise GitHubError(f"{proposal.component}: the default branch or release-bot/"
                      f"{proposal.component} kept moving during {attempts} attempts; rerun "
                      "`release-bot pr` when pushes have settled")


def _apply(forge: Forge, action: PrAction, base: Branch, file: FileAtRef) -> PullRequest:
    if action.number is None:
        try:
            forge.create_branch(action.branch, base.sha)
        except RefExists:
            forge.reset_branch(action.branch, base.sha)
    else:
        forge.reset_branch(action.branch, base.sha)
    forge.commit_file(action.branch, file.path, action.new_text, file.sha, action.commit_message)
    if forge.default_branch().sha != base.sha:
        raise StaleBase(f"{base.name} moved while committing")
    if action.number is not None:
        pull = forge.update_pull(action.number, action.title, action.body)
        forge.comment(action.number, f"release-bot: rewritten for {action.new} "
                      f"(branch reset onto the current {base.name}).")
        return pull
    try:
        return forge.create_pull(action.branch, base.name, action.title, action.body)
    except PullExists:
        # another run opened it a moment ago: make that one say what we would have said
        opened = [p for p in forge.list_pulls(action.branch) if p.state == "open"]
        if not opened:
            raise StaleBase(f"the pull request from {action.branch} vanished") from None
        return forge.update_pull(min(p.number for p in opened), action.title, action.body)


def make_planner(env: jinja2.Environment, path: str) -> Planner:
    return partial(plan_pr, env=env, path=path)
