"""versions.toml texts the tests share: Heroku's two stacks, and a component's table."""

from __future__ import annotations

import json

MONO_SOURCE = "https://dl.winehq.org/mono/sources/mono/mono-{version}.tar.xz"
XSP_SOURCE = "https://github.com/mono/xsp/archive/refs/tags/{version}.tar.gz"


def heroku_stacks(arches: str | None = None) -> str:
    """heroku-22 and heroku-24 on Heroku's images; `arches` (TOML) for heroku-24."""
    text = """
[stacks.heroku-22]
build-image = "heroku/heroku:22-build"
run-image = "heroku/heroku:22"

[stacks.heroku-24]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"
"""
    return text + (f"arches = {arches}\n" if arches is not None else "")


def component_table(name: str, version: str, source: str, sha256: str, **keys: object) -> str:
    """[components.NAME]; `keys` with `_` for `-` (configure_args = [...])."""
    lines = [f"\n[components.{name}]", f'version = "{version}"', f'source = "{source}"',
             f'sha256 = "{sha256}"']
    lines += [f"{k.replace('_', '-')} = {json.dumps(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"
