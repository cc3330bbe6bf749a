"""images/stack/make-stack-images.sh as GitHub's runners run it: a non-root user with
passwordless sudo and the docker group (CI's `make test` there is not root).

debootstrap itself is replaced by a stand-in on the user's PATH that lays out a tiny root-owned
rootfs (a file only root may read included), so what is checked is the script's own handling
of root: every step that needs it goes through sudo, and the image still gets imported. The
images are tagged for a suite of their own and removed afterwards.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.harness import docker as hdocker

pytestmark = pytest.mark.docker

USER = "rb-runner"
SUITE = "rbuser"
FAKE_DEBOOTSTRAP = """#!/bin/sh
# stand-in: debootstrap [--options] SUITE TARGET [MIRROR]
set -e
n=0
for arg; do case "$arg" in -*) ;; *) n=$((n + 1)); [ "$n" = 2 ] && target="$arg" ;; esac; done
[ "$(id -u)" = 0 ] || { echo "fake debootstrap: not root" >&2; exit 1; }
mkdir -p "$target/etc/apt" "$target/bin" "$target/var/lib/apt/lists" "$target/debootstrap"
echo secret > "$target/etc/root-only"
chmod 600 "$target/etc/root-only"
echo ok > "$target/bin/marker"
"""


def _sudo_ready() -> bool:
    if os.geteuid() != 0:
        return False
    if shutil.which("sudo") is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "sudo"], check=False, env=env,
                       capture_output=True)
    return shutil.which("sudo") is not None


@pytest.fixture
def runner_user() -> Iterator[Path]:
    if not _sudo_ready():
        pytest.skip("needs root (to add a user with sudo) and Debian's sudo package")
    subprocess.run(["useradd", "--create-home", "--groups", "docker", USER],
                   check=False, capture_output=True)
    sudoers = Path(f"/etc/sudoers.d/{USER}")
    sudoers.write_text(f"{USER} ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    bin_dir = Path(tempfile.mkdtemp(prefix="rb-fake-debootstrap."))  # readable by the user
    bin_dir.chmod(0o755)
    fake = bin_dir / "debootstrap"
    fake.write_text(FAKE_DEBOOTSTRAP)
    fake.chmod(0o755)
    try:
        yield bin_dir
    finally:
        sudoers.unlink(missing_ok=True)
        shutil.rmtree(bin_dir)
        client = hdocker.make_client()
        for tag in (f"release-bot-test/{SUITE}:build", f"release-bot-test/{SUITE}:run"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                client.images.remove(tag, force=True)
        client.close()


def test_stack_images_build_as_a_user_with_sudo(runner_user: Path) -> None:
    env = {"PATH": f"{runner_user}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
           "HOME": f"/home/{USER}", "STACK_SUITE": SUITE, "STACK_FORCE": "1",
           "TMPDIR": "/tmp"}
    proc = subprocess.run(["setpriv", "--reuid", USER, "--regid", USER, "--init-groups",
                           str(hdocker.MAKE_STACK_IMAGES)], env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"built release-bot-test/{SUITE}:build" in proc.stdout
    client = hdocker.make_client()
    container = client.containers.create(f"release-bot-test/{SUITE}:build", "none")
    try:
        chunks, _ = container.get_archive("/etc/root-only")
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            member = tar.extractfile("root-only")
            assert member is not None
            assert member.read() == b"secret\n"  # the root-only file made it in
    finally:
        container.remove(force=True)
        client.close()
