"""A stateful fake of the GitHub REST API, validated against GitHub's OpenAPI description.

Drive it only through the real PyGithub client (``server.client()`` or
``Github(base_url=server.url, auth=Auth.Token("..."))``); seed and act like a human
through the plain-Python control API (``create_repo``, ``push``, ``add_tag``, ...).
See README.md in this folder.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .actions import BLOB_PREFIX, TRUNCATE_AT, ActionsControl
from .actions_rest import ActionsEndpoints
from .gitstore import BLOB_MODES, Commit, Flat, GitStore, Person
from .http_control import CONTROL_PREFIX, serve_control
from .operations import OPERATIONS
from .plumbing import DOCS, ApiError, Response, _iso, _node_id, _now, _validation_failed, op
from .validator import ResponseValidator

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {rid}."
)
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID {uid}. If you reach out to GitHub Support for help, "
    "please include the request ID {rid} and timestamp {ts}."
)
FAULT_KINDS = ("500", "502", "503", "403", "404", "secondary-rate-limit", "rate-limit", "slow",
               "actions-may-not-open-prs",
               "truncate")  # signed blob downloads only: the body stops halfway
# GitHub's 403 when GITHUB_TOKEN lacks the permission an endpoint needs (e.g. issues: write).
NOT_ACCESSIBLE_MESSAGE = "Resource not accessible by integration"
# GitHub's answer to GITHUB_TOKEN opening a pull request when the repository's "Allow GitHub
# Actions to create and approve pull requests" setting is off.
ACTIONS_PR_MESSAGE = "GitHub Actions is not permitted to create or approve pull requests."
GREEDY_PARAMS = {"ref", "path", "branch"}
NUMERIC_PARAMS = {"pull_number", "issue_number", "release_id", "asset_id", "run_id", "artifact_id"}
ISSUE_BODY_LIMIT = 65536  # characters, like GitHub


# --------------------------------------------------------------------------------------
# plumbing types
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names, Authorization removed
    body: bytes
    token: str | None
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    method: str
    path_regex: str
    kind: str
    times: int
    seconds: float
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.times > 0
            and (self.method in ("*", method))
            and re.search(self.path_regex, path) is not None
        )


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Callable[..., Response]
    upload: bool = False


def _template_regex(template: str) -> re.Pattern[str]:
    out = ""
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        out += re.escape(literal)
        if name:
            if name in GREEDY_PARAMS:
                out += f"(?P<{name}>.+)"
            elif name in NUMERIC_PARAMS:
                out += f"(?P<{name}>[0-9]+)"
            else:
                out += f"(?P<{name}>[^/]+)"
    return re.compile(f"^{out}$")


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _open_count(r: Repo) -> int:
    """GitHub's `open_issues_count`: open issues and open pull requests together."""
    return sum(1 for d in [*r.pulls.values(), *r.issues.values()] if d["state"] == "open")


def _natural_key(name: str) -> list[Any]:
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]


# --------------------------------------------------------------------------------------
# state
# --------------------------------------------------------------------------------------
@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool
    created_at: datetime
    store: GitStore = field(default_factory=GitStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # non-PR issues
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issue_labels: dict[int, list[str]] = field(default_factory=dict)  # number -> label keys
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower name -> label
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> workflow
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)  # workflow runs (actions.py)
    artifacts: dict[int, dict[str, Any]] = field(default_factory=dict)  # of the runs
    next_number: int = 1
    pushed_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FakeGitHub(ActionsControl):
    """Stateful fake GitHub REST API on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        login: str = "release-bot",
        tokens: set[str] | None = None,
        rate_limit: int = 5000,
        validate: bool = True,
        validator: ResponseValidator | None = None,
    ) -> None:
        self.login = login
        self.user_id = 1
        self.tokens = tokens  # None: any non-empty token is accepted
        self.rate_limit = rate_limit
        self.validate = validate
        self.validator = validator or ResponseValidator.default()
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.requests: list[RecordedRequest] = []
        self.validation_errors: list[str] = []
        self.unimplemented: list[str] = []
        self.faults: list[Fault] = []
        self.used_by_token: dict[str, int] = {}
        self.rate_reset = int(time.time()) + 3600
        self._ids = itertools.count(1000)
        self._clock = 0
        self._routes = self._build_routes()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[Any] = []
        self.url = ""

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> FakeGitHub:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, token: str = "test-token", **kwargs: Any) -> Any:
        """A PyGithub client for this server, without PyGithub's default request throttling.

        Any ``github.Github`` keyword can be passed (``retry=``, ``per_page=``...). Clients made
        here are closed by ``stop()``.
        """
        from github import Auth, Github

        kwargs.setdefault("seconds_between_requests", None)
        kwargs.setdefault("seconds_between_writes", None)
        kwargs.setdefault("timeout", 15)
        gh = Github(base_url=self.url, auth=Auth.Token(token), **kwargs)
        self._clients.append(gh)
        return gh

    # ---------------------------------------------------------------- observability
    @property
    def writes(self) -> int:
        """Number of non-GET/HEAD requests received (tests assert ``== 0`` for dry runs)."""
        with self.lock:
            return sum(1 for r in self.requests if r.method not in ("GET", "HEAD"))

    @property
    def quota_used(self) -> int:
        """Primary rate-limit quota consumed, all tokens together (304s are free)."""
        with self.lock:
            return sum(self.used_by_token.values())

    def requests_matching(self, method: str = "*", path_regex: str = "") -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if method in ("*", r.method) and re.search(path_regex, r.path) is not None
            ]

    def inject(
        self, method: str, path_regex: str, kind: str, times: int = 1, seconds: float = 1.0
    ) -> Fault:
        """Make the next ``times`` matching requests fail (or be slow) in the given way.

        kind: "500" | "502" | "503" | "404" | "403" (the token lacks a permission) |
        "secondary-rate-limit" (403 + retry-after) |
        "actions-may-not-open-prs" (403: the repository setting for GITHUB_TOKEN is off) |
        "rate-limit" (primary: 403, x-ratelimit-remaining 0, reset in ``seconds``) |
        "slow" (sleep ``seconds`` then answer normally). ``method`` may be "*".
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        fault = Fault(method.upper() if method != "*" else "*", path_regex, kind, times, seconds)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first injected fault that matches the request, counted as spent once."""
        with self.lock:
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
                fault.hits += 1
        return fault

    def set_rate_limit_remaining(self, remaining: int, token: str = "test-token") -> None:
        with self.lock:
            self.used_by_token[token] = self.rate_limit - remaining

    # ---------------------------------------------------------------- control API (seeding)
    def create_repo(
        self,
        owner: str,
        name: str,
        default_branch: str = "main",
        files: dict[str, bytes | str] | None = None,
        *,
        private: bool = False,
        message: str = "Initial commit",
    ) -> Repo:
        with self.lock:
            key = f"{owner}/{name}".lower()
            if key in self.repos:
                raise ValueError(f"repo {owner}/{name} exists")
            repo = Repo(owner, name, next(self._ids), default_branch, private, _now())
            self.repos[key] = repo
            if files is None:
                files = {"README.md": f"# {name}\n"}
            flat: Flat = {
                p: ("100644", repo.store.put_blob(_as_bytes(d))) for p, d in files.items()
            }
            commit = self._commit(repo, repo.store.put_flat(flat), [], message)
            repo.refs[f"refs/heads/{default_branch}"] = commit.sha
            return repo

    def push(
        self,
        owner: str,
        repo: str,
        branch: str,
        files: dict[str, bytes | str | None],
        message: str = "Update files",
        *,
        base: str | None = None,
    ) -> str:
        """Commit ``files`` (``None`` deletes a path) on top of ``branch`` and move it.

        A missing branch is created from ``base`` (default: the default branch). Returns the sha.
        """
        with self.lock:
            r = self._repo(owner, repo)
            ref = f"refs/heads/{branch}"
            parent = r.refs.get(ref) or r.refs[f"refs/heads/{base or r.default_branch}"]
            flat = r.store.files(parent)
            for path, data in files.items():
                if data is None:
                    flat.pop(path, None)
                else:
                    flat[path] = ("100644", r.store.put_blob(_as_bytes(data)))
            commit = self._commit(r, r.store.put_flat(flat), [parent], message)
            r.refs[ref] = commit.sha
            r.pushed_at = _now()
            return commit.sha

    def add_tag(self, owner: str, repo: str, name: str, sha: str | None = None) -> str:
        """Lightweight tag ``name`` at ``sha`` (default: head of the default branch)."""
        with self.lock:
            r = self._repo(owner, repo)
            target = self._resolve(r, sha) if sha else r.refs[f"refs/heads/{r.default_branch}"]
            if target is None:
                raise ValueError(f"unknown commit {sha}")
            r.refs[f"refs/tags/{name}"] = target
            return target

    def add_release(
        self,
        owner: str,
        repo: str,
        tag: str,
        draft: bool = False,
        prerelease: bool = False,
        *,
        name: str | None = None,
        body: str = "",
        target_commitish: str | None = None,
        assets: dict[str, bytes] | None = None,
    ) -> int:
        """Create a release (and its tag unless it is a draft); return its id."""
        with self.lock:
            r = self._repo(owner, repo)
            rel = self._new_release(
                r,
                {
                    "tag_name": tag,
                    "name": name if name is not None else tag,
                    "body": body,
                    "draft": draft,
                    "prerelease": prerelease,
                    "target_commitish": target_commitish or r.default_branch,
                },
            )
            for asset_name, data in (assets or {}).items():
                self._new_asset(r, rel, asset_name, data, "application/octet-stream", "")
            return int(rel["id"])

    def close_pull(self, *args: Any, merged: bool = False) -> None:
        """``close_pull([owner, repo,] number, merged=False)``: a human closes (or merges) a PR."""
        r, number = self._pull_args(args)
        if merged:
            self.merge_pull(r.owner, r.name, number)
            return
        with self.lock:
            pr = self._pull(r, number)
            pr["state"] = "closed"
            pr["closed_at"] = pr["updated_at"] = _now()

    def merge_pull(self, *args: Any, merge_method: str = "merge") -> str:
        """``merge_pull([owner, repo,] number)``: a human merges a PR; returns the merge sha."""
        r, number = self._pull_args(args)
        with self.lock:
            return self._merge(r, self._pull(r, number), merge_method, None, None)

    def pulls(self, owner: str, repo: str, state: str = "all") -> list[dict[str, Any]]:
        """Snapshots of the PRs: number, title, body, state, head, base, merged, labels, ..."""
        with self.lock:
            r = self._repo(owner, repo)
            out = []
            for n, pr in sorted(r.pulls.items()):
                if state != "all" and pr["state"] != state:
                    continue
                snap = {k: v for k, v in pr.items() if k != "user"}
                snap["labels"] = [r.labels[k]["name"] for k in r.issue_labels.get(n, [])]
                snap["comments"] = [c["body"] for c in r.comments.get(n, [])]
                out.append(snap)
            return out

    def add_issue(
        self,
        owner: str,
        repo: str,
        title: str,
        body: str = "",
        labels: tuple[str, ...] | list[str] = (),
        *,
        state: str = "open",
    ) -> int:
        """A human opens an issue (``state="closed"``: and closed it); returns its number."""
        with self.lock:
            r = self._repo(owner, repo)
            issue = self._new_issue(r, title, body, list(labels))
            if state == "closed":
                issue.update(state="closed", state_reason="completed", closed_at=_now())
            return int(issue["number"])

    def close_issue(self, owner: str, repo: str, number: int) -> None:
        """A human closes an issue (not a pull request: use ``close_pull``)."""
        with self.lock:
            issue = self._repo(owner, repo).issues.get(number)
            if issue is None:
                raise KeyError(f"no issue #{number}")
            issue.update(state="closed", state_reason="completed", closed_at=_now(),
                         updated_at=_now())

    def issues(self, owner: str, repo: str, state: str = "all") -> list[dict[str, Any]]:
        """Snapshots of the issues (pull requests excluded): number, title, body, state,
        state_reason, labels (names), comments (bodies), created_at, closed_at."""
        with self.lock:
            r = self._repo(owner, repo)
            out = []
            for n, issue in sorted(r.issues.items()):
                if state != "all" and issue["state"] != state:
                    continue
                snap = dict(issue)
                snap["labels"] = [r.labels[k]["name"] for k in r.issue_labels.get(n, [])]
                snap["comments"] = [c["body"] for c in r.comments.get(n, [])]
                out.append(snap)
            return out

    def comments(self, owner: str, repo: str, number: int) -> list[str]:
        with self.lock:
            return [c["body"] for c in self._repo(owner, repo).comments.get(number, [])]

    def releases(self, owner: str, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            r = self._repo(owner, repo)
            out = []
            for rel in sorted(r.releases.values(), key=lambda x: x["id"]):
                snap = {k: v for k, v in rel.items() if k != "assets"}
                snap["assets"] = {a["name"]: a["data"] for a in self._assets_of(r, rel)}
                out.append(snap)
            return out

    def tags(self, owner: str, repo: str) -> dict[str, str]:
        with self.lock:
            r = self._repo(owner, repo)
            return {
                k[len("refs/tags/") :]: v for k, v in r.refs.items() if k.startswith("refs/tags/")
            }

    def file_at(self, owner: str, repo: str, ref: str, path: str) -> bytes | None:
        with self.lock:
            r = self._repo(owner, repo)
            sha = self._resolve(r, ref)
            if sha is None:
                raise KeyError(f"unknown ref {ref}")
            entry = r.store.files(sha).get(path)
            return None if entry is None else r.store.blobs[entry[1]]

    def files_at(self, owner: str, repo: str, ref: str) -> dict[str, bytes]:
        with self.lock:
            r = self._repo(owner, repo)
            sha = self._resolve(r, ref)
            if sha is None:
                raise KeyError(f"unknown ref {ref}")
            return {p: r.store.blobs[b] for p, (_, b) in r.store.files(sha).items()}

    def branch_sha(self, owner: str, repo: str, branch: str) -> str | None:
        with self.lock:
            return self._repo(owner, repo).refs.get(f"refs/heads/{branch}")

    def commit_info(self, owner: str, repo: str, sha: str) -> Commit:
        with self.lock:
            return self._repo(owner, repo).store.commits[sha]

    # ---------------------------------------------------------------- internals: state
    def _repo(self, owner: str, name: str) -> Repo:
        r = self.repos.get(f"{owner}/{name}".lower())
        if r is None:
            raise ApiError(404, "Not Found")
        return r

    def _pull_args(self, args: tuple[Any, ...]) -> tuple[Repo, int]:
        with self.lock:
            if len(args) == 3:
                return self._repo(args[0], args[1]), int(args[2])
            if len(args) == 1 and len(self.repos) == 1:
                return next(iter(self.repos.values())), int(args[0])
        raise TypeError("expected (owner, repo, number), or (number) when a single repo exists")

    def _pull(self, r: Repo, number: int) -> dict[str, Any]:
        pr = r.pulls.get(number)
        if pr is None:
            raise ApiError(404, "Not Found")
        return pr

    def _label_key(self, r: Repo, name: str) -> str:
        """The key of label ``name``, created on the fly when unknown (as GitHub does)."""
        key = name.lower()
        if key not in r.labels:
            r.labels[key] = {
                "id": next(self._ids),
                "name": name,
                "color": "ededed",
                "description": None,
            }
        return key

    def _new_issue(
        self, r: Repo, title: str, body: str | None, labels: list[Any]
    ) -> dict[str, Any]:
        n = r.next_number  # issues and pull requests share one number space
        r.next_number += 1
        now = _now()
        issue: dict[str, Any] = {
            "number": n,
            "id": next(self._ids),
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
        }
        r.issues[n] = issue
        keys = [self._label_key(r, x["name"] if isinstance(x, dict) else x) for x in labels]
        if keys:
            r.issue_labels[n] = list(dict.fromkeys(keys))
        return issue

    def _person(self) -> Person:
        # strictly increasing timestamps so that identical content still gives new commits
        now = int(time.time())
        self._clock = max(self._clock + 1, now)
        dt = datetime.fromtimestamp(self._clock, UTC)
        return Person(self.login, f"{self.login}@users.noreply.github.com", _iso(dt), self._clock)

    def _commit(
        self,
        r: Repo,
        tree: str,
        parents: list[str],
        message: str,
        author: dict[str, Any] | None = None,
        committer: dict[str, Any] | None = None,
    ) -> Commit:
        default = self._person()

        def person(d: dict[str, Any] | None) -> Person:
            if not d:
                return default
            return Person(
                d.get("name", default.name),
                d.get("email", default.email),
                default.date,
                default.timestamp,
            )

        return r.store.put_commit(
            tree, parents, message, person(author), person(committer or author)
        )

    def _resolve(self, r: Repo, ref: str | None) -> str | None:
        """Branch, tag, full ref or (abbreviated) commit sha -> commit sha."""
        if not ref:
            return r.refs.get(f"refs/heads/{r.default_branch}")
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
            if candidate in r.refs:
                return r.refs[candidate]
        if re.fullmatch(r"[0-9a-f]{4,40}", ref):
            hits = [s for s in r.store.commits if s.startswith(ref)]
            if len(hits) == 1:
                return hits[0]
        return None

    def _assets_of(self, r: Repo, rel: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted(
            (a for a in r.assets.values() if a["release_id"] == rel["id"]), key=lambda a: a["id"]
        )

    def _new_release(self, r: Repo, body: dict[str, Any]) -> dict[str, Any]:
        tag = body.get("tag_name")
        if not isinstance(tag, str) or not tag:
            raise _validation_failed("Release", "missing_field", "tag_name")
        if any(rel["tag_name"] == tag for rel in r.releases.values()):
            raise _validation_failed("Release", "already_exists", "tag_name")
        target = body.get("target_commitish") or r.default_branch
        draft = bool(body.get("draft", False))
        if not draft:
            self._ensure_tag(r, tag, target)
        now = _now()
        rel = {
            "id": next(self._ids),
            "tag_name": tag,
            "target_commitish": target,
            "name": body.get("name") if body.get("name") is not None else tag,
            "body": body.get("body") or "",
            "draft": draft,
            "prerelease": bool(body.get("prerelease", False)),
            "created_at": now,
            "published_at": None if draft else now,
            "updated_at": now,
            "make_latest": body.get("make_latest", "true"),
        }
        r.releases[rel["id"]] = rel
        return rel

    def _ensure_tag(self, r: Repo, tag: str, target: str) -> None:
        if f"refs/tags/{tag}" in r.refs:
            return
        sha = self._resolve(r, target)
        if sha is None:
            raise _validation_failed("Release", "invalid", "target_commitish")
        r.refs[f"refs/tags/{tag}"] = sha

    def _new_asset(
        self, r: Repo, rel: dict[str, Any], name: str, data: bytes, content_type: str, label: str
    ) -> dict[str, Any]:
        if any(a["name"] == name for a in self._assets_of(r, rel)):
            raise _validation_failed("ReleaseAsset", "already_exists", "name")
        now = _now()
        asset = {
            "id": next(self._ids),
            "release_id": rel["id"],
            "name": name,
            "label": label or None,
            "content_type": content_type,
            "data": data,
            "created_at": now,
            "updated_at": now,
        }
        r.assets[asset["id"]] = asset
        return asset

    def _merge(
        self,
        r: Repo,
        pr: dict[str, Any],
        method: str,
        title: str | None,
        message: str | None,
        expected_sha: str | None = None,
    ) -> str:
        if pr["state"] != "open" or pr["merged"]:
            raise ApiError(405, "Pull Request is not mergeable")
        head_sha = r.refs.get(f"refs/heads/{pr['head_ref']}")
        base_sha = r.refs.get(f"refs/heads/{pr['base_ref']}")
        if head_sha is None or base_sha is None:
            raise ApiError(405, "Pull Request is not mergeable")
        if expected_sha is not None and expected_sha != head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        merged = r.store.three_way(r.store.merge_base(base_sha, head_sha), base_sha, head_sha)
        if merged is None:
            raise ApiError(405, "Pull Request is not mergeable")
        tree = r.store.put_flat(merged)
        if method == "merge":
            msg = title or f"Merge pull request #{pr['number']} from {r.owner}/{pr['head_ref']}"
            parents = [base_sha, head_sha]
        elif method in ("squash", "rebase"):
            msg = title or f"{pr['title']} (#{pr['number']})"
            parents = [base_sha]
        else:
            raise _validation_failed("PullRequest", "invalid", "merge_method")
        if message:
            msg += "\n\n" + message
        commit = self._commit(r, tree, parents, msg)
        r.refs[f"refs/heads/{pr['base_ref']}"] = commit.sha
        now = _now()
        pr.update(
            state="closed",
            merged=True,
            merged_at=now,
            closed_at=now,
            updated_at=now,
            merge_commit_sha=commit.sha,
            head_sha=head_sha,
        )
        return commit.sha

    # ---------------------------------------------------------------- HTTP dispatch
    def handle(
        self, method: str, raw_target: str, headers: dict[str, str], body: bytes
    ) -> Response:
        parsed = urllib.parse.urlsplit(raw_target)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        auth = headers.get("authorization", "")
        token: str | None = None
        m = re.fullmatch(r"(?i)(?:token|bearer)\s+(\S+)", auth.strip())
        if m:
            token = m.group(1)
        recorded = {k: v for k, v in headers.items() if k != "authorization"}
        with self.lock:
            self.requests.append(RecordedRequest(method, path, query, recorded, body, token))
            index = len(self.requests) - 1

        response = self._handle(method, path, query, headers, body, token)

        with self.lock:
            self.requests[index] = RecordedRequest(
                method, path, query, recorded, body, token, response.status
            )
        return response

    def _handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        token: str | None,
    ) -> Response:
        rid = hashlib.sha1(f"{time.time()}{path}".encode(), usedforsecurity=False).hexdigest()[:16]
        base_headers = {"x-github-request-id": rid.upper()}
        if token is None or (self.tokens is not None and token not in self.tokens):
            err = ApiError(401, "Requires authentication" if token is None else "Bad credentials")
            return Response(401, err.body(), base_headers)

        fault = self.take_fault(method, path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            else:
                return self._fault_response(fault, token, rid, base_headers)

        route, params = self._route(method, path)
        if route is None:
            with self.lock:
                self.unimplemented.append(f"{method} {path}")
            return self._finish(
                None,
                Response(404, ApiError(404, "Not Found").body()),
                token,
                headers,
                base_headers,
                query,
                path,
            )

        # primary rate limit (GET /rate_limit is free, like on GitHub)
        with self.lock:
            exhausted = route.template != "/rate_limit" and self._remaining(token) <= 0
        if exhausted:
            msg = PRIMARY_MESSAGE.format(uid=self.user_id, rid=rid, ts=_iso(_now()))
            resp = Response(403, ApiError(403, msg).body(), base_headers)
            resp.headers.update(self._rate_headers(token))
            return resp

        try:
            payload = json.loads(body) if body and not route.upload else None
        except ValueError:
            payload = None
            resp = Response(400, ApiError(400, "Problems parsing JSON").body())
        else:
            ctx = _Ctx(self, method, path, query, headers, body, payload, params)
            try:
                with self.lock:
                    resp = route.handler(ctx)
            except ApiError as exc:
                resp = Response(exc.status, exc.body())
        return self._finish(route, resp, token, headers, base_headers, query, path)

    def _route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        upload = path.startswith("/uploads/")
        if upload:
            path = path[len("/uploads") :]
        for route in self._routes:
            if route.upload != upload or route.method != method:
                continue
            m = route.regex.match(path)
            if m is not None:
                return route, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        return None, {}

    def _remaining(self, token: str | None) -> int:
        return self.rate_limit - self.used_by_token.get(token or "", 0)

    def _rate_headers(self, token: str | None) -> dict[str, str]:
        used = self.used_by_token.get(token or "", 0)
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(self.rate_reset),
            "x-ratelimit-resource": "core",
        }

    def _fault_response(
        self, fault: Fault, token: str | None, rid: str, base_headers: dict[str, str]
    ) -> Response:
        with self.lock:
            self._charge(token)
            headers = {**base_headers, **self._rate_headers(token)}
        if fault.kind in ("500", "502", "503"):
            messages = {"500": "Server Error", "502": "Server Error", "503": "Service Unavailable"}
            status = int(fault.kind)
            return Response(
                status, {"message": messages[fault.kind], "documentation_url": DOCS}, headers
            )
        if fault.kind == "404":
            return Response(404, ApiError(404, "Not Found").body(), headers)
        if fault.kind == "403":
            return Response(403, ApiError(403, NOT_ACCESSIBLE_MESSAGE).body(), headers)
        if fault.kind == "actions-may-not-open-prs":
            return Response(403, {"message": ACTIONS_PR_MESSAGE, "documentation_url": DOCS,
                                  "status": "403"}, headers)
        if fault.kind == "secondary-rate-limit":
            headers["retry-after"] = str(max(1, round(fault.seconds)))
            msg = SECONDARY_MESSAGE.format(rid=rid.upper())
            return Response(403, {"message": msg, "documentation_url": DOCS}, headers)
        # primary rate limit
        reset = int(time.time() + fault.seconds)
        headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
        headers["x-ratelimit-used"] = headers["x-ratelimit-limit"]
        msg = PRIMARY_MESSAGE.format(uid=self.user_id, rid=rid.upper(), ts=_iso(_now()))
        return Response(403, {"message": msg, "documentation_url": DOCS}, headers)

    def _charge(self, token: str | None) -> None:
        key = token or ""
        self.used_by_token[key] = self.used_by_token.get(key, 0) + 1

    def _finish(
        self,
        route: Route | None,
        resp: Response,
        token: str | None,
        req_headers: dict[str, str],
        base_headers: dict[str, str],
        query: dict[str, list[str]],
        path: str,
    ) -> Response:
        method = route.method if route else "GET"
        # conditional GET
        raw_json = None
        if not isinstance(resp.body, bytes | bytearray) and resp.body is not None:
            raw_json = json.dumps(resp.body, separators=(",", ":"), sort_keys=True)
        if (
            route is not None
            and route.method == "GET"
            and resp.status == 200
            and raw_json is not None
        ):
            etag = 'W/"' + hashlib.sha256(raw_json.encode()).hexdigest()[:40] + '"'
            resp.headers["etag"] = etag
            inm = req_headers.get("if-none-match", "")
            if inm and etag.removeprefix("W/") in [
                t.strip().removeprefix("W/") for t in inm.split(",")
            ]:
                with self.lock:
                    headers = {**base_headers, **self._rate_headers(token), "etag": etag}
                return Response(304, None, headers)
        with self.lock:
            if route is None or route.template != "/rate_limit":
                self._charge(token)
            rate = self._rate_headers(token)
        # schema validation
        if self.validate and route is not None and not isinstance(resp.body, bytes | bytearray):
            problems = self.validator.errors(method, route.template, resp.status, resp.body)
            if problems:
                with self.lock:
                    self.validation_errors.extend(problems)
                resp = Response(
                    500,
                    {
                        "message": "fake-github: response failed OpenAPI validation",
                        "errors": problems,
                        "documentation_url": DOCS,
                    },
                )
        resp.headers = {**base_headers, **rate, **resp.headers}
        resp.headers.setdefault("x-github-media-type", "github.v3; format=json")
        resp.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        return resp

    # ---------------------------------------------------------------- routes
    def _build_routes(self) -> list[Route]:
        handlers: dict[tuple[str, str], Callable[..., Response]] = {}
        for attr in dir(_Endpoints):
            fn = getattr(_Endpoints, attr)
            op = getattr(fn, "__operation__", None)
            if op is not None:
                handlers[op] = fn
        routes = []
        for method, template in OPERATIONS:
            fn = handlers.get((method, template))
            if fn is None:
                raise RuntimeError(f"no handler for {method} {template}")
            upload = template.endswith("/releases/{release_id}/assets") and method == "POST"
            routes.append(Route(method, template, _template_regex(template), fn, upload))
        # most specific first: fewer greedy params, then longer literal text
        routes.sort(key=lambda rt: (rt.regex.pattern.count(".+"), -len(rt.template)))
        return routes


# --------------------------------------------------------------------------------------
# request context and JSON builders
# --------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    fake: FakeGitHub
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes
    body: Any
    params: dict[str, str]

    @property
    def base(self) -> str:
        return self.fake.url

    def q(self, name: str, default: str | None = None) -> str | None:
        vals = self.query.get(name)
        return vals[-1] if vals else default

    @property
    def repo(self) -> Repo:
        return self.fake._repo(self.params["owner"], self.params["repo"])

    def field(self, name: str, default: Any = None) -> Any:
        if isinstance(self.body, dict):
            return self.body.get(name, default)
        return default

    def paginate(self, items: list[Any], *, under: str | None = None,
                 render: Callable[[Any], Any] | None = None) -> Response:
        """One page of `items` (each through `render`), with GitHub's Link header; `under`
        wraps the page as GitHub's Actions listings do: {"total_count": N, under: [...]}."""
        try:
            per_page = min(100, max(1, int(self.q("per_page", "30") or 30)))
            page = max(1, int(self.q("page", "1") or 1))
        except ValueError:
            raise ApiError(422, "Invalid pagination parameters") from None
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(p: int, rel: str) -> str:
            q = {k: v[-1] for k, v in self.query.items()}
            q["page"] = str(p)
            return f'<{self.base}{self.path}?{urllib.parse.urlencode(q)}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = {"link": ", ".join(links)} if links else {}
        page_items = [render(x) for x in chunk] if render is not None else chunk
        body = {"total_count": len(items), under: page_items} if under else page_items
        return Response(200, body, headers)

    # --- URLs
    def api(self, r: Repo, suffix: str = "") -> str:
        return f"{self.base}/repos/{r.owner}/{r.name}{suffix}"

    def html(self, r: Repo, suffix: str = "") -> str:
        return f"https://github.com/{r.owner}/{r.name}{suffix}"

    # --- objects
    def user(self, login: str, uid: int | None = None, kind: str = "User") -> dict[str, Any]:
        uid = (
            uid
            if uid is not None
            else (
                self.fake.user_id
                if login == self.fake.login
                else int(hashlib.sha1(login.encode(), usedforsecurity=False).hexdigest()[:6], 16)
            )
        )
        u = f"{self.base}/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": _node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": u,
            "html_url": f"https://github.com/{login}",
            "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}",
            "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs",
            "repos_url": f"{u}/repos",
            "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events",
            "type": kind,
            "site_admin": False,
            "user_view_type": "public",
        }

    def me(self) -> dict[str, Any]:
        return self.user(self.fake.login, self.fake.user_id)

    def repository(self, r: Repo, full: bool = False) -> dict[str, Any]:
        a = self.api(r)
        created = _iso(r.created_at)
        pushed = _iso(r.pushed_at or r.created_at)
        out: dict[str, Any] = {
            "id": r.id,
            "node_id": _node_id("Repository", r.id),
            "name": r.name,
            "full_name": r.full_name,
            "private": r.private,
            "owner": self.user(r.owner),
            "html_url": self.html(r),
            "description": None,
            "fork": False,
            "url": a,
            "archive_url": a + "/{archive_format}{/ref}",
            "assignees_url": a + "/assignees{/user}",
            "blobs_url": a + "/git/blobs{/sha}",
            "branches_url": a + "/branches{/branch}",
            "collaborators_url": a + "/collaborators{/collaborator}",
            "comments_url": a + "/comments{/number}",
            "commits_url": a + "/commits{/sha}",
            "compare_url": a + "/compare/{base}...{head}",
            "contents_url": a + "/contents/{+path}",
            "contributors_url": a + "/contributors",
            "deployments_url": a + "/deployments",
            "downloads_url": a + "/downloads",
            "events_url": a + "/events",
            "forks_url": a + "/forks",
            "git_commits_url": a + "/git/commits{/sha}",
            "git_refs_url": a + "/git/refs{/sha}",
            "git_tags_url": a + "/git/tags{/sha}",
            "git_url": f"git://github.com/{r.full_name}.git",
            "issue_comment_url": a + "/issues/comments{/number}",
            "issue_events_url": a + "/issues/events{/number}",
            "issues_url": a + "/issues{/number}",
            "keys_url": a + "/keys{/key_id}",
            "labels_url": a + "/labels{/name}",
            "languages_url": a + "/languages",
            "merges_url": a + "/merges",
            "milestones_url": a + "/milestones{/number}",
            "notifications_url": a + "/notifications{?since,all,participating}",
            "pulls_url": a + "/pulls{/number}",
            "releases_url": a + "/releases{/id}",
            "ssh_url": f"git@github.com:{r.full_name}.git",
            "stargazers_url": a + "/stargazers",
            "statuses_url": a + "/statuses/{sha}",
            "subscribers_url": a + "/subscribers",
            "subscription_url": a + "/subscription",
            "tags_url": a + "/tags",
            "teams_url": a + "/teams",
            "trees_url": a + "/git/trees{/sha}",
            "clone_url": f"https://github.com/{r.full_name}.git",
            "mirror_url": None,
            "hooks_url": a + "/hooks",
            "svn_url": self.html(r),
            "homepage": None,
            "language": "Python",
            "forks_count": 0,
            "forks": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 1,
            "default_branch": r.default_branch,
            "open_issues_count": _open_count(r),
            "open_issues": _open_count(r),
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if r.private else "public",
            "pushed_at": pushed,
            "created_at": created,
            "updated_at": pushed,
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_rebase_merge": True,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
        }
        if full:
            out.update(network_count=0, subscribers_count=0)
        return out

    def git_person(self, p: Person) -> dict[str, Any]:
        return {"name": p.name, "email": p.email, "date": p.date}

    def verification(self) -> dict[str, Any]:
        return {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }

    def git_commit(self, r: Repo, c: Commit) -> dict[str, Any]:
        return {
            "sha": c.sha,
            "node_id": _node_id("Commit", c.sha),
            "url": self.api(r, f"/git/commits/{c.sha}"),
            "html_url": self.html(r, f"/commit/{c.sha}"),
            "author": self.git_person(c.author),
            "committer": self.git_person(c.committer),
            "tree": {"sha": c.tree, "url": self.api(r, f"/git/trees/{c.tree}")},
            "message": c.message,
            "parents": [
                {
                    "sha": p,
                    "url": self.api(r, f"/git/commits/{p}"),
                    "html_url": self.html(r, f"/commit/{p}"),
                }
                for p in c.parents
            ],
            "verification": self.verification(),
        }

    def commit(self, r: Repo, c: Commit, with_files: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.api(r, f"/commits/{c.sha}"),
            "sha": c.sha,
            "node_id": _node_id("Commit", c.sha),
            "html_url": self.html(r, f"/commit/{c.sha}"),
            "comments_url": self.api(r, f"/commits/{c.sha}/comments"),
            "commit": {
                "url": self.api(r, f"/git/commits/{c.sha}"),
                "author": self.git_person(c.author),
                "committer": self.git_person(c.committer),
                "message": c.message,
                "comment_count": 0,
                "tree": {"sha": c.tree, "url": self.api(r, f"/git/trees/{c.tree}")},
                "verification": self.verification(),
            },
            "author": self.me() if c.author.name == self.fake.login else None,
            "committer": self.me() if c.committer.name == self.fake.login else None,
            "parents": [
                {
                    "sha": p,
                    "url": self.api(r, f"/commits/{p}"),
                    "html_url": self.html(r, f"/commit/{p}"),
                }
                for p in c.parents
            ],
        }
        if with_files:
            files = []
            adds = dels = 0
            for d in r.store.diff(c.parents[0] if c.parents else None, c.sha):
                adds += d["additions"]
                dels += d["deletions"]
                quoted = urllib.parse.quote(d["path"])
                files.append(
                    {
                        "sha": d["sha"],
                        "filename": d["path"],
                        "status": d["status"],
                        "additions": d["additions"],
                        "deletions": d["deletions"],
                        "changes": d["additions"] + d["deletions"],
                        "blob_url": self.html(r, f"/blob/{c.sha}/{quoted}"),
                        "raw_url": self.html(r, f"/raw/{c.sha}/{quoted}"),
                        "contents_url": self.api(r, f"/contents/{quoted}?ref={c.sha}"),
                    }
                )
            out["stats"] = {"additions": adds, "deletions": dels, "total": adds + dels}
            out["files"] = files
        return out

    def git_ref(self, r: Repo, ref: str) -> dict[str, Any]:
        sha = r.refs[ref]
        return {
            "ref": ref,
            "node_id": _node_id("Ref", ref),
            "url": self.api(r, f"/git/{ref}"),
            "object": {"type": "commit", "sha": sha, "url": self.api(r, f"/git/commits/{sha}")},
        }

    def content_item(
        self, r: Repo, path: str, entry_type: str, sha: str, size: int, ref: str
    ) -> dict[str, Any]:
        quoted = urllib.parse.quote(path)
        kind = "dir" if entry_type == "tree" else "file"
        url = self.api(r, f"/contents/{quoted}?ref={urllib.parse.quote(ref, safe='')}")
        git_url = self.api(r, f"/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}")
        html_url = self.html(r, f"/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quoted}")
        return {
            "type": kind,
            "size": size if kind == "file" else 0,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": (
                f"https://raw.githubusercontent.com/{r.full_name}/{ref}/{quoted}"
                if kind == "file"
                else None
            ),
            "_links": {"self": url, "git": git_url, "html": html_url},
        }

    def label(self, r: Repo, lab: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": lab["id"],
            "node_id": _node_id("Label", lab["id"]),
            "url": self.api(r, "/labels/" + urllib.parse.quote(lab["name"], safe="")),
            "name": lab["name"],
            "description": lab.get("description"),
            "color": lab["color"],
            "default": False,
        }

    def pr_links(self, r: Repo, n: int, head_sha: str) -> dict[str, Any]:
        return {
            "self": {"href": self.api(r, f"/pulls/{n}")},
            "html": {"href": self.html(r, f"/pull/{n}")},
            "issue": {"href": self.api(r, f"/issues/{n}")},
            "comments": {"href": self.api(r, f"/issues/{n}/comments")},
            "review_comments": {"href": self.api(r, f"/pulls/{n}/comments")},
            "review_comment": {"href": self.api(r, "/pulls/comments{/number}")},
            "commits": {"href": self.api(r, f"/pulls/{n}/commits")},
            "statuses": {"href": self.api(r, f"/statuses/{head_sha}")},
        }

    def pull(self, r: Repo, pr: dict[str, Any], full: bool) -> dict[str, Any]:
        n = pr["number"]
        head_sha = r.refs.get(f"refs/heads/{pr['head_ref']}", pr["head_sha"])
        base_sha = r.refs.get(f"refs/heads/{pr['base_ref']}", pr["base_sha"])
        if pr["merged"]:
            head_sha = pr["head_sha"]
        repo_json = self.repository(r)
        owner = self.user(r.owner)

        def part(ref: str, sha: str) -> dict[str, Any]:
            return {
                "label": f"{r.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": owner,
                "repo": repo_json,
            }

        def iso(v: datetime | None) -> str | None:
            return _iso(v) if v else None

        labels = [self.label(r, r.labels[k]) for k in r.issue_labels.get(n, [])]
        if not full:  # pull-request-simple declares label descriptions non-nullable
            for lab in labels:
                lab["description"] = lab["description"] or ""
        out: dict[str, Any] = {
            "url": self.api(r, f"/pulls/{n}"),
            "id": pr["id"],
            "node_id": _node_id("PullRequest", pr["id"]),
            "html_url": self.html(r, f"/pull/{n}"),
            "diff_url": self.html(r, f"/pull/{n}.diff"),
            "patch_url": self.html(r, f"/pull/{n}.patch"),
            "issue_url": self.api(r, f"/issues/{n}"),
            "commits_url": self.api(r, f"/pulls/{n}/commits"),
            "review_comments_url": self.api(r, f"/pulls/{n}/comments"),
            "review_comment_url": self.api(r, "/pulls/comments{/number}"),
            "comments_url": self.api(r, f"/issues/{n}/comments"),
            "statuses_url": self.api(r, f"/statuses/{head_sha}"),
            "number": n,
            "state": pr["state"],
            "locked": False,
            "title": pr["title"],
            "user": self.me(),
            "body": pr["body"],
            "labels": labels,
            "milestone": None,
            "active_lock_reason": None,
            "created_at": _iso(pr["created_at"]),
            "updated_at": _iso(pr["updated_at"]),
            "closed_at": iso(pr["closed_at"]),
            "merged_at": iso(pr["merged_at"]),
            "merge_commit_sha": pr["merge_commit_sha"],
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": part(pr["head_ref"], head_sha),
            "base": part(pr["base_ref"], base_sha),
            "_links": self.pr_links(r, n, head_sha),
            "author_association": "OWNER",
            "auto_merge": None,
            "draft": pr["draft"],
        }
        if full:
            store = r.store
            ahead = len(store.ancestors(head_sha) - store.ancestors(base_sha))
            mergeable: bool | None = None
            if pr["state"] == "open":
                mb = store.merge_base(base_sha, head_sha)
                mergeable = store.three_way(mb, base_sha, head_sha) is not None
            diff = store.diff(store.merge_base(base_sha, head_sha), head_sha)
            out.update(
                merged=pr["merged"],
                mergeable=mergeable,
                rebaseable=mergeable,
                mergeable_state=("clean" if mergeable else "dirty")
                if pr["state"] == "open"
                else "unknown",
                merged_by=self.me() if pr["merged"] else None,
                comments=len(r.comments.get(n, [])),
                review_comments=0,
                maintainer_can_modify=pr["maintainer_can_modify"],
                commits=ahead,
                additions=sum(d["additions"] for d in diff),
                deletions=sum(d["deletions"] for d in diff),
                changed_files=len(diff),
            )
        return out

    def issue(self, r: Repo, n: int) -> dict[str, Any]:
        pr = r.pulls.get(n)
        data = pr or r.issues.get(n)
        if data is None:
            raise ApiError(404, "Not Found")
        out = {
            "id": data["id"] + 1,
            "node_id": _node_id("Issue", data["id"]),
            "url": self.api(r, f"/issues/{n}"),
            "repository_url": self.api(r),
            "labels_url": self.api(r, f"/issues/{n}/labels{{/name}}"),
            "comments_url": self.api(r, f"/issues/{n}/comments"),
            "events_url": self.api(r, f"/issues/{n}/events"),
            "html_url": self.html(r, f"/{'pull' if pr else 'issues'}/{n}"),
            "number": n,
            "state": data["state"],
            "title": data["title"],
            "body": data["body"],
            "user": self.me(),
            "labels": [self.label(r, r.labels[k]) for k in r.issue_labels.get(n, [])],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(r.comments.get(n, [])),
            "closed_at": _iso(data["closed_at"]) if data["closed_at"] else None,
            "created_at": _iso(data["created_at"]),
            "updated_at": _iso(data["updated_at"]),
            "author_association": "OWNER",
        }
        if data.get("state_reason"):  # omitted while None: the validator reads the nullable
            out["state_reason"] = data["state_reason"]  # enum as excluding null
        if pr:
            out["pull_request"] = {
                "url": self.api(r, f"/pulls/{n}"),
                "html_url": self.html(r, f"/pull/{n}"),
                "diff_url": self.html(r, f"/pull/{n}.diff"),
                "patch_url": self.html(r, f"/pull/{n}.patch"),
                "merged_at": _iso(pr["merged_at"]) if pr["merged_at"] else None,
            }
        return out

    def comment(self, r: Repo, n: int, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "node_id": _node_id("IssueComment", c["id"]),
            "url": self.api(r, f"/issues/comments/{c['id']}"),
            "html_url": self.html(
                r, f"/{'pull' if n in r.pulls else 'issues'}/{n}#issuecomment-{c['id']}"
            ),
            "issue_url": self.api(r, f"/issues/{n}"),
            "body": c["body"],
            "user": self.me(),
            "created_at": _iso(c["created_at"]),
            "updated_at": _iso(c["updated_at"]),
            "author_association": "OWNER",
        }

    def asset(self, r: Repo, a: dict[str, Any]) -> dict[str, Any]:
        rel = r.releases[a["release_id"]]
        data: bytes = a["data"]
        return {
            "url": self.api(r, f"/releases/assets/{a['id']}"),
            "browser_download_url": (
                f"{self.base}/download/{r.full_name}/releases/download/"
                f"{urllib.parse.quote(rel['tag_name'], safe='')}/{urllib.parse.quote(a['name'])}"
            ),
            "id": a["id"],
            "node_id": _node_id("ReleaseAsset", a["id"]),
            "name": a["name"],
            "label": a["label"],
            "state": "uploaded",
            "content_type": a["content_type"],
            "size": len(data),
            "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "download_count": 0,
            "created_at": _iso(a["created_at"]),
            "updated_at": _iso(a["updated_at"]),
            "uploader": self.me(),
        }

    def release(self, r: Repo, rel: dict[str, Any]) -> dict[str, Any]:
        rid = rel["id"]
        tag_q = urllib.parse.quote(rel["tag_name"], safe="")
        html = (
            self.html(r, f"/releases/tag/{tag_q}")
            if not rel["draft"]
            else self.html(r, f"/releases/tag/untagged-{rid}")
        )
        return {
            "url": self.api(r, f"/releases/{rid}"),
            "html_url": html,
            "assets_url": self.api(r, f"/releases/{rid}/assets"),
            "upload_url": (
                f"{self.base}/uploads/repos/{r.full_name}/releases/{rid}/assets{{?name,label}}"
            ),
            "tarball_url": self.api(r, f"/tarball/{tag_q}") if not rel["draft"] else None,
            "zipball_url": self.api(r, f"/zipball/{tag_q}") if not rel["draft"] else None,
            "id": rid,
            "node_id": _node_id("Release", rid),
            "tag_name": rel["tag_name"],
            "target_commitish": rel["target_commitish"],
            "name": rel["name"],
            "body": rel["body"],
            "draft": rel["draft"],
            "prerelease": rel["prerelease"],
            "immutable": False,
            "created_at": _iso(rel["created_at"]),
            "published_at": _iso(rel["published_at"]) if rel["published_at"] else None,
            "updated_at": _iso(rel["updated_at"]),
            "author": self.me(),
            "assets": [self.asset(r, a) for a in self.fake._assets_of(r, rel)],
        }


R = "/repos/{owner}/{repo}"


class _Endpoints(ActionsEndpoints):
    """One static method per implemented operation; each gets a ``_Ctx``."""

    # ------------------------------------------------------------------ misc
    @staticmethod
    @op("GET", "/user")
    def get_user(c: _Ctx) -> Response:
        u = c.me()
        u.update(
            name="Release Bot",
            company=None,
            blog="",
            location=None,
            email=None,
            hireable=None,
            bio=None,
            twitter_username=None,
            public_repos=len(c.fake.repos),
            public_gists=0,
            followers=0,
            following=0,
            created_at="2020-01-01T00:00:00Z",
            updated_at="2020-01-01T00:00:00Z",
            private_gists=0,
            total_private_repos=0,
            owned_private_repos=0,
            disk_usage=0,
            collaborators=0,
            two_factor_authentication=True,
            user_view_type="private",
        )
        return Response(200, u)

    @staticmethod
    @op("GET", "/rate_limit")
    def rate_limit(c: _Ctx) -> Response:
        token = _token_of(c)
        used = c.fake.used_by_token.get(token, 0)

        def bucket(limit: int, used_: int) -> dict[str, int]:
            return {
                "limit": limit,
                "used": used_,
                "remaining": max(0, limit - used_),
                "reset": c.fake.rate_reset,
            }

        core = bucket(c.fake.rate_limit, used)
        return Response(
            200,
            {
                "resources": {
                    "core": core,
                    "search": bucket(30, 0),
                    "graphql": bucket(5000, 0),
                    "integration_manifest": bucket(5000, 0),
                    "code_search": bucket(10, 0),
                },
                "rate": core,
            },
        )

    @staticmethod
    @op("GET", R)
    def get_repo(c: _Ctx) -> Response:
        return Response(200, c.repository(c.repo, full=True))

    @staticmethod
    @op("GET", R + "/branches/{branch}")
    def get_branch(c: _Ctx) -> Response:
        r = c.repo
        name = c.params["branch"]
        sha = r.refs.get(f"refs/heads/{name}")
        if sha is None:
            raise ApiError(404, "Branch not found")
        a = c.api(r, f"/branches/{urllib.parse.quote(name)}")
        return Response(
            200,
            {
                "name": name,
                "commit": c.commit(r, r.store.commits[sha], with_files=False),
                "_links": {"html": c.html(r, f"/tree/{name}"), "self": a},
                "protected": False,
                "protection": {
                    "enabled": False,
                    "required_status_checks": {
                        "enforcement_level": "off",
                        "contexts": [],
                        "checks": [],
                    },
                },
                "protection_url": a + "/protection",
            },
        )

    # ------------------------------------------------------------------ refs
    @staticmethod
    @op("GET", R + "/git/ref/{ref}")
    def get_ref(c: _Ctx) -> Response:
        r = c.repo
        ref = "refs/" + c.params["ref"].removeprefix("refs/")
        if ref not in r.refs:
            raise ApiError(404, "Not Found")
        return Response(200, c.git_ref(r, ref))

    @staticmethod
    @op("GET", R + "/git/matching-refs/{ref}")
    def matching_refs(c: _Ctx) -> Response:
        r = c.repo
        prefix = "refs/" + c.params["ref"].removeprefix("refs/")
        return c.paginate([c.git_ref(r, k) for k in sorted(r.refs) if k.startswith(prefix)])

    @staticmethod
    @op("POST", R + "/git/refs")
    def create_ref(c: _Ctx) -> Response:
        r = c.repo
        ref, sha = c.field("ref"), c.field("sha")
        if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(
                422, "Reference name must start with 'refs/' and have at least two slashes."
            )
        if sha not in r.store.commits:
            raise ApiError(422, "Object does not exist")
        if ref in r.refs:
            raise ApiError(422, "Reference already exists")
        r.refs[ref] = sha
        return Response(201, c.git_ref(r, ref))

    @staticmethod
    @op("PATCH", R + "/git/refs/{ref}")
    def update_ref(c: _Ctx) -> Response:
        r = c.repo
        ref = "refs/" + c.params["ref"].removeprefix("refs/")
        sha = c.field("sha")
        if ref not in r.refs:
            raise ApiError(422, "Reference does not exist")
        if sha not in r.store.commits:
            raise ApiError(422, "Object does not exist")
        if not c.field("force", False) and not r.store.is_ancestor(r.refs[ref], sha):
            raise ApiError(422, "Update is not a fast forward")
        r.refs[ref] = sha
        return Response(200, c.git_ref(r, ref))

    @staticmethod
    @op("DELETE", R + "/git/refs/{ref}")
    def delete_ref(c: _Ctx) -> Response:
        r = c.repo
        ref = "refs/" + c.params["ref"].removeprefix("refs/")
        if ref not in r.refs:
            raise ApiError(422, "Reference does not exist", bodiless=True)
        del r.refs[ref]
        return Response(204)

    # ------------------------------------------------------------------ git objects
    @staticmethod
    @op("GET", R + "/git/commits/{commit_sha}")
    def get_git_commit(c: _Ctx) -> Response:
        r = c.repo
        commit = r.store.commits.get(c.params["commit_sha"])
        if commit is None:
            raise ApiError(404, "Not Found")
        return Response(200, c.git_commit(r, commit))

    @staticmethod
    @op("POST", R + "/git/commits")
    def create_git_commit(c: _Ctx) -> Response:
        r = c.repo
        tree, parents, message = c.field("tree"), c.field("parents", []), c.field("message")
        if not isinstance(message, str) or tree not in r.store.trees:
            raise ApiError(
                422, "Tree SHA does not exist" if isinstance(message, str) else "Invalid request."
            )
        if not isinstance(parents, list) or any(p not in r.store.commits for p in parents):
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
        commit = c.fake._commit(r, tree, parents, message, c.field("author"), c.field("committer"))
        return Response(201, c.git_commit(r, commit))

    @staticmethod
    @op("POST", R + "/git/blobs")
    def create_blob(c: _Ctx) -> Response:
        r = c.repo
        content, encoding = c.field("content"), c.field("encoding", "utf-8")
        if not isinstance(content, str):
            raise _validation_failed("Blob", "missing_field", "content")
        data = base64.b64decode(content) if encoding == "base64" else content.encode()
        sha = r.store.put_blob(data)
        return Response(201, {"url": c.api(r, f"/git/blobs/{sha}"), "sha": sha})

    @staticmethod
    @op("GET", R + "/git/blobs/{file_sha}")
    def get_blob(c: _Ctx) -> Response:
        r = c.repo
        sha = c.params["file_sha"]
        data = r.store.blobs.get(sha)
        if data is None:
            raise ApiError(404, "Not Found")
        return Response(
            200,
            {
                "sha": sha,
                "node_id": _node_id("Blob", sha),
                "url": c.api(r, f"/git/blobs/{sha}"),
                "size": len(data),
                "content": base64.encodebytes(data).decode(),
                "encoding": "base64",
            },
        )

    @staticmethod
    @op("POST", R + "/git/trees")
    def create_tree(c: _Ctx) -> Response:
        r = c.repo
        base = c.field("base_tree")
        entries = c.field("tree")
        if base is not None and base not in r.store.trees:
            raise ApiError(422, "base_tree is not a valid tree oid")
        if not isinstance(entries, list):
            raise _validation_failed("Tree", "missing_field", "tree")
        flat: Flat = r.store.flat(base) if base else {}
        for e in entries:
            path, mode, typ = e.get("path"), e.get("mode", "100644"), e.get("type", "blob")
            if not isinstance(path, str) or not path:
                raise ApiError(422, "tree.path is required")
            if "content" in e and e["content"] is not None:
                flat[path] = (mode, r.store.put_blob(str(e["content"]).encode()))
            elif e.get("sha") is None:
                for p in [p for p in flat if p == path or p.startswith(path + "/")]:
                    del flat[p]
            elif typ == "tree":
                if e["sha"] not in r.store.trees:
                    raise ApiError(422, f"tree.sha {e['sha']} is not a valid tree")
                for p in [p for p in flat if p.startswith(path + "/")]:
                    del flat[p]
                flat.update({f"{path}/{k}": v for k, v in r.store.flat(e["sha"]).items()})
            else:
                if e["sha"] not in r.store.blobs or mode not in BLOB_MODES:
                    raise ApiError(422, f"tree.sha {e['sha']} is not a valid blob")
                flat[path] = (mode, e["sha"])
        sha = r.store.put_flat(flat)
        return Response(201, _tree_json(c, r, sha, recursive=False))

    @staticmethod
    @op("GET", R + "/git/trees/{tree_sha}")
    def get_tree(c: _Ctx) -> Response:
        r = c.repo
        sha = c.params["tree_sha"]
        if sha not in r.store.trees:
            resolved = c.fake._resolve(r, sha)
            if resolved is None:
                raise ApiError(404, "Not Found")
            sha = r.store.commits[resolved].tree
        recursive = c.q("recursive") not in (None, "", "0", "false")
        return Response(200, _tree_json(c, r, sha, recursive=recursive))

    # ------------------------------------------------------------------ contents
    @staticmethod
    @op("GET", R + "/contents/{path}")
    def get_contents(c: _Ctx) -> Response:
        r = c.repo
        ref = c.q("ref") or r.default_branch
        sha = c.fake._resolve(r, ref)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        path = c.params["path"].strip("/")
        entry = r.store.lookup_path(r.store.commits[sha].tree, path)
        if entry is None:
            raise ApiError(404, "Not Found")
        if entry.type == "tree":
            items = []
            for e in r.store.trees[entry.sha]:
                sub = f"{path}/{e.name}" if path else e.name
                size = len(r.store.blobs[e.sha]) if e.type == "blob" else 0
                items.append(c.content_item(r, sub, e.type, e.sha, size, ref))
            return Response(200, items)
        data = r.store.blobs[entry.sha]
        item = c.content_item(r, path, "blob", entry.sha, len(data), ref)
        item.update(content=base64.encodebytes(data).decode(), encoding="base64")
        return Response(200, item)

    @staticmethod
    @op("PUT", R + "/contents/{path}")
    def put_contents(c: _Ctx) -> Response:
        r = c.repo
        path = c.params["path"].strip("/")
        message, content = c.field("message"), c.field("content")
        if not isinstance(message, str) or not isinstance(content, str):
            missing = "message" if not isinstance(message, str) else "content"
            raise ApiError(422, f'Invalid request.\n\n"{missing}" wasn\'t supplied.')
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError:
            raise ApiError(422, "content is not valid Base64") from None
        branch = c.field("branch") or r.default_branch
        head = r.refs.get(f"refs/heads/{branch}")
        if head is None:
            raise ApiError(404, f"Branch {branch} not found")
        flat = r.store.files(head)
        current = flat.get(path)
        given = c.field("sha")
        if current is not None and given is None:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if current is not None and given != current[1]:
            raise ApiError(409, f"{path} does not match {given}")
        flat[path] = (current[0] if current else "100644", r.store.put_blob(data))
        commit = c.fake._commit(
            r, r.store.put_flat(flat), [head], message, c.field("author"), c.field("committer")
        )
        r.refs[f"refs/heads/{branch}"] = commit.sha
        r.pushed_at = _now()
        item = c.content_item(r, path, "blob", flat[path][1], len(data), branch)
        return Response(
            200 if current else 201, {"content": item, "commit": _file_commit(c, r, commit)}
        )

    @staticmethod
    @op("DELETE", R + "/contents/{path}")
    def delete_contents(c: _Ctx) -> Response:
        r = c.repo
        path = c.params["path"].strip("/")
        message, given = c.field("message"), c.field("sha")
        if not isinstance(message, str) or not isinstance(given, str):
            raise ApiError(422, "Invalid request.")
        branch = c.field("branch") or r.default_branch
        head = r.refs.get(f"refs/heads/{branch}")
        if head is None:
            raise ApiError(404, f"Branch {branch} not found")
        flat = r.store.files(head)
        current = flat.get(path)
        if current is None:
            raise ApiError(404, "Not Found")
        if given != current[1]:
            raise ApiError(409, f"{path} does not match {given}")
        del flat[path]
        commit = c.fake._commit(
            r, r.store.put_flat(flat), [head], message, c.field("author"), c.field("committer")
        )
        r.refs[f"refs/heads/{branch}"] = commit.sha
        return Response(200, {"content": None, "commit": _file_commit(c, r, commit)})

    @staticmethod
    @op("GET", R + "/commits/{ref}")
    def get_commit(c: _Ctx) -> Response:
        r = c.repo
        sha = c.fake._resolve(r, c.params["ref"])
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {c.params['ref']}")
        return Response(200, c.commit(r, r.store.commits[sha]))

    # ------------------------------------------------------------------ pulls
    @staticmethod
    @op("GET", R + "/pulls")
    def list_pulls(c: _Ctx) -> Response:
        r = c.repo
        state = c.q("state", "open")
        head, base = c.q("head"), c.q("base")
        out = []
        for pr in r.pulls.values():
            if state != "all" and pr["state"] != state:
                continue
            if head:
                h_owner, _, h_ref = head.rpartition(":")
                if h_ref != pr["head_ref"] or (h_owner and h_owner.lower() != r.owner.lower()):
                    continue
            if base and base != pr["base_ref"]:
                continue
            out.append(pr)
        sort = c.q("sort", "created")
        key = "updated_at" if sort in ("updated", "long-running") else "created_at"
        out.sort(key=lambda p: (p[key], p["number"]), reverse=c.q("direction", "desc") == "desc")
        return c.paginate([c.pull(r, p, full=False) for p in out])

    @staticmethod
    @op("POST", R + "/pulls")
    def create_pull(c: _Ctx) -> Response:
        r = c.repo
        head, base = c.field("head"), c.field("base")
        title = c.field("title")
        if not isinstance(head, str) or not isinstance(base, str):
            raise _validation_failed(
                "PullRequest", "missing_field", "head" if not isinstance(head, str) else "base"
            )
        if not isinstance(title, str) and c.field("issue") is None:
            raise _validation_failed("PullRequest", "missing_field", "title")
        h_owner, _, head_ref = head.rpartition(":")
        if h_owner and h_owner.lower() != r.owner.lower():
            raise _validation_failed("PullRequest", "invalid", "head")
        head_sha = r.refs.get(f"refs/heads/{head_ref}")
        base_sha = r.refs.get(f"refs/heads/{base}")
        if head_sha is None:
            raise _validation_failed("PullRequest", "invalid", "head")
        if base_sha is None:
            raise _validation_failed("PullRequest", "invalid", "base")
        for pr in r.pulls.values():
            if pr["state"] == "open" and pr["head_ref"] == head_ref and pr["base_ref"] == base:
                raise _validation_failed(
                    "PullRequest",
                    "custom",
                    message=f"A pull request already exists for {r.owner}:{head_ref}.",
                )
        if r.store.is_ancestor(head_sha, base_sha):
            raise _validation_failed(
                "PullRequest", "custom", message=f"No commits between {base} and {head_ref}"
            )
        n = r.next_number
        r.next_number += 1
        now = _now()
        r.pulls[n] = {
            "number": n,
            "id": next(c.fake._ids),
            "title": title,
            "body": c.field("body"),
            "state": "open",
            "draft": bool(c.field("draft", False)),
            "head_ref": head_ref,
            "base_ref": base,
            "head_sha": head_sha,
            "base_sha": base_sha,
            "merged": False,
            "merged_at": None,
            "merge_commit_sha": None,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
            "maintainer_can_modify": bool(c.field("maintainer_can_modify", True)),
        }
        return Response(201, c.pull(r, r.pulls[n], full=True))

    @staticmethod
    @op("GET", R + "/pulls/{pull_number}")
    def get_pull(c: _Ctx) -> Response:
        r = c.repo
        return Response(200, c.pull(r, c.fake._pull(r, int(c.params["pull_number"])), full=True))

    @staticmethod
    @op("PATCH", R + "/pulls/{pull_number}")
    def update_pull(c: _Ctx) -> Response:
        r = c.repo
        pr = c.fake._pull(r, int(c.params["pull_number"]))
        body = c.body if isinstance(c.body, dict) else {}
        if "state" in body:
            state = body["state"]
            if state not in ("open", "closed"):
                raise _validation_failed("PullRequest", "invalid", "state")
            if state == "open" and pr["state"] == "closed":
                if pr["merged"]:
                    raise _validation_failed(
                        "PullRequest", "custom", message="Cannot reopen a merged pull request"
                    )
                if any(
                    o["state"] == "open"
                    and o["head_ref"] == pr["head_ref"]
                    and o["base_ref"] == pr["base_ref"]
                    for o in r.pulls.values()
                ):
                    raise _validation_failed(
                        "PullRequest",
                        "custom",
                        message=f"A pull request already exists for {r.owner}:{pr['head_ref']}.",
                    )
            if state != pr["state"]:
                pr["closed_at"] = _now() if state == "closed" else None
            pr["state"] = state
        if "base" in body:
            if f"refs/heads/{body['base']}" not in r.refs:
                raise _validation_failed("PullRequest", "invalid", "base")
            pr["base_ref"] = body["base"]
        for key in ("title", "body", "maintainer_can_modify"):
            if key in body:
                pr[key] = body[key]
        pr["updated_at"] = _now()
        return Response(200, c.pull(r, pr, full=True))

    @staticmethod
    @op("GET", R + "/pulls/{pull_number}/merge")
    def check_merged(c: _Ctx) -> Response:
        r = c.repo
        pr = c.fake._pull(r, int(c.params["pull_number"]))
        if pr["merged"]:
            return Response(204)
        raise ApiError(404, "Not Found", bodiless=True)

    @staticmethod
    @op("PUT", R + "/pulls/{pull_number}/merge")
    def merge_pull(c: _Ctx) -> Response:
        r = c.repo
        pr = c.fake._pull(r, int(c.params["pull_number"]))
        sha = c.fake._merge(
            r,
            pr,
            c.field("merge_method") or "merge",
            c.field("commit_title"),
            c.field("commit_message"),
            c.field("sha"),
        )
        return Response(
            200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
        )

    # ------------------------------------------------------------------ issues & labels
    @staticmethod
    @op("GET", R + "/issues")
    def list_issues(c: _Ctx) -> Response:
        # Like GitHub: pull requests are issues here too (with a `pull_request` key); `labels`
        # is a comma-separated list that every issue listed carries (names case-insensitive).
        r = c.repo
        state = c.q("state", "open")
        if state not in ("open", "closed", "all"):
            raise _validation_failed("Issue", "invalid", "state")
        wanted = [x.strip().lower() for x in (c.q("labels") or "").split(",") if x.strip()]
        items: list[dict[str, Any]] = [*r.issues.values(), *r.pulls.values()]
        out = []
        for data in items:
            n = data["number"]
            if state != "all" and data["state"] != state:
                continue
            if any(w not in r.issue_labels.get(n, []) for w in wanted):
                continue
            out.append(data)
        sort = c.q("sort", "created")
        if sort not in ("created", "updated", "comments"):
            raise _validation_failed("Issue", "invalid", "sort")

        def key(d: dict[str, Any]) -> tuple[Any, int]:
            if sort == "comments":
                return len(r.comments.get(d["number"], [])), d["number"]
            return d["updated_at" if sort == "updated" else "created_at"], d["number"]

        out.sort(key=key, reverse=c.q("direction", "desc") != "asc")
        return c.paginate([c.issue(r, d["number"]) for d in out])

    @staticmethod
    @op("POST", R + "/issues")
    def create_issue(c: _Ctx) -> Response:
        r = c.repo
        title, body, labels = c.field("title"), c.field("body"), c.field("labels", [])
        if isinstance(title, int) and not isinstance(title, bool):
            title = str(title)
        if not isinstance(title, str) or not title.strip():
            raise _validation_failed("Issue", "missing_field", "title")
        if body is not None and not isinstance(body, str):
            raise _validation_failed("Issue", "invalid", "body")
        if not isinstance(labels, list) or not all(
            isinstance(x, str) or (isinstance(x, dict) and isinstance(x.get("name"), str))
            for x in labels
        ):
            raise _validation_failed("Issue", "invalid", "labels")
        if body is not None and len(body) > ISSUE_BODY_LIMIT:
            raise _validation_failed("Issue", "custom", "body",
                                     message="body is too long (maximum is 65536 characters)")
        issue = c.fake._new_issue(r, title, body, labels)
        n = issue["number"]
        return Response(201, c.issue(r, n), {"location": c.api(r, f"/issues/{n}")})

    @staticmethod
    @op("PATCH", R + "/issues/{issue_number}")
    def update_issue(c: _Ctx) -> Response:
        r = c.repo
        n = int(c.params["issue_number"])
        c.issue(r, n)  # 404 unless it exists
        data = r.pulls.get(n) or r.issues[n]
        body = c.body if isinstance(c.body, dict) else {}
        if "title" in body and (not isinstance(body["title"], str) or not body["title"].strip()):
            raise _validation_failed("Issue", "missing_field", "title")
        if "body" in body:
            if body["body"] is not None and not isinstance(body["body"], str):
                raise _validation_failed("Issue", "invalid", "body")
            if body["body"] is not None and len(body["body"]) > ISSUE_BODY_LIMIT:
                raise _validation_failed("Issue", "custom", "body",
                                         message="body is too long (maximum is 65536 characters)")
        state, reason = body.get("state"), body.get("state_reason")
        if state is not None and state not in ("open", "closed"):
            raise _validation_failed("Issue", "invalid", "state")
        if reason is not None and reason not in ("completed", "not_planned", "duplicate",
                                                 "reopened"):
            raise _validation_failed("Issue", "invalid", "state_reason")
        if state == "open" and n in r.pulls and r.pulls[n]["merged"]:
            raise _validation_failed(
                "Issue", "custom", message="Cannot reopen a merged pull request"
            )
        for k in ("title", "body"):
            if k in body:
                data[k] = body[k]
        if "labels" in body:
            names = body["labels"]
            if not isinstance(names, list):
                raise _validation_failed("Issue", "invalid", "labels")
            r.issue_labels[n] = list(
                dict.fromkeys(
                    c.fake._label_key(r, x["name"] if isinstance(x, dict) else x) for x in names
                )
            )
        if state is not None and state != data["state"]:
            data["closed_at"] = _now() if state == "closed" else None
            data["state"] = state
            if n in r.issues:
                data["state_reason"] = reason or ("completed" if state == "closed" else "reopened")
        elif reason is not None and n in r.issues and data["state"] == "closed":
            data["state_reason"] = reason
        data["updated_at"] = _now()
        return Response(200, c.issue(r, n))

    @staticmethod
    @op("GET", R + "/issues/{issue_number}")
    def get_issue(c: _Ctx) -> Response:
        r = c.repo
        return Response(200, c.issue(r, int(c.params["issue_number"])))

    @staticmethod
    @op("GET", R + "/issues/{issue_number}/labels")
    def list_issue_labels(c: _Ctx) -> Response:
        r = c.repo
        n = int(c.params["issue_number"])
        c.issue(r, n)
        return c.paginate([c.label(r, r.labels[k]) for k in r.issue_labels.get(n, [])])

    @staticmethod
    @op("POST", R + "/issues/{issue_number}/labels")
    def add_issue_labels(c: _Ctx) -> Response:
        r = c.repo
        n = int(c.params["issue_number"])
        c.issue(r, n)
        names = c.body.get("labels") if isinstance(c.body, dict) else c.body
        if not isinstance(names, list) or not all(isinstance(x, str | dict) for x in names):
            raise _validation_failed("Label", "invalid", "labels")
        current = r.issue_labels.setdefault(n, [])
        for item in names:
            key = c.fake._label_key(r, item["name"] if isinstance(item, dict) else item)
            if key not in current:
                current.append(key)
        return Response(200, [c.label(r, r.labels[k]) for k in current])

    @staticmethod
    @op("GET", R + "/issues/{issue_number}/comments")
    def list_comments(c: _Ctx) -> Response:
        r = c.repo
        n = int(c.params["issue_number"])
        c.issue(r, n)
        return c.paginate([c.comment(r, n, cm) for cm in r.comments.get(n, [])])

    @staticmethod
    @op("POST", R + "/issues/{issue_number}/comments")
    def create_comment(c: _Ctx) -> Response:
        r = c.repo
        n = int(c.params["issue_number"])
        c.issue(r, n)
        body = c.field("body")
        if not isinstance(body, str):
            raise _validation_failed("IssueComment", "missing_field", "body")
        now = _now()
        cm = {"id": next(c.fake._ids), "body": body, "created_at": now, "updated_at": now}
        r.comments.setdefault(n, []).append(cm)
        return Response(201, c.comment(r, n, cm))

    @staticmethod
    @op("PATCH", R + "/issues/comments/{comment_id}")
    def edit_comment(c: _Ctx) -> Response:
        r = c.repo
        wanted = int(c.params["comment_id"])
        for n, comments in r.comments.items():
            for cm in comments:
                if cm["id"] == wanted:
                    body = c.field("body")
                    if not isinstance(body, str):
                        raise _validation_failed("IssueComment", "missing_field", "body")
                    cm.update(body=body, updated_at=_now())
                    return Response(200, c.comment(r, n, cm))
        raise ApiError(404, "Not Found")

    @staticmethod
    @op("GET", R + "/labels")
    def list_labels(c: _Ctx) -> Response:
        r = c.repo
        return c.paginate([c.label(r, lab) for _, lab in sorted(r.labels.items())])

    @staticmethod
    @op("POST", R + "/labels")
    def create_label(c: _Ctx) -> Response:
        r = c.repo
        name, color = c.field("name"), c.field("color", "ededed")
        if not isinstance(name, str) or not name:
            raise _validation_failed("Label", "missing_field", "name")
        if name.lower() in r.labels:
            raise _validation_failed("Label", "already_exists", "name")
        if not isinstance(color, str) or not re.fullmatch(r"[0-9a-fA-F]{6}", color.lstrip("#")):
            raise _validation_failed("Label", "invalid", "color")
        lab = {
            "id": next(c.fake._ids),
            "name": name,
            "color": color.lstrip("#"),
            "description": c.field("description"),
        }
        r.labels[name.lower()] = lab
        return Response(201, c.label(r, lab))

    @staticmethod
    @op("GET", R + "/labels/{name}")
    def get_label(c: _Ctx) -> Response:
        r = c.repo
        lab = r.labels.get(c.params["name"].lower())
        if lab is None:
            raise ApiError(404, "Not Found")
        return Response(200, c.label(r, lab))

    # ------------------------------------------------------------------ tags & releases
    @staticmethod
    @op("GET", R + "/tags")
    def list_tags(c: _Ctx) -> Response:
        r = c.repo
        names = sorted(
            (k[len("refs/tags/") :] for k in r.refs if k.startswith("refs/tags/")),
            key=_natural_key,
            reverse=True,
        )
        items = []
        for name in names:
            sha = r.refs[f"refs/tags/{name}"]
            q = urllib.parse.quote(name, safe="")
            items.append(
                {
                    "name": name,
                    "commit": {"sha": sha, "url": c.api(r, f"/commits/{sha}")},
                    "zipball_url": c.api(r, f"/zipball/refs/tags/{q}"),
                    "tarball_url": c.api(r, f"/tarball/refs/tags/{q}"),
                    "node_id": _node_id("Ref", f"refs/tags/{name}"),
                }
            )
        return c.paginate(items)

    @staticmethod
    @op("GET", R + "/releases")
    def list_releases(c: _Ctx) -> Response:
        r = c.repo
        rels = sorted(r.releases.values(), key=lambda x: (x["created_at"], x["id"]), reverse=True)
        return c.paginate([c.release(r, rel) for rel in rels])

    @staticmethod
    @op("POST", R + "/releases")
    def create_release(c: _Ctx) -> Response:
        r = c.repo
        if not isinstance(c.body, dict):
            raise _validation_failed("Release", "missing_field", "tag_name")
        rel = c.fake._new_release(r, c.body)
        return Response(201, c.release(r, rel))

    @staticmethod
    @op("GET", R + "/releases/latest")
    def latest_release(c: _Ctx) -> Response:
        r = c.repo
        published = [x for x in r.releases.values() if not x["draft"] and not x["prerelease"]]
        if not published:
            raise ApiError(404, "Not Found")
        explicit = [x for x in published if x.get("make_latest") == "true"]
        best = max(explicit or published, key=lambda x: (x["published_at"], x["id"]))
        return Response(200, c.release(r, best))

    @staticmethod
    @op("GET", R + "/releases/tags/{tag}")
    def release_by_tag(c: _Ctx) -> Response:
        r = c.repo
        for rel in r.releases.values():
            if rel["tag_name"] == c.params["tag"] and not rel["draft"]:
                return Response(200, c.release(r, rel))
        raise ApiError(404, "Not Found")

    @staticmethod
    @op("GET", R + "/releases/{release_id}")
    def get_release(c: _Ctx) -> Response:
        r = c.repo
        rel = _release(r, c.params["release_id"])
        return Response(200, c.release(r, rel))

    @staticmethod
    @op("PATCH", R + "/releases/{release_id}")
    def update_release(c: _Ctx) -> Response:
        r = c.repo
        rel = _release(r, c.params["release_id"])
        body = c.body if isinstance(c.body, dict) else {}
        if "tag_name" in body and body["tag_name"] != rel["tag_name"]:
            if any(x["tag_name"] == body["tag_name"] for x in r.releases.values()):
                raise _validation_failed("Release", "already_exists", "tag_name")
            rel["tag_name"] = body["tag_name"]
        for key in ("target_commitish", "name", "body", "prerelease", "make_latest"):
            if key in body:
                rel[key] = body[key]
        if "draft" in body:
            if rel["draft"] and not body["draft"]:
                c.fake._ensure_tag(r, rel["tag_name"], rel["target_commitish"])
                rel["published_at"] = _now()
            rel["draft"] = bool(body["draft"])
        rel["updated_at"] = _now()
        return Response(200, c.release(r, rel))

    @staticmethod
    @op("DELETE", R + "/releases/{release_id}")
    def delete_release(c: _Ctx) -> Response:
        r = c.repo
        rel = _release(r, c.params["release_id"])
        for a in c.fake._assets_of(r, rel):
            del r.assets[a["id"]]
        del r.releases[rel["id"]]
        return Response(204)

    @staticmethod
    @op("GET", R + "/releases/{release_id}/assets")
    def list_assets(c: _Ctx) -> Response:
        r = c.repo
        rel = _release(r, c.params["release_id"])
        return c.paginate([c.asset(r, a) for a in c.fake._assets_of(r, rel)])

    @staticmethod
    @op("POST", R + "/releases/{release_id}/assets")
    def upload_asset(c: _Ctx) -> Response:
        r = c.repo
        rel = _release(r, c.params["release_id"])
        name = c.q("name")
        if not name:
            raise _validation_failed("ReleaseAsset", "missing_field", "name")
        ctype = c.headers.get("content-type", "application/octet-stream")
        a = c.fake._new_asset(r, rel, name, c.raw, ctype, c.q("label") or "")
        return Response(201, c.asset(r, a))

    @staticmethod
    @op("GET", R + "/releases/assets/{asset_id}")
    def get_asset(c: _Ctx) -> Response:
        r = c.repo
        a = r.assets.get(int(c.params["asset_id"]))
        if a is None:
            raise ApiError(404, "Not Found")
        return Response(200, c.asset(r, a))

    @staticmethod
    @op("DELETE", R + "/releases/assets/{asset_id}")
    def delete_asset(c: _Ctx) -> Response:
        r = c.repo
        if r.assets.pop(int(c.params["asset_id"]), None) is None:
            raise ApiError(404, "Not Found")
        return Response(204)


def _token_of(c: _Ctx) -> str:
    m = re.fullmatch(r"(?i)(?:token|bearer)\s+(\S+)", c.headers.get("authorization", "").strip())
    return m.group(1) if m else ""


def _release(r: Repo, rid: str) -> dict[str, Any]:
    rel = r.releases.get(int(rid))
    if rel is None:
        raise ApiError(404, "Not Found")
    return rel


def _tree_json(c: _Ctx, r: Repo, sha: str, recursive: bool) -> dict[str, Any]:
    def walk(tree_sha: str, prefix: str) -> Iterator[dict[str, Any]]:
        for e in r.store.trees[tree_sha]:
            path = prefix + e.name
            item: dict[str, Any] = {"path": path, "mode": e.mode, "type": e.type, "sha": e.sha}
            if e.type == "blob":
                item["size"] = len(r.store.blobs[e.sha])
                item["url"] = c.api(r, f"/git/blobs/{e.sha}")
            else:
                item["url"] = c.api(r, f"/git/trees/{e.sha}")
            yield item
            if recursive and e.type == "tree":
                yield from walk(e.sha, path + "/")

    return {
        "sha": sha,
        "url": c.api(r, f"/git/trees/{sha}"),
        "tree": list(walk(sha, "")),
        "truncated": False,
    }


def _file_commit(c: _Ctx, r: Repo, commit: Commit) -> dict[str, Any]:
    # file-commit.commit has the git-commit shape
    return c.git_commit(r, commit)


# --------------------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"
    # one buffered write per response + TCP_NODELAY: avoids ~40 ms delayed-ACK stalls per request
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "fake-github"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path.startswith("/download/"):
            resp = self._download()
        elif self.path.startswith(BLOB_PREFIX):
            resp = self.fake.serve_blob(self.path)
        elif self.path.startswith(CONTROL_PREFIX):
            resp = serve_control(self.fake, self.command, self.path, body)
        else:
            resp = self.fake.handle(self.command, self.path, headers, body)
        if isinstance(resp.body, bytes | bytearray):
            payload = bytes(resp.body)
            ctype = resp.headers.pop("content-type", "application/octet-stream")
        elif resp.body is None:
            payload = b""
            ctype = ""
        else:
            payload = json.dumps(resp.body).encode()
            ctype = "application/json; charset=utf-8"
        cut = resp.headers.pop(TRUNCATE_AT, None)
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload if cut is None else payload[:int(cut)])
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True

    def _download(self) -> Response:
        m = re.fullmatch(r"/download/([^/]+)/([^/]+)/releases/download/([^/]+)/([^/?]+)", self.path)
        if m is None:
            return Response(404, b"Not Found")
        owner, name, tag, asset_name = (urllib.parse.unquote(g) for g in m.groups())
        with self.fake.lock:
            try:
                r = self.fake._repo(owner, name)
            except ApiError:
                return Response(404, b"Not Found")
            for a in r.assets.values():
                rel = r.releases[a["release_id"]]
                if rel["tag_name"] == tag and a["name"] == asset_name:
                    return Response(200, a["data"], {"content-type": a["content_type"]})
        return Response(404, b"Not Found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
