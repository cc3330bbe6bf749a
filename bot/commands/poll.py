"""`release-bot poll`: check every upstream for a newer version with an existing tarball."""

from __future__ import annotations

import json

import click

from bot.app import App
from bot.commands.options import show_table
from bot.errors import UpstreamError
from bot.poll import PollResult, deps_from_app, poll_components
from bot.report import Table


def _row(r: PollResult) -> list[str]:
    latest = "-" if r.latest is None else r.latest.text
    return [r.component, r.current.text, latest, r.status, r.error or ""]


@click.command(name="poll")
@click.option("--json", "as_json", is_flag=True, help="Print the results as a JSON list.")
@click.argument("components", nargs=-1)
@click.pass_obj
def command(app: App, as_json: bool, components: tuple[str, ...]) -> None:
    """Check upstreams for newer versions (exit 3 if any upstream could not be read)."""
    config = app.config
    deps = deps_from_app(app)
    with app.reporter.phase("poll upstreams"):
        results = poll_components(config, deps, app.reporter, components or None)
    app.http.cache.save()  # the conditional-request cache: next time, unchanged is a 304
    http, gh = app.http.stats, deps.github_stats
    github = "" if gh is None or not gh.requests else (
        f"; GitHub: {gh.requests} requests ({gh.not_modified} not modified), quota spent "
        f"{gh.quota}" + ("" if gh.remaining is None else f", {gh.remaining} left"))
    app.reporter.info(f"{http.requests} HTTP requests ({http.not_modified} not modified, "
                      f"{http.retries} retries){github}")
    table = Table(f"poll: {len(results)} components",
                  ["component", "current", "latest", "status", "error"],
                  [_row(r) for r in results])
    show_table(app, table, as_json, [r.as_json() for r in results])
    updates = [r.component for r in results if r.status == "update-available"]
    app.reporter.output("updates", json.dumps(updates))
    failed = [r for r in results if r.status == "error"]
    for r in failed:
        app.reporter.error(f"{r.component}: {r.error}")
    if failed:
        raise UpstreamError(f"{len(failed)} component(s) could not be polled "
                            f"({', '.join(r.component for r in failed)}); see the errors above "
                            "and rerun when the upstream is back")
