"""`--version V --sha256 HEX` (bot.commands.options), shared by `plan`, `run` and `build`:
another version than versions.toml's, pinned on the command line because a build only runs
on a verified source.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.options import parse_version
from bot.config import Component, Config
from bot.errors import UsageError
from bot.files import is_sha256
from bot.versions import Version


def override_pin(comp: Component, version: Version | None, sha256: str | None) -> str | None:
    """The sha256 that pins `comp` at `version` when it is not versions.toml's pin (None: use
    versions.toml's). UsageError for an unpinned override, or a sha256 without a version."""
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not is_sha256(sha256):
            raise UsageError(f"--sha256 {sha256[:80]!r} is not a sha256; pass the 64 hex "
                             "digits of the source tarball's checksum")
    if version is None:
        if sha256 is not None:
            raise UsageError("--sha256 pins the source of --version V; pass --version too")
        return None
    if version == comp.version:
        if sha256 is not None and comp.sha256 is not None and sha256 != comp.sha256:
            raise UsageError(f"--sha256 {sha256[:12]}… contradicts versions.toml's pin of "
                             f"{comp.name} {version} ({comp.sha256[:12]}…); check which is "
                             "right and fix versions.toml, or leave --sha256 out")
        return sha256
    if sha256 is None:
        raise UsageError(f"{comp.name} {version} is not pinned (versions.toml pins "
                         f"{comp.version}): a build needs the sha256 of "
                         f"{comp.source_url(version)}; pass --sha256 HEX too, or bump "
                         "versions.toml (`release-bot pr`)")
    if comp.extra_sources:
        raise UsageError(f"{comp.name} has extra sources pinned for {comp.version} only, so "
                         f"--version {version} cannot be built; bump versions.toml instead")
    return sha256


def version_override(config: Config, components: Sequence[str], version_text: str | None,
                     sha256: str | None) -> tuple[Version | None, str | None]:
    """The --version and the pin `override_pin` gives it, for the one component they need
    (None, None when neither option is given)."""
    if version_text is None and sha256 is None:
        return None, None
    if len(set(components)) != 1:
        raise UsageError("--version V and its --sha256 need exactly one --component (the one "
                         "to build at V)")
    version = parse_version(version_text)
    return version, override_pin(config.component(components[0]), version, sha256)
