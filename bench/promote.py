"""Benchmark: merge-to-release time with promotion against a rebuild (issue 12).

    .venv/bin/python -m bench.promote [--sleep 60]

The fixture: one component, a generated autotools project (tests/projects.py) whose `make`
sleeps `--sleep` seconds (>= 60 s builds), on the test stack. First, untimed, the pull
request's build job: `release-bot run --stack S --out DIR` and `builder-inputs`, whose
output is uploaded as the artifact `release-bot-stack-<stack>` of a pull-request run on an
in-process fake GitHub, and the pull request merged. Then, in the same process, the merge's
path from push to release notes, through the real CLI:

* rebuild (the baseline): `run --stack S --out OUT` (the build job), `publish OUT`,
  `notes --artifacts OUT`;
* promotion: `promote --out OUT` (find the run, download the artifact, check it),
  `publish OUT`, `notes --artifacts OUT`.

Each path publishes to its own empty file store. Prints both times and their ratio; the
promoted path should cost about the download plus the publish. No assertions.
Needs the Docker engine and the test stack images (`make stack-images`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.clirunner import CliResult, run_cli  # noqa: E402
from tests.fakegithub.server import FakeGitHub  # noqa: E402
from tests.harness import docker as hdocker  # noqa: E402
from tests.harness.upstream import UpstreamServer  # noqa: E402
from tests.projects import hello_project, make_tarball  # noqa: E402

STACK = "test"
OWNER, NAME = "acme", "buildpack"


def write_config(root: Path, url: str, sha: str) -> Path:
    path = root / "versions.toml"
    path.write_text(f"""
[stacks.{STACK}]
build-image = "{hdocker.TEST_BUILD_IMAGE}"
run-image = "{hdocker.TEST_RUN_IMAGE}"

[components.slow]
version = "1.0"
source = "{url.replace('1.0', '{version}')}"
sha256 = "{sha}"
""")
    return path


def cli(root: Path, env: dict[str, str], *args: str) -> CliResult:
    result = run_cli(["--config", str(root / "versions.toml"), *args], env=env, cwd=root)
    if result.code != 0:
        raise SystemExit(f"release-bot {args[0]} failed ({result.code}):\n"
                         f"{result.output[-4000:]}")
    return result


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(folder).as_posix())
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=int, default=60, help="seconds `make` sleeps")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-promote-") as tmp, \
            UpstreamServer() as upstream, FakeGitHub() as fake:
        root = Path(tmp)
        source = make_tarball(hello_project(make_hook=f"sleep {args.sleep}"), "slow-1.0")
        upstream.add("/slow-1.0.tar.gz", source)
        write_config(root, f"{upstream.url}/slow-1.0.tar.gz", hashlib.sha256(source).hexdigest())
        env = {"RELEASE_BOT_CACHE": str(root / "cache"), "DOCKER_HOST": hdocker.docker_base_url(),
               "RELEASE_BOT_DIST": str(root / "dist"), "GITHUB_TOKEN": "test-token",
               "GITHUB_REPOSITORY": f"{OWNER}/{NAME}", "GITHUB_API_URL": fake.url}

        # the pull request's build job (untimed), its run and artifact on the fake GitHub
        fake.create_repo(OWNER, NAME, files={"versions.toml": "# before\n"})
        head = fake.push(OWNER, NAME, "bump", {"versions.toml": "# after\n"}, base="main")
        with fake.client() as gh:
            number = gh.get_repo(f"{OWNER}/{NAME}").create_pull(
                base="main", head="bump", title="slow 1.0", body="").number
        pr_out = root / "pr-out"
        started = time.monotonic()
        cli(root, env, "run", "--stack", STACK, "--out", str(pr_out), "--store",
            f"file://{root / 'pr-store'}")
        cli(root, env, "builder-inputs", "--stack", STACK, "--out", str(pr_out))
        print(f"pull request build job: {time.monotonic() - started:.1f}s (untimed)")
        run_id = fake.add_workflow_run(OWNER, NAME, head_sha=head, workflow="pr-build.yml",
                                       pull_numbers=[number])
        fake.add_artifact(OWNER, NAME, run_id, f"release-bot-stack-{STACK}", zipped(pr_out))
        merge = fake.merge_pull(OWNER, NAME, number)

        def release(out: Path, store: Path) -> None:
            cli(root, env, "publish", str(out), "--store", f"file://{store}")
            cli(root, env, "notes", "--artifacts", str(out), "--store", f"file://{store}",
                "--output", str(out / "notes.md"))

        started = time.monotonic()
        rebuilt = root / "rebuilt"
        cli(root, env, "run", "--stack", STACK, "--out", str(rebuilt), "--store",
            f"file://{root / 'store-a'}")
        release(rebuilt, root / "store-a")
        rebuild = time.monotonic() - started

        started = time.monotonic()
        promoted = root / "promoted"
        result = cli(root, env, "promote", "--out", str(promoted), "--commit", merge,
                     "--store", f"file://{root / 'store-b'}")
        if not list(promoted.glob("*.tar.gz")):
            raise SystemExit(f"nothing was promoted:\n{result.output[-4000:]}")
        release(promoted, root / "store-b")
        promote = time.monotonic() - started

        print(f"merge to release, rebuild:   {rebuild:7.1f}s (build, publish, notes)")
        print(f"merge to release, promoted:  {promote:7.1f}s (find, download, check, "
              "publish, notes)")
        print(f"ratio promoted / rebuild:    {promote / rebuild:7.3f}")


if __name__ == "__main__":
    main()
