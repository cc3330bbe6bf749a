"""The built wheel, installed into a fresh venv, runs and finds the images/ it carries.

The wheel is built from this checkout by its backend (hatchling, without build isolation:
the test extra has it), installed with `--no-deps --no-index` into a new venv whose
dependencies come from the current one (a `.pth` line: no index needed), and run from a
directory outside the checkout, so nothing of the source tree can stand in for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import bot
from bot import resources

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "versions.toml"


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv holding only the wheel built from this checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", "--wheel-dir", tmp / "dist", ROOT)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("release_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert f"bot/{resources.PACKAGED}/builder/Dockerfile" in names
    assert not any(n.startswith(("tests/", "images/")) for n in names)

    env = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
                     ).stdout.strip())
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                     "--no-index", wheel)
    assert installed.returncode == 0, installed.stderr
    # the dependencies, from this venv; a plain path line: its editable hooks do not load
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env / "bin"


@pytest.mark.slow
def test_the_installed_wheel_runs_its_version(installed: Path, tmp_path: Path) -> None:
    result = _run(installed / "release-bot", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"release-bot, version {bot.__version__}"


@pytest.mark.slow
def test_check_reads_the_images_shipped_inside_the_wheel(installed: Path, tmp_path: Path
                                                         ) -> None:
    config = tmp_path / "versions.toml"
    shutil.copy(SHIPPED, config)
    result = _run(installed / "release-bot", "--config", config, "check", "--json",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    images = Path(json.loads(result.stdout)["images"])
    site = installed.parent / "lib"
    assert images.is_relative_to(site), images  # inside the venv, not the checkout
    assert images.parts[-2:] == ("bot", resources.PACKAGED)
    for needed in ("builder/Dockerfile", "runtime/Dockerfile", "samples/console/Dockerfile"):
        assert (images / needed).read_bytes() == (ROOT / "images" / needed).read_bytes()

    (images / "runtime" / "Dockerfile").unlink()  # an incomplete install is exit 2
    broken = _run(installed / "release-bot", "--config", config, "check", cwd=tmp_path)
    assert broken.returncode == 2
    assert "lacks runtime/Dockerfile" in broken.stderr and "reinstall" in broken.stderr


def test_a_checkout_uses_its_own_images() -> None:
    found = resources.images_dir()
    assert found == ROOT / "images"
    for needed in ("builder/Dockerfile", "runtime/Dockerfile", "samples/console/Dockerfile"):
        assert (found / needed).is_file(), needed
