"""The GitHub adapter of the forge ports, through PyGithub (the client comes from `App.github`).

It implements `Forge` (pull requests), `IssueTracker` (issues, through the REST issues
endpoints: the open ones with a label via `GET /repos/{owner}/{repo}/issues?labels=`) and
`Announcer` (the GitHub Release of a set of versions).

Retrying is PyGithub's own `GithubRetry` (`github_retry`, set on the client by the
composition root): 5xx and network errors with backoff, a secondary rate limit waited out
(its `Retry-After`, else a minute), a primary one only when it resets within `MAX_WAIT`.
Every call here is made once through `_call`, which turns what is left into a one-line
`GitHubError` (exit 7) that names the fix; the statuses the runner reacts to become
`StaleBase`, `RefExists` or `PullExists`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

import requests
from github import GithubException, GithubRetry

from bot.errors import GitHubError
from bot.files import sha256_file
from bot.forge.port import (
    Announced,
    Branch,
    CloseReason,
    FileAtRef,
    Issue,
    PullExists,
    PullRequest,
    RefExists,
    StaleBase,
)

if TYPE_CHECKING:
    from github import Github
    from github.GitRelease import GitRelease
    from github.Issue import Issue as GhIssue
    from github.PullRequest import PullRequest as GhPull
    from github.Repository import Repository
    from urllib3.response import BaseHTTPResponse

T = TypeVar("T")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRIES = 3  # after the first attempt
BACKOFF = 0.5  # seconds: urllib3 waits 0, 1, 2... (BACKOFF * 2 ** (n - 1))
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: wait at least a minute when no Retry-After is given
MAX_WAIT = 300.0  # longer rate-limit waits fail now, naming the reason
LABEL_COLOR = "0e8a16"
LABEL_DESCRIPTION = "Opened by release-bot"
# What the token needs, named in the fix of a 403.
PULL_PERMISSIONS = "contents: write and pull-requests: write"
ISSUE_PERMISSIONS = "issues: write"
RELEASE_PERMISSIONS = "contents: write"


class _ReportingRetry(GithubRetry):
    """PyGithub's retry, saying each wait through `on_wait` before it sleeps."""

    def __init__(self, *, on_wait: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        self.on_wait = on_wait
        super().__init__(**kwargs)

    def new(self, **kwargs: Any) -> Self:
        retry = super().new(**kwargs)
        retry.on_wait = self.on_wait
        return retry

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.on_wait is not None and self.history:
            last = self.history[-1]
            after = self.get_retry_after(response) if response is not None else None
            wait = after or self.get_backoff_time()
            why = last.status or type(last.error).__name__
            self.on_wait(f"GitHub {last.method} {urlsplit(last.url or '').path}: {why}; "
                         f"retrying in {wait:.1f}s")
        super().sleep(response)


def github_retry(on_wait: Callable[[str], None] | None = None) -> GithubRetry:
    """The retry policy of every PyGithub client of the bot; `on_wait` hears each wait.

    After the last attempt the answer is handed back (`raise_on_status=False`), so the
    error names GitHub's status and message."""
    return _ReportingRetry(on_wait=on_wait, total=RETRIES, backoff_factor=BACKOFF,
                           secondary_rate_wait=SECONDARY_LIMIT_WAIT,
                           max_rate_limit_wait=MAX_WAIT, raise_on_status=False)


class GitHubApiError(GitHubError):
    """A GitHub answer that is final (not retried); carries the status for the caller."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def _detail(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or "").strip()]
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            parts.append(str(err.get("message") or err.get("code") or "").strip())
        elif isinstance(err, str):
            parts.append(err.strip())
    return "; ".join(p for p in parts if p)[:300]


# GitHub's 403 when the workflow token may not open pull requests (a repository setting).
_ACTIONS_MAY_NOT_OPEN_PRS = "not permitted to create or approve pull requests"


def _fix(status: int, detail: str = "", needs: str = PULL_PERMISSIONS) -> str:
    if status == 401:
        return "check GITHUB_TOKEN: GitHub rejected it"
    if status == 403 and _ACTIONS_MAY_NOT_OPEN_PRS in detail:
        return ("allow it under Settings > Actions > General > Workflow permissions > Allow "
                "GitHub Actions to create and approve pull requests, or give the bot a GitHub "
                "App or a personal access token")
    if status == 403:
        return f"the token needs {needs} on the repository"
    if status == 410:  # GitHub's answer to issue calls when the repository has Issues off
        return "enable Issues under the repository's Settings > General > Features"
    if status == 404:
        return "check GITHUB_REPOSITORY and that the token can see the repository"
    if status in RETRY_STATUSES:
        return "GitHub is having trouble; rerun later"
    return "rerun with --debug for details"


class GitHubForge:
    def __init__(self, github: Github, repository: str) -> None:
        self.github = github
        self.repository = repository
        self._repo: Repository | None = None
        self._pulls: dict[int, GhPull] = {}
        self._issues: dict[int, GhIssue] = {}

    # ------------------------------------------------------------------ plumbing
    def _call(self, what: str, fn: Callable[[], T], *, needs: str = PULL_PERMISSIONS) -> T:
        """`fn()` once (PyGithub retries); its errors as one line. `needs` names the
        token's permissions in the fix of a 403."""
        try:
            return fn()
        except GithubException as exc:
            detail = _detail(exc)
            raise GitHubApiError(f"GitHub {what} failed: {exc.status} {detail} "
                                 f"({_fix(exc.status, detail, needs)})",
                                 exc.status, detail) from None
        except requests.RequestException as exc:
            raise GitHubError(f"GitHub could not be reached at "
                              f"{self.github.requester.base_url} for {what} "
                              f"({type(exc).__name__}); check GITHUB_API_URL and the network, "
                              "then rerun") from None

    @property
    def repo(self) -> Repository:
        if self._repo is None:
            self._repo = self._call(f"read of repository {self.repository}",
                                    lambda: self.github.get_repo(self.repository))
        return self._repo

    def _pull(self, number: int) -> GhPull:
        if number not in self._pulls:
            self._pulls[number] = self._call(f"read of pull request #{number}",
                                             lambda: self.repo.get_pull(number))
        return self._pulls[number]

    def _remember(self, pull: GhPull) -> PullRequest:
        self._pulls[pull.number] = pull
        return PullRequest(
            number=pull.number,
            state="open" if pull.state == "open" else "closed",
            merged=pull.merged_at is not None,
            title=pull.title or "",
            body=pull.body or "",
            url=pull.html_url,
            labels=tuple(label.name for label in pull.labels),
        )

    # ------------------------------------------------------------------ reads
    def default_branch(self) -> Branch:
        name = self.repo.default_branch
        ref = self._call(f"read of branch {name}", lambda: self.repo.get_git_ref(f"heads/{name}"))
        return Branch(name, ref.object.sha)

    def read_file(self, path: str, ref: str) -> FileAtRef:
        content = self._call(f"read of {path} at {ref[:12]}",
                             lambda: self.repo.get_contents(path, ref=ref))
        if isinstance(content, list) or content.type != "file":
            raise GitHubError(f"{path} in {self.repository} is not a file; check --config")
        return FileAtRef(path, ref, content.decoded_content.decode("utf-8"), content.sha)

    def list_pulls(self, head_branch: str) -> list[PullRequest]:
        owner = self.repository.split("/", 1)[0]
        pulls = self._call(
            f"listing of pull requests from {head_branch}",
            lambda: list(self.repo.get_pulls(state="all", head=f"{owner}:{head_branch}")))
        return [self._remember(p) for p in pulls if p.head.ref == head_branch]

    # ------------------------------------------------------------------ writes
    def create_branch(self, name: str, sha: str) -> None:
        try:
            self._call(f"creation of branch {name}",
                       lambda: self.repo.create_git_ref(f"refs/heads/{name}", sha))
        except GitHubApiError as exc:
            if exc.status == 422 and "exists" in exc.detail.lower():
                raise RefExists(f"branch {name} already exists") from None
            raise

    def reset_branch(self, name: str, sha: str) -> None:
        try:
            ref = self._call(f"read of branch {name}",
                             lambda: self.repo.get_git_ref(f"heads/{name}"))
        except GitHubApiError as exc:
            if exc.status != 404:
                raise
            self.create_branch(name, sha)
            return
        if ref.object.sha == sha:
            return
        try:
            self._call(f"reset of branch {name}", lambda: ref.edit(sha, force=True))
        except GitHubApiError as exc:
            if exc.status in (404, 422):
                raise StaleBase(f"branch {name} changed while resetting it ({exc.detail})"
                                ) from None
            raise

    def commit_file(self, branch: str, path: str, text: str, blob_sha: str,
                    message: str) -> str:
        try:
            result: dict[str, Any] = self._call(
                f"commit of {path} on {branch}",
                lambda: self.repo.update_file(path, message, text.encode("utf-8"), blob_sha,
                                              branch=branch))
        except GitHubApiError as exc:
            if exc.status in (404, 409, 422):
                raise StaleBase(f"{path} on {branch} moved under the commit ({exc.detail})"
                                ) from None
            raise
        return str(result["commit"].sha)

    def create_pull(self, head_branch: str, base_branch: str, title: str,
                    body: str) -> PullRequest:
        try:
            pull = self._call(
                f"creation of the pull request from {head_branch}",
                lambda: self.repo.create_pull(base=base_branch, head=head_branch, title=title,
                                              body=body, maintainer_can_modify=True))
        except GitHubApiError as exc:
            if exc.status == 422 and "already exists" in exc.detail.lower():
                raise PullExists(f"a pull request from {head_branch} is already open") from None
            if exc.status == 422:
                raise StaleBase(f"cannot open the pull request from {head_branch} "
                                f"({exc.detail})") from None
            raise
        return self._remember(pull)

    def update_pull(self, number: int, title: str, body: str) -> PullRequest:
        pull = self._pull(number)
        self._call(f"update of pull request #{number}", lambda: pull.edit(title=title, body=body))
        return self._remember(pull)

    def _ensure_label(self, label: str, needs: str = PULL_PERMISSIONS) -> None:
        """The label exists in the repository (created, with our colour, when missing)."""
        try:
            self._call(f"read of label {label}", lambda: self.repo.get_label(label), needs=needs)
        except GitHubApiError as exc:
            if exc.status != 404:
                raise
            try:
                self._call(f"creation of label {label}",
                           lambda: self.repo.create_label(label, LABEL_COLOR, LABEL_DESCRIPTION),
                           needs=needs)
            except GitHubApiError as again:
                if again.status != 422:  # 422: created meanwhile by another run
                    raise

    def add_label(self, number: int, label: str) -> None:
        self._ensure_label(label)
        pull = self._pull(number)
        self._call(f"labelling of pull request #{number}", lambda: pull.add_to_labels(label))

    def comment(self, number: int, body: str) -> None:
        pull = self._pull(number)
        self._call(f"comment on pull request #{number}",
                   lambda: pull.create_issue_comment(body))

    # ------------------------------------------------------------------ issues
    def _issue(self, number: int) -> GhIssue:
        if number not in self._issues:
            self._issues[number] = self._call(f"read of issue #{number}",
                                              lambda: self.repo.get_issue(number),
                                              needs=ISSUE_PERMISSIONS)
        return self._issues[number]

    def _remember_issue(self, issue: GhIssue) -> Issue:
        self._issues[issue.number] = issue
        return Issue(
            number=issue.number,
            state="open" if issue.state == "open" else "closed",
            title=issue.title or "",
            body=issue.body or "",
            url=issue.html_url,
            labels=tuple(label.name for label in issue.labels),
        )

    def open_issues(self, label: str) -> list[Issue]:
        # The list endpoint answers pull requests too (GitHub counts them as issues): skip
        # them by their html_url (`.../pull/N`); reading `pull_request`, absent from an
        # issue's entry, would make PyGithub fetch every issue once more.
        found = self._call(
            f"listing of open issues labelled {label}",
            lambda: list(self.repo.get_issues(state="open", labels=[label], sort="created",
                                              direction="asc")),
            needs=ISSUE_PERMISSIONS)
        return [self._remember_issue(i) for i in found
                if "/pull/" not in urlsplit(i.html_url or "").path]

    def create_issue(self, title: str, body: str, label: str) -> Issue:
        self._ensure_label(label, ISSUE_PERMISSIONS)
        issue = self._call("creation of an issue",
                           lambda: self.repo.create_issue(title=title, body=body, labels=[label]),
                           needs=ISSUE_PERMISSIONS)
        return self._remember_issue(issue)

    def edit_issue(self, number: int, title: str, body: str) -> Issue:
        issue = self._issue(number)
        self._call(f"update of issue #{number}", lambda: issue.edit(title=title, body=body),
                   needs=ISSUE_PERMISSIONS)
        return self._remember_issue(issue)

    def comment_issue(self, number: int, body: str) -> None:
        issue = self._issue(number)
        self._call(f"comment on issue #{number}", lambda: issue.create_comment(body),
                   needs=ISSUE_PERMISSIONS)

    def close_issue(self, number: int, reason: CloseReason) -> None:
        issue = self._issue(number)
        self._call(f"closing of issue #{number}",
                   lambda: issue.edit(state="closed", state_reason=reason),
                   needs=ISSUE_PERMISSIONS)

    # ------------------------------------------------------------------ releases
    def _release(self, tag: str) -> GitRelease | None:
        try:
            return self._call(f"read of the release {tag}", lambda: self.repo.get_release(tag),
                              needs=RELEASE_PERMISSIONS)
        except GitHubApiError as exc:
            if exc.status == 404:
                return None
            raise

    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced:
        """Create the release `tag`, or update the one there (same release, new body); an
        asset whose sha256 GitHub reports unchanged is kept, any other replaced."""
        found = self._release(tag)
        if found is None:
            release = self._call(f"creation of the release {tag}",
                                 lambda: self.repo.create_git_release(
                                     tag, title, body, target_commitish=self.repo.default_branch),
                                 needs=RELEASE_PERMISSIONS)
        elif found.name != title or found.body != body:
            release = self._call(f"update of the release {tag}",
                                 lambda: found.update_release(name=title, message=body),
                                 needs=RELEASE_PERMISSIONS)
        else:
            release = found
        existing = {a.name: a for a in self._call(f"listing of the assets of {tag}",
                                                  lambda: list(release.get_assets()))}
        for path in assets:
            old = existing.get(path.name)
            if old is not None:
                if old.digest == "sha256:" + sha256_file(path):
                    continue
                self._call(f"removal of the asset {path.name}", old.delete_asset,
                           needs=RELEASE_PERMISSIONS)
            self._call(f"upload of the asset {path.name}",
                       partial(release.upload_asset, str(path), name=path.name,
                               content_type="application/json"),
                       needs=RELEASE_PERMISSIONS)
        return Announced(release.html_url, found is None)
