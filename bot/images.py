"""Images the bot builds, cached by their inputs (the builder, runtime and sample app images).

An image is tagged `<repository>:<the first 16 hex digits of its inputs hash>` and labelled
with the whole hash: an existing image whose label matches is reused (no build, no download).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker


@dataclass(frozen=True, slots=True)
class BuiltImage:
    tag: str
    id: str
    built: bool  # False: an image with the same inputs was reused


def inputs_hash(parts: Iterable[bytes]) -> str:
    """sha256 over length-prefixed parts (so no two different part lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def file_parts(files: Iterable[Path]) -> Iterator[bytes]:
    """The inputs of a build context's files: each one's name, then its bytes."""
    for f in files:
        yield f.name.encode()
        yield f.read_bytes()


def cached_tag(repository: str, digest: str) -> str:
    return f"{repository}:{digest[:16]}"


def image_id(client: docker.DockerClient, ref: str) -> str | None:
    """The id of the local image `ref`, None when there is none."""
    import docker.errors

    try:
        return str(client.images.get(ref).id)
    except docker.errors.ImageNotFound:
        return None


def current_image(client: docker.DockerClient, repository: str, digest: str,
                  label: str) -> str | None:
    """The id of the image built from inputs `digest` (its `label` says so), if there is one."""
    import docker.errors

    try:
        image = client.images.get(cached_tag(repository, digest))
    except docker.errors.ImageNotFound:
        return None
    return str(image.id) if image.labels.get(label) == digest else None
