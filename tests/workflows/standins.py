"""The vendored action pins and their act stand-ins.

Each pinned action has ``actions/OWNER/REPO/action.real.yml`` (the real metadata, byte for
byte, with a ``# Vendored from https://github.com/OWNER/REPO/blob/SHA/action.yml (tag vX.Y.Z)``
first line) and next to it ``action.yml``, the composite stand-in act runs instead.
PINS.md has the same SHA and tag in its table; :func:`pins` checks that both agree.
act loads each stand-in from a copy (:func:`staged`) that also holds the modules the
stand-ins share (``SHARED``), kept once under ``actions/``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ACTIONS_DIR = Path(__file__).resolve().parent / "actions"
PINS_MD = ACTIONS_DIR / "PINS.md"
# a module beside ACTIONS_DIR's OWNER/ folders -> the stand-ins that run or import it
SHARED = {"artifact_store.py": ("actions/upload-artifact", "actions/download-artifact"),
          "standin_env.py": ("actions/upload-artifact", "actions/download-artifact",
                             "actions/setup-python")}

_VENDORED = re.compile(r"^# Vendored from https://github\.com/(?P<action>[^/\s]+/[^/\s]+)/blob/"
                       r"(?P<sha>[0-9a-f]{40})/action\.ya?ml \(tag (?P<tag>v[0-9][^)\s]*)\)")
_PINS_ROW = re.compile(r"^\|\s*(?P<action>[\w.-]+/[\w.-]+)(?:\s*\([^)]*\))?\s*\|\s*"
                       r"(?P<tag>v[0-9][\w.-]*)\s*\|\s*`(?P<sha>[0-9a-f]{40})`\s*\|")


@dataclass(frozen=True)
class Pin:
    action: str  # OWNER/REPO
    sha: str
    tag: str
    folder: Path  # actions/OWNER/REPO

    @property
    def real(self) -> Path:
        return self.folder / "action.real.yml"

    @property
    def standin(self) -> Path:
        return self.folder / "action.yml"

    @property
    def uses(self) -> str:
        return f"{self.action}@{self.sha}"


def pins_md() -> dict[str, tuple[str, str]]:
    """OWNER/REPO -> (sha, tag) from PINS.md's table."""
    rows: dict[str, tuple[str, str]] = {}
    for line in PINS_MD.read_text().splitlines():
        if m := _PINS_ROW.match(line):
            rows[m["action"]] = (m["sha"], m["tag"])
    return rows


@cache
def pins() -> dict[str, Pin]:
    """OWNER/REPO -> Pin for every vendored action.real.yml; raises when PINS.md disagrees."""
    table = pins_md()
    found: dict[str, Pin] = {}
    for real in sorted(ACTIONS_DIR.glob("*/*/action.real.yml")):
        first = real.read_text().splitlines()[0]
        m = _VENDORED.match(first)
        if m is None:
            raise ValueError(f"{real}: first line is not '# Vendored from …/blob/SHA/action.yml "
                             f"(tag vX.Y.Z)': {first!r}")
        action = m["action"]
        if real.parent.relative_to(ACTIONS_DIR).as_posix() != action:
            raise ValueError(f"{real}: vendored from {action}, but lies in another folder")
        if table.get(action) != (m["sha"], m["tag"]):
            raise ValueError(f"{real}: {action}@{m['sha']} ({m['tag']}) but PINS.md has "
                             f"{table.get(action)}")
        found[action] = Pin(action, m["sha"], m["tag"], real.parent)
    missing = sorted(set(table) - set(found))
    if missing:
        raise ValueError(f"PINS.md lists {missing} without a vendored action.real.yml")
    return found


def staged(root: Path) -> dict[str, Path]:
    """OWNER/REPO -> the stand-in's folder as act loads it: a copy under `root`, with the
    shared modules it runs or imports beside its action.yml."""
    folders: dict[str, Path] = {}
    for action, pin in pins().items():
        folders[action] = shutil.copytree(pin.folder, root / action, dirs_exist_ok=True)
    for module, users in SHARED.items():
        for action in users:
            shutil.copy2(ACTIONS_DIR / module, folders[action] / module)
    return folders


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only), as GitHub reads workflows.

    Plain YAML 1.1 would turn the key `on` (and a job called `off` or `yes`) into a boolean.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                   re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def parse_yaml(text: str, where: str) -> dict[str, Any]:
    doc = yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: not a YAML mapping")
    return doc


def load_yaml(path: Path) -> dict[str, Any]:
    return parse_yaml(path.read_text(), str(path))


def inputs_of(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(k): dict(v or {}) for k, v in (meta.get("inputs") or {}).items()}


def outputs_of(meta: dict[str, Any]) -> set[str]:
    return {str(k) for k in (meta.get("outputs") or {})}
