"""`release-bot build`: build a component in a clean container into a reproducible tarball."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click

from bot.app import App
from bot.arch import DEFAULT_ARCH
from bot.build.manifest import artifact_stem
from bot.build.plan import BuildPlan, plan_build
from bot.build.runner import BuildResult
from bot.commands.options import arch_option, sha256_option, version_option
from bot.commands.override import version_override
from bot.errors import UsageError

_MEMORY = re.compile(r"[0-9]+[bkmg]?", re.IGNORECASE)


@click.command(name="build")
@click.argument("component")
@version_option("Build this version instead of the one in versions.toml; unless it is the "
                "pinned one, pass --sha256 HEX of its source too (refused otherwise).")
@sha256_option()
@click.option("--stack", "stacks", multiple=True, metavar="S",
              help="Stack to build for (repeatable; default: every stack of the component).")
@arch_option("Architecture to build for (one of the stack's arches; another one than the "
             "machine's runs under emulation, or on a runner of that architecture).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output directory [default: dist/artifacts].")
@click.option("--with-deps", is_flag=True,
              help="Build required components first when their artifact is missing.")
@click.option("--keep-container", is_flag=True,
              help="Keep the build container for debugging (remove it with docker rm -f).")
@click.option("--cpus", type=click.IntRange(min=1), default=None,
              help="CPUs for the container and make -j [default: all of this machine].")
@click.option("--memory", metavar="SIZE", default=None,
              help="Memory limit of the build container, e.g. 8g [default: none].")
@click.option("--plan", "show_plan", is_flag=True,
              help="Print the build plan and exit without building.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifests as JSON on stdout.")
@click.pass_obj
def command(app: App, component: str, version_text: str | None, sha256: str | None,
            stacks: tuple[str, ...], arch: str, out_dir: Path | None, with_deps: bool,
            keep_container: bool, cpus: int | None, memory: str | None, show_plan: bool,
            as_json: bool) -> None:
    """Build COMPONENT for a stack: verified sources, no network, no secrets, /app tarball.

    Writes <component>-<version>-<stack>.tar.gz, its .sha256, a .json manifest and the build
    log into the output directory. A dependent component (xsp) is built against the
    required artifact (mono) found there. Exit 4 when the build fails.
    """
    config = app.config
    comp = config.component(component)
    version, pin = version_override(config, (component,), version_text, sha256)
    if memory is not None and not _MEMORY.fullmatch(memory):
        raise UsageError(f"--memory {memory!r}: write a size like 4g or 512m")
    targets = stacks or comp.stacks
    for st in targets:
        config.stack(st)
    out = out_dir or app.settings.dist_dir / "artifacts"
    ncpu = cpus or os.cpu_count() or 1

    plans: list[BuildPlan] = []
    for st in targets:
        if with_deps:
            for dep in config.build_order(comp.requires):
                dep_comp = config.component(dep)
                stem = artifact_stem(dep, dep_comp.version.text, st, arch=arch)
                if not (out / f"{stem}.json").is_file():
                    plans.append(plan_build(config, dep, st, cpus=ncpu, memory=memory,
                                            arch=arch))
        plans.append(plan_build(config, comp.name, st, version, cpus=ncpu, memory=memory,
                                sha256=pin, arch=arch))

    if show_plan:
        for plan in plans:
            click.echo(plan.describe())
        return

    builder = app.builder
    results: list[BuildResult] = []
    for plan in plans:
        result = builder.build(plan, out, keep=keep_container)
        results.append(result)
        m = result.manifest
        app.reporter.info(f"built {result.artifact} ({m.size} bytes, sha256 {m.sha256[:12]}, "
                          f"{m.duration:.1f}s, {result.downloaded} bytes downloaded, builder "
                          f"image {'built' if result.image_built else 'reused'})")
        suffix = "" if m.arch == DEFAULT_ARCH else f"-{m.arch}"
        app.reporter.output(f"artifact-{m.component}-{m.stack}{suffix}", str(result.artifact))
    if as_json:
        click.echo(json.dumps([json.loads(r.manifest.to_json()) | {
            "path": str(r.artifact), "manifest_path": str(r.manifest_path),
            "log_path": str(r.log_path), "downloaded": r.downloaded,
            "image_built": r.image_built} for r in results], indent=2))
