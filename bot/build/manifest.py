"""The build manifest: the JSON written beside every artifact (the contract with publish).

A build leaves `<stem>.tar.gz`, its `.sha256` (sha256sum format), this `<stem>.json` and the
build log `<stem>.log` (`artifact_stem`). The fields are the dataclass fields below; README.md
("What a build manifest records") describes each. Fields added later (`arch`, `provenance`)
are optional when reading, so older manifests still load. The manifest is not part of the
reproducibility promise (duration and times differ run to run); the tarball is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.arch import DEFAULT_ARCH, lane
from bot.errors import BuildError
from bot.files import atomic_write

SCHEMA = 1


def artifact_stem(component: str, version: str, stack: str, *, arch: str = DEFAULT_ARCH,
                  key: bool = False) -> str:
    """The one naming of an artifact's files, without the suffix (.tar.gz, .json, .sha256):
    `mono-6.14.1-heroku-24` in a build output directory, `heroku-24/mono-6.14.1` as a store
    key (`key=True`; bot.store.layout checks each part first). amd64 keeps those names; any
    other architecture is a part of its own: `mono-6.14.1-heroku-24-arm64`,
    `heroku-24/arm64/mono-6.14.1`."""
    if key:
        where = stack if arch == DEFAULT_ARCH else f"{stack}/{arch}"
        return f"{where}/{component}-{version}"
    return f"{component}-{version}-{lane(stack, arch)}"


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
class Recipe:
    """How the build ran, as far as versions.toml and the bot decide it (not the sources)."""

    configure_args: tuple[str, ...] = ()
    make_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    prune: str = "default"
    bootstrap: str = "auto"
    pre_install: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"configure_args": list(self.configure_args), "make_args": list(self.make_args),
                "env": dict(sorted(self.env.items())), "prune": self.prune,
                "bootstrap": self.bootstrap, "pre_install": list(self.pre_install)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        env = data["env"]
        if not isinstance(env, dict):
            raise TypeError("recipe env is not an object")
        return cls(configure_args=_strings(data["configure_args"]),
                   make_args=_strings(data["make_args"]),
                   env={str(k): str(v) for k, v in env.items()},
                   prune=str(data["prune"]), bootstrap=str(data["bootstrap"]),
                   pre_install=_strings(data["pre_install"]))


def utc_iso(moment: datetime) -> str:
    """`2024-05-01T12:00:00Z`: a moment in UTC, to the second (as index.json's times)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipe_hash(recipe: Recipe) -> str:
    """sha256 of the recipe's canonical JSON: sorted keys, no whitespace, UTF-8; lists keep
    their order (the order of arguments matters)."""
    text = json.dumps(recipe.to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class BaseImage:
    """The stack's build image as the engine knows it."""

    id: str  # the image id, sha256:...
    repo_digests: tuple[str, ...] = ()  # repository@sha256:..., as `docker inspect` lists them

    def digest(self, ref: str = "") -> str:
        """The digest that names it: the repo digest of `ref`'s repository (else the first
        one); the image id for an image no registry knows."""
        repository = _repository(ref)
        for candidate in self.repo_digests:
            if candidate.rpartition("@")[0] == repository:
                return candidate
        return self.repo_digests[0] if self.repo_digests else self.id


@dataclass(frozen=True, slots=True)
class PatchRef:
    path: str  # as versions.toml lists it
    sha256: str | None  # None: shipped in the source tree (covered by that source's sha256)


@dataclass(frozen=True, slots=True)
class Provenance:
    bot_version: str
    recipe: Recipe
    recipe_sha256: str
    started: str  # UTC ISO 8601, ...Z
    finished: str
    base_image: BaseImage | None = None
    patches: tuple[PatchRef, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        base = None if self.base_image is None else {
            "id": self.base_image.id, "repo_digests": list(self.base_image.repo_digests)}
        return {"bot_version": self.bot_version, "base_image": base,
                "patches": [{"path": p.path, "sha256": p.sha256} for p in self.patches],
                "recipe": self.recipe.to_dict(), "recipe_sha256": self.recipe_sha256,
                "started": self.started, "finished": self.finished}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        base = data.get("base_image")
        return cls(
            bot_version=str(data["bot_version"]),
            recipe=Recipe.from_dict(data["recipe"]),
            recipe_sha256=str(data["recipe_sha256"]),
            started=str(data["started"]),
            finished=str(data["finished"]),
            base_image=None if base is None else BaseImage(
                id=str(base["id"]), repo_digests=_strings(base.get("repo_digests", []))),
            patches=tuple(PatchRef(path=str(p["path"]),
                                   sha256=None if p.get("sha256") is None else str(p["sha256"]))
                          for p in data.get("patches", [])),
        )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(str(v) for v in value)


def _repository(ref: str) -> str:
    """`heroku/heroku` of `heroku/heroku:24-build` (also of `...@sha256:...`); a registry
    port (`host:5000/x`) is not a tag."""
    name = ref.partition("@")[0]
    head, _, tail = name.rpartition(":")
    return head if head and "/" not in tail else name


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
    provenance: Provenance | None = None  # None: written before provenance was recorded
    schema: int = SCHEMA
    arch: str = DEFAULT_ARCH  # absent in manifests written before architectures: amd64

    @property
    def stem(self) -> str:
        return artifact_stem(self.component, self.version, self.stack, arch=self.arch)

    @property
    def base_image_digest(self) -> str | None:
        """The digest of the builder's base image (`BaseImage.digest`), if recorded."""
        if self.provenance is None or self.provenance.base_image is None:
            return None
        return self.provenance.base_image.digest(self.build_image) or None

    def to_json(self) -> str:
        data = asdict(replace(self, provenance=None))
        data["source"] = {"url": self.source.url, "sha256": self.source.sha256}
        data["extra_sources"] = [asdict(s) for s in self.extra_sources]
        data["files"] = list(self.files)
        if self.arch == DEFAULT_ARCH:
            del data["arch"]  # an amd64 manifest keeps the layout it had before architectures
        if self.provenance is None:
            del data["provenance"]  # as manifests before it: no `"provenance": null`
        else:
            data["provenance"] = self.provenance.to_dict()
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
            provenance=(Provenance.from_dict(data["provenance"])
                        if data.get("provenance") is not None else None),
            schema=int(data.get("schema", SCHEMA)),
            arch=str(data.get("arch", DEFAULT_ARCH)),
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
    expected = manifest.stem + ".tar.gz"
    if manifest.artifact != expected or Path(expected).name != expected:
        # the tarball is looked up beside the manifest: never a path elsewhere
        raise BuildError(f"build manifest {path} names artifact {manifest.artifact[:80]!r}, "
                         f"expected {expected[:80]!r}; rebuild it with `release-bot build`")
    return manifest


def write_manifest(path: Path, manifest: Manifest) -> None:
    atomic_write(path, manifest.to_json(), durable=False)
