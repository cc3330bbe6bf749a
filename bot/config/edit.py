"""Round-trip edits of versions.toml for the PR bot and `pin`.

tomlkit keeps comments, order and layout. After each edit the result is parsed again and
compared with the original: exactly the intended values must have changed, nothing else.
Files are written atomically (temp file in the same folder + rename).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli
import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import String, StringType, Table

from bot.config.fields import Locator
from bot.config.load import parse_config
from bot.errors import ConfigError
from bot.files import atomic_write
from bot.versions import Version


def set_component(
    text: str,
    component: str,
    *,
    version: Version | None = None,
    sha256: str | None = None,
    path: str = "versions.toml",
) -> str:
    """Return `text` with the component's `version` and/or `sha256` replaced.

    Verifies the result: it still loads as a valid config, and the only differences from the
    original are the requested values. Raises ConfigError otherwise.
    """
    original = text
    config = parse_config(text, path)  # validates the input (and the component name)
    config.component(component)
    if sha256 is not None and "sha256" not in _component_keys(text, component):
        text = _insert_line_after_version(text, component, f'sha256 = "{sha256}"', path)
    doc = tomlkit.parse(text)
    table = doc["components"][component]
    # A table split by other tables (e.g. its [[...upstream]] further down) is a proxy.
    if not isinstance(table, Table | OutOfOrderTableProxy):
        raise ConfigError(path, "component is not a plain table", key=f"components.{component}",
                          fix="write it as [components.NAME]")
    if version is not None:
        table["version"] = _like(table.get("version"), version.text)
    if sha256 is not None:
        table["sha256"] = _like(table.get("sha256"), sha256)
    new_text = tomlkit.dumps(doc)
    _verify(original, new_text, component, version, sha256, path)
    return new_text


def _like(old: object, value: str) -> String:
    """`value` as a TOML string quoted like the one it replaces ('literal' or "basic")."""
    literal = isinstance(old, String) and old.type == StringType.SLL
    return tomlkit.string(value, literal=literal)


def _component_keys(text: str, component: str) -> set[str]:
    data: dict[str, Any] = tomli.loads(text)
    return set(data["components"][component])


def _insert_line_after_version(text: str, component: str, line: str, path: str) -> str:
    """Add a key line right below the component's `version` line (keeps all else as is)."""
    number = Locator(text).find(("components", component, "version"))
    if number is None:
        raise ConfigError(path, "cannot find the version line", key=f"components.{component}",
                          fix=f"write version = ... directly under [components.{component}]")
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines[number - 1].endswith("\r\n") else "\n"
    if not lines[number - 1].endswith(("\n", "\r")):
        lines[number - 1] += newline
    lines.insert(number, line + newline)
    return "".join(lines)


def _verify(old: str, new: str, component: str, version: Version | None, sha256: str | None,
            path: str) -> None:
    before: dict[str, Any] = tomli.loads(old)
    after: dict[str, Any] = tomli.loads(new)
    expected = before
    comp = dict(expected["components"][component])
    if version is not None:
        comp["version"] = version.text
    if sha256 is not None:
        comp["sha256"] = sha256
    expected = {**expected, "components": {**expected["components"], component: comp}}
    if after != expected:
        raise ConfigError(path, "edit changed more than the intended values",
                          key=f"components.{component}", fix="report this as a bug")
    parse_config(new, path)


def update_file(path: str | Path, component: str, *, version: Version | None = None,
                sha256: str | None = None) -> bool:
    """Edit the file in place. Returns False (and writes nothing) when nothing changes."""
    p = Path(path)
    old = p.read_text(encoding="utf-8")
    new = set_component(old, component, version=version, sha256=sha256, path=str(p))
    if new == old:
        return False
    atomic_write(p, new)
    return True
