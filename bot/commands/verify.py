"""`release-bot verify`: download what index.json lists, as a buildpack would, and check it.

With `--report-issue` it then keeps the one `release-bot:verify` issue in step with the result
(bot.verify.issue plans, bot.verify.issue_runner writes through the forge). The exit code stays
verify's: 6 when verification fails, even when reporting on the issue failed too (that failure
is one more error line); a GitHub error while reporting is exit 7 only when verification passed.
"""

from __future__ import annotations

import click

from bot.app import App
from bot.commands.options import show_table, store_option
from bot.errors import GitHubError, PublishError, UsageError
from bot.forge.github import GitHubForge
from bot.forge.port import IssueTracker
from bot.verify.issue import LABEL, Report, report_of, report_of_error
from bot.verify.issue_runner import reconcile_issue
from bot.verify.reader import PublicReader
from bot.verify.runner import WORKERS, verify_store
from bot.verify.table import verify_table


def _tracker(app: App) -> IssueTracker:
    """The issue tracker of GITHUB_REPOSITORY; usage errors before anything is downloaded."""
    repository = app.settings.github_repository
    if not repository or repository.count("/") != 1:
        raise UsageError("GITHUB_REPOSITORY is not set to OWNER/NAME; export the repository "
                         f"whose {LABEL} issue --report-issue keeps")
    if not app.settings.github_token:
        raise UsageError(f"GITHUB_TOKEN is not set; --report-issue needs a token with issues: "
                         f"write on {repository}")
    return GitHubForge(app.github, repository)


def _report_issue(app: App, tracker: IssueTracker, report: Report) -> None:
    """Open, update or close the issue; a GitHub error is raised only when verify passed."""
    try:
        with app.reporter.phase(f"{LABEL} issue"):
            outcome = reconcile_issue(tracker, report, app.reporter)
    except GitHubError as exc:
        if report.passed:
            raise
        app.reporter.error(f"could not report on the {LABEL} issue: {exc.message}")
        return
    action = outcome.action
    where = f" {outcome.url}" if outcome.url else ""
    app.reporter.info(f"{LABEL} issue: {action.kind} ({action.reason}){where}")
    if outcome.writes and outcome.number is not None:
        verb = {"create": "opened", "update": "updated", "close": "closed"}.get(action.kind,
                                                                               "kept")
        app.reporter.summary(f"**{LABEL}** issue #{outcome.number} {verb}{where}.")


@click.command(name="verify")
@store_option(" to verify")
@click.option("--json", "as_json", is_flag=True,
              help="Print the results as a JSON list on stdout (one object per artifact).")
@click.option("--report-issue", is_flag=True,
              help=f"Then keep one issue labelled {LABEL}: open it (or update the open one) "
                   "with the table while anything fails, close it with a comment once all "
                   "passes. Needs GITHUB_TOKEN (issues: write) and GITHUB_REPOSITORY.")
@click.pass_obj
def command(app: App, store_url: str | None, as_json: bool, report_issue: bool) -> None:
    """Prove that what the store publishes is what its index.json says (read-only).

    Reads index.json from the store's public URL and, for every entry, downloads its url
    anonymously (streamed, several at a time): the HTTP status, size and sha256 must match
    the entry, the .sha256 sidecar must name the same sha256 and file, the .json manifest
    the same component, version, stack, sha256 and size, and key and url must lie under the
    store's prefix. Exit 6 naming each bad entry, one line each.

    With --report-issue, exit 6 still when verification fails (a GitHub error while reporting
    is one more error line then); exit 7 when it passes but the issue cannot be closed.
    """
    tracker = _tracker(app) if report_issue else None
    store = app.store(store_url)
    try:
        with app.reporter.phase(f"verify {store.url}"):
            verification = verify_store(store, PublicReader(app.http), workers=WORKERS)
    except PublishError as exc:  # no readable index: buildpacks get nothing, say so
        if tracker is not None:
            _report_issue(app, tracker, report_of_error(store.url, exc.message))
        raise
    table = verify_table(verification)
    show_table(app, table, as_json, [r.to_json() for r in verification.results])
    bad = verification.bad
    app.reporter.info(verification.summary())
    for result in bad:
        app.reporter.error(result.line())
    if tracker is not None:
        _report_issue(app, tracker, report_of(verification))
    if not bad:
        return
    raise PublishError(f"{len(bad)} of {len(verification.results)} published artifact(s) in "
                       f"{verification.store} do not match {verification.index_url}: "
                       f"{', '.join(r.entry.key[:120] for r in bad[:10])}"
                       f"{' …' if len(bad) > 10 else ''}; buildpacks would get other bytes "
                       "or none: re-publish them from their build output (`release-bot "
                       "publish DIR --force`) or fix index.json")
