"""`release-bot pr-report` through the CLI against the fake GitHub and a file store: one
marked comment per pull request, edited in place, with the build table."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bot.store.layout import Index, IndexEntry, render_index
from tests.clirunner import CliResult, run_cli
from tests.fakegithub.server import FakeGitHub
from tests.promotion import NAME, OWNER, REPOSITORY, stack_artifact, write_config, write_files

RUN_URL = f"https://github.test/{REPOSITORY}/actions/runs/4242"


class Pull:
    def __init__(self, fake: FakeGitHub, tmp_path: Path) -> None:
        self.fake, self.tmp = fake, tmp_path
        self.config = write_config(tmp_path)
        fake.create_repo(OWNER, NAME, files={"versions.toml": "# before\n"})
        self.head = fake.push(OWNER, NAME, "release-bot/mono", {"versions.toml": "x = 1\n"},
                              base="main")
        with fake.client() as gh:
            self.number = gh.get_repo(REPOSITORY).create_pull(
                base="main", head="release-bot/mono", title="mono 6.14.1", body="").number
        self.store = tmp_path / "store"
        self.artifacts = tmp_path / "artifacts"
        self.artifacts.mkdir()

    def report(self, *, pull: bool = True) -> CliResult:
        env = {"GITHUB_TOKEN": "test-token", "GITHUB_REPOSITORY": REPOSITORY,
               "GITHUB_API_URL": self.fake.url}
        args = ["--config", str(self.config.path), "pr-report", "--store",
                f"file://{self.store}", "--artifacts", str(self.artifacts), "--run-url",
                RUN_URL, "--head-sha", self.head]
        return run_cli(args + (["--pull", str(self.number)] if pull else []), env=env,
                       cwd=self.tmp)

    def comments(self) -> list[str]:
        return self.fake.comments(OWNER, NAME, self.number)


@pytest.fixture
def pull(fake_github: FakeGitHub, tmp_path: Path) -> Pull:
    return Pull(fake_github, tmp_path)


def _publish_previous(pull: Pull, size: int) -> None:
    entry = IndexEntry("mono", "6.12.0", "heroku-24", "heroku-24/mono-6.12.0.tar.gz",
                       "https://store.test/heroku-24/mono-6.12.0.tar.gz", "d" * 64, size,
                       "2026-01-01T00:00:00Z")
    pull.store.mkdir(exist_ok=True)
    (pull.store / "index.json").write_bytes(render_index(Index((entry,), "2026-01-01T00:00:00Z")))


def test_one_comment_with_the_table_then_edited_in_place(pull: Pull) -> None:
    _publish_previous(pull, 1024)
    files = stack_artifact(pull.config, "heroku-24", size=2048)
    write_files(pull.artifacts, files)
    first = pull.report()
    assert first.code == 0, first.output
    (comment,) = pull.comments()
    assert comment.startswith("<!-- release-bot:pr-report -->")
    sha = hashlib.sha256(files["mono-6.14.1-heroku-24.tar.gz"]).hexdigest()
    row = next(line for line in comment.splitlines() if line.startswith("| mono | 6.14.1 | "
                                                                         "heroku-24 |"))
    assert "✅ built" in row and "62s" in row and "2.0 KiB" in row and f"`{sha}`" in row
    assert "+1.0 KiB (+100.0%) against 6.12.0" in row
    assert "| xsp | 4.7.1 | heroku-24 | ✅ built |" in comment and "| new |" in comment
    # heroku-22 kept nothing: its build or smoke tests failed, the report is red with the logs
    assert "| mono | 6.14.1 | heroku-22 | ❌ failed |" in comment
    assert "❌ **Failed** on heroku-22" in comment and f"({RUN_URL})" in comment
    assert "heroku-24: ✅ console (1.2s), ✅ web (2.5s)" in comment

    write_files(pull.artifacts, stack_artifact(pull.config, "heroku-22"))  # a second push
    writes = pull.fake.writes
    second = pull.report()
    assert second.code == 0, second.output
    (edited,) = pull.comments()
    assert "✅ **Every planned build passed" in edited and "❌" not in edited
    assert pull.fake.writes == writes + 1
    assert pull.fake.requests_matching("PATCH", r"/issues/comments/")

    writes = pull.fake.writes
    assert pull.report().code == 0  # the same report again: no write at all
    assert pull.fake.writes == writes and len(pull.comments()) == 1


def test_nothing_kept_is_a_red_report(pull: Pull) -> None:
    result = pull.report()
    assert result.code == 0
    (comment,) = pull.comments()
    assert "❌ **Failed** on heroku-22, heroku-24" in comment
    assert "no results kept" in comment


def test_without_pull_it_prints_the_report_and_writes_nothing(pull: Pull) -> None:
    write_files(pull.artifacts, stack_artifact(pull.config, "heroku-24"))
    before = len(pull.fake.requests)
    result = pull.report(pull=False)
    assert result.code == 0 and "| mono | 6.14.1 | heroku-24 | ✅ built |" in result.stdout
    assert len(pull.fake.requests) == before


def test_smoke_text_is_escaped(pull: Pull) -> None:
    files = stack_artifact(pull.config, "heroku-24")
    files["smoke/heroku-24.json"] = json.dumps([{"stack": "heroku-24", "name": "<b>@x</b>",
                                                  "passed": True, "seconds": 1}]).encode()
    write_files(pull.artifacts, files)
    assert pull.report().code == 0
    (comment,) = pull.comments()
    assert "<b>" not in comment and "@x" not in comment
