"""The pipeline as a buildpack repository runs it: the README's consumer workflows, verbatim,
under act, against the fake GitHub, moto S3 and loopback upstreams.

The buildpack repository is a throwaway git repository: its versions.toml names two generated
autotools projects shaped like Mono and XSP (`xsp` requires `mono` and is built against it),
for two stacks. Every action the workflows name is a stand-in under tests/workflows/actions/
(the artifact ones really move files between jobs); the bot's own action is this checkout.
The stacks' run image is the test tier's Debian-Mono runtime, so the smoke checks really run
(console, web on port 5000, an ASP.NET page) with the artifacts at /app.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from bot.arch import foreign_elf
from bot.store.publish import collect_artifacts, publish
from bot.store.s3 import S3Store
from tests.builtartifacts import make_artifact
from tests.fakegithub.server import FakeGitHub
from tests.harness import docker as hdocker
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer
from tests.projects import addon_project, hello_project, make_tarball
from tests.recording import RecordingReporter
from tests.test_publish_s3 import make_public
from tests.test_workflows import readme_workflows
from tests.workflows.act import ActRun, run_act

pytestmark = [pytest.mark.workflows, pytest.mark.docker]

ROOT = Path(__file__).resolve().parents[2]
OWNER, NAME = "acme", "buildpack"
BOT_REF = "OWNER/release-bot@SHA"
STACKS = ("heroku-22", "heroku-24")
# planted: must show up in no log, artifact, release or job but the one that needs it
AWS_SECRET = "planted-aws-secret-7f3a9c"
GITHUB_TOKEN = "ghs_planted_token_51c2e8"


def _hello(version: str) -> bytes:
    # the FAIL_BUILD variable (set per stack in versions.toml) makes `make` fail
    files = hello_project(version=version, make_hook='test -z "$$FAIL_BUILD"')
    return make_tarball(files, f"mono-{version}")


def _addon(version: str) -> bytes:
    return make_tarball(addon_project(version=version), f"xsp-{version}")


class Buildpack:
    """The buildpack repository (a local git repository and its twin on the fake GitHub),
    its bucket, the upstream, and act runs of its workflows."""

    def __init__(self, root: Path, fake: FakeGitHub, upstream: UpstreamServer, s3: MotoS3,
                 images: tuple[str, str], runtime: str, bucket: str, bot: Path) -> None:
        self.root, self.fake, self.upstream, self.s3, self.bot = root, fake, upstream, s3, bot
        self.images, self.runtime, self.bucket = images, runtime, bucket
        self.repo = root / "repo"
        self.runs = 0
        self.run_image = dict.fromkeys(STACKS, runtime)
        self.fail_build: set[str] = set()
        self.versions: list[str] = []
        self.sources: dict[tuple[str, str], bytes] = {}
        self.publish_upstream("mono", "1.0")
        self.publish_upstream("xsp", "2.0")
        self.repo.mkdir()
        workflows = self.repo / ".github" / "workflows"
        workflows.mkdir(parents=True)
        for name, text in readme_workflows().items():
            (workflows / name).write_text(text)
        (self.repo / "versions.toml").write_text(self.versions_toml("1.0"))
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", f"https://github.com/{OWNER}/{NAME}.git")
        self.commit("buildpack")
        files = {str(p.relative_to(self.repo)): p.read_bytes()
                 for p in self.repo.rglob("*") if p.is_file() and ".git" not in p.parts}
        fake.create_repo(OWNER, NAME, files=files)

    # -- the upstream ----------------------------------------------------------------------
    def publish_upstream(self, component: str, version: str) -> None:
        data = _hello(version) if component == "mono" else _addon(version)
        self.sources[(component, version)] = data
        self.upstream.add(f"/{component}/{component}-{version}.tar.gz", data)
        if component == "mono":
            self.versions.append(version)
            links = "".join(f'<a href="mono-{v}.tar.gz">mono-{v}.tar.gz</a>\n'
                            for v in self.versions)
            self.upstream.add("/mono/", f"<html><body><pre>\n{links}</pre></body></html>\n"
                              .encode(), content_type="text/html")

    def sha(self, component: str, version: str) -> str:
        return hashlib.sha256(self.sources[(component, version)]).hexdigest()

    def versions_toml(self, mono: str) -> str:
        stacks = "".join(
            f'[stacks.{s}]\nbuild-image = "{self.images[0]}"\nrun-image = "{self.run_image[s]}"'
            "\n\n" for s in STACKS)
        overrides = "".join(f'[components.mono.overrides.{s}]\nenv = {{ FAIL_BUILD = "1" }}\n\n'
                            for s in sorted(self.fail_build))
        return (f"{stacks}"
                f'[components.mono]\nversion = "{mono}"\n'
                f'source = "{self.upstream.url}/mono/mono-{{version}}.tar.gz"\n'
                f'sha256 = "{self.sha("mono", mono)}"\n\n'
                f'[[components.mono.upstream]]\ntype = "html-index"\n'
                f'url = "{self.upstream.url}/mono/"\n'
                "pattern = 'mono-(?P<version>[0-9.]+)\\.tar\\.gz'\n\n"
                f"{overrides}"
                f'[components.xsp]\nversion = "2.0"\n'
                f'source = "{self.upstream.url}/xsp/xsp-{{version}}.tar.gz"\n'
                f'sha256 = "{self.sha("xsp", "2.0")}"\nrequires = ["mono"]\n')

    # -- the repository ----------------------------------------------------------------------
    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.repo), "-c", "user.name=maintainer",
                               "-c", "user.email=maintainer@example.invalid", *args],
                              check=True, capture_output=True, text=True).stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def write_versions(self, text: str) -> str:
        """A maintainer's push of versions.toml to main, here and on the fake GitHub."""
        (self.repo / "versions.toml").write_text(text)
        self.fake.push(OWNER, NAME, "main", {"versions.toml": text}, "versions.toml")
        return self.commit("versions.toml")

    def merge(self, number: int) -> str:
        """Merge the bot's pull request on the fake GitHub; main here follows."""
        self.fake.merge_pull(OWNER, NAME, number)
        text = self.fake.file_at(OWNER, NAME, "main", "versions.toml")
        assert text is not None
        (self.repo / "versions.toml").write_bytes(text)
        return self.commit(f"Merge pull request #{number}")

    # -- act -------------------------------------------------------------------------------
    def act(self, workflow: str, event: str, payload: dict[str, Any] | None = None, *,
            aws: bool = True) -> ActRun:
        self.runs += 1
        env = {
            "GITHUB_API_URL": self.fake.url,
            "RELEASE_BOT_ACT_FAKE_GITHUB": self.fake.url,  # artifacts registered there too
            "AWS_ENDPOINT_URL": self.s3.env["AWS_ENDPOINT_URL"],
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "DOCKER_HOST": hdocker.docker_base_url(),
            "RELEASE_BOT_ACT_PYTHON": sys.executable,
            # the action's `pip install` of the bot: the prepared venv has its dependencies
            # and the build backend, so nothing is fetched (PIP_NO_BUILD_ISOLATION=0 is
            # pip's spelling of --no-build-isolation)
            "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
        }
        variables = {"RELEASE_BOT_STORE": f"s3://{self.bucket}/buildpack"}
        secrets = {"GITHUB_TOKEN": GITHUB_TOKEN}
        if aws:
            variables["AWS_REGION"] = self.s3.env["AWS_REGION"]
            secrets |= {"AWS_ACCESS_KEY_ID": self.s3.env["AWS_ACCESS_KEY_ID"],
                        "AWS_SECRET_ACCESS_KEY": AWS_SECRET}
        run = run_act(self.repo, f".github/workflows/{workflow}", event, payload=payload,
                      env=env, secrets=secrets, variables=variables, bot_ref=BOT_REF,
                      bot_dir=self.bot, artifacts=self.root / "artifacts",
                      run_id=str(self.runs))
        (self.root / f"act-{self.runs}-{workflow}.log").write_text(run.log)
        return run

    def push_event(self, sha: str) -> dict[str, Any]:
        return {"ref": "refs/heads/main", "after": sha,
                "repository": {"full_name": f"{OWNER}/{NAME}", "default_branch": "main"}}

    # -- what landed -------------------------------------------------------------------------
    def index(self) -> dict[str, Any] | None:
        client = self.s3.client()
        try:
            body = client.get_object(Bucket=self.bucket, Key="buildpack/index.json")["Body"]
        except client.exceptions.NoSuchKey:
            return None
        data: dict[str, Any] = json.loads(body.read())
        return data

    def object_keys(self) -> list[str]:
        listed = self.s3.client().list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(o["Key"] for o in listed)

    def releases(self) -> list[dict[str, Any]]:
        return self.fake.releases(OWNER, NAME)

    def pulls(self, state: str = "all") -> list[dict[str, Any]]:
        return self.fake.pulls(OWNER, NAME, state)


@pytest.fixture(scope="module")
def bot_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout as `uses: OWNER/release-bot@SHA` would fetch it: the files git tracks
    (or would), without .venv, caches and .git, which act copies for every step."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], check=True, capture_output=True).stdout
    dest = tmp_path_factory.mktemp("release-bot")
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture
def buildpack(tmp_path: Path, fake_github: FakeGitHub, upstream: UpstreamServer, s3: MotoS3,
              stack_images: tuple[str, str], debian_runtime: str, bot_checkout: Path
              ) -> Iterator[Buildpack]:
    bucket = make_public(s3, s3.make_bucket(f"bp-{os.urandom(4).hex()}"))
    yield Buildpack(tmp_path, fake_github, upstream, s3, stack_images, debian_runtime, bucket,
                    bot_checkout)


def assert_ok(run: ActRun, *jobs: str) -> None:
    for job in jobs:
        assert run.jobs.get(job) == "success", (
            f"job {job}: {run.jobs.get(job)} (jobs: {run.jobs})\n{run.log[-8000:]}")


# -- poll -> one pull request -----------------------------------------------------------------
def test_scheduled_poll_keeps_exactly_one_pull_request(buildpack: Buildpack) -> None:
    buildpack.publish_upstream("mono", "1.1")
    first = buildpack.act("poll.yml", "schedule", {"schedule": "17 */6 * * *"})
    assert first.returncode == 0, first.log[-8000:]
    (pull,) = buildpack.pulls()
    branch = pull["head_ref"]
    text = buildpack.fake.file_at(OWNER, NAME, branch, "versions.toml")
    assert text is not None
    assert text.decode() == buildpack.versions_toml("1.1")  # exactly version and sha256
    # the fallback to GITHUB_TOKEN is said on the run
    assert "pull requests opened with GITHUB_TOKEN" in first.log

    writes = buildpack.fake.writes
    again = buildpack.act("poll.yml", "schedule", {"schedule": "17 */6 * * *"})
    assert again.returncode == 0, again.log[-8000:]
    assert len(buildpack.pulls()) == 1 and buildpack.fake.writes == writes

    buildpack.publish_upstream("mono", "1.2")
    newer = buildpack.act("poll.yml", "schedule", {"schedule": "17 */6 * * *"})
    assert newer.returncode == 0, newer.log[-8000:]
    (updated,) = buildpack.pulls()
    assert updated["number"] == pull["number"] and updated["state"] == "open"
    text = buildpack.fake.file_at(OWNER, NAME, branch, "versions.toml")
    assert text is not None and text.decode() == buildpack.versions_toml("1.2")


# -- merge -> build, smoke, publish, release ---------------------------------------------------
def test_a_push_of_versions_toml_builds_publishes_and_releases_once(
        buildpack: Buildpack) -> None:
    run = buildpack.act("build.yml", "push", buildpack.push_event(buildpack.git(
        "rev-parse", "HEAD")))
    assert run.returncode == 0, run.log[-8000:]
    assert_ok(run, "plan", "build (heroku-22)", "build (heroku-24)", "publish", "release")

    index = buildpack.index()
    assert index is not None
    entries = {(e["component"], e["version"], e["stack"]): e for e in index["artifacts"]}
    assert set(entries) == {(c, v, s) for c, v in (("mono", "1.0"), ("xsp", "2.0"))
                            for s in STACKS}
    # xsp was built against the Mono of the same job, in dependency order
    for stack in STACKS:
        lines = run.lines(f"build ({stack})")
        built = [i for i, line in enumerate(lines) if "build mono 1.0" in line
                 or "build xsp 2.0" in line]
        assert built and "mono" in lines[built[0]], lines[-40:]
    (release,) = buildpack.releases()
    for entry in entries.values():
        assert entry["url"] in release["body"] and entry["sha256"] in release["body"]
    for check in ("console", "web", "xsp"):
        assert check in release["body"]
    assert "failed" not in release["body"].lower()

    # the publishing job, and it alone, attested exactly the tarballs it uploaded
    (attested,) = run.calls("attest")
    assert attested["job"] == "publish"
    assert sorted((sub["name"], sub["digest"]["sha256"]) for sub in attested["subjects"]) == \
        sorted((e["key"].split("/")[-1].replace(".tar.gz", f"-{e['stack']}.tar.gz"),
                e["sha256"]) for e in entries.values())
    assert f"attestations/{attested['attestation-id']}" in release["body"]
    assert f"gh attestation verify mono-1.0-heroku-22.tar.gz --repo {OWNER}/{NAME}" in \
        release["body"]

    # nothing leaked: the planted secrets are in no artifact, object or release (act, like
    # GitHub, masks them in its log, so the log is no evidence either way)
    stored = b"".join(buildpack.s3.client().get_object(Bucket=buildpack.bucket, Key=k)[
        "Body"].read() for k in buildpack.object_keys())
    moved = b"".join(p.read_bytes() for p in (buildpack.root / "artifacts").rglob("*")
                     if p.is_file())
    for secret in (AWS_SECRET, GITHUB_TOKEN):
        assert secret.encode() not in stored + moved
        assert secret not in json.dumps(buildpack.releases(), default=str)
    # ... and in the environment of no job but the one that needs it
    # ... in the environment of no job: each reaches only the step of the one job that
    # uses it (the stand-ins record the job environment at each of their steps)
    envs = run.calls("env")
    assert {e["job"] for e in envs} == {"plan", "promote", "build", "publish", "release"}
    for record in envs:
        text = json.dumps(record["env"])
        assert AWS_SECRET not in text and GITHUB_TOKEN not in text, record["job"]
    aws_calls = run.calls("configure-aws-credentials")
    assert aws_calls and {c.get("job") for c in aws_calls} == {"publish"}, aws_calls

    second = buildpack.act("build.yml", "push", buildpack.push_event(buildpack.commit(
        "an unrelated commit")))
    assert second.returncode == 0, second.log[-8000:]
    assert_ok(second, "plan")
    assert second.jobs.get("build (heroku-22)") in (None, "skipped")
    assert len(second.calls("attest")) == 0
    assert len(buildpack.releases()) == 1
    assert buildpack.index() == index


def test_a_dry_run_dispatch_needs_no_aws_and_writes_nothing(buildpack: Buildpack) -> None:
    buildpack.publish_upstream("mono", "1.1")
    run = buildpack.act("build.yml", "workflow_dispatch", {"inputs": {
        "component": "mono", "version": "1.1", "sha256": buildpack.sha("mono", "1.1"),
        "stacks": "heroku-22", "force": "false", "dry-run": "true"}}, aws=False)
    assert run.returncode == 0, run.log[-8000:]
    assert_ok(run, "plan", "build (heroku-22)", "release")
    assert run.jobs.get("build (heroku-24)") is None
    assert run.jobs.get("publish") in (None, "skipped")
    assert buildpack.object_keys() == []
    assert buildpack.releases() == []
    assert "mono 1.1" in run.lines("build (heroku-22)")[-1] or any(
        "mono-1.1-heroku-22.tar.gz" in line for line in run.lines("release"))


def test_a_failed_stack_stops_only_itself(buildpack: Buildpack) -> None:
    buildpack.fail_build.add("heroku-24")
    sha = buildpack.write_versions(buildpack.versions_toml("1.0"))
    run = buildpack.act("build.yml", "push", buildpack.push_event(sha))
    assert run.returncode != 0
    assert run.jobs["build (heroku-24)"] == "failure"
    assert_ok(run, "plan", "build (heroku-22)", "publish", "release")
    index = buildpack.index()
    assert index is not None
    assert {e["stack"] for e in index["artifacts"]} == {"heroku-22"}
    errors = [line for line in run.lines("build (heroku-24)") if "::error" in line]
    assert any("heroku-24" in line for line in errors), errors
    (release,) = buildpack.releases()
    assert "heroku-24" not in release["body"]


def test_a_failing_smoke_test_publishes_nothing(buildpack: Buildpack) -> None:
    buildpack.run_image = dict.fromkeys(STACKS, buildpack.images[1])  # no Mono to run on
    sha = buildpack.write_versions(buildpack.versions_toml("1.0"))
    run = buildpack.act("build.yml", "push", buildpack.push_event(sha))
    assert run.returncode != 0
    assert run.jobs["build (heroku-22)"] == run.jobs["build (heroku-24)"] == "failure"
    assert run.jobs.get("release") in (None, "skipped")
    assert buildpack.object_keys() == []
    assert buildpack.releases() == []


# -- daily re-verification -> one issue -------------------------------------------------------
def test_scheduled_verify_keeps_one_issue_while_the_store_is_damaged(
        buildpack: Buildpack, tmp_path: Path) -> None:
    out = tmp_path / "built"
    for stack in STACKS:
        make_artifact(out, "mono", "1.0", stack, size=2048)
    store = S3Store(buildpack.s3.client(), buildpack.bucket, "buildpack",
                    endpoint_url=buildpack.s3.env["AWS_ENDPOINT_URL"])
    publish(store, collect_artifacts(out), force=False, reporter=RecordingReporter())
    cron = {"schedule": "41 5 * * *"}
    client = buildpack.s3.client()
    key = "buildpack/heroku-24/mono-1.0.tar.gz"
    good = client.get_object(Bucket=buildpack.bucket, Key=key)["Body"].read()

    def open_issues() -> list[dict[str, Any]]:
        return [i for i in buildpack.fake.issues(OWNER, NAME) if i["state"] == "open"]

    passing = buildpack.act("verify.yml", "schedule", cron)
    assert passing.returncode == 0, passing.summary()
    assert buildpack.fake.issues(OWNER, NAME) == []

    client.put_object(Bucket=buildpack.bucket, Key=key, Body=good[:1000])  # truncated
    failing = buildpack.act("verify.yml", "schedule", cron)
    assert failing.returncode != 0 and failing.jobs["verify"] == "failure"
    (issue,) = open_issues()
    assert "release-bot:verify" in issue["labels"]
    assert "heroku-24/mono-1.0.tar.gz" in issue["body"] and "truncated" in issue["body"]

    client.delete_object(Bucket=buildpack.bucket, Key=key)  # now missing
    again = buildpack.act("verify.yml", "schedule", cron)
    assert again.returncode != 0
    (updated,) = open_issues()
    assert updated["number"] == issue["number"] and "missing" in updated["body"]

    client.put_object(Bucket=buildpack.bucket, Key=key, Body=good)  # repaired
    fixed = buildpack.act("verify.yml", "schedule", cron)
    assert fixed.returncode == 0, fixed.summary()
    assert open_issues() == []
    (closed,) = buildpack.fake.issues(OWNER, NAME)
    assert closed["number"] == issue["number"] and closed["state"] == "closed"
    assert buildpack.fake.comments(OWNER, NAME, issue["number"])


# -- arm64 (issue 14) ------------------------------------------------------------------------
# arm64 through the workflows (issue 14): the README's build workflow, under act, for a stack
# with `arches = ["amd64", "arm64"]`.
#
# The plan gives the arm64 job GitHub's arm64 runner (`ubuntu-24.04-arm`) and the amd64 job the
# amd64 one; act maps both labels to this machine, so the arm64 job builds under QEMU here (on
# GitHub it runs natively). Each job keeps its own workflow artifact
# (`release-bot-stack-heroku-24`, `release-bot-stack-heroku-24-arm64`), the smoke checks run on
# each architecture's runtime, and one publish job puts both in one index.json: amd64 under
# `artifacts` at its old key, arm64 under `other-arches`. Marked `arm64` (`make test-arm64`
# runs it, with the arm64 images).
RUN_REPO = "release-bot-test/wf-runtime"


@pytest.mark.arm64  # `make test-arm64` runs it, with the arm64 images
def test_an_arm64_lane_is_planned_on_the_arm64_runner_built_published_and_announced(
        buildpack: Buildpack, arm64_images: tuple[str, str], debian_runtime: str,
        debian_runtime_arm64: str, docker_client: docker.DockerClient) -> None:
    for arch, image in (("amd64", debian_runtime), ("arm64", debian_runtime_arm64)):
        docker_client.images.get(image).tag(RUN_REPO, arch)
    text = buildpack.versions_toml("1.0")
    start = text.index("[stacks.heroku-22]")
    end = text.index("[components.mono]")
    text = (text[:start] + f'[stacks.heroku-24]\nbuild-image = "{hdocker.TEST_IMAGE_REPO}:'
            f'build-{{arch}}"\nrun-image = "{RUN_REPO}:{{arch}}"\n'
            'arches = ["amd64", "arm64"]\n\n' + text[end:])
    sha = buildpack.write_versions(text)
    run = buildpack.act("build.yml", "push", buildpack.push_event(sha))
    assert run.returncode == 0, run.log[-8000:]
    assert_ok(run, "plan", "build (heroku-24)", "build (heroku-24-arm64)", "publish", "release")

    # each lane keeps its own workflow artifact, its smoke results and builder inputs by lane
    kept = {str(f.relative_to(buildpack.root / "artifacts" / "1")) for f in
            (buildpack.root / "artifacts" / "1").rglob("*.json")}
    assert {"release-bot-stack-heroku-24-arm64/smoke/heroku-24-arm64.json",
            "release-bot-stack-heroku-24-arm64/builder/heroku-24-arm64.json",
            "release-bot-stack-heroku-24-arm64/mono-1.0-heroku-24-arm64.json",
            "release-bot-stack-heroku-24/smoke/heroku-24.json"} <= kept, sorted(kept)

    # the build matrix (plan's, and promote's: what is left to build) runs each lane natively
    for job in ("plan", "promote"):
        line = next(line for line in run.lines(job) if "::set-output:: stacks=" in line)
        matrix = json.loads(line.split("stacks=", 1)[1])
        assert [(j["lane"], j["runs-on"]) for j in matrix["include"]] == [
            ("heroku-24", "ubuntu-24.04"), ("heroku-24-arm64", "ubuntu-24.04-arm")], job

    index = buildpack.index()
    assert index is not None
    assert sorted(e["key"] for e in index["artifacts"]) == [
        "heroku-24/mono-1.0.tar.gz", "heroku-24/xsp-2.0.tar.gz"]
    other = {e["key"]: e for e in index["other-arches"]}
    assert sorted(other) == ["heroku-24/arm64/mono-1.0.tar.gz", "heroku-24/arm64/xsp-2.0.tar.gz"]
    body = buildpack.s3.client().get_object(
        Bucket=buildpack.bucket, Key="buildpack/heroku-24/arm64/mono-1.0.tar.gz")["Body"].read()
    tarball = buildpack.root / "mono-1.0-heroku-24-arm64.tar.gz"
    tarball.write_bytes(body)
    assert foreign_elf(tarball, "arm64") == [] and foreign_elf(tarball, "amd64")  # all aarch64

    (release,) = buildpack.releases()
    for entry in [*index["artifacts"], *other.values()]:
        assert entry["url"] in release["body"] and entry["sha256"] in release["body"]
    smoke_rows = [line for line in release["body"].splitlines()
                  if line.startswith("| heroku-24 | arm64 |")]
    assert {row.split(" | ")[2] for row in smoke_rows} == {"console", "web", "xsp"}
    assert all("✅ passed" in row for row in smoke_rows), smoke_rows
