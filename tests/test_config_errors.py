"""Every bad versions.toml from issue 2 item 3 through the real CLI: exit 2, one line naming the
file, the line, the key path and the fix, and the file left byte-for-byte untouched."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError, UsageError
from tests.clirunner import run_cli

DATA = Path(__file__).parent / "data" / "config"
VALID = (DATA / "valid.toml").read_text(encoding="utf-8")
SHIPPED = Path(__file__).resolve().parents[1] / "versions.toml"
OLD_MTIME_NS = 1_000_000_000 * 10**9  # 2001: any write would move it


@dataclass
class Failure:
    path: Path
    text: str
    message: str

    def line_of(self, needle: str, *, after: str | None = None) -> int:
        """1-based number of the one line containing `needle` (below the line `after`)."""
        lines = self.text.splitlines()
        start = 0
        if after is not None:
            start = next(i for i, line in enumerate(lines) if after in line) + 1
        hits = [i + 1 for i, line in enumerate(lines) if i >= start and needle in line]
        assert hits, f"{needle!r} not in the test input"
        return hits[0]

    def assert_at(self, needle: str, *, after: str | None = None) -> None:
        assert self.message.startswith(f"error: {self.path}:{self.line_of(needle, after=after)}: "
                                       ), self.message


def check_fails(tmp_path: Path, text: str) -> Failure:
    path = tmp_path / "versions.toml"
    path.write_bytes(text.encode("utf-8"))
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    before = path.read_bytes()
    result = run_cli(["--config", str(path), "check"])
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == OLD_MTIME_NS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["versions.toml"]  # no temp files
    assert result.code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = lines[0]
    assert str(path) in message
    return Failure(path, text, message)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_valid_fixture_passes(tmp_path: Path) -> None:
    path = tmp_path / "versions.toml"
    path.write_text(VALID, encoding="utf-8")
    result = run_cli(["--config", str(path), "check"])
    assert result.code == 0, result.output


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('requires = ["mono"]', 'requires = ["mono",, "x"]'),
        ('version = "6.14.1"', "version = 6.14.1"),
        ("[components.xsp]", "[components.xsp"),
    ],
)
def test_toml_syntax_error(tmp_path: Path, old: str, new: str) -> None:
    f = check_fails(tmp_path, replace_once(VALID, old, new))
    assert "TOML syntax error" in f.message
    f.assert_at(new)
    assert "fix the TOML syntax" in f.message


def test_toml_syntax_error_unterminated_string(tmp_path: Path) -> None:
    text = replace_once(VALID, 'version = "4.7.1"', 'version = "4.7.1')
    f = check_fails(tmp_path, text)
    assert "TOML syntax error" in f.message
    f.assert_at('version = "4.7.1')


def test_toml_syntax_error_at_end_of_document_still_names_a_line(tmp_path: Path) -> None:
    text = VALID + "make-args = [\n"
    f = check_fails(tmp_path, text)
    f.assert_at("make-args = [")


def test_duplicate_key(tmp_path: Path) -> None:
    text = replace_once(VALID, 'bootstrap = "autogen"\n',
                        'bootstrap = "autogen"\nversion = "4.7.2"\n')
    f = check_fails(tmp_path, text)
    f.assert_at('version = "4.7.2"')


@pytest.mark.parametrize(
    ("bad", "good", "after"),
    [
        ("sha265", "sha256", "[components.mono]"),
        ("configure_args", "configure-args", "[components.mono]"),
        ("build_image", "build-image", "[stacks.heroku-24]"),
        ("patern", "pattern", "[[components.xsp.upstream]]"),
    ],
)
def test_unknown_key_did_you_mean(tmp_path: Path, bad: str, good: str, after: str) -> None:
    lines = VALID.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    at = next(i for i in range(start, len(lines)) if lines[i].startswith(good + " "))
    lines[at] = lines[at].replace(good, bad, 1)
    f = check_fails(tmp_path, "".join(lines))
    assert "unknown key" in f.message
    assert f"did you mean '{good}'?" in f.message
    f.assert_at(f"{bad} =", after=after)


def test_unknown_key_without_close_match_lists_allowed_keys(tmp_path: Path) -> None:
    text = replace_once(VALID, 'bootstrap = "autogen"\n', 'bootstrap = "autogen"\nzzz = 1\n')
    f = check_fails(tmp_path, text)
    assert "components.xsp.zzz" in f.message
    assert "remove it; allowed keys:" in f.message
    f.assert_at("zzz = 1")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    f = check_fails(tmp_path, "componets = 1\n" + VALID)
    assert "componets: unknown key" in f.message
    assert "did you mean 'components'?" in f.message
    f.assert_at("componets = 1")


def test_missing_source(tmp_path: Path) -> None:
    text = replace_once(
        VALID, 'source = "https://github.com/mono/xsp/archive/refs/tags/{version}.tar.gz"\n', "")
    f = check_fails(tmp_path, text)
    assert "components.xsp:" in f.message
    assert "missing required key 'source'" in f.message
    assert "add source = ..." in f.message
    f.assert_at("[components.xsp]")


def test_missing_run_image(tmp_path: Path) -> None:
    text = replace_once(VALID, 'run-image = "heroku/heroku:24"\n', "")
    f = check_fails(tmp_path, text)
    assert "stacks.heroku-24:" in f.message
    assert "'run-image'" in f.message
    f.assert_at("[stacks.heroku-24]")


def test_wrongly_typed_version(tmp_path: Path) -> None:
    text = replace_once(VALID, 'version = "6.14.1"', "version = 6.14")
    f = check_fails(tmp_path, text)
    assert "components.mono.version:" in f.message
    assert "expected a string, got a number" in f.message
    assert 'write version = "6.14.1"' in f.message
    f.assert_at("version = 6.14")


def test_wrongly_typed_requires(tmp_path: Path) -> None:
    text = replace_once(VALID, 'requires = ["mono"]', 'requires = "mono"')
    f = check_fails(tmp_path, text)
    assert "components.xsp.requires:" in f.message
    assert "expected an array of strings, got a string" in f.message
    f.assert_at('requires = "mono"')


@pytest.mark.parametrize("bad", ["6.14.x", "6.14.1;rm -rf /", "٦.١٤", "1.2.3.4.5.6.7"])
def test_version_that_does_not_parse(tmp_path: Path, bad: str) -> None:
    text = replace_once(VALID, 'version = "4.7.1"', f'version = "{bad}"')
    f = check_fails(tmp_path, text)
    assert "components.xsp.version:" in f.message
    assert "is not a version" in f.message
    assert 'write a version like "6.14.1"' in f.message
    f.assert_at(f'version = "{bad}"')


@pytest.mark.parametrize(
    "bad",
    [
        "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d082",  # 63
        "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d08200",  # 65
        "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d082g",  # not hex
        "sha256:3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820",
    ],
)
def test_sha256_not_64_hex(tmp_path: Path, bad: str) -> None:
    text = replace_once(
        VALID, 'sha256 = "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820"',
        f'sha256 = "{bad}"')
    f = check_fails(tmp_path, text)
    assert "components.mono.sha256:" in f.message
    assert "64" in f.message and "hex" in f.message
    assert "release-bot pin" in f.message
    f.assert_at(f'sha256 = "{bad}"')


def test_source_without_version_placeholder(tmp_path: Path) -> None:
    text = replace_once(VALID, "mono/mono-{version}.tar.xz", "mono/mono-latest.tar.xz")
    f = check_fails(tmp_path, text)
    assert "components.mono.source:" in f.message
    assert "{version}" in f.message
    assert "mono-{version}.tar.xz" in f.message.split("(", 1)[1]  # the fix shows the shape
    f.assert_at("mono-latest.tar.xz")


@pytest.mark.parametrize("scheme", ["ftp", "file", "git"])
def test_source_with_other_scheme(tmp_path: Path, scheme: str) -> None:
    text = replace_once(VALID, 'source = "https://dl.winehq.org',
                        f'source = "{scheme}://dl.winehq.org')
    f = check_fails(tmp_path, text)
    assert "components.mono.source:" in f.message
    assert "https://" in f.message
    assert "use an https:// URL" in f.message
    f.assert_at(f'source = "{scheme}://')


def test_requires_unknown_component(tmp_path: Path) -> None:
    text = replace_once(VALID, 'requires = ["mono"]', 'requires = ["mnoo"]')
    f = check_fails(tmp_path, text)
    assert "components.xsp.requires[0]:" in f.message
    assert "unknown component 'mnoo'" in f.message
    assert "did you mean 'mono'?" in f.message
    f.assert_at('requires = ["mnoo"]')


def test_requires_cycle(tmp_path: Path) -> None:
    text = replace_once(VALID, "requires = []", 'requires = ["xsp"]')
    f = check_fails(tmp_path, text)
    assert "cycle" in f.message
    assert "mono -> xsp -> mono" in f.message
    assert "components.mono.requires:" in f.message
    assert "remove one of the requirements" in f.message
    f.assert_at('requires = ["xsp"]')


def test_requires_self_cycle(tmp_path: Path) -> None:
    text = replace_once(VALID, 'requires = ["mono"]', 'requires = ["xsp"]')
    f = check_fails(tmp_path, text)
    assert "xsp -> xsp" in f.message
    f.assert_at('requires = ["xsp"]')


def test_unknown_upstream_type(tmp_path: Path) -> None:
    text = replace_once(VALID, 'type = "github-tags"', 'type = "github-tag"')
    f = check_fails(tmp_path, text)
    assert "components.xsp.upstream[0].type:" in f.message
    assert "unknown upstream type 'github-tag'" in f.message
    assert "did you mean 'github-tags'?" in f.message
    f.assert_at('type = "github-tag"')


def test_unknown_upstream_type_in_second_entry_names_its_line(tmp_path: Path) -> None:
    text = VALID + '\n[[components.xsp.upstream]]\ntype = "sourceforge"\n'
    f = check_fails(tmp_path, text)
    assert "components.xsp.upstream[1].type:" in f.message
    assert "use one of:" in f.message
    f.assert_at('type = "sourceforge"')


def test_regex_that_does_not_compile(tmp_path: Path) -> None:
    text = replace_once(VALID, r"pattern = '(?P<version>[0-9]+(?:\.[0-9]+){1,3})'",
                        r"pattern = '(?P<version>[0-9]+(?:\.[0-9]+{1,3})'")
    f = check_fails(tmp_path, text)
    assert "components.xsp.upstream[0].pattern:" in f.message
    assert "does not compile" in f.message
    assert "fix the pattern" in f.message
    f.assert_at(r"pattern = '(?P<version>[0-9]+(?:\.[0-9]+{1,3})'")


def test_regex_lacking_version_group(tmp_path: Path) -> None:
    text = replace_once(VALID, r"pattern = '(?P<version>[0-9]+(?:\.[0-9]+){1,3})'",
                        r"pattern = '(?P<ver>[0-9]+(?:\.[0-9]+){1,3})'")
    f = check_fails(tmp_path, text)
    assert "components.xsp.upstream[0].pattern:" in f.message
    assert "'version'" in f.message
    assert "(?P<version>...)" in f.message
    f.assert_at("(?P<ver>")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n\n# and another\n"],
                         ids=["empty", "blank-lines", "comments-only"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    f = check_fails(tmp_path, text)
    assert f.message == (f"error: {f.path}: file is empty (add [stacks.NAME] and "
                         "[components.NAME] tables; see README)")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    result = run_cli(["--config", str(path), "check"])
    assert result.code == 2
    assert result.stderr.count("\n") == 1
    assert f"{path}: file not found" in result.stderr
    assert "--config" in result.stderr
    assert not path.exists()


def test_unknown_component_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "versions.toml"
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path)
    with pytest.raises(UsageError) as info:
        config.component("monoo")
    assert not isinstance(info.value, ConfigError)
    assert info.value.exit_code == 2
    assert "unknown component 'monoo'" in info.value.message
    assert "did you mean 'mono'?" in info.value.message
    with pytest.raises(UsageError, match="known components: mono, xsp"):
        config.component("gtk")
    assert config.component("xsp").requires == ("mono",)


def test_shipped_versions_toml_passes() -> None:
    before = SHIPPED.read_bytes()
    result = run_cli(["--config", str(SHIPPED), "check"])
    assert result.code == 0, result.output
    assert "mono" in result.stdout and "xsp" in result.stdout
    # an unpinned component is only a warning for `check`, on stderr
    if not load_config(SHIPPED).component("xsp").pinned:
        assert "release-bot pin xsp" in result.stderr
    result = run_cli(["--config", str(SHIPPED), "check", "--json"])
    assert result.code == 0, result.output
    data = json.loads(result.stdout)
    assert SHIPPED.read_bytes() == before
    assert set(data["stacks"]) == {"heroku-22", "heroku-24"}
    for name, stack in data["stacks"].items():
        assert set(stack) == {"build-image", "run-image"}
        assert stack["build-image"] != stack["run-image"], name
    comps = {c["component"]: c for c in data["components"]}
    assert set(comps) == {"mono", "xsp"}
    mono, xsp = comps["mono"], comps["xsp"]
    assert mono["version"] == "6.14.1"
    assert mono["source"] == "https://dl.winehq.org/mono/sources/mono/mono-6.14.1.tar.xz"
    assert mono["sha256"] == "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820"
    assert mono["pinned"] is True
    assert xsp["version"] == "4.7.1"
    assert xsp["requires"] == ["mono"]
    assert xsp["source"].startswith("https://github.com/mono/xsp/")
    assert "4.7.1" in xsp["source"]
    assert mono["upstreams"] and xsp["upstreams"]


def test_shipped_versions_toml_builds_in_dependency_order() -> None:
    config = load_config(SHIPPED)
    assert config.build_order() == ["mono", "xsp"]
    assert config.build_order(["xsp"]) == ["xsp"]
    assert config.component("xsp").bootstrap == "autogen"
