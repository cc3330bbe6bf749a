"""arm64 next to amd64 on one stack (issue 14), under QEMU user-mode emulation.

`make test-arm64` (marker `arm64`; `.ci/run` runs it): the harness registers QEMU with
Debian's qemu-user-static and binfmt-support and makes the arm64 test stack images
(images/stack/make-stack-images.sh, STACK_ARCH=arm64). A small autotools project is built
for amd64 and for arm64 of one stack through the CLI; the arm64 artifact's binaries are
aarch64 ELF and run from /app in the arm64 run image; both land in one index.json under
their own keys, and publishing them again writes nothing. The console smoke check runs on
the arm64 runtime image (Debian's arm64 Mono packages on the arm64 run image): the sample is
compiled, its app image built and run, all for linux/arm64.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path

import docker
import pytest

from bot.arch import ARCHES, elf_machine, foreign_elf
from bot.build.manifest import load_manifest
from tests.clirunner import run_cli
from tests.harness import docker as hdocker
from tests.harness.upstream import UpstreamServer
from tests.projects import hello_project, make_tarball

pytestmark = [pytest.mark.arm64, pytest.mark.docker]

REPO = hdocker.TEST_IMAGE_REPO


def _elf_machines(tarball: Path) -> set[int]:
    with tarfile.open(tarball) as tar:
        found = set()
        for m in tar:
            fh = tar.extractfile(m) if m.isfile() else None
            machine = elf_machine(fh.read(20)) if fh is not None else None
            if machine is not None:
                found.add(machine)
        return found


def test_one_stack_builds_and_publishes_amd64_and_arm64(
        tmp_path: Path, upstream: UpstreamServer, arm64_images: tuple[str, str],
        docker_client: docker.DockerClient) -> None:
    data = make_tarball(hello_project(greeting="hello from arm64 too"), "hello-1.0")
    upstream.add("/hello/hello-1.0.tar.gz", data)
    (tmp_path / "versions.toml").write_text(
        f'[stacks.test]\nbuild-image = "{REPO}:build-{{arch}}"\n'
        f'run-image = "{REPO}:run-{{arch}}"\narches = ["amd64", "arm64"]\n\n'
        f'[components.hello]\nversion = "1.0"\n'
        f'source = "{upstream.url}/hello/hello-{{version}}.tar.gz"\n'
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"\n')
    env = {"RELEASE_BOT_CACHE": str(tmp_path / "cache"), "DOCKER_HOST": hdocker.docker_base_url()}
    out = tmp_path / "out"
    for arch in ("amd64", "arm64"):
        built = run_cli(["build", "hello", "--arch", arch, "--out", str(out), "--cpus", "2"],
                        env=env, cwd=tmp_path)
        assert built.code == 0, built.output[-3000:]

    amd64, arm64 = out / "hello-1.0-test.tar.gz", out / "hello-1.0-test-arm64.tar.gz"
    assert _elf_machines(amd64) == {ARCHES["amd64"].elf_machine}
    assert _elf_machines(arm64) == {ARCHES["arm64"].elf_machine}
    assert foreign_elf(arm64, "arm64") == [] and foreign_elf(amd64, "arm64")
    manifest = load_manifest(out / "hello-1.0-test-arm64.json")
    print(f"build times: amd64 {load_manifest(out / 'hello-1.0-test.json').duration}s, "
          f"arm64 under emulation {manifest.duration}s")
    assert (manifest.arch, manifest.build_image) == ("arm64", f"{REPO}:build-arm64")
    assert "arch" not in json.loads((out / "hello-1.0-test.json").read_text())  # as before

    # the arm64 binary runs from /app in the arm64 run image, under emulation
    output = docker_client.containers.run(
        arm64_images[1], ["sh", "-c", "mkdir -p /app && tar -xzf /a.tar.gz -C /app && "
                                      "uname -m && /app/bin/hello"],
        platform="linux/arm64", network_mode="none", remove=True,
        volumes={str(arm64.resolve()): {"bind": "/a.tar.gz", "mode": "ro"}})
    assert output.decode() == "aarch64\nhello from arm64 too\n"

    store = f"file://{tmp_path / 'store'}"
    first = run_cli(["publish", str(out), "--store", store], env=env, cwd=tmp_path)
    assert first.code == 0, first.output
    index_path = tmp_path / "store" / "index.json"
    doc = json.loads(index_path.read_text())
    assert [(e["key"], e["arch"]) for e in doc["artifacts"]] \
        == [("test/hello-1.0.tar.gz", "amd64")]
    assert [(e["key"], e["arch"]) for e in doc["other-arches"]] \
        == [("test/arm64/hello-1.0.tar.gz", "arm64")]
    assert (tmp_path / "store" / "test" / "arm64" / "hello-1.0.tar.gz").read_bytes() \
        == arm64.read_bytes()
    before = index_path.read_bytes()
    again = run_cli(["publish", str(out), "--store", store], env=env, cwd=tmp_path)
    assert again.code == 0, again.output
    assert again.output.count("already published") == 2, again.output
    assert index_path.read_bytes() == before


def test_the_console_smoke_check_passes_on_the_arm64_runtime(
        tmp_path: Path, debian_runtime_arm64: str, docker_client: docker.DockerClient) -> None:
    (tmp_path / "versions.toml").write_text(
        f'[stacks.test]\nbuild-image = "{REPO}:build-{{arch}}"\n'
        f'run-image = "{REPO}:run-{{arch}}"\narches = ["amd64", "arm64"]\n')
    env = {"DOCKER_HOST": hdocker.docker_base_url()}
    result = run_cli(["smoke", "--runtime-image", debian_runtime_arm64, "--arch", "arm64",
                      "--check", "console", "--json"], env=env, cwd=tmp_path)
    assert result.code == 0, result.output[-3000:]
    (console,) = json.loads(result.stdout)
    assert console["passed"] and "Hello World" in console["output_excerpt"], console
    print(f"console smoke on arm64 under emulation: {console['seconds']}s")
    # what ran was arm64: the app image the check built (or reused) is for linux/arm64
    match = re.search(r"console: app image (release-bot/smoke-console:[0-9a-f]+)", result.output)
    assert match, result.output[-3000:]
    assert docker_client.images.get(match.group(1)).attrs["Architecture"] == "arm64"
