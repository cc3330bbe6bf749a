"""`release-bot pr-report`: the pull request's build result as one comment, kept current."""

from __future__ import annotations

from pathlib import Path

import click

from bot.app import App
from bot.commands.options import store_option
from bot.errors import UsageError
from bot.forge.actions import GitHubActions, PullComments
from bot.notes.collect import local_manifests, merge_smoke_results
from bot.promote.report import MARKER, build_report, render_report
from bot.store.layout import read_index
from bot.store.unpublished import plan_unpublished


def keep_one_comment(comments: PullComments, number: int, body: str) -> str:
    """Create the marked comment, or edit the one there (nothing when it says this already);
    returns what was done."""
    own = [c for c in comments.comments(number) if c.body.startswith(MARKER)]
    if not own:
        comments.create_comment(number, body)
        return "created"
    if own[0].body == body:
        return "unchanged"
    comments.edit_comment(own[0].id, body)
    return "edited"


@click.command(name="pr-report")
@store_option(" whose index.json has the previous versions' sizes")
@click.option("--artifacts", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The build jobs' artifacts, downloaded (release-bot-stack-*, merged).")
@click.option("--pull", "number", type=click.IntRange(min=1), default=None,
              help="The pull request to comment on; without it, the step summary only.")
@click.option("--run-url", default="", metavar="URL", help="This run's page (its logs).")
@click.option("--head-sha", default="", metavar="SHA", help="The commit that was built.")
@click.pass_obj
def command(app: App, store_url: str | None, artifacts: Path | None, number: int | None,
            run_url: str, head_sha: str) -> None:
    """Report the pull request's builds: per component, version and stack the result, the
    build time, the tarball's size and its change against the published version, the
    sha256, and each smoke check; one comment (marked, edited in place on each push), also
    in the step summary. Needs GITHUB_TOKEN (pull-requests: write) with --pull.
    """
    config = app.config
    index, _ = read_index(app.store(store_url))
    entries = [e for e in plan_unpublished(config, index) if e.pinned]
    kept = local_manifests(artifacts) if artifacts is not None and artifacts.is_dir() else []
    smoke_files = sorted((artifacts / "smoke").glob("*.json")) if artifacts else []
    report = build_report(entries, [m.manifest for m in kept], index,
                          merge_smoke_results(smoke_files), run_url, head_sha)
    body = render_report(report)
    app.reporter.summary(body)
    if not report.passed:
        app.reporter.warning("failed on " + ", ".join(report.failed_stacks) + ": see the "
                             "build jobs' logs")
    if number is None:
        click.echo(body, nl=False)
        return
    repository = app.settings.github_repository
    if not (app.settings.github_token and repository):
        raise UsageError("--pull needs GITHUB_TOKEN (pull-requests: write) and "
                         "GITHUB_REPOSITORY; set them, or drop --pull")
    done = keep_one_comment(GitHubActions(app.github, repository, app.http), number, body)
    app.reporter.info(f"{done} the report on pull request #{number}")
