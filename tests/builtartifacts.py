"""Build outputs in the builder's shape (bot.build.manifest), without Docker: random bytes.

    path = make_artifact(out, "mono", "6.14.1", "heroku-24", size=4096)
    # out/mono-6.14.1-heroku-24.tar.gz, .tar.gz.sha256 and .json (a real Manifest)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bot.build.manifest import Manifest, SourceRef, artifact_name, manifest_name, write_manifest


@dataclass(frozen=True)
class Built:
    tarball: Path
    manifest: Path
    sha256: str
    size: int

    @property
    def data(self) -> bytes:
        return self.tarball.read_bytes()


def make_artifact(out: Path, component: str, version: str, stack: str, *, size: int = 4096,
                  data: bytes | None = None) -> Built:
    out.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size) if data is None else data
    tarball = out / artifact_name(component, version, stack)
    tarball.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    (out / (tarball.name + ".sha256")).write_text(f"{digest}  {tarball.name}\n")
    manifest = out / manifest_name(component, version, stack)
    write_manifest(manifest, Manifest(
        component=component, version=version, stack=stack, artifact=tarball.name,
        sha256=digest, size=len(body),
        source=SourceRef(url=f"http://upstream.invalid/{component}-{version}.tar.xz",
                         sha256="0" * 64),
        builder_image="sha256:" + "1" * 64, build_image=f"{stack}-build",
        source_date_epoch=1_700_000_000, duration=1.5))
    return Built(tarball, manifest, digest, len(body))


def index_entries(raw: bytes) -> dict[tuple[str, str, str], dict[str, object]]:
    """index.json bytes as {(component, version, stack): entry}."""
    doc = json.loads(raw)
    assert doc["schema"] == 1
    return {(e["component"], e["version"], e["stack"]): e for e in doc["artifacts"]}
