"""The runtime image: images/runtime/Dockerfile on the stack's run image, artifacts at /app.

Tagged `release-bot/runtime:<hash>`, the hash covering the Dockerfile, the base image
(reference and id) and the artifacts' sha256 in extraction order: an existing image with the
same inputs is reused. `smoke_image` is the cached build (bot.containers.images) shared with
the app images (bot.smoke.samples) and the test tier's prepared runtime
(images/runtime-debian), failing as a smoke failure.
"""

from __future__ import annotations

import collections
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.containers.images import BuiltImage, cached_tag, ensure_image, inputs_hash
from bot.containers.port import ContainerEngine, ContainerSpec, EngineError, OnLine
from bot.errors import SmokeError, UsageError
from bot.files import sha256_file
from bot.resources import images_dir
from bot.smoke.checks import labels
from bot.smoke.plan import RuntimeArtifact

RUNTIME_REPOSITORY = "release-bot/runtime"
INPUTS_LABEL = "org.release-bot.smoke-inputs"


def runtime_dockerfile() -> Path:
    return images_dir() / "runtime" / "Dockerfile"


def smoke_image(engine: ContainerEngine, context: Path, *, repository: str, digest: str,
                buildargs: Mapping[str, str], on_line: OnLine,
                platform: str | None = None) -> BuiltImage:
    """Build `context` as `repository:<digest[:16]>` unless an image with `digest` exists."""
    tail: collections.deque[str] = collections.deque(maxlen=5)

    def line(text: str) -> None:
        tail.append(text.strip())
        on_line(text)

    try:
        return ensure_image(engine, context, repository=repository, digest=digest,
                            inputs_label=INPUTS_LABEL, buildargs=buildargs, on_line=line,
                            platform=platform)
    except EngineError as exc:
        raise SmokeError(f"building image {cached_tag(repository, digest)} failed: {exc} (last "
                         f"lines: {' | '.join(tail)}); fix {context} or its base "
                         "image") from None


def verify_artifact(artifact: RuntimeArtifact) -> None:
    """The tarball exists and matches the sha256 of its manifest."""
    try:
        digest = sha256_file(artifact.path)
    except OSError as exc:
        raise UsageError(f"cannot read artifact {artifact.path} ({exc.strerror}); rebuild it "
                         f"with `release-bot build {artifact.component}`") from None
    if digest != artifact.sha256:
        raise SmokeError(f"artifact {artifact.path} does not match the sha256 of its manifest "
                         f"({artifact.sha256[:12]}…); rebuild it with `release-bot build "
                         f"{artifact.component}`")


def write_runtime_context(dest: Path, artifacts: Iterable[RuntimeArtifact]) -> None:
    """The build context: the Dockerfile and artifacts/NN-<component>.tar.gz in order."""
    shutil.copyfile(runtime_dockerfile(), dest / "Dockerfile")
    folder = dest / "artifacts"
    folder.mkdir()
    for index, artifact in enumerate(artifacts, start=1):
        target = folder / f"{index:02d}-{artifact.component}.tar.gz"
        try:
            os.link(artifact.path, target)  # same filesystem: no copy of a 100 MB tarball
        except OSError:
            shutil.copyfile(artifact.path, target)


def ensure_runtime_image(engine: ContainerEngine, base_image: str,
                         artifacts: tuple[RuntimeArtifact, ...], on_line: OnLine,
                         platform: str | None = None) -> BuiltImage:
    dockerfile = runtime_dockerfile()
    if not artifacts or artifacts[0].component != "mono":
        raise UsageError("a runtime image needs the mono artifact first; build mono")
    base = engine.image(base_image)
    if base is None:
        raise UsageError(f"the stack's run image {base_image} is not available locally; pull "
                         "or build it (tests: images/stack/make-stack-images.sh), or fix "
                         "run-image in versions.toml")
    for artifact in artifacts:
        verify_artifact(artifact)
    digest = inputs_hash([dockerfile.read_bytes(), base_image.encode(), base.id.encode(),
                          *(f"{a.component}={a.sha256}".encode() for a in artifacts)])
    with tempfile.TemporaryDirectory(prefix="release-bot-runtime-") as tmp:
        write_runtime_context(Path(tmp), artifacts)
        return smoke_image(engine, Path(tmp), repository=RUNTIME_REPOSITORY, digest=digest,
                           buildargs={"BASE_IMAGE": base_image}, on_line=on_line,
                           platform=platform)


def prepared_runtime(engine: ContainerEngine, image: str) -> BuiltImage:
    """A runtime image made elsewhere (--runtime-image): it must exist locally."""
    found = engine.image(image)
    if found is None:
        raise UsageError(f"runtime image {image} does not exist; build it (tests: "
                         "images/runtime-debian) or drop --runtime-image to build one from "
                         "--artifacts")
    return BuiltImage(image, found.id, built=False)


def has_xsp(engine: ContainerEngine, image: str, run_id: str, platform: str | None) -> bool:
    """Whether the runtime image has an executable /app/bin/xsp4."""
    spec = ContainerSpec(image, command=("/bin/sh", "-c", "test -x /app/bin/xsp4"),
                         labels=labels(run_id, "probe"), platform=platform)
    with engine.session(spec) as container:
        return container.wait(60) == 0
