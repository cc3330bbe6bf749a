"""Sample apps: compiled in a container with the runtime's own compiler, then app images.

A sample is a folder under images/samples/ (or --samples DIR) named for its check: C# sources
(`*.cs`, compiled when the check says so) and a Dockerfile `FROM ${RUNTIME_IMAGE}` that copies
the compiled `*.exe` (or the site's pages) in. The compile container mounts the sample
read-only at /src and an output folder at /out, has no network, and is always removed.

App images are tagged `release-bot/smoke-<check>:<hash>` over the runtime image id and the
sample's files: an unchanged sample on an unchanged runtime is neither compiled nor built again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.containers.images import BuiltImage, current_image, file_parts, inputs_hash
from bot.containers.port import ContainerEngine, ContainerSpec, Mount, OnLine
from bot.errors import SmokeError, UsageError
from bot.resources import images_dir
from bot.smoke.checks import labels
from bot.smoke.plan import Check
from bot.smoke.results import excerpt
from bot.smoke.runtime import INPUTS_LABEL, smoke_image

COMPILE_TIMEOUT = 300

# The runtime's own compiler: mcs (Mono's), else csc (Roslyn, when the build ships it).
COMPILE_SCRIPT = r"""
set -eu
cc=""
for candidate in /app/bin/mcs /app/bin/csc; do
    if [ -x "$candidate" ]; then cc="$candidate"; break; fi
done
if [ -z "$cc" ]; then
    echo "no C# compiler in the runtime: neither /app/bin/mcs nor /app/bin/csc" >&2
    exit 127
fi
echo "compiling $SAMPLE with $cc"
"$cc" -target:exe -r:System.dll "-out:/out/$SAMPLE.exe" /src/*.cs
"""


def default_samples() -> Path:
    """images/samples: the sample apps the checks run."""
    return images_dir() / "samples"


@dataclass(frozen=True, slots=True)
class AppImage:
    image: BuiltImage
    seconds: float  # compiling and building; ~0 when the cached image was reused


def sample_files(folder: Path) -> list[Path]:
    if not (folder / "Dockerfile").is_file():
        raise UsageError(f"sample {folder} has no Dockerfile; pass --samples DIR holding "
                         "console/, web/ and xsp/ like images/samples/")
    return sorted(p for p in folder.iterdir() if p.is_file())


def compile_sample(engine: ContainerEngine, runtime: str, check: Check, source: Path,
                   out: Path, on_line: OnLine, run_id: str,
                   platform: str | None = None) -> None:
    """Compile `source`/*.cs to `out`/<check>.exe in a container of the runtime image."""
    spec = ContainerSpec(
        runtime, command=("/bin/sh", "-c", COMPILE_SCRIPT),
        env={"SAMPLE": check.name, "HOME": "/out"},
        mounts=(Mount(source, "/src"), Mount(out, "/out", read_only=False)),
        user=f"{os.getuid()}:{os.getgid()}", labels=labels(run_id, f"compile-{check.name}"),
        platform=platform)
    with engine.session(spec) as container:
        code = container.wait(COMPILE_TIMEOUT)  # None: still compiling at the bound
        log = container.logs()
    for line in log.splitlines():
        on_line(line)
    if code is None:
        raise SmokeError(f"compiling the {check.name} sample took longer than "
                         f"{COMPILE_TIMEOUT}s: {excerpt(log, 300)}")
    if code != 0 or not (out / f"{check.name}.exe").is_file():
        raise SmokeError(f"compiling the {check.name} sample failed (exit {code}): "
                         f"{excerpt(log, 300)}")


def ensure_app_image(engine: ContainerEngine, runtime: BuiltImage, check: Check,
                     samples: Path, on_line: OnLine, run_id: str,
                     platform: str | None = None) -> AppImage:
    """The check's app image on `runtime`, compiling the sample first when it must be built."""
    folder = samples / check.name
    files = sample_files(folder)
    digest = inputs_hash([runtime.id.encode(), *file_parts(files)])
    repository = f"release-bot/smoke-{check.name}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"release-bot-{check.name}-") as tmp:
        context = Path(tmp)
        for f in files:
            shutil.copyfile(f, context / f.name)
        if check.compiled and current_image(engine, repository, digest, INPUTS_LABEL) is None:
            out = context / "out"
            out.mkdir()
            compile_sample(engine, runtime.id, check, folder.resolve(), out, on_line, run_id,
                           platform)
            shutil.move(str(out / f"{check.name}.exe"), context / f"{check.name}.exe")
            shutil.rmtree(out)  # with whatever the compiler left in its HOME
        image = smoke_image(engine, context, repository=repository, digest=digest,
                            buildargs={"RUNTIME_IMAGE": runtime.id}, on_line=on_line,
                            platform=platform)
    return AppImage(image, time.monotonic() - started)

