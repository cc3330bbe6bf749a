"""`release-bot run`: the main job. plan -> build -> smoke -> publish -> notes -> release."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from bot.app import App
from bot.commands.options import arch_option, sha256_option, store_option, version_option
from bot.commands.override import version_override
from bot.errors import UsageError
from bot.notes.publisher import Announcer, FileAnnouncer, github_announcer
from bot.report import Table
from bot.run.executor import RunOutcome, describe, exit_error
from bot.run.plan import plan_run
from bot.run.runner import RunDeps, run
from bot.smoke.plan import DEFAULT_READY_TIMEOUT
from bot.smoke.runtime import prepared_runtime
from bot.smoke.samples import default_samples
from bot.store.layout import artifact_key, read_index

NOTES_FILE = "release-notes.md"


def _announcer(app: App) -> Announcer:
    """The GitHub Release when GITHUB_TOKEN and GITHUB_REPOSITORY are set, else a file."""
    if app.settings.github_token and app.settings.github_repository:
        return github_announcer(app.github, app.settings.github_repository)
    return FileAnnouncer(app.settings.dist_dir / NOTES_FILE)


def _report(app: App, outcome: RunOutcome, out_dir: Path | None) -> None:
    kept = f"kept in {out_dir}"
    rows = []
    for stack in outcome.stacks:
        published = {s.artifact.key: s.action.value for s in
                     (stack.published.plan.steps if stack.published else ())}
        smoke = ("-" if not stack.smoke else
                 f"{sum(r.passed for r in stack.smoke)}/{len(stack.smoke)} passed")
        for c in stack.components:
            m, t = c.manifest, c.target
            state = {"kept": kept, "published": published.get(
                artifact_key(t.component, t.version, t.stack, t.arch), "published")
            }.get(c.state, c.state)
            rows.append([t.component, t.version, stack.lane,
                         m.sha256[:12] + "…" if m is not None else "-", smoke, state])
        if stack.failure is not None:
            rows.append(["-", "-", stack.lane, "-", smoke,
                         f"failed ({stack.step}): {describe(stack.failure)}"])
    app.reporter.table(Table("release-bot run", ["component", "version", "stack", "sha256",
                                                 "smoke", "publish"], rows))
    if outcome.announced is not None and outcome.notes is not None:
        where = outcome.announced.where
        app.reporter.info(f"release notes for {outcome.notes.tag}: {where}")
        app.reporter.output("release-tag", outcome.notes.tag)
        app.reporter.output("release-url" if where.startswith("http") else "notes-file", where)
        app.reporter.summary(f"**Release** `{outcome.notes.tag}`: {where}")


@click.command(name="run")
@store_option()
@click.option("--stack", "stacks", multiple=True, metavar="S",
              help="Only this stack (repeatable; default: every stack).")
@arch_option("Only this architecture (repeatable; default: every one of each stack's "
             "arches).", multiple=True)
@click.option("--component", "components", multiple=True, metavar="C",
              help="Only this component (repeatable; its requirements must be published).")
@click.option("--runtime-image", metavar="IMAGE", default=None,
              help="Run the smoke checks on this prepared runtime image instead of one made "
                   "of the artifacts (the notes say so).")
@click.option("--cpus", type=click.IntRange(min=1), default=None,
              help="CPUs for each build [default: all of this machine].")
@click.option("--ready-timeout", type=click.FloatRange(min=1.0), default=DEFAULT_READY_TIMEOUT,
              show_default=True, help="Seconds a smoke check may take.")
@version_option("Build version V of the one --component instead of versions.toml's "
                "(with --sha256 HEX unless V is the pinned version), as `plan` does.")
@sha256_option()
@click.option("--force", is_flag=True,
              help="Rebuild what is published too (with --out: for `publish --force`).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Build and smoke-test only: copy what passed (artifacts, "
              "smoke/<stack>.json) into DIR; publish and announce nothing.")
@click.option("--plan", "show_plan", is_flag=True, help="Print the plan and exit.")
@click.pass_obj
def command(app: App, store_url: str | None, stacks: tuple[str, ...], arches: tuple[str, ...],
            components: tuple[str, ...], runtime_image: str | None, cpus: int | None,
            ready_timeout: float, version_text: str | None, sha256: str | None, force: bool,
            out_dir: Path | None, show_plan: bool) -> None:
    """Build what versions.toml has that the store does not publish, smoke-test it, publish
    what passed, then write the release notes: a GitHub Release when GITHUB_TOKEN and
    GITHUB_REPOSITORY are set, else dist/release-notes.md.

    With nothing new it does nothing (no Docker, no GitHub) and says so. A stack that fails
    (a build, its checks, publishing) is not published and the other stacks go on; the exit
    is the most severe failure: 6 publish, 7 GitHub, 4 build, 3 upstream, 5 smoke checks.
    """
    started = time.monotonic()
    config = app.config
    version, pin = version_override(config, components, version_text, sha256)
    if force and out_dir is None:
        raise UsageError("--force replaces published artifacts: use it with --out (then "
                         "`release-bot publish --force`), or `build` + `publish --force`")
    store = app.store(store_url)
    with app.reporter.phase("plan"):
        index, _ = read_index(store)
        plan = plan_run(config, index, components or None, stacks or None, version=version,
                        sha256=pin, force=force, arches=arches or None)
    for entry in plan.unpinned:
        app.reporter.warning(f"{entry.component} {entry.version} ({entry.stack}) is not "
                             f"published and left out: {entry.note}", file=config.path)
    app.reporter.output("count", str(len(plan.builds)))
    if show_plan or plan.empty:
        click.echo(plan.describe())
    if plan.empty:
        app.reporter.info(f"nothing to do: {store.url} publishes every buildable component "
                          f"and stack of {config.path} ({time.monotonic() - started:.1f}s)")
        app.reporter.summary("**release-bot run:** nothing to do, everything is published.")
        return
    if show_plan:
        return
    if runtime_image is not None and not runtime_image.strip():
        raise UsageError("--runtime-image is empty; name an image or drop the option")
    if runtime_image is not None and any(s.smoke for s in plan.stacks):
        prepared_runtime(app.engine, runtime_image)  # before any build: it must exist
    ncpu = cpus or os.cpu_count() or 1
    deps = RunDeps(
        config=config,
        store=store,
        builder=lambda: app.builder,
        engine=lambda: app.engine,
        announcer=lambda: _announcer(app),
        reporter=app.reporter,
        templates=app.templates,
        work_dir=app.settings.dist_dir / "run",
        samples=default_samples(),
        smoke_results=app.settings.dist_dir / "smoke-results.json",
        runtime_image=runtime_image,
        cpus=ncpu,
        ready_timeout=ready_timeout,
        out=out_dir,
    )
    outcome = run(plan, deps)
    _report(app, outcome, out_dir)
    error = exit_error(outcome)
    if error is not None:
        raise error
