"""e2e tier, arm64 (`make e2e-arm64`): Mono's own C runtime compiled for arm64 (issue 14).

Mono 6.14.1's recipe (tests/e2e/versions.mono-6.14.toml, the sources Debian's source package)
built through the CLI with `build mono --arch arm64` in the arm64 builder image, under QEMU
user-mode emulation, as a partial build: `make -C mono` (eglib, the SGen GC, the metadata
library, the JIT and its tools) and `make -C mono install`, without the class libraries or
the reference assemblies (they are managed code, the same bytes on every architecture). The
bot's own ELF check fails the build if anything installed is not aarch64; the test checks
`bin/mono-sgen` itself and runs `mono --version` from /app in the arm64 run image.

Slow: about an hour on two cores (autoreconf and configure alone take 11 minutes under
emulation). GitHub's arm64 runners build the whole recipe natively.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import tomlkit

from bot.arch import ARCHES, elf_machine
from bot.build.manifest import load_manifest
from tests.clirunner import run_cli
from tests.e2e.test_mono_e2e import DEBIAN_PACKAGE, VERSION, serve_recipe
from tests.harness import docker as hdocker
from tests.harness.debsource import fetch_source
from tests.harness.upstream import UpstreamServer

pytestmark = [pytest.mark.e2e, pytest.mark.arm64, pytest.mark.docker]

REPO = hdocker.TEST_IMAGE_REPO


def arm64_partial(config: Path) -> None:
    """The recipe for arm64 only, its make and install limited to mono/ (the C runtime)."""
    doc = tomlkit.parse(config.read_text(encoding="utf-8"))
    stack = doc["stacks"]["test"]
    stack["build-image"] = f"{REPO}:build-{{arch}}"
    stack["run-image"] = f"{REPO}:run-{{arch}}"
    stack["arches"] = ["arm64"]
    mono = doc["components"]["mono"]
    mono["make-args"] = ["-C", "mono", *mono["make-args"]]
    del mono["pre-install"]  # the reference assemblies: managed code, not part of mono/
    config.write_text(tomlkit.dumps(doc), encoding="utf-8")


@pytest.fixture(scope="module")
def built(arm64_images: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Path]:
    sources = Path(os.environ.get("RELEASE_BOT_E2E_SOURCES")
                   or ".cache/release-bot/debian-sources")
    files = fetch_source(*DEBIAN_PACKAGE, sources)
    out = Path(os.environ.get("RELEASE_BOT_E2E_OUT") or tmp_path_factory.mktemp("arm64-out"))
    with UpstreamServer() as up:
        config = serve_recipe(up, files, tmp_path_factory.mktemp("arm64-config"))
        arm64_partial(config)
        env = {"PATH": os.environ.get("PATH", ""),
               "RELEASE_BOT_CACHE": os.environ.get("RELEASE_BOT_CACHE", ".cache/release-bot")}
        result = run_cli(["--config", str(config), "build", "mono", "--stack", "test",
                          "--arch", "arm64", "--out", str(out)], env=env)
    assert result.code == 0, result.output[-4000:]
    yield out / f"mono-{VERSION}-test-arm64.tar.gz"


def test_mono_runtime_compiles_for_arm64(built: Path, arm64_images: tuple[str, str],
                                         docker_client: docker.DockerClient) -> None:
    manifest = load_manifest(built.with_name(built.name.removesuffix(".tar.gz") + ".json"))
    assert (manifest.component, manifest.version, manifest.arch) == ("mono", VERSION, "arm64")
    print(f"mono {VERSION} C runtime for arm64 under emulation: {manifest.duration}s, "
          f"{built.stat().st_size} bytes")
    with tarfile.open(built) as tar:
        member = tar.extractfile("bin/mono-sgen")
        assert member is not None
        assert elf_machine(member.read(20)) == ARCHES["arm64"].elf_machine
    output = docker_client.containers.run(
        arm64_images[1], ["sh", "-c", "mkdir -p /app && tar -xzf /a.tar.gz -C /app && "
                                      "uname -m && /app/bin/mono --version"],
        platform="linux/arm64", network_mode="none", remove=True,
        volumes={str(built.resolve()): {"bind": "/a.tar.gz", "mode": "ro"}}).decode()
    assert output.startswith("aarch64\n"), output
    assert f"Mono JIT compiler version {VERSION}" in output
    assert "Architecture:  arm64" in output, output
