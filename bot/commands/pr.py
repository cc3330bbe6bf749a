"""`release-bot pr`: one pull request per component bumping versions.toml, via the GitHub API.

Polls the upstreams, downloads each proposed tarball once into the source cache (its sha256
goes into the change), then reconciles every component with GitHub: open, rewrite or leave
alone its PR (bot.prs). `--dry-run` swaps in the dry-run forge: same reads, the plan and the
diff of versions.toml printed, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.app import App
from bot.errors import BotError, UpstreamError, UsageError
from bot.forge.dryrun import DryRunForge
from bot.forge.github import GitHubForge
from bot.forge.port import Forge
from bot.poll import PollResult, poll_with_app
from bot.prs.plan import Proposal
from bot.prs.runner import Outcome, make_planner, reconcile
from bot.report import Table


def _repo_path(config_path: Path) -> str:
    """Where versions.toml lives in the repository (the --config path, relative to its root)."""
    return config_path.name if config_path.is_absolute() else config_path.as_posix()


def _proposal(app: App, result: PollResult) -> Proposal:
    release = result.release
    assert release is not None and release.tarball_url is not None
    fetched = app.source_cache.fetch(release.tarball_url, None)
    return Proposal(result.component, release.version, fetched.sha256, release.tarball_url,
                    release_url=release.url, tag=release.tag)


def _row(outcome: Outcome) -> list[str]:
    a = outcome.action
    number = f"#{outcome.number}" if outcome.number else ("(new)" if a.kind == "create" else "-")
    return [a.component, str(a.old or "-"), str(a.new or "-"), a.kind, number, a.reason]


@click.command(name="pr")
@click.option("--dry-run", is_flag=True,
              help="Print the plan and the diff of versions.toml; write nothing to GitHub.")
@click.argument("components", nargs=-1)
@click.pass_obj
def command(app: App, dry_run: bool, components: tuple[str, ...]) -> None:
    """Open or update one pull request per component with a newer upstream version.

    Exit 3 when an upstream could not be read (the other components are still handled),
    7 on a GitHub error.
    """
    repository = app.settings.github_repository
    if not repository or repository.count("/") != 1:
        raise UsageError("GITHUB_REPOSITORY is not set to OWNER/NAME; export the repository "
                         "whose versions.toml the pull requests change")
    with app.reporter.phase("poll upstreams"):
        results = poll_with_app(app, components or None)
    app.http.cache.save()
    failed = [f"{r.component}: {r.error}" for r in results if r.status == "error"]

    proposals: list[Proposal] = []
    with app.reporter.phase("download proposed sources"):
        for result in results:
            if result.status != "update-available":
                continue
            try:
                proposals.append(_proposal(app, result))
            except BotError as exc:
                failed.append(f"{result.component}: {exc.message}")

    github = app.github_reader if dry_run else app.github
    forge: Forge = GitHubForge(github, repository)
    if dry_run:
        forge = DryRunForge(forge, click.echo)
    path = _repo_path(app.settings.config_path)
    planner = make_planner(app.templates, path)
    outcomes: list[Outcome] = []
    with app.reporter.phase("dry run: pull requests" if dry_run else "pull requests"):
        for proposal in proposals:
            outcome = reconcile(forge, proposal, planner, app.reporter, path=path)
            outcomes.append(outcome)
            line = f"{proposal.component}: {outcome.action.kind} ({outcome.action.reason})"
            if dry_run:
                click.echo(f"plan: {line}")
            else:
                app.reporter.info(line + (f" {outcome.url}" if outcome.url else ""))

    app.reporter.table(Table(
        f"pr{' (dry run, nothing written)' if dry_run else ''}: {len(outcomes)} component(s) "
        "with a newer upstream",
        ["component", "from", "to", "action", "pull request", "reason"],
        [_row(o) for o in outcomes]))
    app.reporter.output("pulls", json.dumps(
        {o.action.component: o.number for o in outcomes if o.number}))
    for line in failed:
        app.reporter.error(line)
    if failed:
        raise UpstreamError(f"{len(failed)} component(s) could not be polled or downloaded; "
                            "see the errors above and rerun when the upstream is back")
