"""Read what a pull request's run left for a stack (its artifact's zip) and what the merged
versions.toml expects of it: the inputs of the pure decision in `bot.promote.decide`.

The zip is unpacked into a fresh directory, member by member: only plain file names at its
root and `smoke/<lane>.json`, `builder/<lane>.json` are taken (the lane: the stack, with
`-<arch>` for another architecture than amd64, `bot.arch.lane`) (anything else, a path with
`..` or a link, is ignored), so a hostile artifact cannot write outside that directory.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from bot import __version__
from bot.arch import DEFAULT_ARCH, lane
from bot.build.manifest import Manifest, load_manifest, recipe_hash
from bot.build.plan import plan_build
from bot.config import Config
from bot.errors import BuildError
from bot.files import atomic_write, sha256_file
from bot.promote.decide import BuilderInputs, Evidence, Expected, Found
from bot.resources import images_dir
from bot.store.layout import Index
from bot.store.unpublished import PlanEntry

MAX_MEMBERS = 200
SIDE_DIRS = ("smoke", "builder")


def builder_inputs() -> BuilderInputs:
    """This bot's builder inputs: its builder Dockerfile's sha256 and its version."""
    return BuilderInputs(sha256_file(images_dir() / "builder" / "Dockerfile"), __version__)


def builder_file(out: Path, lane: str) -> Path:
    return out / "builder" / f"{lane}.json"


def write_builder_inputs(out: Path, stack: str, arch: str, inputs: BuilderInputs) -> Path:
    path = builder_file(out, lane(stack, arch))
    extra = {} if arch == DEFAULT_ARCH else {"arch": arch}
    atomic_write(path, json.dumps({"schema": 1, "stack": stack, **extra, **inputs.to_dict()},
                                  indent=2, sort_keys=True) + "\n")
    return path


def read_builder_inputs(path: Path) -> BuilderInputs | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BuilderInputs(str(data["dockerfile_sha256"]), str(data["bot_version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def expected_builds(config: Config, entries: Sequence[PlanEntry]) -> dict[str, list[Expected]]:
    """Per stack and architecture (by lane), what the merged versions.toml plans there, as a
    promoted artifact must match it (pinned entries only; the recipe hash as a build here
    would record it)."""
    out: dict[str, list[Expected]] = {}
    for e in entries:
        if not e.pinned:
            continue
        component = config.component(e.component)
        plan = plan_build(config, e.component, e.stack, arch=e.arch)
        out.setdefault(lane(e.stack, e.arch), []).append(Expected(
            e.component, e.version, e.stack, component.sha256 or "", recipe_hash(plan.recipe),
            plan.build_image, e.arch))
    return out


def published_on(index: Index, stack: str, arch: str) -> dict[tuple[str, str], str]:
    return {(e.component, e.version): e.sha256 for e in index.entries
            if (e.stack, e.arch) == (stack, arch)}


def _member_target(name: str, lane: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    if len(path.parts) == 1:
        return path
    if len(path.parts) == 2 and path.parts[0] in SIDE_DIRS and path.name == f"{lane}.json":
        return path
    return None


def unpack(data: Path | bytes, lane: str, into: Path) -> str:
    """Unpack an artifact's zip into `into` (emptied first); a problem, "" when fine."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) > MAX_MEMBERS:
                return f"the zip has {len(members)} files, more than an artifact of one stack"
            for info in members:
                target = _member_target(info.filename, lane)
                if target is None or (info.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # not ours, or a symbolic link
                dest = into.joinpath(*target.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        return f"the download is not a readable zip ({type(exc).__name__}: {exc})"
    return ""


def read_evidence(lane: str, directory: Path) -> Evidence:
    """What an unpacked artifact holds for `lane`: each tarball with its manifest, sidecar
    and actual sha256, and the recorded builder inputs."""
    found: list[Found] = []
    for tarball in sorted(directory.glob("*.tar.gz")):
        stem = tarball.name.removesuffix(".tar.gz")
        sidecar = tarball.with_name(tarball.name + ".sha256")
        manifest: Manifest | None = None
        try:
            manifest, problem = load_manifest(directory / f"{stem}.json"), ""
        except BuildError as exc:
            problem = exc.message
        if manifest is not None and manifest.artifact != tarball.name:
            problem = f"it names {manifest.artifact}"
            manifest = None
        found.append(Found(
            name=tarball.name, manifest=manifest, manifest_problem=problem,
            tarball_sha256=sha256_file(tarball), tarball_size=tarball.stat().st_size,
            sidecar=sidecar.read_text(encoding="utf-8", errors="replace")
            if sidecar.is_file() else None))
    return Evidence(lane, tuple(found), read_builder_inputs(builder_file(directory, lane)))


def keep(directory: Path, out: Path, lane: str, files: Sequence[str],
         promoted: Mapping[str, object]) -> None:
    """Copy the promoted tarballs (with sidecar and manifest), the lane's smoke results and
    a `promoted/<lane>.json` record into `out`: what the publish job publishes."""
    out.mkdir(parents=True, exist_ok=True)
    for name in files:
        stem = name.removesuffix(".tar.gz")
        for file in (name, f"{name}.sha256", f"{stem}.json"):
            shutil.copy2(directory / file, out / file)
    smoke = directory / "smoke" / f"{lane}.json"
    if smoke.is_file():
        (out / "smoke").mkdir(exist_ok=True)
        shutil.copy2(smoke, out / "smoke" / smoke.name)
    atomic_write(out / "promoted" / f"{lane}.json",
                 json.dumps(promoted, indent=2, sort_keys=True) + "\n")
