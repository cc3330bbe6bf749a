"""The build manifest: the JSON written beside every artifact (the contract with publish).

A build of COMPONENT VERSION for STACK leaves three files in the output directory:

* ``<component>-<version>-<stack>.tar.gz``         the reproducible tarball of /app
* ``<component>-<version>-<stack>.tar.gz.sha256``  ``<hex>  <file name>`` (sha256sum format)
* ``<component>-<version>-<stack>.json``           this manifest
* (``<component>-<version>-<stack>.log``           the full build log, for people)

Fields (JSON keys are the dataclass field names; ``schema`` is 1):

* ``component``, ``version``, ``stack``: what was built (version is the text of versions.toml).
* ``artifact``: the tarball's file name (no directory), ``sha256`` its hex digest, ``size``
  its byte count.
* ``source``: ``{"url", "sha256"}`` of the main source tarball (verified on the host).
* ``extra_sources``: a list of ``{"name", "url", "sha256"}``, one per extra source.
* ``builder_image``: the builder image id (``sha256:...``) the build ran in;
  ``build_image`` the stack's base build image reference (e.g. ``heroku/heroku:24-build``).
* ``source_date_epoch``: the timestamp every tarball entry carries (see bot.build.tarball).
* ``duration``: wall seconds of the whole build (fetch to manifest), rounded to 0.1.
* ``built_against``: ``{component: {"version", "sha256"}}`` of the artifacts extracted at
  /app before the build (XSP: the Mono it was compiled against); empty for Mono.
* ``files``: every path in the tarball, relative to /app, sorted (directories end in ``/``).
  A dependent build uses it to keep only its own files.

The manifest is not part of the reproducibility promise (duration differs run to run); the
tarball is.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BuildError

SCHEMA = 1


def artifact_stem(component: str, version: str, stack: str) -> str:
    return f"{component}-{version}-{stack}"


def artifact_name(component: str, version: str, stack: str) -> str:
    return artifact_stem(component, version, stack) + ".tar.gz"


def manifest_name(component: str, version: str, stack: str) -> str:
    return artifact_stem(component, version, stack) + ".json"


def log_name(component: str, version: str, stack: str) -> str:
    return artifact_stem(component, version, stack) + ".log"


@dataclass(frozen=True, slots=True)
class SourceRef:
    url: str
    sha256: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Dependency:
    version: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    component: str
    version: str
    stack: str
    artifact: str
    sha256: str
    size: int
    source: SourceRef
    builder_image: str
    build_image: str
    source_date_epoch: int
    duration: float
    extra_sources: tuple[SourceRef, ...] = ()
    built_against: dict[str, Dependency] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    schema: int = SCHEMA

    @property
    def stem(self) -> str:
        return artifact_stem(self.component, self.version, self.stack)

    def to_json(self) -> str:
        data = asdict(self)
        data["source"] = {"url": self.source.url, "sha256": self.source.sha256}
        data["extra_sources"] = [asdict(s) for s in self.extra_sources]
        data["files"] = list(self.files)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            component=str(data["component"]),
            version=str(data["version"]),
            stack=str(data["stack"]),
            artifact=str(data["artifact"]),
            sha256=str(data["sha256"]),
            size=int(data["size"]),
            source=SourceRef(url=str(data["source"]["url"]),
                             sha256=str(data["source"]["sha256"])),
            builder_image=str(data["builder_image"]),
            build_image=str(data.get("build_image", "")),
            source_date_epoch=int(data["source_date_epoch"]),
            duration=float(data["duration"]),
            extra_sources=tuple(SourceRef(url=str(s["url"]), sha256=str(s["sha256"]),
                                          name=str(s.get("name", "")))
                                for s in data.get("extra_sources", [])),
            built_against={str(k): Dependency(version=str(v["version"]),
                                              sha256=str(v["sha256"]))
                           for k, v in data.get("built_against", {}).items()},
            files=tuple(str(f) for f in data.get("files", [])),
            schema=int(data.get("schema", SCHEMA)),
        )


def load_manifest(path: Path) -> Manifest:
    """Read a manifest; a missing, unreadable or malformed one is a BuildError naming the fix."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"no build manifest at {path}; run `release-bot build` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BuildError(f"cannot read build manifest {path} ({exc}); rebuild the "
                         "artifact with `release-bot build`") from None
    if not isinstance(data, dict):
        raise BuildError(f"build manifest {path} is not a JSON object; rebuild it")
    try:
        manifest = Manifest.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise BuildError(f"build manifest {path} lacks or mangles field {exc}; rebuild "
                         "the artifact with `release-bot build`") from None
    expected = artifact_name(manifest.component, manifest.version, manifest.stack)
    if manifest.artifact != expected or Path(expected).name != expected:
        # the tarball is looked up beside the manifest: never a path elsewhere
        raise BuildError(f"build manifest {path} names artifact {manifest.artifact[:80]!r}, "
                         f"expected {expected[:80]!r}; rebuild it with `release-bot build`")
    return manifest


def write_manifest(path: Path, manifest: Manifest) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(path)
