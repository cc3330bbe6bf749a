"""The thin runner of a smoke plan: runtime image, then per check its app image and its run.

A check whose sample does not compile or whose app image does not build is a failed result
(the runtime is what is under test); the other checks still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import SmokeError
from bot.images import BuiltImage
from bot.report import Reporter
from bot.smoke.checks import new_run_id, run_check
from bot.smoke.plan import SmokePlan
from bot.smoke.results import SmokeResult
from bot.smoke.runtime import ensure_runtime_image, prepared_runtime
from bot.smoke.samples import ensure_app_image

if TYPE_CHECKING:
    import docker


def runtime_image(client: docker.DockerClient, plan: SmokePlan, reporter: Reporter
                  ) -> BuiltImage:
    if plan.runtime_image is not None:
        return prepared_runtime(client, plan.runtime_image)
    assert plan.base_image is not None
    return ensure_runtime_image(client, plan.base_image, plan.artifacts, reporter.log)


def run_smoke(client: docker.DockerClient, plan: SmokePlan, samples: Path,
              reporter: Reporter, run_id: str | None = None) -> list[SmokeResult]:
    """Run the plan; every container is labelled with `run_id` (default: a new one)."""
    run_id = run_id or new_run_id()
    with reporter.phase("runtime image"):
        runtime = runtime_image(client, plan, reporter)
        reporter.info(f"runtime image {runtime.tag} ({'built' if runtime.built else 'reused'})")
    results: list[SmokeResult] = []
    for check in plan.checks:
        with reporter.phase(f"smoke {check.name}"):
            try:
                app = ensure_app_image(client, runtime, check, samples, reporter.log,
                                       run_id)
            except SmokeError as exc:
                result = SmokeResult(check.name, False, 0.0, detail=exc.message)
            else:
                how = "built" if app.image.built else "reused"
                reporter.info(f"{check.name}: app image {app.image.tag} {how} "
                              f"({app.seconds:.1f}s)")
                result = run_check(client, app.image.id, check, plan.ready_timeout, run_id)
            verdict = "passed" if result.passed else "FAILED"
            reporter.info(f"{check.name} {verdict} in {result.seconds:.1f}s: {result.detail}")
        results.append(result)
    return results
