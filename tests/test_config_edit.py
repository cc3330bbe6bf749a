"""Round-trip edits of versions.toml: exactly the version and sha256 lines change, verified,
written atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.config import load_config, parse_config
from bot.config.edit import set_component, update_file
from bot.errors import ConfigError, UsageError
from bot.files import atomic_write
from bot.versions import Version

DATA = Path(__file__).parent / "data" / "config"
LAYOUT = (DATA / "layout.toml").read_text(encoding="utf-8")
SHIPPED = Path(__file__).resolve().parents[1] / "versions.toml"
SHA_A = "a" * 64
MONO_SHA = "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820"
SHA_B = "0123456789abcdef" * 4


def changed_lines(old: str, new: str) -> dict[int, tuple[str, str]]:
    """{index: (old line, new line)} for a same-length edit (bytes compared line by line)."""
    a, b = old.encode().splitlines(keepends=True), new.encode().splitlines(keepends=True)
    assert len(a) == len(b), "lines were added or removed"
    return {i: (x.decode(), y.decode()) for i, (x, y) in enumerate(zip(a, b, strict=True))
            if x != y}


def index_of(text: str, line: str, *, after: str) -> int:
    lines = text.splitlines()
    start = lines.index(after)
    return next(i for i in range(start, len(lines)) if lines[i] == line)


def test_pinned_component_changes_exactly_version_and_sha256_lines() -> None:
    new = set_component(LAYOUT, "mono", version=Version.parse("6.14.2"), sha256=SHA_A)
    header = "[components.mono]   # the runtime"
    v = index_of(LAYOUT, 'version = "6.14.1"  # keep this comment', after=header)
    s = index_of(LAYOUT, f'sha256 = "{MONO_SHA}"', after=header)
    assert changed_lines(LAYOUT, new) == {
        v: ('version = "6.14.1"  # keep this comment\n',
            'version = "6.14.2"  # keep this comment\n'),
        s: (f'sha256 = "{MONO_SHA}"\n', f'sha256 = "{SHA_A}"\n'),
    }
    config = parse_config(new)
    assert config.component("mono").version == Version.parse("6.14.2")
    assert config.component("mono").sha256 == SHA_A
    assert config.component("xsp") == parse_config(LAYOUT).component("xsp")


def test_literal_quotes_and_tight_equals_are_kept() -> None:
    new = set_component(LAYOUT, "xsp", version=Version.parse("4.8"))
    v = index_of(LAYOUT, "version='4.7.1'", after="[components.xsp]")
    assert changed_lines(LAYOUT, new) == {v: ("version='4.7.1'\n", "version='4.8'\n")}


def test_unpinned_empty_sha256_is_filled_in_place_keeping_its_comment() -> None:
    new = set_component(LAYOUT, "xsp", sha256=SHA_B)
    s = index_of(LAYOUT, 'sha256 = ""   # unpinned until `release-bot pin xsp`',
                 after="[components.xsp]")
    assert changed_lines(LAYOUT, new) == {
        s: ('sha256 = ""   # unpinned until `release-bot pin xsp`\n',
            f'sha256 = "{SHA_B}"   # unpinned until `release-bot pin xsp`\n'),
    }
    assert parse_config(new).component("xsp").pinned


def test_absent_sha256_key_is_added_right_below_version() -> None:
    new = set_component(LAYOUT, "gtk-sharp", version=Version.parse("2.12.46"), sha256=SHA_A)
    old_lines = LAYOUT.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    v = index_of(LAYOUT, 'version = "2.12.45"', after="[components.gtk-sharp]")
    assert new_lines[:v] == old_lines[:v]
    assert new_lines[v] == 'version = "2.12.46"\n'
    assert new_lines[v + 1] == f'sha256 = "{SHA_A}"\n'
    assert new_lines[v + 2:] == old_lines[v + 1:]
    comp = parse_config(new).component("gtk-sharp")
    assert (comp.version.text, comp.sha256) == ("2.12.46", SHA_A)


def test_version_only_leaves_sha256_alone() -> None:
    new = set_component(LAYOUT, "gtk-sharp", version=Version.parse("3.0"))
    assert len(changed_lines(LAYOUT, new)) == 1  # same line count: no sha256 line added
    assert parse_config(new).component("gtk-sharp").sha256 is None


def test_shipped_file_round_trip_edit_is_a_two_line_diff() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    new = set_component(text, "mono", version=Version.parse("6.14.2"), sha256=SHA_A)
    diff = changed_lines(text, new)
    assert len(diff) == 2
    assert sorted(line.split(" =")[0] for line, _ in diff.values()) == ["sha256", "version"]
    assert all(old.split("=")[0] == new_.split("=")[0] for old, new_ in diff.values())


def test_crlf_files_stay_crlf() -> None:
    crlf = LAYOUT.replace("\n", "\r\n")
    new = set_component(crlf, "gtk-sharp", sha256=SHA_A)
    assert "\n" not in new.replace("\r\n", "")
    assert new.count("\r\n") == crlf.count("\r\n") + 1
    assert f'sha256 = "{SHA_A}"\r\n' in new


def test_no_change_returns_identical_text() -> None:
    assert set_component(LAYOUT, "mono", version=Version.parse("6.14.1")) == LAYOUT


def test_unknown_component_raises() -> None:
    with pytest.raises(UsageError, match="did you mean 'mono'"):
        set_component(LAYOUT, "monoo", version=Version.parse("1.0"))


def test_invalid_sha256_is_rejected_by_verification() -> None:
    with pytest.raises(ConfigError, match="sha256"):
        set_component(LAYOUT, "mono", sha256="not-a-sha")


def test_invalid_input_is_rejected_before_editing() -> None:
    broken = LAYOUT.replace('requires = ["mono"]\nbootstrap', 'requires = ["nope"]\nbootstrap')
    with pytest.raises(ConfigError, match="unknown component 'nope'"):
        set_component(broken, "mono", version=Version.parse("6.14.2"))


# -- files -----------------------------------------------------------------------------------

def make_file(tmp_path: Path, mode: int = 0o640) -> Path:
    path = tmp_path / "versions.toml"
    path.write_text(LAYOUT, encoding="utf-8")
    path.chmod(mode)
    os.utime(path, ns=(10**18, 10**18))
    return path


def test_update_file_writes_atomically_and_keeps_mode(tmp_path: Path) -> None:
    path = make_file(tmp_path, 0o640)
    inode = path.stat().st_ino
    assert update_file(path, "mono", version=Version.parse("6.14.2"), sha256=SHA_A) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["versions.toml"]
    assert len(changed_lines(LAYOUT, path.read_text(encoding="utf-8"))) == 2
    comp = load_config(path).component("mono")
    assert (comp.version.text, comp.sha256) == ("6.14.2", SHA_A)


def test_update_file_without_change_does_not_write(tmp_path: Path) -> None:
    path = make_file(tmp_path)
    inode = path.stat().st_ino
    same = update_file(path, "mono", version=Version.parse("6.14.1"),
                       sha256=MONO_SHA)
    assert same is False
    assert path.stat().st_mtime_ns == 10**18
    assert path.stat().st_ino == inode
    assert path.read_text(encoding="utf-8") == LAYOUT


def test_update_file_failure_leaves_file_untouched(tmp_path: Path) -> None:
    path = make_file(tmp_path)
    with pytest.raises(ConfigError):
        update_file(path, "mono", sha256="ABC")
    with pytest.raises(UsageError):
        update_file(path, "nope", version=Version.parse("1.0"))
    assert path.read_text(encoding="utf-8") == LAYOUT
    assert path.stat().st_mtime_ns == 10**18
    assert [p.name for p in tmp_path.iterdir()] == ["versions.toml"]


def test_write_atomic_failure_removes_temp_file(tmp_path: Path) -> None:
    path = make_file(tmp_path)
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "half written \udc80 surrogate cannot be encoded")
    assert path.read_text(encoding="utf-8") == LAYOUT
    assert [p.name for p in tmp_path.iterdir()] == ["versions.toml"]


def test_write_atomic_creates_new_file(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    atomic_write(path, "{}\r\n")
    assert path.read_bytes() == b"{}\r\n"  # newlines written as given
    assert [p.name for p in tmp_path.iterdir()] == ["new.json"]
