"""`release-bot publish DIR`: publish built artifacts write-once, then update index.json."""

from __future__ import annotations

from pathlib import Path

import click

from bot.app import App
from bot.commands.options import store_option
from bot.report import Table
from bot.store.dryrun import DryRunStore
from bot.store.publish import (
    Action,
    PublishPlan,
    check_publish,
    collect_artifacts,
    publish,
    refusal,
)

SAID = {
    Action.UPLOAD: "published",
    Action.OVERWRITE: "replaced (--force)",
    Action.COMPLETE: "completed",
    Action.SKIP: "already published",
    Action.REFUSE: "REFUSED: different bytes published",
}
WOULD = {
    Action.UPLOAD: "would publish",
    Action.OVERWRITE: "would replace (--force)",
    Action.COMPLETE: "would complete",
    Action.SKIP: "already published",
    Action.REFUSE: "would be REFUSED: different bytes published",
}


def _table(title: str, plan: PublishPlan, urls: dict[str, str], *, dry_run: bool) -> Table:
    said = WOULD if dry_run else SAID
    return Table(title, ["artifact", "result", "size", "sha256", "url"],
                 [[s.artifact.key, said[s.action], str(s.artifact.size),
                   s.artifact.sha256[:12] + "…", urls[s.artifact.key]] for s in plan.steps])


@click.command(name="publish")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@store_option()
@click.option("--force", is_flag=True,
              help="Replace published artifacts whose bytes differ (write-once otherwise).")
@click.option("--dry-run", is_flag=True,
              help="Run every check (sizes, sha256s, write-once conflicts) against the store "
                   "and report what would be uploaded, skipped or refused; upload nothing "
                   "(no credentials needed for a public s3:// store).")
@click.pass_obj
def command(app: App, directory: Path, store_url: str | None, force: bool, dry_run: bool
            ) -> None:
    """Publish the artifacts built into DIRECTORY (exit 6 when anything fails).

    In GitHub Actions the step output `uploaded` lists the tarballs this run uploaded, a
    path a line (none when everything was already published).

    Everything is checked before anything is uploaded: a different artifact under a
    published key stops the run with nothing uploaded. index.json is updated last.
    """
    artifacts = collect_artifacts(directory)
    real = app.store(store_url)
    store = DryRunStore(real, app.reporter.info) if dry_run else real
    title = (f"dry run, nothing uploaded to {real.url}" if dry_run
             else f"published to {real.url}")
    verb = "dry run: publish" if dry_run else "publish"
    with app.reporter.phase(f"{verb} {len(artifacts)} artifact(s) to {real.url}"):
        checked = check_publish(store, artifacts, force=force)
        if checked.plan.with_action(Action.REFUSE):
            app.reporter.table(_table(title, checked.plan, {a.key: real.public_url(a.key)
                                                            for a in artifacts},
                                      dry_run=dry_run))
            raise refusal(checked.plan)
        result = publish(store, artifacts, force=force, reporter=app.reporter,
                         checked=checked)
    app.reporter.table(_table(title, result.plan, {e.key: e.url for e in result.entries},
                              dry_run=dry_run))
    if dry_run:
        app.reporter.info("dry run: index.json would be updated" if result.index_written
                          else "dry run: index.json already lists every artifact")
        return
    app.reporter.info("index.json updated" if result.index_written
                      else "index.json already lists every artifact")
    # what this run wrote, for the job that attests it (one tarball path a line)
    app.reporter.output("uploaded", "\n".join(
        str(s.artifact.tarball) for s in result.plan.steps
        if s.action in (Action.UPLOAD, Action.OVERWRITE, Action.COMPLETE)))
