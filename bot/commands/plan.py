"""`release-bot plan`: what versions.toml describes that the store has not published yet."""

from __future__ import annotations

import json

import click

from bot.app import App
from bot.arch import ARCHES, lane
from bot.commands.options import sha256_option, store_option, version_option
from bot.commands.override import version_override
from bot.report import Table
from bot.store.layout import read_index
from bot.store.unpublished import PlanEntry, plan_unpublished


def stack_matrix(entries: list[PlanEntry]) -> dict[str, list[dict[str, str]]]:
    """One build job per stack and architecture with something to build: it builds those
    entries in dependency order and smoke-tests them (`release-bot run --stack S --out DIR`),
    on the GitHub-hosted runner that runs the architecture natively (bot.arch); `lane` names
    the job (`heroku-24`, `heroku-24-arm64`) as its workflow artifacts are named."""
    jobs = dict.fromkeys((e.stack, e.arch) for e in entries)
    return {"include": [{"stack": stack, "arch": arch, "lane": lane(stack, arch),
                         "runs-on": ARCHES[arch].runner} for stack, arch in jobs]}


@click.command(name="plan")
@click.option("--json", "as_json", is_flag=True,
              help='Print the build matrix as JSON: {"include": [{component, version, stack}]}.')
@store_option()
@click.option("--component", "components", multiple=True, metavar="NAME",
              help="Only this component (repeatable).")
@click.option("--stack", "stacks", multiple=True, metavar="NAME",
              help="Only this stack (repeatable).")
@version_option("Plan version V of the one --component instead of versions.toml's. A build "
                "needs the sha256 of V's source: unless V is the version versions.toml pins, "
                "pass --sha256 HEX too (refused otherwise), and the same pair to "
                "`release-bot build`.")
@sha256_option()
@click.option("--force", is_flag=True,
              help="List published entries too (to rebuild and replace them with "
                   "`publish --force`).")
@click.pass_obj
def command(app: App, as_json: bool, store_url: str | None, components: tuple[str, ...],
            stacks: tuple[str, ...], version_text: str | None, sha256: str | None,
            force: bool) -> None:
    """List what is not yet published, per component and stack, in build order.

    Unpinned components are shown with a warning and left out of the matrix: they cannot
    be built until `release-bot pin` records their sha256. The matrix is also the step
    output `matrix` (with `count`) in GitHub Actions, with `stacks`, one build job per stack
    (`{"include": [{stack, arch, runs-on}]}`), and the table the step summary.
    """
    config = app.config
    version, pin = version_override(config, components, version_text, sha256)
    store = app.store(store_url)
    index, _ = read_index(store)
    entries = plan_unpublished(config, index, components or None, stacks or None,
                               version=version, override_pinned=pin is not None, force=force)
    buildable = [e for e in entries if e.pinned]
    matrix = json.dumps({"include": [e.matrix_row() for e in buildable]})
    app.reporter.output("matrix", matrix)
    app.reporter.output("count", str(len(buildable)))
    app.reporter.output("stacks", json.dumps(stack_matrix(buildable)))
    for e in entries:
        if not e.pinned:
            app.reporter.warning(f"{e.component} {e.version} ({e.stack}) is not published "
                                 f"and left out of the matrix: {e.note}", file=config.path)
    what = "planned (--force)" if force else "not yet published"
    table = Table(f"{what} in {store.url}: {len(buildable)} to build",
                  ["component", "version", "stack", "note"],
                  [[e.component, e.version, e.stack, e.note or "to build"] for e in entries])
    nothing = (f"nothing to build: {store.url} has every component and stack of "
               f"{config.path}")
    if as_json:  # stdout is the JSON alone; the table still reaches the step summary
        click.echo(matrix)
        app.reporter.summary(table.markdown() if entries else f"**Plan:** {nothing}.")
        return
    if not entries:
        app.reporter.info(nothing)
        app.reporter.summary(f"**Plan:** {nothing}.")
        return
    app.reporter.table(table)
