"""The builder image: images/builder/Dockerfile on top of the stack's build image.

Tagged `release-bot/builder:<hash>` where the hash covers the Dockerfile's bytes, the base
image reference and the base image's id: it is rebuilt only when one of those changes, and
reused (no build, no download) otherwise. The build context is the Dockerfile's directory
alone; the only build argument is BASE_IMAGE (never a secret). Intermediate containers are
removed even when the build fails.
"""

from __future__ import annotations

from bot.arch import DEFAULT_ARCH, platform
from bot.build.manifest import BaseImage
from bot.containers.images import BuiltImage, cached_tag, ensure_image, inputs_hash
from bot.containers.port import ContainerEngine, EngineError, OnLine
from bot.errors import BuildError
from bot.resources import images_dir

REPOSITORY = "release-bot/builder"
INPUTS_LABEL = "org.release-bot.builder-inputs"
BASE_LABEL = "org.release-bot.builder-base"


def ensure_builder_image(engine: ContainerEngine, base_ref: str, on_line: OnLine, *,
                         arch: str = DEFAULT_ARCH) -> BuiltImage:
    directory = images_dir() / "builder"
    dockerfile = directory / "Dockerfile"
    try:
        content = dockerfile.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read {dockerfile} ({exc.strerror}); reinstall release-bot "
                         "(its wheel carries images/) or run it from a checkout") from None
    base_id = _base_image_id(engine, base_ref, on_line, arch)
    # amd64 keeps the hash it had before architectures existed; others add their name
    parts = [content, base_ref.encode(), base_id.encode()]
    digest = inputs_hash(parts if arch == DEFAULT_ARCH else [*parts, arch.encode()])
    try:
        return ensure_image(engine, directory, repository=REPOSITORY, digest=digest,
                            inputs_label=INPUTS_LABEL, buildargs={"BASE_IMAGE": base_ref},
                            labels={BASE_LABEL: base_ref}, on_line=on_line,
                            platform=platform(arch))
    except EngineError as exc:
        raise BuildError(f"building the builder image {cached_tag(REPOSITORY, digest)} "
                         f"failed: {exc}; see the log above (the image build needs network "
                         "for apt)") from None


def _base_image_id(engine: ContainerEngine, base_ref: str, on_line: OnLine, arch: str) -> str:
    found = base_image(engine, base_ref)
    if found is not None:
        return found.id
    on_line(f"pulling {base_ref}")
    try:
        return engine.pull(base_ref, platform(arch))
    except EngineError as exc:
        raise BuildError(f"the stack's build image {base_ref} is not available ({exc}); "
                         "pull or build it, or fix build-image in versions.toml") from None


def base_image(engine: ContainerEngine, ref: str) -> BaseImage | None:
    """The stack's build image as the engine knows it (its id and RepoDigests), or None."""
    try:
        image = engine.image(ref)
    except EngineError as exc:
        raise BuildError(f"cannot inspect the stack's build image {ref} ({exc}); check the "
                         "Docker engine") from None
    return None if image is None else BaseImage(image.id, image.repo_digests)
