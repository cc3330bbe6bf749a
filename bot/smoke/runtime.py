"""The runtime image: images/runtime/Dockerfile on the stack's run image, artifacts at /app.

Tagged `release-bot/runtime:<hash>`, the hash covering the Dockerfile, the base image
(reference and id) and the artifacts' sha256 in extraction order: an existing image with the
same inputs is reused. `ensure_image` is the cached build shared with the app images
(bot.smoke.samples) and the test tier's prepared runtime (images/runtime-debian).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import SmokeError, UsageError
from bot.images import BuiltImage, cached_tag, current_image, image_id, inputs_hash
from bot.resources import images_dir
from bot.smoke.plan import RuntimeArtifact

if TYPE_CHECKING:
    import docker

RUNTIME_REPOSITORY = "release-bot/runtime"
INPUTS_LABEL = "org.release-bot.smoke-inputs"


def runtime_dockerfile() -> Path:
    return images_dir() / "runtime" / "Dockerfile"


def ensure_image(client: docker.DockerClient, context: Path, *, repository: str, digest: str,
                 buildargs: Mapping[str, str], on_line: Callable[[str], None]) -> BuiltImage:
    """Build `context` as `repository:<digest[:16]>` unless an image with `digest` exists."""
    import docker.errors

    tag = cached_tag(repository, digest)
    existing = current_image(client, repository, digest, INPUTS_LABEL)
    if existing is not None:
        return BuiltImage(tag, existing, built=False)
    on_line(f"building {tag} from {context}")
    try:
        image, logs = client.images.build(path=str(context), tag=tag, buildargs=dict(buildargs),
                                          labels={INPUTS_LABEL: digest}, rm=True,
                                          forcerm=True, pull=False)
    except docker.errors.BuildError as exc:
        tail = [str(e.get("stream", e.get("error", ""))).strip() for e in exc.build_log]
        raise SmokeError(f"building image {tag} failed: {exc.msg} (last lines: "
                         f"{' | '.join(t for t in tail[-5:] if t)}); fix {context}") from None
    except docker.errors.APIError as exc:
        raise SmokeError(f"building image {tag} failed: {exc.explanation or exc}; check the "
                         f"base image and {context}") from None
    for event in logs:
        stream = event.get("stream", "") if isinstance(event, dict) else ""
        for line in str(stream).splitlines():
            if line.strip():
                on_line(line)
    return BuiltImage(tag, str(image.id), built=True)


def verify_artifact(artifact: RuntimeArtifact) -> None:
    """The tarball exists and matches the sha256 of its manifest."""
    digest = hashlib.sha256()
    try:
        with artifact.path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise UsageError(f"cannot read artifact {artifact.path} ({exc.strerror}); rebuild it "
                         f"with `release-bot build {artifact.component}`") from None
    if digest.hexdigest() != artifact.sha256:
        raise SmokeError(f"artifact {artifact.path} does not match the sha256 of its manifest "
                         f"({artifact.sha256[:12]}…); rebuild it with `release-bot build "
                         f"{artifact.component}`")


def write_runtime_context(dest: Path, artifacts: Iterable[RuntimeArtifact],
                          dockerfile: Path | None = None) -> None:
    """The build context: the Dockerfile and artifacts/NN-<component>.tar.gz in order."""
    shutil.copyfile(dockerfile or runtime_dockerfile(), dest / "Dockerfile")
    folder = dest / "artifacts"
    folder.mkdir()
    for index, artifact in enumerate(artifacts, start=1):
        target = folder / f"{index:02d}-{artifact.component}.tar.gz"
        try:
            os.link(artifact.path, target)  # same filesystem: no copy of a 100 MB tarball
        except OSError:
            shutil.copyfile(artifact.path, target)


def ensure_runtime_image(client: docker.DockerClient, base_image: str,
                         artifacts: tuple[RuntimeArtifact, ...],
                         on_line: Callable[[str], None],
                         dockerfile: Path | None = None) -> BuiltImage:
    dockerfile = dockerfile or runtime_dockerfile()
    if not artifacts or artifacts[0].component != "mono":
        raise UsageError("a runtime image needs the mono artifact first; build mono")
    base_id = image_id(client, base_image)
    if base_id is None:
        raise UsageError(f"the stack's run image {base_image} is not available locally; pull "
                         "or build it (tests: images/stack/make-stack-images.sh), or fix "
                         "run-image in versions.toml")
    for artifact in artifacts:
        verify_artifact(artifact)
    digest = inputs_hash([dockerfile.read_bytes(), base_image.encode(), base_id.encode(),
                          *(f"{a.component}={a.sha256}".encode() for a in artifacts)])
    with tempfile.TemporaryDirectory(prefix="release-bot-runtime-") as tmp:
        write_runtime_context(Path(tmp), artifacts, dockerfile)
        return ensure_image(client, Path(tmp), repository=RUNTIME_REPOSITORY, digest=digest,
                            buildargs={"BASE_IMAGE": base_image}, on_line=on_line)


def prepared_runtime(client: docker.DockerClient, image: str) -> BuiltImage:
    """A runtime image made elsewhere (--runtime-image): it must exist locally."""
    found = image_id(client, image)
    if found is None:
        raise UsageError(f"runtime image {image} does not exist; build it (tests: "
                         "images/runtime-debian) or drop --runtime-image to build one from "
                         "--artifacts")
    return BuiltImage(image, found, built=False)


def has_xsp(client: docker.DockerClient, image: str, run_id: str | None = None) -> bool:
    """Whether the runtime image has an executable /app/bin/xsp4."""
    from bot.smoke.checks import labels, new_run_id, removing

    run_id = run_id or new_run_id()

    container = client.containers.create(image, command=["/bin/sh", "-c",
                                                         "test -x /app/bin/xsp4"],
                                         network_disabled=True,
                                         labels=labels(run_id, "probe"))
    with removing(container):
        container.start()
        status = container.wait(timeout=60)
    return int(status.get("StatusCode", 1)) == 0
