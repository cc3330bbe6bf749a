"""Benchmark: `release-bot build` against a plain `docker run`, warm rebuilds, pruned sizes.

    .venv/bin/python -m bench.build [--heavy 10] [--runs 2]
    .venv/bin/python -m bench.build --sizes PRUNED.tar.gz PLAIN.tar.gz   # (c) only

(a) overhead: a generated autotools project (tests/projects.py) whose `make` compiles
    `--heavy` CPU-heavy C files (>= 30 s on 2 cores with the default), built by the bot
    through the real CLI (fetch from a loopback upstream into the verified cache, builder
    image, fresh container, per-step exec, prune, reproducible tarball, manifest), against
    a plain `docker run --rm --network none` of the same step scripts in the same builder
    image with the same source mount, ending in `tar -czf` of /app to a bind mount.
    Runs alternate (baseline, bot, baseline, bot, ...) after an untimed warm-up; the ratio
    uses the best of each. Target <= 1.05.
(b) warm rebuild: the bot's timed runs reuse the cache and the builder image; reports the
    bytes downloaded (0 expected), whether the image was rebuilt, and the time.
(c) size: a pruned artifact against a plain one. With --sizes, the two given tarballs (for
    Mono: a build with prune = "mono" and one with prune = "none"); otherwise the generated
    project built with prune "default" and "none" (small, for illustration).

Needs the Docker engine and the test stack images (`make stack-images`). No assertions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.build.builder_image import ensure_builder_image  # noqa: E402
from bot.build.plan import BUILD_USER, plan_build  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.containers.docker import DockerEngine  # noqa: E402
from tests.clirunner import run_cli  # noqa: E402
from tests.harness import docker as hdocker  # noqa: E402
from tests.harness.upstream import UpstreamServer  # noqa: E402
from tests.projects import hello_project, make_tarball  # noqa: E402

STACK = "test"


def write_config(root: Path, url: str, sha: str, prune: str) -> None:
    (root / "versions.toml").write_text(f"""
[stacks.{STACK}]
build-image = "{hdocker.TEST_BUILD_IMAGE}"
run-image = "{hdocker.TEST_RUN_IMAGE}"

[components.heavy]
version = "1.0"
source = "{url.replace('1.0', '{version}')}"
sha256 = "{sha}"
prune = "{prune}"
""")


def bot_build(root: Path, out: Path, cpus: int) -> tuple[float, dict[str, object]]:
    env = {"RELEASE_BOT_CACHE": str(root / "cache"), "DOCKER_HOST": hdocker.docker_base_url()}
    start = time.monotonic()
    result = run_cli(["build", "heavy", "--out", str(out), "--cpus", str(cpus), "--json"],
                     env=env, cwd=root)
    seconds = time.monotonic() - start
    if result.code != 0:
        raise SystemExit(f"bot build failed ({result.code}):\n{result.stderr[-4000:]}")
    return seconds, json.loads(result.stdout)[0]


def baseline_script(root: Path, cpus: int) -> str:
    """The plan's container steps, back to back, then a plain tarball of /app."""
    plan = plan_build(load_config(root / "versions.toml"), "heavy", STACK, cpus=cpus)
    parts = [f"cd {shlex.quote(s.workdir)}\n( {s.script}\n)" for s in plan.container_steps()]
    return "set -e\n" + "\n".join(parts) + "\ntar -czf /out/plain.tar.gz -C /app .\n"


def plain_docker_run(root: Path, image: str, source: Path, cpus: int) -> float:
    out = root / "plain-out"
    out.mkdir(exist_ok=True)
    out.chmod(0o777)
    script = baseline_script(root, cpus)
    cmd = ["docker", "run", "--rm", "--network", "none", "--user", BUILD_USER,
           "--cpus", str(cpus), "-e", "SOURCE_DATE_EPOCH=1700000000",
           "-v", f"{source}:/sources/source:ro", "-v", f"{out}:/out",
           image, "bash", "-c", script]
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def sizes(pruned: Path, plain: Path) -> None:
    a, b = pruned.stat().st_size, plain.stat().st_size
    print(f"(c) size: pruned {a / 1e6:.2f} MB ({pruned.name}) vs plain {b / 1e6:.2f} MB "
          f"({plain.name}): {100 * (1 - a / b):.1f}% smaller (target for Mono: >= 75%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy", type=int, default=10, help="CPU-heavy C files to compile")
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each side")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--sizes", nargs=2, type=Path, metavar=("PRUNED", "PLAIN"))
    args = parser.parse_args()
    if args.sizes:
        sizes(*args.sizes)
        return

    hdocker.ensure_stack_images()
    client = hdocker.make_client(timeout=600)
    image = ensure_builder_image(DockerEngine(client), hdocker.TEST_BUILD_IMAGE,
                                 lambda line: None)
    tarball = make_tarball(hello_project(heavy_files=args.heavy), "heavy-1.0")
    sha = hashlib.sha256(tarball).hexdigest()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp, UpstreamServer() as up:
        root = Path(tmp)
        url = up.url + "/heavy/heavy-1.0.tar.gz"
        up.add("/heavy/heavy-1.0.tar.gz", tarball)
        write_config(root, url, sha, "default")
        source = root / "heavy-1.0.tar.gz"
        source.write_bytes(tarball)

        print(f"project: {args.heavy} heavy C files; cpus {args.cpus}; builder {image.tag}")
        cold_s, cold = bot_build(root, root / "out-warmup", args.cpus)
        print(f"warm-up (cold cache): {cold_s:.1f}s, downloaded {cold['downloaded']} bytes, "
              f"builder image {'built' if cold['image_built'] else 'reused'}")
        base_times: list[float] = []
        bot_times: list[float] = []
        warm: list[dict[str, object]] = []
        for i in range(args.runs):
            base_times.append(plain_docker_run(root, image.id, source, args.cpus))
            seconds, info = bot_build(root, root / f"out-{i}", args.cpus)
            bot_times.append(seconds)
            warm.append(info)
            print(f"run {i + 1}: plain docker run {base_times[-1]:.1f}s, "
                  f"release-bot build {seconds:.1f}s")
        best_base, best_bot = min(base_times), min(bot_times)
        print(f"(a) overhead: release-bot {best_bot:.1f}s / plain docker run {best_base:.1f}s "
              f"= {best_bot / best_base:.3f} (target <= 1.05; best of {args.runs})")
        same = len({(root / f"out-{i}" / "heavy-1.0-test.tar.gz").read_bytes()
                    for i in range(args.runs)}) == 1
        print(f"(b) warm rebuild: {min(bot_times):.1f}s, downloaded "
              f"{[w['downloaded'] for w in warm]} bytes, builder image "
              f"{'rebuilt' if any(w['image_built'] for w in warm) else 'reused'}, "
              f"tarballs byte-identical: {same}")

        write_config(root, url, sha, "none")
        bot_build(root, root / "out-plain", args.cpus)
        sizes(root / "out-0" / "heavy-1.0-test.tar.gz",
              root / "out-plain" / "heavy-1.0-test.tar.gz")
        print("    (for Mono, pass two real artifacts: --sizes PRUNED PLAIN)")


if __name__ == "__main__":
    main()
