"""bot/files.py: the one sha256-of-a-file, atomic write and sha256 pattern."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.files import atomic_write, is_sha256, sha256_file


def test_sha256_file_matches_hashlib_on_a_file_larger_than_a_read(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: several reads
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_atomic_write_replaces_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "versions.toml"
    target.write_text("old\n")
    target.chmod(0o640)
    atomic_write(target, "new\r\nline\n")
    assert target.read_bytes() == b"new\r\nline\n"  # newlines exactly as given
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["versions.toml"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "index.json"
    target.write_bytes(b"{}")

    def refuse(self: Path, other: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b'{"a": 1}')
    assert target.read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]


@pytest.mark.parametrize(("text", "ok"), [("a" * 64, True), ("A" * 64, False),
                                          ("a" * 63, False), ("a" * 64 + "\n", False)])
def test_is_sha256(text: str, ok: bool) -> None:
    assert is_sha256(text) is ok
