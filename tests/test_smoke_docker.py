"""`release-bot smoke` on the real Docker engine.

The default tier cannot afford a Mono build, so the checks run on a runtime image made from
the stack's Mono packages (images/runtime-debian: the session fixture `debian_runtime` of
tests/conftest.py); the e2e tier runs them on the Mono built by the builder. The artifact
path (tarballs extracted at /app on the stack's run image) is exercised with a tiny fake Mono.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import tarfile
import time
from pathlib import Path

import docker
import pytest

from bot.containers.docker import DockerEngine
from bot.containers.images import current_image
from bot.resources import images_dir
from bot.smoke.checks import RUN_LABEL
from bot.smoke.plan import RuntimeArtifact
from bot.smoke.runtime import INPUTS_LABEL, ensure_runtime_image
from tests.builtartifacts import make_artifact
from tests.clirunner import CliResult, run_cli

pytestmark = pytest.mark.docker

SAMPLES = images_dir() / "samples"


def assert_no_leftovers(client: docker.DockerClient, result: CliResult) -> None:
    """No container of this run (its id is in the log) is left, whatever the outcome."""
    found = re.search(r"smoke run ([0-9a-f]{12})", result.stderr)
    assert found, result.stderr[-2000:]
    left = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={found[1]}"})
    assert left == [], f"smoke containers left behind: {[c.name for c in left]}"


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A copy of images/samples the test may change (same code path, other sources)."""
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy)
    return copy


def smoke(*args: str, cwd: Path | None = None) -> tuple[CliResult, list[dict[str, object]]]:
    result = run_cli(["smoke", "--json", *args], env={}, cwd=cwd)
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON on stdout (exit {result.code}): {result.output[-3000:]}")
    return result, data


def by_name(data: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["name"]): r for r in data}


def test_real_samples_pass_on_the_debian_runtime(docker_client: docker.DockerClient,
                                                 debian_runtime: str) -> None:
    result, data = smoke("--runtime-image", debian_runtime)
    assert_no_leftovers(docker_client, result)
    assert result.code == 0, result.output[-3000:]
    results = by_name(data)
    assert list(results) == ["console", "web", "xsp"]
    for r in data:
        assert set(r) == {"name", "passed", "seconds", "http_status", "latency_ms",
                          "output_excerpt", "detail"}
        assert r["passed"] is True, r
        assert isinstance(r["seconds"], float) and r["seconds"] > 0
    assert "Hello World" in str(results["console"]["output_excerpt"])
    assert results["console"]["http_status"] is None
    assert results["web"]["http_status"] == 200
    assert "Hello from Mono on port 5000" in str(results["web"]["output_excerpt"])
    assert results["xsp"]["http_status"] == 200
    assert "ASP.NET rendered 42" in str(results["xsp"]["output_excerpt"])
    for name in ("web", "xsp"):
        latency = results[name]["latency_ms"]
        assert isinstance(latency, float) and latency > 0
    assert "passed" in result.stderr


def test_wrong_output_fails_with_exit_5(docker_client: docker.DockerClient,
                                        debian_runtime: str, samples: Path) -> None:
    program = samples / "console" / "Program.cs"
    program.write_text(program.read_text().replace('"Hello World"', '"Goodbye World"'))
    result, data = smoke("--runtime-image", debian_runtime, "--samples", str(samples),
                         "--check", "console")
    assert_no_leftovers(docker_client, result)
    assert result.code == 5, result.output[-3000:]
    (console,) = data
    assert console["passed"] is False
    assert "lacks 'Hello World'" in str(console["detail"])
    assert "Goodbye World" in str(console["output_excerpt"])
    assert "smoke tests failed: console" in result.stderr


def test_web_app_that_never_listens_fails_within_its_bound(
        docker_client: docker.DockerClient, debian_runtime: str, samples: Path) -> None:
    (samples / "web" / "Program.cs").write_text(
        "public static class Program {\n"
        "    public static void Main() {\n"
        '        System.Console.WriteLine("starting, but never listening");\n'
        "        System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);\n"
        "    }\n"
        "}\n")
    bound = 10.0
    started = time.monotonic()
    result, data = smoke("--runtime-image", debian_runtime, "--samples", str(samples),
                         "--check", "web", "--ready-timeout", str(bound))
    wall = time.monotonic() - started
    assert_no_leftovers(docker_client, result)
    assert result.code == 5, result.output[-3000:]
    (web,) = data
    assert web["passed"] is False
    assert web["http_status"] is None
    assert f"no HTTP answer on port 5000 within {bound:g}s" in str(web["detail"])
    assert "never listening" in str(web["output_excerpt"])
    seconds = float(web["seconds"])  # type: ignore[arg-type]
    assert bound <= seconds < bound + 5
    assert wall < bound + 60  # compile and app image build included


def fake_mono_tarball() -> bytes:
    """A deterministic /app tarball: bin/mono prints Hello World, bin/mcs "compiles"."""
    scripts = {
        "bin/mono": "#!/bin/sh\necho Hello World from the fake mono at $0\n",
        "bin/mcs": ('#!/bin/sh\nfor arg; do case "$arg" in -out:*) '
                    'echo fake > "${arg#-out:}";; esac; done\n'),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folder = tarfile.TarInfo("bin/")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
        tar.addfile(folder)
        for name, text in scripts.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(text), 0o755, 1_700_000_000
            tar.addfile(info, io.BytesIO(text.encode()))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_config(root: Path, run_image: str) -> None:
    (root / "versions.toml").write_text(f"""
[stacks.test]
build-image = "release-bot-test/bookworm:build"
run-image = "{run_image}"

[components.mono]
version = "6.8.0.105"
source = "http://upstream.invalid/mono-{{version}}.tar.xz"
sha256 = "{"0" * 64}"
""")


def test_runtime_from_artifacts_extracts_at_app(docker_client: docker.DockerClient,
                                                stack_images: tuple[str, str], tmp_path: Path
                                                ) -> None:
    built = make_artifact(tmp_path / "artifacts", "mono", "6.8.0.105", "test",
                          data=fake_mono_tarball())
    artifact = RuntimeArtifact("mono", "6.8.0.105", "test", built.tarball, built.sha256)
    engine = DockerEngine(docker_client)
    first = ensure_runtime_image(engine, stack_images[1], (artifact,), print)
    again = ensure_runtime_image(engine, stack_images[1], (artifact,), print)
    assert again.id == first.id
    assert not again.built
    assert current_image(engine, "release-bot/runtime", "0" * 64, INPUTS_LABEL) is None
    out = docker_client.containers.run(first.tag, ["mono"], remove=True)
    assert b"Hello World from the fake mono at /app/bin/mono" in out
    env = docker_client.images.get(first.tag).attrs["Config"]["Env"]
    assert any(e.startswith("PATH=/app/bin:") for e in env)

    # The CLI's artifact path, end to end: plan, runtime image, compile, app image, check.
    write_config(tmp_path, stack_images[1])
    result, data = smoke("--artifacts", "artifacts", "--stack", "test", "--check", "console",
                         cwd=tmp_path)
    assert_no_leftovers(docker_client, result)
    assert result.code == 0, result.output[-3000:]
    assert data[0]["passed"] is True
    assert "fake mono" in str(data[0]["output_excerpt"])
    assert "mono 6.8.0.105 on release-bot-test/bookworm:run (stack test)" in result.stderr


def test_tampered_artifact_is_refused_with_exit_5(stack_images: tuple[str, str], tmp_path: Path
                                                  ) -> None:
    built = make_artifact(tmp_path / "artifacts", "mono", "6.8.0.105", "test",
                          data=fake_mono_tarball())
    built.tarball.write_bytes(built.data + b"tampered")
    write_config(tmp_path, stack_images[1])
    result = run_cli(["smoke", "--stack", "test", "--artifacts", "artifacts"], env={},
                     cwd=tmp_path)
    assert result.code == 5, result.output[-3000:]
    assert "does not match the sha256 of its manifest" in result.stderr


def test_a_compile_that_outlasts_its_bound_fails_the_check_not_the_run(
        docker_client: docker.DockerClient, stack_images: tuple[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in {"bin/mono": "#!/bin/sh\necho mono\n",
                           "bin/mcs": "#!/bin/sh\necho compiling forever\nexec sleep 600\n"
                           }.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(text), 0o755, 1_700_000_000
            tar.addfile(info, io.BytesIO(text.encode()))
    make_artifact(tmp_path / "artifacts", "mono", "6.8.0.105", "test",
                  data=gzip.compress(raw.getvalue(), mtime=0))
    write_config(tmp_path, stack_images[1])
    monkeypatch.setattr("bot.smoke.samples.COMPILE_TIMEOUT", 3)
    result, data = smoke("--artifacts", "artifacts", "--stack", "test", "--check", "console",
                         cwd=tmp_path)
    assert_no_leftovers(docker_client, result)
    assert result.code == 5, result.output[-3000:]
    (console,) = data
    assert console["passed"] is False
    assert "took longer than 3s" in str(console["detail"])
