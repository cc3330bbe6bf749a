"""Docker helpers for tests: engine detection and the local stack images."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker
import docker.errors

from bot.arch import ARCHES

# re-exported for network probes: the host is read from apt's configuration
from tests.harness.debsource import apt_mirror_host  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_DOCKER = REPO_ROOT / "tests" / "harness" / "ensure-docker.sh"
MAKE_STACK_IMAGES = REPO_ROOT / "images" / "stack" / "make-stack-images.sh"

TEST_BUILD_IMAGE = "release-bot-test/bookworm:build"
TEST_RUN_IMAGE = "release-bot-test/bookworm:run"
TEST_IMAGE_REPO = TEST_BUILD_IMAGE.rsplit(":", 1)[0]  # `{REPO}:build-{arch}` names both arches
STACK_IMAGES = (TEST_BUILD_IMAGE, TEST_RUN_IMAGE)

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def docker_base_url() -> str:
    """DOCKER_HOST if set, else the default unix socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def make_client(timeout: int = 120) -> docker.DockerClient:
    return docker.DockerClient(base_url=docker_base_url(), timeout=timeout)


def engine_available() -> bool:
    """True if a Docker engine answers a ping at docker_base_url()."""
    try:
        client = make_client(timeout=10)
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())
    except (docker.errors.DockerException, OSError):
        return False
    finally:
        client.close()


def ensure_engine() -> None:
    """Run tests/harness/ensure-docker.sh (installs/starts dockerd when root)."""
    subprocess.run([str(ENSURE_DOCKER)], check=True)


def stack_image_tags(arch: str | None = None) -> tuple[str, str]:
    """(build, run) tags of the test stack for `arch`: the plain tags for this machine's
    architecture, `:build-ARCH` / `:run-ARCH` for a foreign one (made under QEMU)."""
    if arch is None or arch == host_arch():
        return STACK_IMAGES
    return f"{TEST_BUILD_IMAGE}-{arch}", f"{TEST_RUN_IMAGE}-{arch}"


def host_arch() -> str:
    machine = os.uname().machine
    return next((a.name for a in ARCHES.values() if a.machine == machine), machine)


def missing_stack_images(client: docker.DockerClient | None = None,
                         arch: str | None = None) -> list[str]:
    own = client is None
    c = make_client() if client is None else client
    try:
        missing = []
        for tag in stack_image_tags(arch):
            try:
                c.images.get(tag)
            except docker.errors.ImageNotFound:
                missing.append(tag)
        return missing
    finally:
        if own:
            c.close()


def ensure_stack_images(client: docker.DockerClient | None = None,
                        arch: str | None = None) -> tuple[str, str]:
    """Build the stack images with images/stack/make-stack-images.sh if any is missing
    (`arch`: a foreign architecture's, under QEMU user mode). Returns (build, run) tags."""
    if missing_stack_images(client, arch):
        env = {**os.environ, **({"STACK_ARCH": arch} if arch else {})}
        subprocess.run([str(MAKE_STACK_IMAGES)], check=True, env=env)
        still = missing_stack_images(client, arch)
        if still:
            raise RuntimeError(f"{MAKE_STACK_IMAGES} ran but images are still missing: {still}")
    return stack_image_tags(arch)
