"""`release-bot promote` through the CLI against the fake GitHub (Actions runs, artifacts,
their zip downloads) and a file store: what matches is promoted byte for byte, anything
else is refused with a warning naming it, built instead, and never published."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from bot.errors import GitHubError
from bot.forge.actions import ArtifactGone, GitHubActions
from bot.http import HttpClient, RetryPolicy
from tests.clirunner import CliResult, run_cli
from tests.fakegithub.server import FakeGitHub
from tests.promotion import (
    NAME,
    OWNER,
    REPOSITORY,
    STACKS,
    VERSIONS,
    stack_artifact,
    write_config,
)

ARTIFACT = "release-bot-stack-heroku-24"


class Merge:
    """A bot pull request bumping versions.toml, merged on the fake GitHub, and the run of
    the pull-request workflow for its head commit."""

    def __init__(self, fake: FakeGitHub, tmp_path: Path) -> None:
        self.fake, self.tmp = fake, tmp_path
        self.config = write_config(tmp_path)
        fake.create_repo(OWNER, NAME, files={"versions.toml": "# before\n"})
        self.head = fake.push(OWNER, NAME, "release-bot/mono", {"versions.toml": VERSIONS},
                              base="main")
        with fake.client() as gh:
            self.number = gh.get_repo(REPOSITORY).create_pull(
                base="main", head="release-bot/mono", title="mono 6.14.1", body="").number
        self.commit = fake.merge_pull(OWNER, NAME, self.number)
        self.store = tmp_path / "store"
        self.out = tmp_path / "out"
        self.outputs = tmp_path / "outputs"

    def run(self, **kwargs: Any) -> int:
        kwargs.setdefault("workflow", "pr-build.yml")
        kwargs.setdefault("pull_numbers", [self.number])
        return self.fake.add_workflow_run(OWNER, NAME, head_sha=self.head, **kwargs)

    def upload(self, run_id: int, files: dict[str, bytes], name: str = ARTIFACT, **kw: Any
               ) -> int:
        return self.fake.add_artifact(OWNER, NAME, run_id, name, files, **kw)

    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": "test-token", "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_API_URL": self.fake.url, "GITHUB_ACTIONS": "true",
                "GITHUB_OUTPUT": str(self.outputs), "RELEASE_BOT_DIST": str(self.tmp / "dist")}

    def promote(self, *args: str) -> CliResult:
        self.outputs.write_text("")
        return run_cli(["--config", str(self.config.path), "promote", "--store",
                        f"file://{self.store}", "--out", str(self.out), "--commit",
                        self.commit, *args], env=self.env(), cwd=self.tmp)

    def output(self, name: str) -> str:
        text = self.outputs.read_text()
        head = f"{name}<<"
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(head):
                return lines[i + 1]
        raise KeyError(name)

    def publish(self) -> CliResult:
        return run_cli(["--config", str(self.config.path), "publish", str(self.out),
                        "--store", f"file://{self.store}"], env={}, cwd=self.tmp)


@pytest.fixture
def merge(fake_github: FakeGitHub, tmp_path: Path) -> Merge:
    return Merge(fake_github, tmp_path)


def _warnings(result: CliResult) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("::warning")]


def test_a_matching_stack_is_promoted_and_published_byte_for_byte(merge: Merge) -> None:
    run_id = merge.run()
    files = stack_artifact(merge.config, "heroku-24")
    merge.upload(run_id, files)
    result = merge.promote()
    assert result.code == 0, result.output
    tarball = "mono-6.14.1-heroku-24.tar.gz"
    assert (merge.out / tarball).read_bytes() == files[tarball]
    assert (merge.out / "smoke" / "heroku-24.json").read_bytes() == files["smoke/heroku-24.json"]
    record = json.loads((merge.out / "promoted" / "heroku-24.json").read_text())
    assert record["pull"]["number"] == merge.number and record["run"]["id"] == run_id
    assert record["artifacts"] == [tarball, "xsp-4.7.1-heroku-24.tar.gz"]
    # heroku-22 had no artifact in that run: named, and left to the build matrix
    assert any(f"run {run_id} has no artifact release-bot-stack-heroku-22" in w
               for w in _warnings(result)), result.output
    assert json.loads(merge.output("stacks")) == {
        "include": [{"stack": "heroku-22", "arch": "amd64", "lane": "heroku-22",
                     "runs-on": "ubuntu-24.04"}]}
    assert merge.output("count") == "2" and merge.output("promoted") == "2"

    published = merge.publish()
    assert published.code == 0, published.output
    index = json.loads((merge.store / "index.json").read_text())
    shas = {(e["component"], e["stack"]): e["sha256"] for e in index["artifacts"]}
    assert shas[("mono", "heroku-24")] == hashlib.sha256(files[tarball]).hexdigest()

    notes = run_cli(["--config", str(merge.config.path), "notes", "--artifacts",
                     str(merge.out), "--store", f"file://{merge.store}"], env={}, cwd=merge.tmp)
    assert notes.code == 0, notes.output
    assert "## Promoted from the pull request" in notes.stdout
    assert (f"`{tarball}`, `xsp-4.7.1-heroku-24.tar.gz`: built and smoke-tested by pull "
            f"request #{merge.number}, [run {run_id}](") in notes.stdout
    # a record that is not what promote writes is left out, not rendered
    forged = merge.out / "promoted" / "heroku-24.json"
    forged.write_text(forged.read_text().replace('"url": "', '"url": "javascript:'))
    again = run_cli(["--config", str(merge.config.path), "notes", "--artifacts",
                     str(merge.out), "--store", f"file://{merge.store}"], env={}, cwd=merge.tmp)
    assert again.code == 0 and "Promoted" not in again.stdout


def _tampered(merge: Merge) -> list[str]:
    files = stack_artifact(merge.config, "heroku-24")
    files["mono-6.14.1-heroku-24.tar.gz"] = b"not what was tested"
    merge.upload(merge.run(), files)
    return ["heroku-24: not promoted", "mono-6.14.1-heroku-24.tar.gz: tampered"]


def _other_version(merge: Merge) -> list[str]:
    merge.upload(merge.run(), stack_artifact(merge.config, "heroku-24", version="6.12.0"))
    return ["mono-6.12.0-heroku-24.tar.gz: its manifest is for mono 6.12.0 (heroku-24), "
            "versions.toml asks for mono 6.14.1 (heroku-24)"]


def _other_workflow(merge: Merge) -> list[str]:
    run_id = merge.run(workflow="check.yml")
    merge.upload(run_id, stack_artifact(merge.config, "heroku-24"))
    return [f"run {run_id} ", "is of .github/workflows/check.yml, not "
            ".github/workflows/pr-build.yml"]


def _fork(merge: Merge) -> list[str]:
    run_id = merge.run(head_repo="mallory/buildpack", pull_numbers=[])
    merge.upload(run_id, stack_artifact(merge.config, "heroku-24"))
    return [f"run {run_id} ", "is from the fork mallory/buildpack"]


def _expired(merge: Merge) -> list[str]:
    run_id = merge.run()
    artifact = merge.upload(run_id, stack_artifact(merge.config, "heroku-24"))
    merge.fake.expire_artifact(OWNER, NAME, artifact)
    return [f"{ARTIFACT}: expired in run {run_id} (artifact {artifact})"]


@pytest.mark.parametrize("arrange", [_tampered, _other_version, _other_workflow, _fork,
                                     _expired])
def test_bad_input_is_refused_with_a_warning_naming_it_and_built(merge: Merge,
                                                                 arrange: Any) -> None:
    named = arrange(merge)
    result = merge.promote()
    assert result.code == 0, result.output
    assert any(all(n in w for n in named) for w in _warnings(result)), result.output
    assert not list(merge.out.glob("*.tar.gz")) and not (merge.out / "promoted").exists()
    assert json.loads(merge.output("stacks")) == {
        "include": [{"stack": s, "arch": "amd64", "lane": s, "runs-on": "ubuntu-24.04"}
                    for s in STACKS]}
    assert merge.output("count") == "4" and merge.output("promoted") == "0"
    assert merge.publish().code != 0  # nothing to publish
    assert not (merge.store / "index.json").exists()


def test_a_download_that_expired_after_the_listing_is_artifact_gone(merge: Merge,
                                                                    tmp_path: Path) -> None:
    run_id = merge.run()
    merge.upload(run_id, stack_artifact(merge.config, "heroku-24"))
    actions = GitHubActions(merge.fake.client(), REPOSITORY, HttpClient())
    (listed,) = actions.artifacts(run_id)
    assert not listed.expired
    assert actions.download(listed, tmp_path / "a.zip").stat().st_size == listed.size
    merge.fake.expire_artifact(OWNER, NAME, listed.id)
    with pytest.raises(ArtifactGone, match="has expired"):
        actions.download(listed, tmp_path / "b.zip")


def test_the_blob_download_goes_through_the_bots_http_client(merge: Merge,
                                                               tmp_path: Path) -> None:
    """The signed blob URL gets the shared client's retries; a storage host failing for good
    is one line that does not name the URL (its signature is a credential)."""
    run_id = merge.run()
    merge.upload(run_id, stack_artifact(merge.config, "heroku-24"))
    http = HttpClient(policy=RetryPolicy(attempts=3, base_delay=0.0))
    actions = GitHubActions(merge.fake.client(), REPOSITORY, http)
    (listed,) = actions.artifacts(run_id)
    busy = merge.fake.inject("GET", r"^/_blobs/", "503", times=2)
    assert actions.download(listed, tmp_path / "a.zip").stat().st_size == listed.size
    assert busy.hits == 2 and http.stats.retries == 2
    merge.fake.inject("GET", r"^/_blobs/", "503", times=3)
    with pytest.raises(GitHubError) as failed:
        actions.download(listed, tmp_path / "b.zip")
    assert "rerun the job" in str(failed.value) and "sig=" not in str(failed.value)
    merge.fake.inject("GET", r"^/_blobs/", "truncate", times=1)  # the body stops halfway
    with pytest.raises(GitHubError) as cut:
        actions.download(listed, tmp_path / "c.zip")
    assert "was cut off" in str(cut.value) and "sig=" not in str(cut.value)


def test_no_promote_asks_github_nothing(merge: Merge) -> None:
    before = len(merge.fake.requests)
    result = merge.promote("--no-promote")
    assert result.code == 0, result.output
    assert len(merge.fake.requests) == before
    assert merge.output("count") == "4" and merge.output("promoted") == "0"


def test_a_commit_that_merged_no_pull_request_builds_everything(merge: Merge) -> None:
    merge.commit = merge.fake.push(OWNER, NAME, "main", {"README": "x"})
    result = merge.promote()
    assert result.code == 0
    assert any("merged no pull request" in w for w in _warnings(result)), result.output
    assert merge.output("count") == "4"


def test_usage_errors_exit_2_naming_the_fix(merge: Merge) -> None:
    merge.commit = "not-a-sha"
    bad = merge.promote()
    assert bad.code == 2 and "--commit 'not-a-sha' is not a 40-hex commit sha" in bad.output
    no_token = run_cli(["--config", str(merge.config.path), "promote", "--store",
                        f"file://{merge.store}", "--out", str(merge.out)], env={},
                       cwd=merge.tmp)
    assert no_token.code == 2 and "--no-promote" in no_token.output


def test_a_github_error_builds_everything_with_a_warning(merge: Merge) -> None:
    merge.fake.inject("GET", r"/pulls", "403", times=5)
    result = merge.promote()
    assert result.code == 0, result.output
    assert any("cannot promote" in w and "403" in w for w in _warnings(result)), result.output
    assert merge.output("count") == "4"
