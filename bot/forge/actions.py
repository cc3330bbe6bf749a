"""GitHub Actions as a port: what `release-bot promote` and `pr-report` read and write.

`ActionsReader` finds the merged pull request of a commit, the completed runs for its head
commit and their artifacts, and downloads an artifact's zip; `PullComments` keeps one
comment on a pull request. `GitHubActions` implements both through PyGithub, with the
bounded retries of `GitHubForge` (it is one, for the plumbing).

A download asks GitHub for the artifact (an expired one answers 410 and becomes
`ArtifactGone`), then fetches the signed blob URL of its 302 through the bot's one HTTP
client (its retries, proxies and CA bundle; no auth header). The signed URL is a credential
while it lasts, so no error names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from urllib3.exceptions import HTTPError

from bot.errors import GitHubError, UpstreamError
from bot.forge.github import GitHubApiError, GitHubForge
from bot.http import failure

if TYPE_CHECKING:
    from github import Github
    from github.PullRequest import PullRequest as GhPull
    from github.WorkflowRun import WorkflowRun as GhRun

    from bot.http import HttpClient

ACTIONS_PERMISSIONS = "actions: read"
COMMENT_PERMISSIONS = "pull-requests: write"
RECENT_PULLS = 100  # the merge is among the most recently updated closed pull requests


class ArtifactGone(GitHubError):
    """The artifact is listed but cannot be downloaded any more (expired: HTTP 410)."""


@dataclass(frozen=True, slots=True)
class MergedPull:
    number: int
    head_sha: str
    url: str


@dataclass(frozen=True, slots=True)
class WorkflowRun:
    id: int
    path: str  # .github/workflows/<file>
    head_sha: str
    head_repository: str  # owner/name the run's code came from (a fork's for a fork's PR)
    conclusion: str | None
    url: str  # the run's page


@dataclass(frozen=True, slots=True)
class RunArtifact:
    id: int
    name: str
    expired: bool
    size: int
    download_url: str


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    body: str


class ActionsReader(Protocol):
    def merged_pull(self, commit_sha: str) -> MergedPull | None:
        """The pull request whose merge made `commit_sha` (merge, squash or rebase)."""

    def completed_runs(self, head_sha: str) -> list[WorkflowRun]:
        """The successful runs of every workflow for the head commit `head_sha`."""

    def artifacts(self, run_id: int) -> list[RunArtifact]: ...

    def download(self, artifact: RunArtifact, dest: Path) -> Path:
        """The artifact's zip, streamed into the file `dest`; ArtifactGone when it has
        expired."""


class PullComments(Protocol):
    def comments(self, number: int) -> list[Comment]: ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...


def _run(run: GhRun) -> WorkflowRun:
    head = run.head_repository
    return WorkflowRun(id=run.id, path=run.path, head_sha=run.head_sha,
                       head_repository=head.full_name if head is not None else "",
                       conclusion=run.conclusion, url=run.html_url)


class GitHubActions(GitHubForge):
    """`ActionsReader` and `PullComments` through PyGithub (and GitHubForge's retries);
    artifact blobs through `http`."""

    def __init__(self, github: Github, repository: str, http: HttpClient) -> None:
        super().__init__(github, repository)
        self.http = http

    def merged_pull(self, commit_sha: str) -> MergedPull | None:
        pulls: list[GhPull] = self._call(
            "listing of recently closed pull requests",
            lambda: list(islice(self.repo.get_pulls(state="closed", sort="updated",
                                                    direction="desc"), RECENT_PULLS)),
            needs="contents: read")
        for pull in pulls:
            if pull.merged_at is not None and pull.merge_commit_sha == commit_sha:
                return MergedPull(pull.number, pull.head.sha, pull.html_url)
        return None

    def completed_runs(self, head_sha: str) -> list[WorkflowRun]:
        runs = self._call(
            f"listing of the workflow runs for {head_sha[:12]}",
            lambda: list(self.repo.get_workflow_runs(head_sha=head_sha, status="success")),
            needs=ACTIONS_PERMISSIONS)
        return [_run(r) for r in runs]

    def artifacts(self, run_id: int) -> list[RunArtifact]:
        def listing() -> list[RunArtifact]:
            run = self.repo.get_workflow_run(run_id)
            return [RunArtifact(a.id, a.name, a.expired, a.size_in_bytes,
                                a.archive_download_url) for a in run.get_artifacts()]

        return self._call(f"listing of the artifacts of run {run_id}", listing,
                          needs=ACTIONS_PERMISSIONS)

    def download(self, artifact: RunArtifact, dest: Path) -> Path:
        def fetch() -> Path:
            # PyGithub has no download call: its requester answers the 302 with the blob URL
            status, headers, _ = self.github.requester.requestJson(
                "GET", artifact.download_url, follow_302_redirect=False)
            if status == 410:
                raise ArtifactGone(f"artifact {artifact.name} (id {artifact.id}) has expired")
            if status != 302 or "location" not in headers:
                raise GitHubApiError(f"GitHub download of artifact {artifact.name} failed: "
                                     f"HTTP {status} (the token needs {ACTIONS_PERMISSIONS})",
                                     status, "")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with self.http.stream(headers["location"]) as answer, dest.open("wb") as fh:
                    fh.writelines(answer.iter_content(1 << 20))
            except UpstreamError:
                raise GitHubError(f"download of artifact {artifact.name} from its signed blob "
                                  "URL failed after retries; rerun the job") from None
            except HTTPError as exc:  # the connection dropped mid-body
                raise GitHubError(f"download of artifact {artifact.name} from its signed blob "
                                  f"URL was cut off ({failure(exc)}); rerun the job") from None
            return dest

        return self._call(f"download of artifact {artifact.name}", fetch,
                          needs=ACTIONS_PERMISSIONS)

    def comments(self, number: int) -> list[Comment]:
        found = self._call(f"listing of the comments of pull request #{number}",
                           lambda: list(self.repo.get_issue(number).get_comments()),
                           needs=COMMENT_PERMISSIONS)
        return [Comment(c.id, c.body or "") for c in found]

    def create_comment(self, number: int, body: str) -> Comment:
        made = self._call(f"comment on pull request #{number}",
                          lambda: self.repo.get_issue(number).create_comment(body),
                          needs=COMMENT_PERMISSIONS)
        return Comment(made.id, made.body or "")

    def edit_comment(self, comment_id: int, body: str) -> None:
        def edit() -> None:
            self.github.requester.requestJsonAndCheck(
                "PATCH", f"{self.repo.url}/issues/comments/{comment_id}",
                input={"body": body})

        self._call(f"update of comment {comment_id}", edit, needs=COMMENT_PERMISSIONS)
