"""The thin runner of a smoke plan: runtime image, then per check its app image and its run.

A check whose sample does not compile or whose app image does not build is a failed result
(the runtime is what is under test); the other checks still run.
"""

from __future__ import annotations

from pathlib import Path

from bot.containers.images import BuiltImage
from bot.containers.port import ContainerEngine, EngineError
from bot.errors import SmokeError
from bot.report import Reporter
from bot.smoke.checks import run_check
from bot.smoke.plan import Check, SmokePlan
from bot.smoke.results import SmokeResult
from bot.smoke.runtime import ensure_runtime_image, prepared_runtime
from bot.smoke.samples import ensure_app_image


def runtime_image(engine: ContainerEngine, plan: SmokePlan, reporter: Reporter
                  ) -> BuiltImage:
    if plan.runtime_image is not None:
        return prepared_runtime(engine, plan.runtime_image)
    assert plan.base_image is not None
    return ensure_runtime_image(engine, plan.base_image, plan.artifacts, reporter.log,
                                platform=plan.platform)


def run_smoke(engine: ContainerEngine, plan: SmokePlan, samples: Path,
              reporter: Reporter, run_id: str) -> list[SmokeResult]:
    """Run the plan; every container is labelled with `run_id` (bot.smoke.checks)."""
    with reporter.phase("runtime image"):
        runtime = runtime_image(engine, plan, reporter)
        reporter.info(f"runtime image {runtime.tag} ({'built' if runtime.built else 'reused'})")
    results: list[SmokeResult] = []
    for check in plan.checks:
        with reporter.phase(f"smoke {check.name}"):
            try:
                result = _check(engine, runtime, check, plan, samples, reporter, run_id)
            except SmokeError as exc:
                result = SmokeResult(check.name, False, 0.0, detail=exc.message)
            except EngineError as exc:
                result = SmokeResult(check.name, False, 0.0,
                                     detail=f"the container engine refused it: {exc}")
            verdict = "passed" if result.passed else "FAILED"
            reporter.info(f"{check.name} {verdict} in {result.seconds:.1f}s: {result.detail}")
        results.append(result)
    return results


def _check(engine: ContainerEngine, runtime: BuiltImage, check: Check, plan: SmokePlan,
           samples: Path, reporter: Reporter, run_id: str) -> SmokeResult:
    app = ensure_app_image(engine, runtime, check, samples, reporter.log, run_id,
                           platform=plan.platform)
    how = "built" if app.image.built else "reused"
    reporter.info(f"{check.name}: app image {app.image.tag} {how} ({app.seconds:.1f}s)")
    return run_check(engine, app.image.id, check, plan.ready_timeout, run_id,
                     platform=plan.platform)
