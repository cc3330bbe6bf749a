"""`release-bot verify --report-issue`: one `release-bot:verify` issue, kept in step with the
result. The real CLI on a file:// store that the publish code filled, damaged out of band, and
the real PyGithub against the fake GitHub; then the pure planner and the issue's text."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.forge.github import GitHubForge
from bot.forge.port import Issue
from bot.http import HttpClient
from bot.settings import Settings
from bot.store.layout import INDEX_KEY, IndexEntry
from bot.store.publish import collect_artifacts, publish
from bot.verify.checks import Problem
from bot.verify.issue import (
    BODY_LIMIT,
    LABEL,
    Report,
    plan_issue,
    report_of,
    report_of_error,
)
from bot.verify.issue_runner import reconcile_issue
from bot.verify.reader import PublicReader
from bot.verify.runner import Verification, Verified, verify_store
from tests.builtartifacts import Built, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.fakegithub import FakeGitHub
from tests.recording import RecordingReporter
from tests.test_verify import FileStore

OWNER, NAME = "acme", "buildpack"
MONO24 = "heroku-24/mono-6.14.1.tar.gz"
MONO22 = "heroku-22/mono-6.14.1.tar.gz"
XSP24 = "heroku-24/xsp-4.7.1.tar.gz"
ROW = re.compile(r"^\| .* \|$")


@dataclass
class World:
    fake: FakeGitHub
    store: FileStore
    built: dict[str, Built]
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return {"GITHUB_API_URL": self.fake.url, "GITHUB_TOKEN": "test-token",
                "GITHUB_REPOSITORY": f"{OWNER}/{NAME}"}

    def verify(self, *extra: str, env: dict[str, str] | None = None) -> CliResult:
        return run_cli(["verify", "--store", self.store.url, "--report-issue", *extra],
                       env=self.env if env is None else env, cwd=self.cwd)

    def issues(self, state: str = "all") -> list[dict[str, Any]]:
        return self.fake.issues(OWNER, NAME, state=state)

    def open_issue(self) -> dict[str, Any]:
        [issue] = self.issues("open")
        return issue

    def restore(self, key: str) -> None:
        self.store.write(key, self.built[key].data)

    def forge(self) -> GitHubForge:
        return GitHubForge(self.fake.client(), f"{OWNER}/{NAME}")


@pytest.fixture
def world(fake_github: FakeGitHub, tmp_path: Path) -> World:
    fake_github.create_repo(OWNER, NAME)
    out = tmp_path / "out"
    built = {MONO24: make_artifact(out, "mono", "6.14.1", "heroku-24", size=3000),
             MONO22: make_artifact(out, "mono", "6.14.1", "heroku-22", size=3000),
             XSP24: make_artifact(out, "xsp", "4.7.1", "heroku-24", size=1000)}
    store = FileStore(tmp_path / "store")
    real = App(Settings.from_env({}), RecordingReporter()).store(store.url)
    publish(real, collect_artifacts(out), force=False, reporter=RecordingReporter())
    return World(fake_github, store, built, tmp_path)


def errors(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def table_rows(body: str) -> list[str]:
    return [line for line in body.splitlines() if ROW.match(line) and "heroku-" in line]


# -- the lifecycle, through the CLI ----------------------------------------------------------

def test_a_failing_verify_opens_one_labelled_issue_with_the_table(world: World) -> None:
    world.store.write(MONO24, world.built[MONO24].data[:100])
    result = world.verify()
    assert result.code == 6, result.output
    issue = world.open_issue()
    assert issue["title"] == "release-bot verify: 1 of 3 published artifact fails"
    assert issue["labels"] == [LABEL]
    body = issue["body"]
    rows = table_rows(body)
    short = {k: b.sha256[:12] + "…" for k, b in world.built.items()}
    assert sorted(rows) == sorted([
        f"| mono | 6.14.1 | heroku-22 | amd64 | 3000 | {short[MONO22]} | - | ok |",
        f"| mono | 6.14.1 | heroku-24 | amd64 | 3000 | {short[MONO24]} | - | truncated |",
        f"| xsp | 4.7.1 | heroku-24 | amd64 | 1000 | {short[XSP24]} | - | ok |"])
    assert "| component | version | stack | arch | size | sha256 | base image | result |" in body
    assert "100 of the 3000 bytes" in body  # the problem line
    # the label was created with the bot's colour and description, like the PR flow's
    [label] = world.fake.repos[f"{OWNER}/{NAME}"].labels.values()
    assert (label["name"], label["color"], label["description"]) == (
        LABEL, "0e8a16", "Opened by release-bot")
    assert f"{LABEL} issue: create" in result.stderr
    # verify's own errors are unchanged: the bad entry, then the summary line
    [line, summary] = errors(result)
    assert line.startswith(f"error: {MONO24}: truncated")
    assert summary.startswith("error: 1 of 3 published artifact(s)")


def test_rerun_same_failure_writes_nothing_a_new_one_updates_the_same_issue(
        world: World) -> None:
    world.store.write(MONO24, world.built[MONO24].data[:100])
    assert world.verify().code == 6
    first = world.open_issue()
    writes = world.fake.writes

    again = world.verify()
    assert again.code == 6, again.output
    assert world.fake.writes == writes, "the same failure rewrote the issue"
    assert world.open_issue() == first
    assert "already reports this" in again.stderr

    world.store.delete(XSP24)  # a second artifact goes bad
    worse = world.verify()
    assert worse.code == 6, worse.output
    issue = world.open_issue()
    assert issue["number"] == first["number"]
    assert issue["title"] == "release-bot verify: 2 of 3 published artifacts fail"
    assert any("| xsp | 4.7.1 | heroku-24 |" in r and r.endswith("| missing |")
               for r in table_rows(issue["body"]))
    assert len(world.fake.requests_matching("PATCH", r"/issues/\d+$")) == 1
    assert len(world.fake.requests_matching("POST", r"/issues$")) == 1
    assert len(world.issues()) == 1


def test_a_passing_run_closes_the_issue_with_a_comment_then_writes_nothing(
        world: World) -> None:
    world.store.delete(MONO22)
    assert world.verify().code == 6
    number = world.open_issue()["number"]

    world.restore(MONO22)
    result = world.verify()
    assert result.code == 0, result.output
    [issue] = world.issues()
    assert issue["number"] == number
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")
    [comment] = issue["comments"]
    assert comment.startswith("release-bot: verification passes again (verified 3 "
                              "artifact(s) in ")
    assert errors(result) == []

    writes = world.fake.writes
    assert world.verify().code == 0
    assert world.fake.writes == writes

    world.store.delete(MONO22)  # failing again later: a new issue, the closed one stays
    assert world.verify().code == 6
    assert [i["state"] for i in world.issues()] == ["closed", "open"]


def test_a_passing_run_with_no_open_issue_writes_nothing(world: World) -> None:
    # an old closed one, someone else's open issue, and a pull request carrying the label
    world.fake.add_issue(OWNER, NAME, "release-bot verify: old", labels=[LABEL],
                         state="closed")
    world.fake.add_issue(OWNER, NAME, "a bug", labels=["bug"])
    world.fake.push(OWNER, NAME, "feature", {"x.txt": "x\n"})
    pull = world.fake.client().get_repo(f"{OWNER}/{NAME}").create_pull(
        base="main", head="feature", title="a pull request", body="")
    pull.add_to_labels(LABEL)
    writes = world.fake.writes

    result = world.verify()
    assert result.code == 0, result.output
    assert world.fake.writes == writes
    assert f"{LABEL} issue: noop (verification passes and no issue is open)" in result.stderr
    assert [(i["title"], i["state"]) for i in world.issues()] == [
        ("release-bot verify: old", "closed"), ("a bug", "open")]
    assert world.fake.pulls(OWNER, NAME)[0]["state"] == "open"


def test_two_open_issues_are_never_left_open(world: World) -> None:
    # a person (or an earlier race) left two labelled issues open
    older = world.fake.add_issue(OWNER, NAME, "verify failed", "old text", labels=[LABEL])
    newer = world.fake.add_issue(OWNER, NAME, "verify failed too", "", labels=[LABEL])
    world.store.delete(MONO24)
    assert world.verify().code == 6
    issue = world.open_issue()
    assert issue["number"] == older
    assert issue["title"] == "release-bot verify: 1 of 3 published artifact fails"
    [closed] = world.issues("closed")
    assert (closed["number"], closed["state_reason"]) == (newer, "duplicate")
    assert closed["comments"] == [f"release-bot: closing this duplicate: #{older} carries "
                                  "the verify report (one issue at a time)."]

    # and a passing run with two open closes both
    world.fake.add_issue(OWNER, NAME, "again", labels=[LABEL])
    world.restore(MONO24)
    assert world.verify().code == 0
    assert world.issues("open") == []


def test_two_runs_at_the_same_time_end_with_one_open_issue(world: World) -> None:
    world.store.delete(MONO24)
    verification = report_of(_verification(world))
    listed = threading.Barrier(2, timeout=30)  # both have listed before either creates
    failures: list[BaseException] = []

    class ListsTogether(GitHubForge):  # the real adapter; only its first listing waits
        first = True

        def open_issues(self, label: str) -> list[Issue]:
            found = super().open_issues(label)
            if self.first:
                self.first = False
                listed.wait()
            return found

    def run() -> None:
        try:
            reconcile_issue(ListsTogether(world.fake.client(), f"{OWNER}/{NAME}"),
                            verification, RecordingReporter())
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    assert len(world.fake.requests_matching("POST", r"/issues$")) == 2  # both created
    issue = world.open_issue()
    assert issue["number"] == min(i["number"] for i in world.issues())
    assert [i["state_reason"] for i in world.issues("closed")] == ["duplicate"]


def _verification(world: World) -> Verification:
    store = App(Settings.from_env({}), RecordingReporter()).store(world.store.url)
    return verify_store(store, PublicReader(HttpClient(pause=lambda s: None)))


def test_an_unreadable_index_is_reported_and_closed_when_it_is_back(world: World) -> None:
    index = world.store.read(INDEX_KEY)
    world.store.delete(INDEX_KEY)
    result = world.verify()
    assert result.code == 6, result.output
    issue = world.open_issue()
    assert issue["title"] == "release-bot verify: index.json cannot be read"
    assert "no index.json at file:" in issue["body"].replace("\\/", "/")
    world.store.write(INDEX_KEY, index)
    assert world.verify().code == 0
    assert world.issues("open") == []


def test_json_output_stays_json_with_the_issue(world: World) -> None:
    world.store.delete(MONO24)
    result = world.verify("--json")
    assert result.code == 6
    assert {r["key"] for r in json.loads(result.stdout)} == {MONO24, MONO22, XSP24}
    assert world.open_issue()["labels"] == [LABEL]


# -- hostile index text ----------------------------------------------------------------------

HOSTILE = ("@maintainers <img src=x onerror=alert(1)> [click](https://evil.example/x) #1 "
           "| cell\n\n# Heading `code` *bold* www.evil.example")


def test_hostile_index_text_is_escaped_in_the_issue(world: World) -> None:
    doc = json.loads(world.store.read(INDEX_KEY))
    for entry in doc["artifacts"]:
        if entry["key"] == MONO24:
            entry["component"] = HOSTILE
            entry["version"] = "@everyone"
            entry["sha256"] = "<b>@x</b>#2|" + "0" * 52
    world.store.write(INDEX_KEY, json.dumps(doc).encode())
    assert world.verify().code == 6
    body = world.open_issue()["body"]
    for raw in ("@maintainers", "@everyone", "@x", "<img", "<b>", "](https://", "https://evil",
                "www.evil", "#1 ", "#2", "\n# Heading"):
        assert raw not in body, (raw, body)
    assert "&#64;&#8203;maintainers" in body and "&#35;&#8203;1" in body
    # every table row keeps its 7 cells: no pipe from the index splits one
    for line in body.splitlines():
        if ROW.match(line):
            assert len(re.findall(r"(?<!\\)\|", line)) == 9, line


# -- exit codes and usage --------------------------------------------------------------------

def test_a_github_error_while_verify_fails_keeps_exit_6(world: World) -> None:
    world.fake.inject("POST", r"/issues$", "403", times=10)
    world.store.delete(MONO24)
    result = world.verify()
    assert result.code == 6, result.output
    [entry, github, summary] = errors(result)
    assert entry.startswith(f"error: {MONO24}: missing")
    assert github.startswith(f"error: could not report on the {LABEL} issue: GitHub creation "
                             "of an issue failed: 403 Resource not accessible by integration")
    assert "the token needs issues: write on the repository" in github
    assert summary.startswith("error: 1 of 3 published artifact(s)")


def test_a_github_error_when_verify_passes_is_exit_7(world: World) -> None:
    world.fake.add_issue(OWNER, NAME, "verify failed", labels=[LABEL])
    world.fake.inject("PATCH", r"/issues/\d+$", "403", times=10)
    result = world.verify()
    assert result.code == 7, result.output
    [line] = errors(result)
    assert "GitHub closing of issue #1 failed: 403" in line and "issues: write" in line


def test_transient_github_errors_are_retried(world: World) -> None:
    world.fake.inject("GET", r"/issues$", "502", times=1)
    world.store.delete(MONO24)
    result = world.verify()
    assert result.code == 6, result.output
    assert world.open_issue()["labels"] == [LABEL]
    assert "retrying in" in result.stderr


@pytest.mark.parametrize(("drop", "words"), [
    ("GITHUB_REPOSITORY", "GITHUB_REPOSITORY is not set to OWNER/NAME"),
    ("GITHUB_TOKEN", "GITHUB_TOKEN is not set; --report-issue needs a token with issues: "
                     "write"),
])
def test_missing_settings_are_usage_errors_before_verifying(world: World, drop: str,
                                                            words: str) -> None:
    env = {k: v for k, v in world.env.items() if k != drop}
    result = world.verify(env=env)
    assert result.code == 2, result.output
    [line] = errors(result)
    assert words in line
    assert "verified" not in result.stderr
    assert world.fake.requests == []


def test_without_the_option_github_is_not_touched(world: World) -> None:
    world.store.delete(MONO24)
    result = run_cli(["verify", "--store", world.store.url], env=world.env, cwd=world.cwd)
    assert result.code == 6
    assert world.fake.requests == []


# -- the pure planner ------------------------------------------------------------------------

def _entry(component: str = "mono", stack: str = "heroku-24") -> IndexEntry:
    key = f"{stack}/{component}-6.14.1.tar.gz"
    return IndexEntry(component, "6.14.1", stack, key, f"file:///s/{key}", "a" * 64, 10,
                      "2026-01-02T03:04:05Z")


def _result(ok: bool, component: str = "mono", stack: str = "heroku-24") -> Verified:
    problems = () if ok else (Problem("missing", f"file:///s/{stack}/x is missing"),)
    return Verified(_entry(component, stack), problems)


def _failing(n_bad: int = 1, total: int = 2) -> Report:
    results = [_result(i >= n_bad, stack=f"heroku-{i}") for i in range(total)]
    return report_of(Verification("file:///s", "file:///s/index.json", tuple(results)))


PASSING = report_of(Verification("file:///s", "file:///s/index.json", (_result(True),)))


def _issue(number: int, report: Report | None = None, *, title: str = "t", body: str = "b",
           labels: tuple[str, ...] = (LABEL,), state: str = "open") -> Issue:
    if report is not None:
        title, body = report.title, report.body
    return Issue(number, state, title, body, f"https://github.com/a/b/issues/{number}",
                 labels)  # type: ignore[arg-type]


def test_plan_passing() -> None:
    assert PASSING.passed
    none = plan_issue(PASSING, [])
    assert (none.kind, none.writes) == ("noop", False)
    close = plan_issue(PASSING, [_issue(7), _issue(3)])
    assert (close.kind, close.number, close.duplicates) == ("close", 3, (7,))
    assert close.comment.startswith("release-bot: verification passes again (verified 1 ")
    # closed ones and ones without the label are not ours to close
    ignored = plan_issue(PASSING, [_issue(1, state="closed"), _issue(2, labels=("bug",))])
    assert ignored.kind == "noop"


def test_plan_failing() -> None:
    report = _failing()
    create = plan_issue(report, [])
    assert (create.kind, create.title, create.body) == ("create", report.title, report.body)
    assert create.writes

    same = plan_issue(report, [_issue(4, report)])
    assert (same.kind, same.number, same.writes) == ("noop", 4, False)
    crlf = _issue(4, title=report.title, body=report.body.replace("\n", "\r\n") + "\r\n")
    assert plan_issue(report, [crlf]).kind == "noop"  # GitHub may hand the body back CRLF

    update = plan_issue(_failing(2), [_issue(4, report)])
    assert (update.kind, update.number) == ("update", 4)
    assert update.title == "release-bot verify: 2 of 2 published artifacts fail"

    dup = plan_issue(report, [_issue(9), _issue(4, report),
                              _issue(6, labels=("Release-Bot:Verify",))])
    assert (dup.kind, dup.number, dup.duplicates, dup.writes) == ("noop", 4, (6, 9), True)
    assert "closing #6, #9 as duplicates" in dup.reason


def test_the_body_is_deterministic_and_bounded() -> None:
    assert _failing().body == _failing().body  # no timestamps: reruns compare equal
    huge = tuple(_result(i % 2 == 0, component="c" * 500 + "@#|", stack=f"s{i}")
                 for i in range(3000))
    report = report_of(Verification("file:///s", "file:///s/index.json", huge))
    assert len(report.body) <= BODY_LIMIT
    assert report.title == "release-bot verify: 1500 of 3000 published artifacts fail"
    assert "Only the 1500 failing rows of 3000 are shown;" in report.body
    assert "more left out" in report.body
    assert " | ok |" not in report.body


def test_the_error_report() -> None:
    report = report_of_error("s3://b/p", "no index.json at https://b.example/p/index.json: "
                                         "nothing is published there @x")
    assert not report.passed
    assert report.title == "release-bot verify: index.json cannot be read"
    assert "@x" not in report.body and "https://" not in report.body
    assert plan_issue(report, []).kind == "create"


def test_the_listing_follows_pagination(world: World) -> None:
    numbers = [world.fake.add_issue(OWNER, NAME, f"verify {i}", labels=[LABEL])
               for i in range(32)]  # more than one page of 30
    result = world.verify()
    assert result.code == 0, result.output
    assert world.issues("open") == []
    assert [i["number"] for i in world.issues("closed")] == numbers
    pages = [r.query.get("page", ["1"])[0]
             for r in world.fake.requests_matching("GET", r"/issues$")]
    assert pages == ["1", "2"]
