"""`release-bot pr` end to end: the real poll against loopback upstreams, the real PyGithub
against the fake GitHub. Every PR lifecycle case of issue 3 item 5 and the GitHub faults."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import GitHubError
from bot.forge.github import GitHubForge
from bot.forge.port import PullRequest
from bot.notes.render import make_environment
from bot.prs.body import parse_metadata
from bot.prs.plan import Proposal
from bot.prs.runner import make_planner, reconcile
from bot.versions import Version
from tests.clirunner import CliResult, run_cli
from tests.fakegithub import FakeGitHub
from tests.harness.upstream import UpstreamServer
from tests.recording import RecordingReporter
from tests.test_sources import DATA, WINEHQ, tarball

OWNER, NAME = "acme", "buildpack"
REPO = f"{OWNER}/{NAME}"
INDEX = WINEHQ
# The WineHQ autoindex fixture (tests/data/upstream, shaped like dl.winehq.org): one table row
# per tarball; the rows are regenerated from its 6.14.1 row for the versions a test serves.
WINEHQ_PAGE = (DATA / "winehq-mono-index.html").read_text()
ROW = next(line for line in WINEHQ_PAGE.splitlines() if 'href="mono-6.14.1.tar.xz"' in line)

CONFIG = """\
# versions.toml of the test buildpack
[stacks.heroku-24]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[components.mono]
version = "6.14.0"
source = "{base}/mono/sources/mono/mono-{{version}}.tar.xz"
sha256 = "6dd64b3900f5e5d5f55016d89ccf7635c8739cbb33cdb81c1c3b61622e91d510"
configure-args = ["--disable-nls"]
prune = "mono"

[[components.mono.upstream]]
type = "html-index"
url = "{base}/mono/sources/mono/"
pattern = '(?:.*/)?mono-(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})\\.tar\\.xz'
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class World:
    """The buildpack repository on the fake GitHub, the upstream index, a checkout dir."""

    def __init__(self, fake: FakeGitHub, upstream: UpstreamServer, tmp: Path) -> None:
        self.fake, self.upstream, self.tmp = fake, upstream, tmp
        self.versions: list[str] = []
        self.config = CONFIG.format(base=upstream.url)
        (tmp / "versions.toml").write_text(self.config, encoding="utf-8")
        fake.create_repo(OWNER, NAME, files={"versions.toml": self.config,
                                             "README.md": "# buildpack\n"})
        self.release("6.14.0")
        self.release("6.14.1")

    def release(self, version: str) -> None:
        self.versions.append(version)
        self.upstream.add(f"{INDEX}mono-{version}.tar.xz", tarball(version))
        self._index()

    def withdraw(self, version: str) -> None:
        self.versions.remove(version)
        self.upstream.remove(f"{INDEX}mono-{version}.tar.xz")
        self._index()

    def _index(self) -> None:
        rows = [ROW.replace("6.14.1", v) for v in self.versions]
        lines = [line for line in WINEHQ_PAGE.splitlines() if 'href="mono-' not in line]
        at = next(i for i, line in enumerate(lines) if "Parent Directory" in line) + 1
        page = "\n".join(lines[:at] + rows + lines[at:]) + "\n"
        self.upstream.add(INDEX, page.encode(), content_type="text/html")

    @property
    def env(self) -> dict[str, str]:
        return {"GITHUB_API_URL": self.fake.url, "GITHUB_TOKEN": "test-token",
                "GITHUB_REPOSITORY": REPO, "RELEASE_BOT_CACHE": str(self.tmp / "cache")}

    def pr(self, *args: str) -> CliResult:
        return run_cli(["pr", *args], env=self.env, cwd=self.tmp)

    def pulls(self, state: str = "all") -> list[dict[str, Any]]:
        return self.fake.pulls(OWNER, NAME, state)

    def main_sha(self) -> str:
        sha = self.fake.branch_sha(OWNER, NAME, "main")
        assert sha is not None
        return sha

    def branch_file(self, branch: str = "release-bot/mono") -> str:
        data = self.fake.file_at(OWNER, NAME, branch, "versions.toml")
        assert data is not None
        return data.decode()

    def branch_parent(self, branch: str = "release-bot/mono") -> str:
        head = self.fake.branch_sha(OWNER, NAME, branch)
        assert head is not None
        parents = self.fake.commit_info(OWNER, NAME, head).parents
        assert len(parents) == 1
        return parents[0]

    def human_push(self, files: dict[str, str | bytes | None], branch: str = "main") -> str:
        return self.fake.push(OWNER, NAME, branch, files, "a human's commit")


@pytest.fixture
def world(fake_github: FakeGitHub, upstream: UpstreamServer, tmp_path: Path) -> Iterator[World]:
    yield World(fake_github, upstream, tmp_path)


def assert_bump(world: World, text: str, version: str, base_text: str | None = None) -> None:
    """`text` is `base_text` with only mono's version and sha256 changed."""
    before = tomllib.loads(base_text if base_text is not None else world.config)
    after = tomllib.loads(text)
    mono = before["components"]["mono"]
    mono.update(version=version, sha256=sha256(tarball(version)))
    assert after == before
    # the round-trip edit keeps the comment and the layout
    assert text.splitlines()[0] == (base_text or world.config).splitlines()[0]


def meta_of(pull: dict[str, Any]) -> dict[str, str]:
    match = re.search(r"<!-- release-bot: (\{.*?\}) -->", pull["body"])
    assert match is not None, pull["body"]
    data: dict[str, str] = json.loads(match.group(1))
    return data


# ---------------------------------------------------------------- the lifecycle
def test_creates_one_labelled_pr_with_only_version_and_sha256_changed(world: World) -> None:
    main_before = world.main_sha()
    result = world.pr()
    assert result.code == 0, result.output
    [pull] = world.pulls()
    assert pull["state"] == "open"
    assert pull["title"] == "Bump mono from 6.14.0 to 6.14.1"
    assert pull["head_ref"] == "release-bot/mono"
    assert pull["base_ref"] == "main"
    assert pull["labels"] == ["release-bot"]
    digest = sha256(tarball("6.14.1"))
    assert meta_of(pull) == {"component": "mono", "from": "6.14.0", "version": "6.14.1",
                             "sha256": digest}
    body = pull["body"]
    assert "patch" in body
    assert f"{world.upstream.url}{INDEX}mono-6.14.1.tar.xz" in body
    assert world.main_sha() == main_before  # main untouched
    assert world.branch_parent() == main_before
    assert_bump(world, world.branch_file(), "6.14.1")
    # the checksum came from the one download into the source cache the builder uses
    assert (world.tmp / "cache" / "sources" / "sha256" / digest).read_bytes() == tarball("6.14.1")
    assert "test-token" not in result.output


def test_rerun_with_nothing_new_makes_no_writes(world: World) -> None:
    assert world.pr().code == 0
    writes = world.fake.writes
    again = world.pr()
    assert again.code == 0, again.output
    assert world.fake.writes == writes
    assert len(world.pulls()) == 1
    assert "already proposes 6.14.1" in again.output


def test_newer_upstream_rewrites_the_same_pr_on_the_latest_main(world: World) -> None:
    assert world.pr().code == 0
    [first] = world.pulls()
    new_main = world.human_push({"README.md": "# buildpack\n\nmore docs\n"})
    world.release("6.14.2")
    result = world.pr()
    assert result.code == 0, result.output
    [pull] = world.pulls()  # never a second PR
    assert pull["number"] == first["number"]
    assert pull["state"] == "open"
    assert pull["title"] == "Bump mono from 6.14.0 to 6.14.2"
    assert meta_of(pull)["version"] == "6.14.2"
    assert meta_of(pull)["sha256"] == sha256(tarball("6.14.2"))
    assert world.branch_parent() == new_main  # reset onto the latest default branch
    assert_bump(world, world.branch_file(), "6.14.2")
    assert world.fake.file_at(OWNER, NAME, "release-bot/mono", "README.md") == \
        b"# buildpack\n\nmore docs\n"
    assert any("6.14.2" in c for c in world.fake.comments(OWNER, NAME, pull["number"]))


def test_a_version_closed_by_a_human_is_never_proposed_again_but_a_newer_one_is(
        world: World) -> None:
    world.release("6.14.2")
    assert world.pr().code == 0
    [refused] = world.pulls()
    assert meta_of(refused)["version"] == "6.14.2"
    world.fake.close_pull(OWNER, NAME, refused["number"])

    writes = world.fake.writes
    again = world.pr()
    assert again.code == 0, again.output
    assert world.fake.writes == writes
    assert "skip-closed" in again.output
    # an older version is not proposed either (6.14.2's tarball vanished: poll offers 6.14.1)
    world.withdraw("6.14.2")
    older = world.pr()
    assert older.code == 0, older.output
    assert world.fake.writes == writes
    assert [p["number"] for p in world.pulls()] == [refused["number"]]

    world.release("6.14.3")
    newer = world.pr()
    assert newer.code == 0, newer.output
    pulls = world.pulls()
    assert len(pulls) == 2
    latest = pulls[-1]
    assert latest["state"] == "open"
    assert latest["title"] == "Bump mono from 6.14.0 to 6.14.3"
    assert world.branch_parent() == world.main_sha()
    assert_bump(world, world.branch_file(), "6.14.3")


def test_a_merged_pr_leaves_nothing_to_do(world: World) -> None:
    assert world.pr().code == 0
    [pull] = world.pulls()
    world.fake.merge_pull(OWNER, NAME, pull["number"])
    # the checkout follows main, as in CI
    (world.tmp / "versions.toml").write_bytes(
        world.fake.file_at(OWNER, NAME, "main", "versions.toml") or b"")
    writes = world.fake.writes
    result = world.pr()
    assert result.code == 0, result.output
    assert world.fake.writes == writes
    assert len(world.pulls()) == 1


# ---------------------------------------------------------------- races
def proposal(version: str, world: World) -> Proposal:
    return Proposal("mono", Version.parse(version), sha256(tarball(version)),
                    f"{world.upstream.url}{INDEX}mono-{version}.tar.xz")


def forge_for(world: World, cls: type[GitHubForge] = GitHubForge) -> GitHubForge:
    return cls(world.fake.client(), REPO)


def test_two_runs_at_the_same_time_end_with_one_pr(world: World) -> None:
    # both runs read (and plan `create`) before either writes
    world.fake.inject("GET", r"/pulls$", "slow", times=2, seconds=0.5)
    planner = make_planner(make_environment(), "versions.toml")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            reconcile(forge_for(world), proposal("6.14.1", world), planner,
                      RecordingReporter())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    # both really raced: each planned `create` and tried to make the branch
    assert len(world.fake.requests_matching("POST", r"/git/refs$")) >= 2
    [pull] = world.pulls()
    assert pull["state"] == "open"
    assert pull["title"] == "Bump mono from 6.14.0 to 6.14.1"
    assert pull["labels"] == ["release-bot"]
    assert world.branch_parent() == world.main_sha()
    assert_bump(world, world.branch_file(), "6.14.1")


def test_a_pr_opened_by_another_run_meanwhile_is_updated_not_duplicated(world: World) -> None:
    planner = make_planner(make_environment(), "versions.toml")

    class OtherRunWinsFirst(GitHubForge):
        def create_pull(self, head_branch: str, base_branch: str, title: str,
                        body: str) -> PullRequest:
            # the other run goes all the way (branch, commit, PR) before our create
            reconcile(forge_for(world), proposal("6.14.1", world), planner,
                      RecordingReporter())
            return super().create_pull(head_branch, base_branch, title, body)

    outcome = reconcile(forge_for(world, OtherRunWinsFirst), proposal("6.14.1", world),
                        planner, RecordingReporter())
    [pull] = world.pulls()
    assert outcome.number == pull["number"]
    statuses = [r.status for r in world.fake.requests_matching("POST", r"/pulls$")]
    assert statuses == [201, 422]  # ours got "already exists", then updated that PR
    assert world.fake.requests_matching("PATCH", rf"/pulls/{pull['number']}$")
    assert pull["title"] == "Bump mono from 6.14.0 to 6.14.1"
    assert_bump(world, world.branch_file(), "6.14.1")


def pushes_first(world: World, branch: str, header: str) -> type[GitHubForge]:
    """The real adapter; someone pushes to `branch` just before the bot's first commit."""

    class PushesFirst(GitHubForge):
        pushed = False

        def commit_file(self, target: str, path: str, text: str, blob_sha: str,
                        message: str) -> str:
            if not self.pushed:
                self.pushed = True
                world.human_push({"versions.toml": header + world.config},
                                 branch=branch if branch != "(bot)" else target)
            return super().commit_file(target, path, text, blob_sha, message)

    return PushesFirst


def test_a_push_to_main_during_the_run_is_retried_from_the_fresh_base(world: World) -> None:
    reporter = RecordingReporter()
    forge = forge_for(world, pushes_first(world, "main", "# edited by a person\n"))
    reconcile(forge, proposal("6.14.1", world), make_planner(
        make_environment(), "versions.toml"), reporter)
    assert any(kind == "warning" and "retrying from the fresh" in text
               for kind, text in reporter.events)
    [pull] = world.pulls()
    fresh = "# edited by a person\n" + world.config
    assert world.branch_parent() == world.main_sha()
    assert_bump(world, world.branch_file(), "6.14.1", base_text=fresh)
    assert pull["title"] == "Bump mono from 6.14.0 to 6.14.1"


def test_a_stale_file_sha_409_is_retried(world: World) -> None:
    # another writer moves the bot's branch between its reset and its commit: a 409
    forge = forge_for(world, pushes_first(world, "(bot)", "# someone else\n"))
    reconcile(forge, proposal("6.14.1", world), make_planner(
        make_environment(), "versions.toml"), RecordingReporter())
    statuses = [r.status for r in world.fake.requests_matching("PUT", "/contents/")]
    assert statuses == [409, 200]
    assert len(world.pulls()) == 1
    assert world.branch_parent() == world.main_sha()
    assert_bump(world, world.branch_file(), "6.14.1")


def test_a_stale_base_that_keeps_moving_gives_up_with_exit_7_message(world: World) -> None:
    class AlwaysMoving(GitHubForge):
        def commit_file(self, branch: str, path: str, text: str, blob_sha: str,
                        message: str) -> str:
            world.human_push({"README.md": f"# {len(world.fake.requests)}\n"})
            return super().commit_file(branch, path, text, blob_sha, message)

    with pytest.raises(GitHubError) as caught:
        reconcile(forge_for(world, AlwaysMoving), proposal("6.14.1", world),
                  make_planner(make_environment(), "versions.toml"), RecordingReporter(),
                  attempts=3)
    assert caught.value.exit_code == 7
    assert "kept moving during 3 attempts" in caught.value.message
    assert world.pulls() == []


# ---------------------------------------------------------------- GitHub faults
def test_github_5xx_then_success_gives_one_pr(world: World) -> None:
    world.fake.inject("GET", r"/contents/versions\.toml$", "503", times=1)
    world.fake.inject("POST", r"/pulls$", "502", times=2)
    result = world.pr()
    assert result.code == 0, result.output
    assert len(world.pulls()) == 1
    statuses = [r.status for r in world.fake.requests_matching("POST", r"/pulls$")]
    assert statuses == [502, 502, 201]


def test_a_secondary_rate_limit_is_waited_out(world: World) -> None:
    world.fake.inject("POST", r"/git/refs$", "secondary-rate-limit", times=1, seconds=1)
    result = world.pr()
    assert result.code == 0, result.output
    assert len(world.pulls()) == 1
    statuses = [r.status for r in world.fake.requests_matching("POST", r"/git/refs$")]
    assert statuses == [403, 201]
    assert "retrying in 1.0s" in result.output


def test_github_failing_for_good_is_exit_7_with_one_line(world: World) -> None:
    world.fake.inject("GET", rf"^/repos/{REPO}$", "500", times=10)
    result = world.pr()
    assert result.code == 7, result.output
    lines = [line for line in result.stderr.splitlines() if "GitHub" in line]
    assert len(lines) >= 1
    assert "500" in lines[-1]
    assert "test-token" not in result.output
    assert world.pulls() == []


def test_github_token_not_allowed_to_open_prs_names_the_repository_setting(
        world: World) -> None:
    world.fake.inject("POST", r"/pulls$", "actions-may-not-open-prs", times=1)
    result = world.pr()
    assert result.code == 7, result.output
    (line,) = [line for line in result.stderr.splitlines() if "403" in line]
    assert "Allow GitHub Actions to create and approve pull requests" in line
    assert "needs contents: write" not in line  # not the missing-scope advice
    assert world.pulls() == []


def test_an_unknown_repository_is_exit_7_naming_the_fix(world: World) -> None:
    env = {**world.env, "GITHUB_REPOSITORY": "acme/nope"}
    result = run_cli(["pr"], env=env, cwd=world.tmp)
    assert result.code == 7, result.output
    assert "check GITHUB_REPOSITORY" in result.output


def test_missing_repository_setting_is_a_usage_error(world: World) -> None:
    env = {k: v for k, v in world.env.items() if k != "GITHUB_REPOSITORY"}
    result = run_cli(["pr"], env=env, cwd=world.tmp)
    assert result.code == 2
    assert "GITHUB_REPOSITORY" in result.output


# ---------------------------------------------------------------- dry run
def test_dry_run_prints_plan_and_diff_and_writes_nothing(world: World) -> None:
    result = world.pr("--dry-run")
    assert result.code == 0, result.output
    assert world.fake.writes == 0
    assert world.pulls() == []
    out = result.stdout
    assert "--- a/versions.toml" in out
    assert '-version = "6.14.0"' in out
    assert '+version = "6.14.1"' in out
    assert f'+sha256 = "{sha256(tarball("6.14.1"))}"' in out
    assert "would open a pull request release-bot/mono -> main: Bump mono from 6.14.0 to 6.14.1" \
        in out
    assert "plan: mono: create" in out
    # the diff touches exactly the two lines
    changed = [line for line in out.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 4


def test_dry_run_against_an_open_pr_shows_the_rewrite(world: World) -> None:
    assert world.pr().code == 0
    writes = world.fake.writes
    world.release("6.14.2")
    result = world.pr("--dry-run")
    assert result.code == 0, result.output
    assert world.fake.writes == writes
    assert "would rewrite pull request #1: Bump mono from 6.14.0 to 6.14.2" in result.stdout
    assert '+version = "6.14.2"' in result.stdout
    [pull] = world.pulls()
    assert parse_metadata(pull["body"]) is not None
    assert meta_of(pull)["version"] == "6.14.1"
