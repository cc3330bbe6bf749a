"""`release-bot publish DIR`: publish built artifacts write-once, then update index.json."""

from __future__ import annotations

from pathlib import Path

import click

from bot.app import App
from bot.report import Table
from bot.store.publish import Action, collect_artifacts, publish

SAID = {
    Action.UPLOAD: "published",
    Action.OVERWRITE: "replaced (--force)",
    Action.COMPLETE: "completed",
    Action.SKIP: "already published",
}


@click.command(name="publish")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--store", "store_url", default=None, metavar="URL",
              help="s3://BUCKET/PREFIX or file://DIR (default: RELEASE_BOT_STORE, else "
                   "file://dist/store).")
@click.option("--force", is_flag=True,
              help="Replace published artifacts whose bytes differ (write-once otherwise).")
@click.pass_obj
def command(app: App, directory: Path, store_url: str | None, force: bool) -> None:
    """Publish the artifacts built into DIRECTORY (exit 6 when anything fails).

    Everything is checked before anything is uploaded: a different artifact under a
    published key stops the run with nothing uploaded. index.json is updated last.
    """
    artifacts = collect_artifacts(directory)
    store = app.store(store_url)
    with app.reporter.phase(f"publish {len(artifacts)} artifact(s) to {store.url}"):
        result = publish(store, artifacts, force=force, reporter=app.reporter)
    entries = {e.key: e for e in result.entries}
    app.reporter.table(Table(
        f"published to {store.url}",
        ["artifact", "result", "size", "sha256", "url"],
        [[s.artifact.key, SAID[s.action], str(s.artifact.size), s.artifact.sha256[:12] + "…",
          entries[s.artifact.key].url] for s in result.plan.steps],
    ))
    app.reporter.info("index.json updated" if result.index_written
                      else "index.json already lists every artifact")
