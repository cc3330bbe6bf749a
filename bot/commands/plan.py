"""`release-bot plan`: what versions.toml describes that the store has not published yet."""

from __future__ import annotations

import json

import click

from bot.app import App
from bot.report import Table
from bot.store.layout import read_index
from bot.store.unpublished import plan_unpublished


@click.command(name="plan")
@click.option("--json", "as_json", is_flag=True,
              help='Print the build matrix as JSON: {"include": [{component, version, stack}]}.')
@click.option("--store", "store_url", default=None, metavar="URL",
              help="s3://BUCKET/PREFIX or file://DIR (default: RELEASE_BOT_STORE, else "
                   "file://dist/store).")
@click.option("--component", "components", multiple=True, metavar="NAME",
              help="Only this component (repeatable).")
@click.option("--stack", "stacks", multiple=True, metavar="NAME",
              help="Only this stack (repeatable).")
@click.pass_obj
def command(app: App, as_json: bool, store_url: str | None, components: tuple[str, ...],
            stacks: tuple[str, ...]) -> None:
    """List what is not yet published, per component and stack, in build order.

    Unpinned components are shown with a warning and left out of the matrix: they cannot
    be built until `release-bot pin` records their sha256. The matrix is also the step
    output `matrix` (with `count`) in GitHub Actions.
    """
    config = app.config
    store = app.store(store_url)
    index, _ = read_index(store)
    entries = plan_unpublished(config, index, components or None, stacks or None)
    buildable = [e for e in entries if e.pinned]
    matrix = json.dumps({"include": [e.matrix_row() for e in buildable]})
    app.reporter.output("matrix", matrix)
    app.reporter.output("count", str(len(buildable)))
    for e in entries:
        if not e.pinned:
            app.reporter.warning(f"{e.component} {e.version} ({e.stack}) is not published "
                                 f"and left out of the matrix: {e.note}", file=config.path)
    if as_json:
        click.echo(matrix)
        return
    if not entries:
        app.reporter.info(f"nothing to build: {store.url} has every component and stack "
                          f"of {config.path}")
        return
    app.reporter.table(Table(
        f"not yet published in {store.url}: {len(buildable)} to build",
        ["component", "version", "stack", "note"],
        [[e.component, e.version, e.stack, e.note or "to build"] for e in entries],
    ))
