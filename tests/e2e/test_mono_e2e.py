"""e2e tier (`make e2e`): real Mono built from source through the CLI, then used for real.

Builds Mono 6.14.1, the release versions.toml pins, from Debian's source package
mono 6.14.1+ds2-3 with the recipe in tests/e2e/versions.mono-6.14.toml (81 minutes measured on
two busy cores), then checks the artifact: the manifest, `/app/bin/mono --version`, a C# hello
world compiled by the built `mcs` and run by the built `mono` from /app with no network, and
the smoke tests (console and web samples) on a runtime image made from it.

The sources come from apt itself (tests/harness/debsource.py: `apt-get source
--download-only` through a temporary sources list made from this machine's own apt
configuration) and are served to the bot over loopback, so the bot's own download, checksum
and cache path fetches them. RELEASE_BOT_E2E_SOURCES=DIR keeps the downloaded source package
there (default: .cache/release-bot/debian-sources).

RELEASE_BOT_E2E_ARTIFACTS=DIR reuses the artifacts of an earlier e2e build in DIR instead of
building again (the checks below still run on them); RELEASE_BOT_E2E_OUT=DIR keeps the
build's output there.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bot.build.manifest import load_manifest
from tests.clirunner import run_cli
from tests.harness.debsource import fetch_source
from tests.harness.upstream import UpstreamServer

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

HERE = Path(__file__).parent
RECIPE = HERE / "versions.mono-6.14.toml"
VERSION = "6.14.1"
DEBIAN_PACKAGE = ("mono", "6.14.1+ds2-3", "unstable")  # package, version, suite
PLACEHOLDER = "http://sources.invalid"  # the recipe's stand-in for the loopback server
HELLO = 'class P { static void Main() { System.Console.WriteLine("Hello World"); } }\n'


def serve_recipe(up: UpstreamServer, files: list[Path], directory: Path) -> Path:
    """Serve the source package's files at the server's root and write the recipe with the
    server's URL in place of its placeholder host; returns the config to pass the bot."""
    for f in files:
        up.add_file(f"/{f.name}", f)
    text = RECIPE.read_text(encoding="utf-8")
    assert PLACEHOLDER in text
    config = directory / RECIPE.name
    config.write_text(text.replace(PLACEHOLDER, up.url.rstrip("/")), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    sources = Path(os.environ.get("RELEASE_BOT_E2E_SOURCES")
                   or ".cache/release-bot/debian-sources")
    files = fetch_source(*DEBIAN_PACKAGE, sources)
    with UpstreamServer() as up:
        yield serve_recipe(up, files, tmp_path_factory.mktemp("e2e-config"))


@pytest.fixture(scope="module")
def artifacts(stack_images: tuple[str, str], config: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reuse = os.environ.get("RELEASE_BOT_E2E_ARTIFACTS")
    if reuse:
        yield Path(reuse)
        return
    out = Path(os.environ.get("RELEASE_BOT_E2E_OUT") or tmp_path_factory.mktemp("e2e-out"))
    env = {"PATH": os.environ.get("PATH", ""),
           "RELEASE_BOT_CACHE": os.environ.get("RELEASE_BOT_CACHE", ".cache/release-bot")}
    result = run_cli(["--config", str(config), "build", "mono", "--stack", "test",
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
    recipe = tomllib.loads(RECIPE.read_text(encoding="utf-8"))["components"]["mono"]
    assert manifest.source.sha256 == recipe["sha256"]
    assert [s.sha256 for s in manifest.extra_sources] == [recipe["extra-sources"][0]["sha256"]]
    assert manifest.provenance is not None
    assert [p.path for p in manifest.provenance.patches] == recipe["patches"]
    assert manifest.provenance.recipe.configure_args == tuple(recipe["configure-args"])


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


def test_smoke_checks_pass_on_the_built_mono(artifacts: Path, config: Path,
                                             stack_images: tuple[str, str]) -> None:
    env = {"PATH": os.environ.get("PATH", "")}
    result = run_cli(["--config", str(config), "smoke", "--stack", "test",
                      "--artifacts", str(artifacts), "--json"], env=env)
    assert result.code == 0, result.output[-4000:]
    results = json.loads(result.stdout)
    assert {r["name"] for r in results} >= {"console", "web"}
    assert all(r["passed"] for r in results), results
