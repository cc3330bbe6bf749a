"""The forge ports: the few repository operations the bot needs, nothing more.

`Forge` is what the PR bot needs (branches, a file, pull requests); `IssueTracker` is what
`release-bot verify --report-issue` needs (the open issues with a label, create, edit,
comment, close); `Announcer` is what `release` and `run` need (create or update a release).

No local git: everything is a call on the hosting API. Writes that can race with a person or
another bot run carry an optimistic lock (the blob sha of the file being replaced) and fail
with `StaleBase`; creating what already exists fails with `RefExists` / `PullExists`, so the
runner can re-read and converge instead of duplicating.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from bot.errors import GitHubError


class StaleBase(GitHubError):
    """What a write was based on has moved (file sha mismatch, not a fast-forward)."""


class RefExists(GitHubError):
    """The branch to create is already there."""


class PullExists(GitHubError):
    """An open pull request for this head branch is already there."""


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    sha: str  # head commit


@dataclass(frozen=True, slots=True)
class FileAtRef:
    path: str
    ref: str
    text: str
    sha: str  # the blob sha: the optimistic lock for replacing this file


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    state: Literal["open", "closed"]
    merged: bool
    title: str
    body: str
    url: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    number: int
    state: Literal["open", "closed"]
    title: str
    body: str
    url: str
    labels: tuple[str, ...] = ()


CloseReason = Literal["completed", "duplicate"]


class Forge(Protocol):
    def default_branch(self) -> Branch:
        """The default branch and its current head commit."""

    def read_file(self, path: str, ref: str) -> FileAtRef:
        """A text file at a ref (branch name or commit sha)."""

    def create_branch(self, name: str, sha: str) -> None:
        """Create `name` at `sha`; RefExists when it is already there."""

    def reset_branch(self, name: str, sha: str) -> None:
        """Force `name` to `sha` (the bot owns its branches)."""

    def commit_file(self, branch: str, path: str, text: str, blob_sha: str,
                    message: str) -> str:
        """Replace `path` on `branch`; StaleBase when the file there is no longer `blob_sha`.

        Returns the new commit sha.
        """

    def list_pulls(self, head_branch: str) -> list[PullRequest]:
        """Open and closed pull requests whose head is `head_branch` in this repository."""

    def create_pull(self, head_branch: str, base_branch: str, title: str,
                    body: str) -> PullRequest:
        """Open a pull request; PullExists when one is already open for the head."""

    def update_pull(self, number: int, title: str, body: str) -> PullRequest: ...

    def add_label(self, number: int, label: str) -> None:
        """Label a pull request, creating the label in the repository if it is missing."""

    def comment(self, number: int, body: str) -> None: ...


class IssueTracker(Protocol):
    def open_issues(self, label: str) -> list[Issue]:
        """Every open issue (never a pull request) carrying `label`, oldest first."""

    def create_issue(self, title: str, body: str, label: str) -> Issue:
        """Open an issue labelled `label`, creating the label in the repository if missing."""

    def edit_issue(self, number: int, title: str, body: str) -> Issue: ...

    def comment_issue(self, number: int, body: str) -> None: ...

    def close_issue(self, number: int, reason: CloseReason) -> None: ...


@dataclass(frozen=True, slots=True)
class Announced:
    where: str  # the release's URL, or the notes file
    created: bool


class Announcer(Protocol):
    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced:
        """Create the release `tag` with `body` and `assets`, or update the one there."""
