"""Execute a `BuildPlan`: fetch on the host, run the steps in a fresh container, package.

Each step is a reporter phase (with its elapsed time) and a `==> step` marker in the build
log, which is streamed live through `reporter.log` and saved beside the artifact as
`<stem>.log` (`<stem>.failed.log` when the build fails). Outputs are written to a hidden
temporary directory in the output directory and moved into place only when everything
succeeded, the manifest last: a failed or interrupted build leaves no artifact behind.

The manifest records the build's provenance (bot.build.manifest): the bot's version, the
stack's build image as the engine knows it (through the `base_images` port: its id and
RepoDigests), the patches' sha256, the recipe and its hash, and the wall-clock start and end.
None of it reaches the tarball, which stays byte-identical from build to build.
"""

from __future__ import annotations

import collections
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.arch import foreign_elf, platform
from bot.build.manifest import (
    BaseImage,
    Dependency,
    Manifest,
    PatchRef,
    Provenance,
    SourceRef,
    load_manifest,
    recipe_hash,
    utc_iso,
    write_manifest,
)
from bot.build.plan import BUILD_USER, BuildPlan, Step
from bot.build.tarball import PackResult, member_digests, pack, source_date_epoch
from bot.cache import SourceCache
from bot.containers.images import BuiltImage
from bot.containers.port import ContainerEngine, ContainerSpec, EngineError, Mount
from bot.errors import BuildError
from bot.files import sha256_file
from bot.report import Reporter
from bot.report.base import Redactor, fmt_seconds

TAIL_LINES = 30
# The builder image for a stack's build image and an architecture (bot.arch).
ImageProvider = Callable[[str, Callable[[str], None], str], BuiltImage]
# The stack's build image (a reference) as the engine knows it; None when it has no such image.
BaseImageProvider = Callable[[str], BaseImage | None]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BuildResult:
    manifest: Manifest
    artifact: Path
    manifest_path: Path
    log_path: Path
    downloaded: int  # bytes fetched from upstreams by this build
    image_built: bool  # False: the builder image was reused


class BuildLog:
    """The build log: every line to the reporter (live) and to a file; keeps the tail."""

    def __init__(self, fh: TextIO, reporter: Reporter, secrets: tuple[str, ...]) -> None:
        self._fh = fh
        self._reporter = reporter
        self._redact = Redactor()
        for s in secrets:
            self._redact.add(s)
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def line(self, text: str) -> None:
        text = self._redact(text)
        self._fh.write(text + "\n")
        self._fh.flush()
        self.tail.append(text)
        self._reporter.log(text)


@dataclass
class _Inputs:
    mounts: list[Mount]
    sources: list[SourceRef]
    built_against: dict[str, Dependency]
    exclude: dict[str, str]
    downloaded: int = 0
    patch_sha256: dict[str, str] = field(default_factory=dict)  # local patch path -> sha256


class Builder:
    """Runs plans. `images` provides the builder image for a stack's build image;
    `base_images` tells what that build image is (None: the manifest records no base image);
    `clock` gives the build's start and end times."""

    def __init__(self, *, cache: SourceCache, runtime: ContainerEngine,
                 images: ImageProvider, reporter: Reporter, recipe_root: Path,
                 secrets: tuple[str, ...] = (),
                 base_images: BaseImageProvider | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.cache = cache
        self.runtime = runtime
        self.images = images
        self.base_images = base_images
        self.reporter = reporter
        self.recipe_root = recipe_root  # where `images/...` patches are found
        self.secrets = secrets
        self.clock = clock

    def build(self, plan: BuildPlan, out_dir: Path, *, keep: bool = False) -> BuildResult:
        started = time.monotonic()
        started_at = self.clock()
        self._check_pinned(plan)
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{plan.stem}.partial-", dir=out_dir))
        log_tmp = work / "build.log"
        ok = False
        try:
            with log_tmp.open("w", encoding="utf-8") as fh:
                log = BuildLog(fh, self.reporter, self.secrets)
                log.line(plan.describe())
                result = self._build(plan, out_dir, work, log, started, started_at, keep)
            ok = True
            return result
        finally:
            final_log = out_dir / f"{plan.stem}.{'log' if ok else 'failed.log'}"
            if log_tmp.exists():
                log_tmp.replace(final_log)
            if ok:
                (out_dir / f"{plan.stem}.failed.log").unlink(missing_ok=True)
            shutil.rmtree(work, ignore_errors=True)

    # -- phases ---------------------------------------------------------------------------
    @contextmanager
    def _phase(self, plan: BuildPlan, log: BuildLog, name: str) -> Iterator[None]:
        log.line(f"==> {name}")
        started = time.monotonic()
        with self.reporter.phase(f"{plan.component} {plan.version} ({plan.stack}): {name}"):
            yield
        log.line(f"<== {name} done in {fmt_seconds(time.monotonic() - started)}")

    def _check_pinned(self, plan: BuildPlan) -> None:
        for f in plan.fetches:
            if f.sha256 is None:
                what = "its source" if f.name == "source" else f"extra source {f.name!r}"
                raise BuildError(
                    f"{plan.component} {plan.version}: {what} is not pinned (no sha256), so it "
                    f"cannot be built; run `release-bot pin {plan.component}` and review the "
                    "sha256 it records")

    def _build(self, plan: BuildPlan, out_dir: Path, work: Path, log: BuildLog,
               started: float, started_at: datetime, keep: bool) -> BuildResult:
        with self._phase(plan, log, "fetch"):
            inputs = self._fetch(plan, out_dir, log)
        source_file = inputs.mounts[0].source
        epoch = source_date_epoch(source_file, plan.source.sha256 or "")
        log.line(f"SOURCE_DATE_EPOCH={epoch} (newest mtime in the source tarball)")
        with self._phase(plan, log, "builder image"):
            image = self.images(plan.build_image, log.line, plan.arch)
            log.line(f"builder image {image.tag} {image.id} "
                     f"({'built' if image.built else 'reused'})")
            base = self.base_images(plan.build_image) if self.base_images else None
            if base is not None:
                log.line(f"base image {plan.build_image} {base.id}"
                         + (f" ({', '.join(base.repo_digests)})" if base.repo_digests else ""))
        spec = ContainerSpec(
            image=image.id,
            command=("sleep", "infinity"),
            user=BUILD_USER,
            env={**plan.env, "SOURCE_DATE_EPOCH": str(epoch)},
            mounts=tuple(inputs.mounts),
            labels={**plan.labels, "org.release-bot.builder-image": image.tag},
            workdir="/build",
            cpus=float(plan.cpus),
            memory=plan.memory,
            network="none",
            init=True,
            harden=True,
            keep=keep,
            platform=platform(plan.arch),
        )
        artifact_tmp = work / f"{plan.stem}.tar.gz"
        try:
            packed = self._in_container(plan, spec, inputs, log, out_dir, artifact_tmp, epoch)
        except EngineError as exc:
            raise BuildError(f"the Docker engine refused the build container ({exc}); check "
                             "--cpus/--memory and `docker info`") from None
        if inputs.exclude:
            log.line(f"left out {len(packed.skipped)} entries that come from "
                     f"{', '.join(inputs.built_against)}")
        for path in packed.changed:
            self.reporter.warning(f"{plan.component} rewrote {path} of a required "
                                  "artifact; the changed file is packaged")
        if not any(not f.endswith("/") for f in packed.files):
            raise BuildError(f"{plan.component} {plan.version} installed no files under "
                             "/app; check configure-args (--prefix) and the install step")
        foreign = foreign_elf(artifact_tmp, plan.arch)
        if foreign:
            path, machine = foreign[0]
            raise BuildError(f"{plan.component} {plan.version} ({plan.stack}) installed "
                             f"{len(foreign)} binaries for {machine}, not {plan.arch} (first: "
                             f"{path}); the builder image {image.tag} runs another "
                             "architecture: check the stack's build-image and its platform")
        provenance = self._provenance(plan, inputs, base, started_at)
        return self._publish(plan, out_dir, work, artifact_tmp, packed.files, inputs, image,
                             epoch, started, provenance, log)

    def _in_container(self, plan: BuildPlan, spec: ContainerSpec, inputs: _Inputs,
                      log: BuildLog, out_dir: Path, artifact_tmp: Path, epoch: int) -> PackResult:
        """The recipe's steps in one fresh container, then /app packed into `artifact_tmp`."""
        with self.runtime.session(spec) as container:
            log.line(f"container {container.name} ({container.id[:12]}), network none, "
                     f"user {BUILD_USER}")
            if spec.keep:
                self.reporter.info(f"keeping build container {container.name}: inspect it "
                                   f"with `docker exec -it {container.name} bash`, remove "
                                   f"it with `docker rm -f {container.name}`")
            for step in plan.container_steps():
                self._run_step(plan, step, container.run, log, out_dir)
            with self._phase(plan, log, "package"):
                return pack(container.export("/app"), "app", artifact_tmp, epoch,
                            exclude=inputs.exclude)

    def _fetch(self, plan: BuildPlan, out_dir: Path, log: BuildLog) -> _Inputs:
        inputs = _Inputs(mounts=[], sources=[], built_against={}, exclude={})
        for f in plan.fetches:
            log.line(f"fetch {f.name}: {f.url}")
            cached = self.cache.fetch(f.url, f.sha256)
            inputs.downloaded += cached.downloaded
            log.line(f"  sha256 {cached.sha256} ok, {cached.size} bytes "
                     f"({'downloaded' if cached.downloaded else 'from the cache'})")
            inputs.mounts.append(Mount(cached.path.resolve(), f.mount))
            inputs.sources.append(SourceRef(f.url, cached.sha256, f.name))
        for local in plan.local_files:
            path = (self.recipe_root / local.path).resolve()
            if not path.is_file():
                raise BuildError(f"patch {local.path} of {plan.component} not found under "
                                 f"{self.recipe_root}; add the file or fix `patches`")
            inputs.patch_sha256[local.path] = sha256_file(path)
            log.line(f"patch {local.path} (local)")
            inputs.mounts.append(Mount(path, local.mount))
        for req in plan.requires:
            manifest_path = out_dir / f"{req.stem}.json"
            if not manifest_path.is_file():
                raise BuildError(
                    f"{plan.component} needs the {req.component} {req.version} artifact for "
                    f"stack {plan.stack}, but {manifest_path} does not exist; build "
                    f"{req.component} first (`release-bot build {req.component} --stack "
                    f"{plan.stack}`) or pass --with-deps")
            dep = load_manifest(manifest_path)
            artifact = out_dir / dep.artifact
            if not artifact.is_file() or sha256_file(artifact) != dep.sha256:
                raise BuildError(f"{artifact} is missing or does not match its manifest; "
                                 f"rebuild {req.component} with `release-bot build "
                                 f"{req.component} --stack {plan.stack}`")
            log.line(f"requires {req.component} {dep.version}: {dep.artifact} "
                     f"sha256 {dep.sha256}")
            inputs.mounts.append(Mount(artifact.resolve(), req.mount))
            inputs.built_against[req.component] = Dependency(dep.version, dep.sha256)
            inputs.exclude.update(member_digests(artifact))
        return inputs

    def _run_step(self, plan: BuildPlan, step: Step,
                  run: Callable[..., int], log: BuildLog, out_dir: Path) -> None:
        with self._phase(plan, log, step.name):
            code = run(step.script, workdir=step.workdir, on_line=log.line)
            if code != 0:
                log.line(f"<== {step.name} failed with exit code {code}")
                tail = list(log.tail)
                self.reporter.info(f"{step.name} failed; the last {len(tail)} lines "
                                   "of the build log:")
                for line in tail:
                    self.reporter.log(line)
                raise BuildError(
                    f"{plan.component} {plan.version} ({plan.stack}): step {step.name!r} "
                    f"failed with exit code {code}; full log: "
                    f"{out_dir / (plan.stem + '.failed.log')}; last lines: "
                    + " ⏎ ".join(line[:200] for line in tail))

    def _provenance(self, plan: BuildPlan, inputs: _Inputs, base: BaseImage | None,
                    started: datetime) -> Provenance:
        """What the manifest records beside the sources and images (taken after packing)."""
        return Provenance(
            bot_version=__version__,
            recipe=plan.recipe,
            recipe_sha256=recipe_hash(plan.recipe),
            started=utc_iso(started),
            finished=utc_iso(self.clock()),
            base_image=base,
            patches=tuple(PatchRef(p, inputs.patch_sha256.get(p)) for p in plan.patches),
        )

    def _publish(self, plan: BuildPlan, out_dir: Path, work: Path, artifact_tmp: Path,
                 files: tuple[str, ...], inputs: _Inputs, image: BuiltImage, epoch: int,
                 started: float, provenance: Provenance, log: BuildLog) -> BuildResult:
        digest = sha256_file(artifact_tmp)
        size = artifact_tmp.stat().st_size
        name = f"{plan.stem}.tar.gz"
        (work / f"{name}.sha256").write_text(f"{digest}  {name}\n", encoding="utf-8")
        manifest = Manifest(
            component=plan.component,
            version=plan.version,
            stack=plan.stack,
            artifact=name,
            sha256=digest,
            size=size,
            source=inputs.sources[0],
            builder_image=image.id,
            build_image=plan.build_image,
            source_date_epoch=epoch,
            duration=round(time.monotonic() - started, 1),
            extra_sources=tuple(inputs.sources[1:]),
            built_against=inputs.built_against,
            files=files,
            provenance=provenance,
            arch=plan.arch,
        )
        write_manifest(work / f"{plan.stem}.json", manifest)
        for produced in (name, f"{name}.sha256", f"{plan.stem}.json"):
            (work / produced).replace(out_dir / produced)
        log.line(f"artifact {out_dir / name}: {size} bytes, sha256 {digest}")
        return BuildResult(manifest, out_dir / name, out_dir / f"{plan.stem}.json",
                           out_dir / f"{plan.stem}.log", inputs.downloaded, image.built)
