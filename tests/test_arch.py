"""bot/arch.py: the architecture registry and the ELF check of a built artifact."""

from __future__ import annotations

import io
import shutil
import struct
import tarfile
from pathlib import Path

import pytest

from bot.arch import ARCHES, elf_machine, foreign_elf


def header(machine: int, *, little: bool = True) -> bytes:
    order = "<" if little else ">"
    return (b"\x7fELF" + bytes([2, 1 if little else 2, 1]) + b"\x00" * 9
            + struct.pack(f"{order}HH", 2, machine))


def test_headers_are_read_in_their_byte_order() -> None:
    assert elf_machine(header(183)) == 183
    assert elf_machine(header(62, little=False)) == 62
    assert elf_machine(b"#!/bin/sh\n" + b"x" * 20) is None
    assert elf_machine(b"\x7fELF") is None  # too short


def test_this_machines_binaries_are_its_architecture() -> None:
    true = Path(shutil.which("true") or "/bin/true")
    machine = elf_machine(true.read_bytes()[:20])
    assert machine in {a.elf_machine for a in ARCHES.values()}


def artifact(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_foreign_elf_names_every_binary_of_another_machine(tmp_path: Path, arch: str) -> None:
    own = ARCHES[arch].elf_machine
    other = next(a for a in ARCHES.values() if a.name != arch)
    path = artifact(tmp_path, {"bin/mono": header(own) + b"\x00" * 64,
                               "lib/libmonosgen-2.0.so": header(other.elf_machine) + b"\x00",
                               "lib/mono/4.5/mscorlib.dll": b"MZ" + b"\x00" * 64,
                               "bin/mcs": b"#!/bin/sh\nexec mono mcs.exe\n"})
    assert foreign_elf(path, arch) == [("lib/libmonosgen-2.0.so", other.machine)]


def test_runner_labels_are_githubs_native_ones() -> None:
    assert ARCHES["amd64"].runner == "ubuntu-24.04"
    assert ARCHES["arm64"].runner == "ubuntu-24.04-arm"
