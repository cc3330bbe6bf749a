"""`release-bot pin`: download once into the source cache, record the sha256 in place."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.clirunner import run_cli
from tests.harness.upstream import UpstreamServer
from tests.test_poll import XSP_SOURCE, write_config
from tests.test_sources import WINEHQ, tarball

XSP_BYTES = b"xsp 4.7 tag archive stand-in\n" * 500


def setup(tmp_path: Path, up: UpstreamServer) -> Path:
    up.add(XSP_SOURCE.format(version="4.7"), XSP_BYTES)
    up.add(f"{WINEHQ}mono-6.14.1.tar.xz", tarball("6.14.1"))
    return write_config(tmp_path, up, mono_upstreams="winehq")


def pin(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(["--config", str(tmp_path / "versions.toml"), "pin", *args],
                   env={"RELEASE_BOT_CACHE": str(tmp_path / "cache")}, cwd=tmp_path)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_pin_records_the_sha256_and_nothing_else(tmp_path: Path, upstream: UpstreamServer) -> None:
    cfg = setup(tmp_path, upstream)
    before = cfg.read_bytes()
    result = pin(tmp_path, "xsp")
    assert result.code == 0, result.output
    digest = hashlib.sha256(XSP_BYTES).hexdigest()
    after = cfg.read_bytes()
    assert changed_lines(before.decode(), after.decode()) == [('sha256 = ""',
                                                               f'sha256 = "{digest}"')]
    assert after.replace(digest.encode(), b"") == before  # byte for byte, only the value
    assert (tmp_path / "cache" / "sources" / "sha256" / digest).read_bytes() == XSP_BYTES
    assert digest in result.stderr


def test_a_second_pin_downloads_nothing(tmp_path: Path, upstream: UpstreamServer) -> None:
    cfg = setup(tmp_path, upstream)
    assert pin(tmp_path, "xsp").code == 0
    pinned = cfg.read_bytes()
    path = XSP_SOURCE.format(version="4.7")
    gets = len(upstream.requests_for(path, "GET"))
    again = pin(tmp_path, "xsp")
    assert again.code == 0, again.output
    assert len(upstream.requests_for(path, "GET")) == gets == 1
    assert cfg.read_bytes() == pinned
    assert "already recorded" in again.stderr and "0 downloaded" in again.stderr


def test_pin_a_new_version_sets_version_and_sha(tmp_path: Path, upstream: UpstreamServer) -> None:
    cfg = setup(tmp_path, upstream)
    before = cfg.read_text()
    result = pin(tmp_path, "mono", "--version", "6.14.1")
    assert result.code == 0, result.output
    digest = hashlib.sha256(tarball("6.14.1")).hexdigest()
    mono_lines = changed_lines(before, cfg.read_text())
    assert mono_lines == [('version = "6.12.0.199"', 'version = "6.14.1"'),
                          ('sha256 = ""', f'sha256 = "{digest}"')]


def test_pin_unknown_component_is_a_usage_error(tmp_path: Path, upstream: UpstreamServer) -> None:
    cfg = setup(tmp_path, upstream)
    before = cfg.read_bytes()
    result = pin(tmp_path, "xps")
    assert result.code == 2
    assert "did you mean 'xsp'" in result.stderr
    assert cfg.read_bytes() == before and upstream.requests == []


def test_pin_a_version_that_is_not_one_is_a_usage_error(tmp_path: Path,
                                                        upstream: UpstreamServer) -> None:
    setup(tmp_path, upstream)
    result = pin(tmp_path, "mono", "--version", "6.14.2;rm -rf /")
    assert result.code == 2 and "--version" in result.stderr
    assert upstream.requests == []


def test_pin_of_a_missing_tarball_is_an_upstream_error(tmp_path: Path,
                                                       upstream: UpstreamServer) -> None:
    cfg = setup(tmp_path, upstream)
    before = cfg.read_bytes()
    result = pin(tmp_path, "mono")  # 6.12.0.199 is not on the loopback index
    assert result.code == 3, result.output
    assert cfg.read_bytes() == before
