"""The one image builder: images the bot builds, cached by their inputs (the builder,
runtime and sample app images).

An image is tagged `<repository>:<the first 16 hex digits of its inputs hash>` and labelled
(`inputs_label`) with the whole hash: an existing image whose label matches is reused (no
build, no download). Build arguments are never secrets; the log streams to `on_line`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from bot.containers.port import ContainerEngine, OnLine


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


def current_image(engine: ContainerEngine, repository: str, digest: str,
                  label: str) -> str | None:
    """The id of the image built from inputs `digest` (its `label` says so), if there is one."""
    image = engine.image(cached_tag(repository, digest))
    return image.id if image is not None and image.labels.get(label) == digest else None


def ensure_image(engine: ContainerEngine, context: Path, *, repository: str, digest: str,
                 inputs_label: str, buildargs: Mapping[str, str], on_line: OnLine,
                 labels: Mapping[str, str] = MappingProxyType({}),
                 platform: str | None = None) -> BuiltImage:
    """Build `context` as `repository:<digest[:16]>` unless an image with `digest` exists.

    Raises `EngineError` when the build fails (the caller says what to fix)."""
    tag = cached_tag(repository, digest)
    existing = current_image(engine, repository, digest, inputs_label)
    if existing is not None:
        return BuiltImage(tag, existing, built=False)
    args = ", ".join(f"{k}={v}" for k, v in buildargs.items())
    on_line(f"building {tag} from {context}" + (f" ({args})" if args else ""))
    image_id = engine.build_image(context, tag=tag, buildargs=buildargs,
                                  labels={**labels, inputs_label: digest}, on_line=on_line,
                                  platform=platform)
    return BuiltImage(tag, image_id, built=True)
