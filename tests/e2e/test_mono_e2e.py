"""e2e tier (`make e2e`): real Mono built from source through the CLI, then used for real.

Builds Mono 6.8.0.105 from Debian's source package with the recipe in
tests/e2e/versions.mono-6.8.toml (about 45 minutes on two cores), then checks the artifact:
`/app/bin/mono --version`, a C# hello world compiled by the built `mcs` and run by the built
`mono`, and the smoke tests (console and web samples) on a runtime image made from it.

RELEASE_BOT_E2E_ARTIFACTS=DIR reuses the artifacts of an earlier e2e build in DIR instead of
building again (the checks below still run on them); RELEASE_BOT_E2E_OUT=DIR keeps the
build's output there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bot.build.manifest import load_manifest
from tests.clirunner import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

HERE = Path(__file__).parent
CONFIG = HERE / "versions.mono-6.8.toml"
VERSION = "6.8.0.105"
HELLO = 'class P { static void Main() { System.Console.WriteLine("Hello World"); } }\n'


@pytest.fixture(scope="module")
def artifacts(stack_images: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Path]:
    reuse = os.environ.get("RELEASE_BOT_E2E_ARTIFACTS")
    if reuse:
        yield Path(reuse)
        return
    out = Path(os.environ.get("RELEASE_BOT_E2E_OUT") or tmp_path_factory.mktemp("e2e-out"))
    env = {"PATH": os.environ.get("PATH", ""),
           "RELEASE_BOT_CACHE": os.environ.get("RELEASE_BOT_CACHE", ".cache/release-bot")}
    result = run_cli(["--config", str(CONFIG), "build", "mono", "--stack", "test",
                      "--out", str(out)], env=env)
    assert result.code == 0, result.output[-4000:]
    yield out


@pytest.fixture(scope="module")
def tarball(artifacts: Path) -> Path:
    found = sorted(artifacts.glob(f"mono-{VERSION}-test.tar.gz"))
    assert found, f"no mono artifact in {artifacts}"
    return found[0]


def run_on_artifact(client: docker.DockerClient, run_image: str, tarball: Path,
                    script: str) -> str:
    """Run `script` in the stack's run image with the artifact unpacked at /app."""
    container = client.containers.run(
        run_image, ["sh", "-ec", f"mkdir -p /app && tar -xzf /artifact.tar.gz -C /app\n{script}"],
        volumes={str(tarball): {"bind": "/artifact.tar.gz", "mode": "ro"}},
        network_mode="none", detach=True)
    try:
        status = container.wait(timeout=600)
        logs = container.logs().decode(errors="replace")
        assert status["StatusCode"] == 0, logs[-3000:]
        return logs
    finally:
        container.remove(force=True)


def test_manifest_describes_the_build(artifacts: Path, tarball: Path) -> None:
    manifest = load_manifest(tarball.with_name(tarball.name.removesuffix(".tar.gz") + ".json"))
    assert manifest.component == "mono"
    assert manifest.version == VERSION
    assert manifest.size == tarball.stat().st_size


def test_built_mono_reports_its_version(docker_client: docker.DockerClient,
                                        stack_images: tuple[str, str], tarball: Path) -> None:
    out = run_on_artifact(docker_client, stack_images[1], tarball, "/app/bin/mono --version")
    assert f"Mono JIT compiler version {VERSION}" in out


def test_built_compiler_and_runtime_run_hello_world(docker_client: docker.DockerClient,
                                                    stack_images: tuple[str, str],
                                                    tarball: Path) -> None:
    script = (f"cat > /tmp/hello.cs <<'EOF'\n{HELLO}EOF\n"
              "cd /tmp && /app/bin/mcs hello.cs && /app/bin/mono hello.exe")
    out = run_on_artifact(docker_client, stack_images[1], tarball, script)
    assert out.strip().splitlines()[-1] == "Hello World"


def test_smoke_checks_pass_on_the_built_mono(artifacts: Path, stack_images: tuple[str, str]
                                             ) -> None:
    env = {"PATH": os.environ.get("PATH", "")}
    result = run_cli(["--config", str(CONFIG), "smoke", "--stack", "test",
                      "--artifacts", str(artifacts), "--json"], env=env)
    assert result.code == 0, result.output[-4000:]
    results = json.loads(result.stdout)
    assert {r["name"] for r in results} >= {"console", "web"}
    assert all(r["passed"] for r in results), results
