"""The pure PR planner: what to do about one component's proposed version.

`plan_pr` looks only at data (the proposal, versions.toml on the default branch, the PRs
from the component's branch) and returns a frozen `PrAction`:

* `noop`: the default branch already has the version, or the open PR already proposes
  exactly this change (a rerun with nothing new writes nothing);
* `skip-closed`: a person closed the PR for this version, or a newer one, without merging;
* `update`: the open PR proposes something else: rewrite it (same PR, fresh branch);
* `create`: open a PR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import jinja2

from bot.config import parse_config
from bot.config.edit import set_component
from bot.errors import ConfigError
from bot.forge.port import PullRequest
from bot.prs.body import BodyContext, Metadata, parse_metadata, render_body, title
from bot.versions import Version, classify_update

ActionKind = Literal["noop", "create", "update", "skip-closed"]
BRANCH_PREFIX = "release-bot/"


@dataclass(frozen=True, slots=True)
class Proposal:
    """The runner's input for one component: the new version upstream and its checksum."""

    component: str
    version: Version
    sha256: str
    tarball_url: str
    release_url: str | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class PrAction:
    kind: ActionKind
    component: str
    branch: str
    reason: str
    old: Version | None = None
    new: Version | None = None
    title: str = ""
    body: str = ""
    new_text: str = ""
    commit_message: str = ""
    number: int | None = None  # the PR to update, or the one that explains a noop/skip


def branch_for(component: str) -> str:
    return BRANCH_PREFIX + component


def _ours(pull: PullRequest, component: str) -> Metadata | None:
    meta = parse_metadata(pull.body)
    return meta if meta is not None and meta.component == component else None


def plan_pr(
    proposal: Proposal,
    base_text: str,
    pulls: Sequence[PullRequest],
    *,
    env: jinja2.Environment,
    path: str = "versions.toml",
) -> PrAction:
    name = proposal.component
    branch = branch_for(name)
    new = proposal.version

    config = parse_config(base_text, path)
    if name not in config.components:
        raise ConfigError(path, f"component {name!r} is not in {path} on the default branch",
                          fix="merge the change that adds it first")
    old = config.components[name].version
    if new <= old:
        return PrAction("noop", name, branch, f"{path} on the default branch already has {old}",
                        old=old, new=new)

    refused = [(meta.version, p.number) for p in pulls
               if p.state == "closed" and not p.merged and (meta := _ours(p, name)) is not None]
    if refused:
        top, number = max(refused)
        if new <= top:
            return PrAction("skip-closed", name, branch,
                            f"#{number} proposing {top} was closed without merging; only a "
                            f"version newer than {top} is proposed", old=old, new=new,
                            number=number)

    open_pulls = sorted((p for p in pulls if p.state == "open"), key=lambda p: p.number)
    current = open_pulls[0] if open_pulls else None
    wanted = Metadata(name, old, new, proposal.sha256)
    if current is not None and _ours(current, name) == wanted:
        return PrAction("noop", name, branch, f"#{current.number} already proposes {new}",
                        old=old, new=new, number=current.number)

    new_text = set_component(base_text, name, version=new, sha256=proposal.sha256, path=path)
    pr_title = title(name, old, new)
    body = render_body(env, BodyContext(
        component=name, old=old, new=new, update_type=classify_update(old, new),
        sha256=proposal.sha256, tarball_url=proposal.tarball_url,
        release_url=proposal.release_url, tag=proposal.tag, path=path))
    change = PrAction("create", name, branch, f"{new} is newer than {old}", old=old, new=new,
                      title=pr_title, body=body, new_text=new_text,
                      commit_message=f"{pr_title}\n\nsha256 {proposal.sha256}\n")
    if current is not None:
        return replace(change, kind="update", number=current.number,
                       reason=f"#{current.number} is rewritten for {new}")
    return change
