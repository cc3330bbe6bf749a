"""The GitHub adapter of the forge ports, through PyGithub (the client comes from `App.github`).

It implements `Forge` (pull requests) and `IssueTracker` (issues, through the REST issues
endpoints: the open ones with a label via `GET /repos/{owner}/{repo}/issues?labels=`).

Every call goes through `_call`, which retries what is worth retrying, a bounded number of
times: 5xx and network errors with exponential backoff and jitter; a secondary rate limit
(403/429 with `Retry-After`) and an exhausted primary limit that resets soon are waited out.
Anything else becomes a one-line `GitHubError` (exit 7) that names the fix; the statuses
the runner reacts to become `StaleBase`, `RefExists` or `PullExists`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
from github import GithubException

from bot.errors import GitHubError
from bot.forge.port import (
    Branch,
    CloseReason,
    FileAtRef,
    Issue,
    PullExists,
    PullRequest,
    RefExists,
    StaleBase,
)
from bot.http import RetryPolicy, retry_after_seconds
from bot.report import Reporter

if TYPE_CHECKING:
    from github import Github
    from github.Issue import Issue as GhIssue
    from github.PullRequest import PullRequest as GhPull
    from github.Repository import Repository

T = TypeVar("T")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: wait at least a minute when no Retry-After is given
LABEL_COLOR = "0e8a16"
LABEL_DESCRIPTION = "Opened by release-bot"
# What the token needs, named in the fix of a 403.
PULL_PERMISSIONS = "contents: write and pull-requests: write"
ISSUE_PERMISSIONS = "issues: write"


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


def _is_rate_limited(exc: GithubException) -> bool:
    if exc.status not in (403, 429):
        return False
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    if "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in _detail(exc).lower()


class GitHubForge:
    def __init__(
        self,
        github: Github,
        repository: str,
        reporter: Reporter,
        *,
        policy: RetryPolicy | None = None,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.github = github
        self.repository = repository
        self.reporter = reporter
        self.policy = policy or RetryPolicy()
        self.max_wait = max_wait
        self.sleep = sleep
        self._repo: Repository | None = None
        self._pulls: dict[int, GhPull] = {}
        self._issues: dict[int, GhIssue] = {}

    # ------------------------------------------------------------------ plumbing
    def _call(self, what: str, fn: Callable[[], T], *, needs: str = PULL_PERMISSIONS) -> T:
        """`fn()` with bounded retries of transient failures; final errors as GitHubApiError.

        `needs` names the token's permissions in the fix of a 403.
        """
        attempt = 0
        while True:
            try:
                return fn()
            except GithubException as exc:
                wait = self._transient_wait(exc, attempt)
                if wait is None:
                    raise GitHubApiError(
                        f"GitHub {what} failed: {exc.status} {_detail(exc)} "
                        f"({_fix(exc.status, _detail(exc), needs)})",
                        exc.status, _detail(exc)) from None
                reason = f"{exc.status} {_detail(exc)}"
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 >= self.policy.attempts:
                    raise GitHubError(
                        f"cannot reach GitHub at {self.github.requester.base_url} for {what} "
                        f"({type(exc).__name__}); check GITHUB_API_URL and the network") from None
                wait = self.policy.delay(attempt, None)
                reason = type(exc).__name__
            attempt += 1
            self.reporter.warning(f"GitHub {what}: {reason}; retrying in {wait:.1f}s")
            self.sleep(wait)

    def _transient_wait(self, exc: GithubException, attempt: int) -> float | None:
        if attempt + 1 >= self.policy.attempts:
            return None
        if exc.status in RETRY_STATUSES:
            return self.policy.delay(attempt, None)
        if _is_rate_limited(exc):
            headers: Mapping[str, str] = {k.lower(): v for k, v in (exc.headers or {}).items()}
            wait = retry_after_seconds(headers)
            if wait is None:
                wait = SECONDARY_LIMIT_WAIT
            if wait > self.max_wait:
                return None  # an hour-long primary reset: fail now, with the reason
            return wait + 0.5 if "retry-after" not in headers else wait
        return None

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
            head_branch=pull.head.ref,
            base_branch=pull.base.ref,
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
        wanted = label.lower()
        issues = [self._remember_issue(i) for i in found
                  if "/pull/" not in urlsplit(i.html_url or "").path]
        return sorted((i for i in issues if i.state == "open"
                       and wanted in (name.lower() for name in i.labels)),
                      key=lambda i: i.number)

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
