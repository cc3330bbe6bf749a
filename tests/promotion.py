"""A buildpack configuration and the artifacts its pull-request run leaves, shaped like
`release-bot run --out` (+ `builder-inputs`): manifests that match versions.toml exactly,
for the promotion tests, without Docker.

    config = write_config(tmp_path)
    files = stack_artifact(config, "heroku-24")       # {path in the zip: bytes}
    files = stack_artifact(config, "heroku-24", version="9.9")   # a manifest for another version
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bot.build.manifest import (
    BaseImage,
    Dependency,
    Manifest,
    Provenance,
    SourceRef,
    artifact_stem,
    recipe_hash,
)
from bot.build.plan import plan_build
from bot.config import Config, load_config
from bot.promote.evidence import builder_inputs
from tests.configs import component_table, heroku_stacks

OWNER, NAME = "acme", "buildpack"
REPOSITORY = f"{OWNER}/{NAME}"
MONO_PIN = "a" * 64
XSP_PIN = "b" * 64
STACKS = ("heroku-22", "heroku-24")

VERSIONS = (heroku_stacks()
            + component_table("mono", "6.14.1", "https://upstream.invalid/mono-{version}.tar.xz",
                              MONO_PIN, configure_args=["--disable-nls"])
            + component_table("xsp", "4.7.1", "https://upstream.invalid/xsp-{version}.tar.gz",
                              XSP_PIN, requires=["mono"]))


def write_config(folder: Path, text: str = VERSIONS) -> Config:
    path = folder / "versions.toml"
    path.write_text(text)
    return load_config(path)


def manifest_for(config: Config, component: str, stack: str, data: bytes, *,
                 version: str | None = None,
                 built_against: dict[str, Dependency] | None = None) -> Manifest:
    """The manifest a build of `component` for `stack` under `config` records for `data`."""
    comp = config.component(component)
    ver = version or comp.version.text
    recipe = plan_build(config, component, stack).recipe
    return Manifest(
        component=component, version=ver, stack=stack,
        artifact=artifact_stem(component, ver, stack) + ".tar.gz",
        sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        source=SourceRef(url=comp.source_url(), sha256=comp.sha256 or ""),
        builder_image="sha256:" + "1" * 64, build_image=config.stack(stack).build_image,
        source_date_epoch=1_700_000_000, duration=61.5, built_against=built_against or {},
        provenance=Provenance(bot_version="0.1.0", recipe=recipe,
                              recipe_sha256=recipe_hash(recipe),
                              started="2026-01-01T12:00:00Z", finished="2026-01-01T12:01:01Z",
                              base_image=BaseImage("sha256:" + "2" * 64,
                                                   ("heroku/heroku@sha256:" + "3" * 64,))))


def stack_artifact(config: Config, stack: str, *, version: str | None = None,
                   size: int = 2048) -> dict[str, bytes]:
    """The files of `release-bot-stack-<stack>`: Mono and XSP (built against that Mono),
    their sidecars, the smoke results and the builder inputs."""
    files: dict[str, bytes] = {}
    mono_data = os.urandom(size)
    mono = manifest_for(config, "mono", stack, mono_data, version=version)
    xsp_data = os.urandom(size // 2)
    xsp = manifest_for(config, "xsp", stack, xsp_data,
                       built_against={"mono": Dependency(mono.version, mono.sha256)})
    for m, data in ((mono, mono_data), (xsp, xsp_data)):
        files[m.artifact] = data
        files[m.artifact + ".sha256"] = f"{m.sha256}  {m.artifact}\n".encode()
        files[f"{m.stem}.json"] = m.to_json().encode()
    files[f"smoke/{stack}.json"] = json.dumps([
        {"stack": stack, "name": "console", "passed": True, "seconds": 1.25, "detail": "ok"},
        {"stack": stack, "name": "web", "passed": True, "seconds": 2.5, "detail": "HTTP 200"},
    ]).encode()
    files[f"builder/{stack}.json"] = json.dumps(
        {"schema": 1, "stack": stack, **builder_inputs().to_dict()}).encode()
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder
