"""CPU architectures a stack can be built for: the one registry, read by configuration
validation, the plan (runner labels), the engine (platforms) and the artifact check.

The names are Debian's and Docker's (`amd64`, `arm64`). A built artifact's ELF files must
all be for its architecture's machine; `foreign_elf` finds the ones that are not.
"""

from __future__ import annotations

import struct
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

DEFAULT_ARCH = "amd64"


@dataclass(frozen=True, slots=True)
class Arch:
    name: str  # versions.toml, store keys, index.json
    platform: str  # what the Docker engine is asked for
    elf_machine: int  # e_machine of its ELF files
    machine: str  # `uname -m`, for messages
    runner: str  # GitHub's hosted runner label that runs it natively


ARCHES: MappingProxyType[str, Arch] = MappingProxyType({
    "amd64": Arch("amd64", "linux/amd64", 62, "x86_64", "ubuntu-24.04"),
    "arm64": Arch("arm64", "linux/arm64", 183, "aarch64", "ubuntu-24.04-arm"),
})

_MACHINES = {a.elf_machine: a.machine for a in ARCHES.values()}


def platform(arch: str) -> str | None:
    """The platform to ask the engine for: None for amd64 (the engine's own, as before
    architectures existed), `linux/<arch>` otherwise."""
    return None if arch == DEFAULT_ARCH else ARCHES[arch].platform


def lane(stack: str, arch: str) -> str:
    """A (stack, architecture) pair as one name, for the files and workflow artifacts of one
    build job: the stack alone for amd64 (as before architectures existed), else
    `<stack>-<arch>` (`heroku-24-arm64`)."""
    return stack if arch == DEFAULT_ARCH else f"{stack}-{arch}"


def describe_build(component: str, version: str, stack: str, arch: str) -> str:
    """One build as messages name it: `mono 6.14.1 (heroku-24)`, the architecture added when
    it is not amd64 (`mono 6.14.1 (heroku-24, arm64)`)."""
    where = stack if arch == DEFAULT_ARCH else f"{stack}, {arch}"
    return f"{component} {version} ({where})"


def elf_machine(header: bytes) -> int | None:
    """e_machine of an ELF header (the first 20 bytes of a file), None if not ELF."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = "<" if header[5] == 1 else ">"
    machine: int = struct.unpack(f"{order}H", header[18:20])[0]
    return machine


def machine_name(machine: int) -> str:
    return _MACHINES.get(machine, f"ELF machine {machine}")


def _elf_members(artifact: Path) -> Iterator[tuple[str, int]]:
    with tarfile.open(artifact, "r:*") as tar:
        for member in tar:
            if not member.isfile() or member.size < 20:
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            machine = elf_machine(fh.read(20))
            if machine is not None:
                yield member.name, machine


def foreign_elf(artifact: Path, arch: str) -> list[tuple[str, str]]:
    """(path, machine) of every ELF file in the artifact that is not for `arch`."""
    want = ARCHES[arch].elf_machine
    return [(name, machine_name(m)) for name, m in _elf_members(artifact) if m != want]
