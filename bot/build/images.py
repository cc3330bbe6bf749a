"""The builder image: images/builder/Dockerfile on top of the stack's build image.

Tagged `release-bot/builder:<hash>` where the hash covers the Dockerfile's bytes, the base
image reference and the base image's id: it is rebuilt only when one of those changes, and
reused (no build, no download) otherwise. The build context is the Dockerfile's directory
alone; the only build argument is BASE_IMAGE (never a secret). Intermediate containers are
removed even when the build fails (`forcerm`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import BuildError
from bot.images import BuiltImage, cached_tag, current_image, image_id, inputs_hash
from bot.resources import images_dir

if TYPE_CHECKING:
    import docker

REPOSITORY = "release-bot/builder"
INPUTS_LABEL = "org.release-bot.builder-inputs"
BASE_LABEL = "org.release-bot.builder-base"


def ensure_builder_image(client: docker.DockerClient, base_ref: str,
                         on_line: Callable[[str], None],
                         directory: Path | None = None) -> BuiltImage:
    directory = directory or images_dir() / "builder"
    dockerfile = directory / "Dockerfile"
    try:
        content = dockerfile.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read {dockerfile} ({exc.strerror}); reinstall release-bot "
                         "(its wheel carries images/) or run it from a checkout") from None
    base_id = _base_image_id(client, base_ref, on_line)
    digest = inputs_hash([content, base_ref.encode(), base_id.encode()])
    tag = cached_tag(REPOSITORY, digest)
    existing = current_image(client, REPOSITORY, digest, INPUTS_LABEL)
    if existing is not None:
        return BuiltImage(tag, existing, built=False)
    on_line(f"building {tag} from {dockerfile} (BASE_IMAGE={base_ref})")
    built_id = _build(client, directory, base_ref, tag, digest, on_line)
    return BuiltImage(tag, built_id, built=True)


def _base_image_id(client: docker.DockerClient, base_ref: str,
                   on_line: Callable[[str], None]) -> str:
    import docker.errors

    found = image_id(client, base_ref)
    if found is not None:
        return found
    on_line(f"pulling {base_ref}")
    try:
        return str(client.images.pull(base_ref).id)
    except docker.errors.APIError as exc:
        raise BuildError(f"the stack's build image {base_ref} is not available "
                         f"({exc.explanation or exc}); pull or build it, or fix "
                         "build-image in versions.toml") from None


def _build(client: docker.DockerClient, directory: Path, base_ref: str, tag: str,
           digest: str, on_line: Callable[[str], None]) -> str:
    import docker.errors

    built_id: str | None = None
    error: str | None = None
    try:
        events: Any = client.api.build(
            path=str(directory), tag=tag, buildargs={"BASE_IMAGE": base_ref},
            labels={INPUTS_LABEL: digest, BASE_LABEL: base_ref},
            rm=True, forcerm=True, pull=False, decode=True,
        )
        for event in events:
            if "stream" in event:
                for line in str(event["stream"]).splitlines():
                    if line.strip():
                        on_line(line)
            if "aux" in event and isinstance(event["aux"], dict) and "ID" in event["aux"]:
                built_id = str(event["aux"]["ID"])
            if "error" in event:
                error = str(event["error"]).strip()
    except docker.errors.APIError as exc:
        error = str(exc.explanation or exc)
    if error is not None or built_id is None:
        raise BuildError(f"building the builder image {tag} failed: {error or 'no image id'}; "
                         "see the log above (the image build needs network for apt)")
    return built_id
