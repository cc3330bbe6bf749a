"""Shared fixtures.

Harness fixtures (tests/harness/):

* ``upstream``      -- function: UpstreamServer (loopback upstream pages/tarballs)
* ``s3``            -- session:  MotoS3 (.endpoint, .env, .make_bucket(name), .client(), .reset())
* ``s3_env``        -- function: monkeypatches ``s3.env`` into os.environ, returns the dict
* ``s3_proxy``      -- function: FaultProxy in front of the moto server (.url, .fail(), .drop())
* ``docker_client`` -- session:  docker.DockerClient; FAILS if no engine (``make engine``),
                       skips only when RELEASE_BOT_SKIP_DOCKER=1
* ``stack_images``  -- session:  (TEST_BUILD_IMAGE, TEST_RUN_IMAGE), built if missing
* ``arm64_images``  -- session:  the arm64 (build, run) stack images (QEMU registered and
                       the images made if missing); the host's also tagged ``build-amd64``,
                       ``run-amd64``, so ``build-image = "REPO:build-{arch}"`` names both
* ``debian_runtime`` -- session: tag of a runtime image: the test run image plus Debian's
                       Mono packages (images/runtime-debian), built once, cached by its inputs
* ``debian_runtime_arm64`` -- session: the same on the arm64 run image (under QEMU)
* ``fake_github``   -- function: FakeGitHub (tests/fakegithub/fixture.py, registered below)

Every test marked ``@pytest.mark.docker`` gets ``docker_client`` automatically, so it
fails (or skips with RELEASE_BOT_SKIP_DOCKER=1) up front when no engine is reachable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import pytest

from bot.arch import platform
from bot.containers.docker import DockerEngine
from bot.containers.images import file_parts, inputs_hash
from bot.resources import images_dir
from bot.smoke.runtime import smoke_image
from tests.harness import docker as hdocker
from tests.harness.faultproxy import FaultProxy
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer

pytest_plugins = ["tests.fakegithub.fixture"]  # ``fake_github`` (tests/fakegithub/README.md)


@pytest.fixture
def upstream() -> Iterator[UpstreamServer]:
    with UpstreamServer() as server:
        yield server


@pytest.fixture(scope="session")
def s3() -> Iterator[MotoS3]:
    """One moto server per session; use unique bucket names per test (or call .reset())."""
    with MotoS3() as server:
        yield server


@pytest.fixture
def s3_env(s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = s3.env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_proxy(s3: MotoS3) -> Iterator[FaultProxy]:
    with FaultProxy(s3.host, s3.port) as proxy:
        yield proxy


def _skip_docker() -> bool:
    return os.environ.get("RELEASE_BOT_SKIP_DOCKER") == "1"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    if not hdocker.engine_available():
        msg = (
            f"no Docker engine at {hdocker.docker_base_url()}: run `make engine` "
            "(tests/harness/ensure-docker.sh) or set RELEASE_BOT_SKIP_DOCKER=1 to skip"
        )
        if _skip_docker():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    client = hdocker.make_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def stack_images(docker_client: docker.DockerClient) -> tuple[str, str]:
    """(build_tag, run_tag); runs images/stack/make-stack-images.sh when missing."""
    return hdocker.ensure_stack_images(docker_client)


@pytest.fixture(scope="session")
def arm64_images(docker_client: docker.DockerClient, stack_images: tuple[str, str]
                 ) -> tuple[str, str]:
    """The arm64 stack images, and the host's also tagged `-amd64`, so that one
    `build-image = "...:build-{arch}"` names both."""
    if hdocker.host_arch() != "amd64":
        pytest.skip("the arm64 tier emulates arm64 on an amd64 machine")
    images = hdocker.ensure_stack_images(docker_client, "arm64")
    for tag in stack_images:
        docker_client.images.get(tag).tag(hdocker.TEST_IMAGE_REPO, tag.rsplit(":", 1)[1] + "-amd64")
    return images


def _debian_runtime(client: docker.DockerClient, run_image: str, arch: str) -> str:
    context = images_dir() / "runtime-debian"
    files = sorted(p for p in context.iterdir() if p.is_file())
    digest = inputs_hash([run_image.encode(), client.images.get(run_image).id.encode(),
                          *file_parts(files)])
    image = smoke_image(DockerEngine(client), context,
                        repository="release-bot-test/runtime-debian", digest=digest,
                        buildargs={"BASE_IMAGE": run_image}, on_line=print,
                        platform=platform(arch))
    return image.tag


@pytest.fixture(scope="session")
def debian_runtime(docker_client: docker.DockerClient, stack_images: tuple[str, str]) -> str:
    """The stand-in runtime: the test stack's run image plus Debian's Mono packages."""
    return _debian_runtime(docker_client, stack_images[1], "amd64")


@pytest.fixture(scope="session")
def debian_runtime_arm64(docker_client: docker.DockerClient,
                         arm64_images: tuple[str, str]) -> str:
    """The same stand-in runtime on the arm64 run image (Debian's arm64 Mono packages,
    installed under emulation: about 4 minutes the first time)."""
    return _debian_runtime(docker_client, arm64_images[1], "arm64")


@pytest.fixture(autouse=True)
def _docker_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_client")


# --- lead: CLI fixtures below ---
