"""Build outputs in the builder's shape (bot.build.manifest), without Docker: random bytes.

    path = make_artifact(out, "mono", "6.14.1", "heroku-24", size=4096)
    # out/mono-6.14.1-heroku-24.tar.gz, .tar.gz.sha256 and .json (a real Manifest)
    make_artifact(out, "xsp", "4.7.1", "heroku-24", base_image=BaseImage("sha256:..."))
    # ... whose manifest records a provenance with that builder base image
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bot.build.manifest import (
    BaseImage,
    Manifest,
    Provenance,
    Recipe,
    SourceRef,
    artifact_stem,
    recipe_hash,
    write_manifest,
)


@dataclass(frozen=True)
class Built:
    tarball: Path
    manifest: Path
    sha256: str
    size: int

    @property
    def data(self) -> bytes:
        return self.tarball.read_bytes()


def sample_provenance(base_image: BaseImage | None = None) -> Provenance:
    recipe = Recipe(configure_args=("--disable-nls",), env={"LANG": "C.UTF-8"})
    return Provenance(bot_version="0.1.0", recipe=recipe, recipe_sha256=recipe_hash(recipe),
                      started="2024-05-01T12:00:00Z", finished="2024-05-01T12:30:00Z",
                      base_image=base_image)


def make_artifact(out: Path, component: str, version: str, stack: str, *, size: int = 4096,
                  data: bytes | None = None, base_image: BaseImage | None = None) -> Built:
    """Without `base_image` the manifest has no provenance (as manifests before it)."""
    out.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size) if data is None else data
    stem = artifact_stem(component, version, stack)
    tarball = out / f"{stem}.tar.gz"
    tarball.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    (out / (tarball.name + ".sha256")).write_text(f"{digest}  {tarball.name}\n")
    manifest = out / f"{stem}.json"
    write_manifest(manifest, Manifest(
        component=component, version=version, stack=stack, artifact=tarball.name,
        sha256=digest, size=len(body),
        source=SourceRef(url=f"http://upstream.invalid/{component}-{version}.tar.xz",
                         sha256="0" * 64),
        builder_image="sha256:" + "1" * 64, build_image=f"{stack}-build",
        source_date_epoch=1_700_000_000, duration=1.5,
        provenance=None if base_image is None else sample_provenance(base_image)))
    return Built(tarball, manifest, digest, len(body))


def index_entries(raw: bytes) -> dict[tuple[str, str, str], dict[str, object]]:
    """index.json bytes as {(component, version, stack): entry}."""
    doc = json.loads(raw)
    assert doc["schema"] == 1
    return {(e["component"], e["version"], e["stack"]): e for e in doc["artifacts"]}
