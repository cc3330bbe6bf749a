"""The REST operations of GitHub Actions: workflows, workflow runs, artifacts (see README.md).

Handlers are mixed into ``server._Endpoints`` through ``ActionsEndpoints``; the JSON builders
follow GitHub's OpenAPI schemas ``workflow``, ``workflow-run`` and ``artifact``.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .actions import CONCLUSIONS, RUN_STATUSES, digest
from .plumbing import ApiError, Response, _iso, _node_id, _validation_failed, op

if TYPE_CHECKING:
    from .server import Repo, _Ctx

R = "/repos/{owner}/{repo}"
UNSUPPORTED_RUN_FILTERS = ("created",)


# --------------------------------------------------------------------------------------
# JSON builders
# --------------------------------------------------------------------------------------
def workflow_json(c: _Ctx, r: Repo, wf: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": wf["id"],
        "node_id": _node_id("Workflow", wf["id"]),
        "name": wf["name"],
        "path": wf["path"],
        "state": "active",
        "created_at": _iso(wf["created_at"]),
        "updated_at": _iso(wf["updated_at"]),
        "url": c.api(r, f"/actions/workflows/{wf['id']}"),
        "html_url": c.html(r, f"/blob/{r.default_branch}/{wf['path']}"),
        "badge_url": c.html(r, f"/workflows/{urllib.parse.quote(wf['name'])}/badge.svg"),
    }


def _pull_minimal(c: _Ctx, r: Repo, n: int) -> dict[str, Any]:
    pr = r.pulls[n]
    repo = {"id": r.id, "url": c.api(r), "name": r.name}

    def part(ref: str, sha_key: str) -> dict[str, Any]:
        sha = pr[sha_key] if pr["merged"] else r.refs.get(f"refs/heads/{ref}", pr[sha_key])
        return {"ref": ref, "sha": sha, "repo": repo}

    return {"id": pr["id"], "number": n, "url": c.api(r, f"/pulls/{n}"),
            "head": part(pr["head_ref"], "head_sha"), "base": part(pr["base_ref"], "base_sha")}


def _head_commit(r: Repo, sha: str) -> dict[str, Any] | None:
    commit = r.store.commits.get(sha)
    if commit is None:
        return None  # e.g. a fork's commit the base repository does not hold

    def person(p: Any) -> dict[str, str]:
        return {"name": p.name, "email": p.email}

    return {"id": sha, "tree_id": commit.tree, "message": commit.message,
            "timestamp": commit.committer.date, "author": person(commit.author),
            "committer": person(commit.committer)}


def _head_repository(c: _Ctx, r: Repo, run: dict[str, Any]) -> dict[str, Any]:
    fork = run["head_repo"]
    if fork is None:
        return c.repository(r)
    owner, name = fork.split("/", 1)
    known = c.fake.repos.get(fork.lower())
    out = c.repository(known or dataclasses.replace(r, owner=owner, name=name,
                                                     id=run["head_repo_id"], private=False))
    out["fork"] = True
    return out


def run_json(c: _Ctx, r: Repo, run: dict[str, Any], *, with_pulls: bool = True) -> dict[str, Any]:
    rid = run["id"]
    url = c.api(r, f"/actions/runs/{rid}")
    commit = _head_commit(r, run["head_sha"])
    numbers = run["pull_numbers"]
    if numbers and run["event"].startswith("pull_request"):
        title = r.pulls[numbers[0]]["title"]
    else:
        title = commit["message"].split("\n", 1)[0] if commit else run["name"]
    # GitHub leaves pull_requests empty for runs of a fork's pull request
    pulls = [] if run["head_repo"] or not with_pulls else [_pull_minimal(c, r, n) for n in numbers]
    return {
        "id": rid,
        "name": run["name"],
        "node_id": _node_id("WorkflowRun", rid),
        "check_suite_id": run["check_suite_id"],
        "check_suite_node_id": _node_id("CheckSuite", run["check_suite_id"]),
        "head_branch": run["head_branch"],
        "head_sha": run["head_sha"],
        "path": run["path"],
        "run_number": run["run_number"],
        "run_attempt": run["run_attempt"],
        "referenced_workflows": [],
        "event": run["event"],
        "status": run["status"],
        "conclusion": run["conclusion"],
        "workflow_id": run["workflow_id"],
        "url": url,
        "html_url": c.html(r, f"/actions/runs/{rid}"),
        "pull_requests": pulls,
        "created_at": _iso(run["created_at"]),
        "updated_at": _iso(run["updated_at"]),
        "actor": c.me(),
        "triggering_actor": c.me(),
        "run_started_at": _iso(run["created_at"]),
        "jobs_url": url + "/jobs",
        "logs_url": url + "/logs",
        "check_suite_url": c.api(r, f"/check-suites/{run['check_suite_id']}"),
        "artifacts_url": url + "/artifacts",
        "cancel_url": url + "/cancel",
        "rerun_url": url + "/rerun",
        "previous_attempt_url": None,
        "workflow_url": c.api(r, f"/actions/workflows/{run['workflow_id']}"),
        "head_commit": commit,
        "repository": c.repository(r),
        "head_repository": _head_repository(c, r, run),
        "head_repository_id": run["head_repo_id"],
        "display_title": title,
    }


def artifact_json(c: _Ctx, r: Repo, a: dict[str, Any]) -> dict[str, Any]:
    run = r.runs[a["run_id"]]
    url = c.api(r, f"/actions/artifacts/{a['id']}")
    return {
        "id": a["id"],
        "node_id": _node_id("Artifact", a["id"]),
        "name": a["name"],
        "size_in_bytes": len(a["zip"]),
        "url": url,
        "archive_download_url": url + "/zip",
        "expired": a["expired"],
        "created_at": _iso(a["created_at"]),
        "expires_at": _iso(a["expires_at"]),
        "updated_at": _iso(a["created_at"]),
        "digest": digest(a["zip"]),
        "workflow_run": {
            "id": run["id"],
            "repository_id": r.id,
            "head_repository_id": run["head_repo_id"],
            "head_branch": run["head_branch"],
            "head_sha": run["head_sha"],
        },
    }


# --------------------------------------------------------------------------------------
# REST handlers
# --------------------------------------------------------------------------------------
def _workflow(r: Repo, workflow_id: str) -> dict[str, Any]:
    for wf in r.workflows.values():
        if workflow_id in (str(wf["id"]), wf["path"], wf["path"].rsplit("/", 1)[-1]):
            return wf
    raise ApiError(404, "Not Found")


def _one(items: dict[int, dict[str, Any]], ident: str) -> dict[str, Any]:
    """The run or artifact ``ident`` of a repository, else 404."""
    item = items.get(int(ident))
    if item is None:
        raise ApiError(404, "Not Found")
    return item


def _with_pulls(c: _Ctx) -> bool:
    return c.q("exclude_pull_requests", "false") != "true"


def _matches(run: dict[str, Any], c: _Ctx) -> bool:
    status = c.q("status")
    if status is not None and run["status" if status in RUN_STATUSES else "conclusion"] != status:
        return False
    suite = c.q("check_suite_id")
    if suite is not None and str(run["check_suite_id"]) != suite:
        return False
    wanted = {"head_sha": c.q("head_sha"), "event": c.q("event"), "head_branch": c.q("branch")}
    if c.q("actor") not in (None, c.fake.login):
        return False  # every run is the fake's one account's
    return all(v is None or run[k] == v for k, v in wanted.items())


def _runs_page(c: _Ctx, r: Repo, runs: Iterable[dict[str, Any]]) -> Response:
    for name in UNSUPPORTED_RUN_FILTERS:
        if c.q(name) is not None:
            c.fake.unimplemented.append(f"GET {c.path}?{name}= (a filter the fake ignores)")
    status = c.q("status")
    if status is not None and status not in RUN_STATUSES | CONCLUSIONS:
        raise _validation_failed("WorkflowRun", "invalid", "status")
    hits = sorted((run for run in runs if _matches(run, c)), key=lambda x: -x["id"])
    with_pulls = _with_pulls(c)
    return c.paginate(hits, under="workflow_runs",
                      render=lambda x: run_json(c, r, x, with_pulls=with_pulls))


def _artifacts_page(c: _Ctx, r: Repo, artifacts: Iterable[dict[str, Any]]) -> Response:
    name = c.q("name")
    hits = sorted((a for a in artifacts if name is None or a["name"] == name),
                  key=lambda a: a["id"], reverse=c.q("direction", "desc") != "asc")
    return c.paginate(hits, under="artifacts", render=lambda a: artifact_json(c, r, a))


class ActionsEndpoints:
    """The Actions operations (mixed into ``server._Endpoints``)."""

    @staticmethod
    @op("GET", R + "/actions/workflows/{workflow_id}")
    def get_workflow(c: _Ctx) -> Response:
        r = c.repo
        return Response(200, workflow_json(c, r, _workflow(r, c.params["workflow_id"])))

    @staticmethod
    @op("GET", R + "/actions/workflows/{workflow_id}/runs")
    def list_workflow_runs(c: _Ctx) -> Response:
        r = c.repo
        wf = _workflow(r, c.params["workflow_id"])
        return _runs_page(c, r, (x for x in r.runs.values() if x["workflow_id"] == wf["id"]))

    @staticmethod
    @op("GET", R + "/actions/runs")
    def list_runs(c: _Ctx) -> Response:
        r = c.repo
        return _runs_page(c, r, r.runs.values())

    @staticmethod
    @op("GET", R + "/actions/runs/{run_id}")
    def get_run(c: _Ctx) -> Response:
        r = c.repo
        run = _one(r.runs, c.params["run_id"])
        return Response(200, run_json(c, r, run, with_pulls=_with_pulls(c)))

    @staticmethod
    @op("GET", R + "/actions/runs/{run_id}/artifacts")
    def list_run_artifacts(c: _Ctx) -> Response:
        r = c.repo
        run = _one(r.runs, c.params["run_id"])
        return _artifacts_page(c, r, (a for a in r.artifacts.values() if a["run_id"] == run["id"]))

    @staticmethod
    @op("GET", R + "/actions/artifacts")
    def list_artifacts(c: _Ctx) -> Response:
        r = c.repo
        return _artifacts_page(c, r, r.artifacts.values())

    @staticmethod
    @op("GET", R + "/actions/artifacts/{artifact_id}")
    def get_artifact(c: _Ctx) -> Response:
        r = c.repo
        return Response(200, artifact_json(c, r, _one(r.artifacts, c.params["artifact_id"])))

    @staticmethod
    @op("DELETE", R + "/actions/artifacts/{artifact_id}")
    def delete_artifact(c: _Ctx) -> Response:
        r = c.repo
        del r.artifacts[_one(r.artifacts, c.params["artifact_id"])["id"]]
        return Response(204)

    @staticmethod
    @op("GET", R + "/actions/artifacts/{artifact_id}/{archive_format}")
    def download_artifact(c: _Ctx) -> Response:
        r = c.repo
        a = _one(r.artifacts, c.params["artifact_id"])
        if c.params["archive_format"] != "zip":
            raise ApiError(404, "Not Found")
        if a["expired"]:
            raise ApiError(410, "Artifact has expired")
        return Response(302, None, {"location": c.fake.blob_url(r, a)})
