"""`release-bot smoke`: run the sample apps on the built runtime (exit 5 on any failure)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.app import App
from bot.arch import DEFAULT_ARCH, platform
from bot.build.manifest import load_manifest
from bot.commands.options import arch_option, show_table
from bot.errors import SmokeError, UsageError
from bot.report import Table
from bot.smoke.checks import new_run_id
from bot.smoke.plan import (
    CHECKS,
    DEFAULT_READY_TIMEOUT,
    SmokePlan,
    plan_for_image,
    plan_from_artifacts,
)
from bot.smoke.results import COLUMNS
from bot.smoke.runner import run_smoke
from bot.smoke.runtime import has_xsp, prepared_runtime
from bot.smoke.samples import default_samples


def _plan(app: App, stack: str | None, arch: str | None, artifacts: Path | None,
          runtime_image: str | None, only: tuple[str, ...], ready_timeout: float, run_id: str
          ) -> SmokePlan:
    if runtime_image is not None:
        if artifacts is not None:
            raise UsageError("pass either --runtime-image or --artifacts, not both")
        arch = arch or DEFAULT_ARCH
        prepared_runtime(app.engine, runtime_image)
        xsp = has_xsp(app.engine, runtime_image, run_id, platform(arch))
        return plan_for_image(runtime_image, has_xsp=xsp, only=only,
                              ready_timeout=ready_timeout, arch=arch)
    directory = artifacts if artifacts is not None else app.settings.dist_dir / "artifacts"
    if not directory.is_dir():
        raise UsageError(f"no artifacts directory {directory}; run `release-bot build mono` "
                         "first, or pass --artifacts DIR or --runtime-image IMAGE")
    manifests = [load_manifest(p) for p in sorted(directory.glob("*.json"))]
    return plan_from_artifacts(manifests, directory, stack=stack,
                               run_images=app.config.run_images, arch=arch,
                               only=only, ready_timeout=ready_timeout)


@click.command(name="smoke")
@click.option("--stack", help="The stack whose artifacts to test (default: the only one).")
@arch_option("The artifacts' architecture (default: the only one there; a prepared runtime "
             "image: amd64).", default=None)
@click.option("--artifacts", type=click.Path(path_type=Path, file_okay=False),
              help="Directory of build artifacts (default: dist/artifacts).")
@click.option("--runtime-image", metavar="IMAGE",
              help="Use this prepared runtime image (Mono at /app) instead of artifacts.")
@click.option("--samples", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=default_samples, show_default="images/samples",
              help="Directory holding the sample apps (console/, web/, xsp/).")
@click.option("--check", "only", multiple=True, metavar="NAME",
              help=f"Run only this check (repeatable): {', '.join(c.name for c in CHECKS)}.")
@click.option("--ready-timeout", type=click.FloatRange(min=1.0),
              default=DEFAULT_READY_TIMEOUT, show_default=True,
              help="Seconds a check may take to answer (web) or to exit (console).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the results as JSON on stdout (each with its stack, when the "
                   "runtime comes from artifacts).")
@click.pass_obj
def command(app: App, stack: str | None, arch: str | None, artifacts: Path | None,
            runtime_image: str | None, samples: Path, only: tuple[str, ...],
            ready_timeout: float, as_json: bool) -> None:
    """Run the sample apps (console, web, and xsp when built) on the runtime.

    Each sample is compiled with the runtime's own compiler, built into an app image and run
    in a fresh container (removed afterwards); web samples are fetched over a published port.
    """
    run_id = new_run_id()
    plan = _plan(app, stack, arch, artifacts, runtime_image, only, ready_timeout, run_id)
    app.reporter.info(f"smoke run {run_id}: {plan.describe()}")
    results = run_smoke(app.engine, plan, samples, app.reporter, run_id)
    table = Table("Smoke tests", COLUMNS, [r.row() for r in results])
    failed = [r for r in results if not r.passed]
    show_table(app, table, as_json, [r.to_json(plan.stack) for r in results])
    verdict = (f"{len(failed)} of {len(results)} smoke checks failed" if failed
               else f"all {len(results)} smoke checks passed")
    app.reporter.summary(f"**Smoke tests:** {verdict}.")
    if failed:
        raise SmokeError("smoke tests failed: " + "; ".join(f"{r.name}: {r.detail}"
                                                            for r in failed))
