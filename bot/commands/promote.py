"""`release-bot promote`: on the merge, take the pull request's tested artifacts instead of
building them again; `release-bot builder-inputs`: record what a build's builder came from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.app import App
from bot.arch import lane
from bot.commands.options import arch_option, store_option
from bot.commands.plan import stack_matrix
from bot.errors import UsageError
from bot.forge.actions import GitHubActions
from bot.promote.evidence import builder_inputs, expected_builds, write_builder_inputs
from bot.promote.runner import PromoteOutcome, PromoteRequest, promote
from bot.report import Table
from bot.store.layout import read_index
from bot.store.unpublished import plan_unpublished

DEFAULT_WORKFLOW = "pr-build.yml"
WORKFLOWS_DIR = ".github/workflows/"
_SHA1 = frozenset("0123456789abcdef")


def _workflow_path(name: str) -> str:
    path = name if name.startswith(WORKFLOWS_DIR) else WORKFLOWS_DIR + name
    if "/" in path.removeprefix(WORKFLOWS_DIR) or not path.endswith((".yml", ".yaml")):
        raise UsageError(f"--workflow {name!r} is not a workflow file name; write it like "
                         f"--workflow {DEFAULT_WORKFLOW}")
    return path


def _commit(text: str | None) -> str:
    commit = (text or "").strip().lower()
    if len(commit) != 40 or not set(commit) <= _SHA1:
        raise UsageError(f"--commit {text!r} is not a 40-hex commit sha; pass the merge "
                         "commit (in Actions: github.sha), or --no-promote")
    return commit


def _report(app: App, outcome: PromoteOutcome, lanes: dict[str, None]) -> None:
    rows = []
    for decision in outcome.decisions:
        rows += [[decision.lane, "promoted", name] for name in decision.files]
        rows += [[decision.lane, "build", reason] for reason in decision.reasons]
    decided = {d.lane for d in outcome.decisions}
    rows += [[lane, "build", "not looked at"] for lane in lanes if lane not in decided]
    where = (f" from pull request #{outcome.pull.number}, run {outcome.run.id}"
             if outcome.pull is not None and outcome.run is not None else "")
    app.reporter.table(Table(f"promote{where}", ["stack", "action", "artifact or reason"],
                             rows))


@click.command(name="promote")
@store_option()
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Where the promoted artifacts go (as `run --out`).")
@click.option("--commit", default=None, metavar="SHA",
              help="The pushed merge commit (in Actions: github.sha).")
@click.option("--workflow", default=DEFAULT_WORKFLOW, show_default=True, metavar="FILE",
              help="The pull-request workflow whose run built the artifacts.")
@click.option("--stack", "stacks", multiple=True, metavar="S", help="Only this stack.")
@click.option("--component", "components", multiple=True, metavar="C",
              help="Only this component.")
@click.option("--no-promote", is_flag=True, help="Promote nothing: every planned stack is "
              "built (the outputs say so).")
@click.pass_obj
def command(app: App, store_url: str | None, out_dir: Path, commit: str | None,
            workflow: str, stacks: tuple[str, ...], components: tuple[str, ...],
            no_promote: bool) -> None:
    """Publish on the merge what its pull request built and smoke-tested, same bytes.

    Finds the pull request merged by --commit, its successful run of --workflow for the
    head commit (this repository's, never a fork's) and, per planned stack and architecture,
    the artifact release-bot-stack-<stack> (release-bot-stack-<stack>-<arch> for another
    architecture than amd64); one whose every artifact matches what versions.toml asks for
    (component, version, stack, arch, source sha256, recipe hash, build image, builder
    inputs) and whose bytes match their manifests is copied into --out with
    promoted/<lane>.json. Anything else is a warning naming it, and the stack is built.
    Outputs `stacks` (the build matrix of what is left), `count` and `promoted`.
    Needs GITHUB_TOKEN (actions: read) and GITHUB_REPOSITORY unless --no-promote.
    """
    config = app.config
    store = app.store(store_url)
    index, _ = read_index(store)
    entries = [e for e in plan_unpublished(config, index, components or None, stacks or None)
               if e.pinned]
    expected = expected_builds(config, entries)
    outcome = PromoteOutcome()
    if no_promote:
        app.reporter.info("--no-promote: every planned stack is built")
    elif expected:
        repository = app.settings.github_repository
        if not (app.settings.github_token and repository):
            raise UsageError("promote needs GITHUB_TOKEN (actions: read) and "
                             "GITHUB_REPOSITORY; set them, or pass --no-promote")
        request = PromoteRequest(_commit(commit), repository, _workflow_path(workflow),
                                 out_dir, app.settings.dist_dir / "promote")
        actions = GitHubActions(app.github, repository, app.http)
        with app.reporter.phase("promote"):
            outcome = promote(expected, index, actions, request, builder_inputs(),
                              app.reporter)
    promoted = set(outcome.promoted)
    left = [e for e in entries if lane(e.stack, e.arch) not in promoted]
    app.reporter.output("stacks", json.dumps(stack_matrix(left)))
    app.reporter.output("count", str(len(left)))
    app.reporter.output("promoted", str(len(entries) - len(left)))
    _report(app, outcome, dict.fromkeys(lane(e.stack, e.arch) for e in entries))
    click.echo(f"promoted {len(promoted)} stack(s), {len(left)} build(s) left")


@click.command(name="builder-inputs")
@click.option("--stack", required=True, metavar="S", help="The stack built.")
@arch_option("The architecture built (one of the stack's arches).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="The build output directory (`run --out DIR`).")
@click.pass_obj
def builder_inputs_command(app: App, stack: str, arch: str, out_dir: Path) -> None:
    """Write DIR/builder/<stack>.json (<stack>-<arch>.json for another architecture than
    amd64): this bot's version and builder Dockerfile sha256, the builder inputs `promote`
    compares before publishing a pull request's build."""
    arches = app.config.stack(stack).arches  # a stack versions.toml names
    if arch not in arches:
        raise UsageError(f"stack {stack} of {app.config.path} builds for {', '.join(arches)}, "
                         f"not {arch}; add it to the stack's arches or pass one of those")
    inputs = builder_inputs()
    path = write_builder_inputs(out_dir, stack, arch, inputs)
    app.reporter.info(f"builder inputs of {lane(stack, arch)}: {inputs.to_dict()} in {path}")
    app.reporter.output("lane", lane(stack, arch))  # names the job's workflow artifacts
