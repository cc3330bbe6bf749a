"""HTTP control routes under ``/_fake/``: a process that is not the test (a workflow step run
by act) registers a workflow run, uploads its artifacts and completes it.

    POST /_fake/repos/{owner}/{repo}/actions/runs
         JSON: the keywords of ``add_workflow_run`` (head_sha required)
         -> 201 {"id": run_id, "url": "<api>/repos/{owner}/{repo}/actions/runs/{id}"}
    POST /_fake/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts?name=NAME
         body: the artifact's zip (files at its root)
         -> 201 {"id": artifact_id, "url": "<api>/repos/{owner}/{repo}/actions/artifacts/{id}"}
    POST /_fake/repos/{owner}/{repo}/actions/runs/{run_id}/complete
         JSON: {"conclusion": "success"}
         -> 200 {"id": run_id, "url": ...}

No auth; not part of GitHub's API, so neither validated against the OpenAPI description nor
recorded in ``requests``/``writes`` nor charged to the rate limit. Bad input answers 400 with a
one-line ``message``; an unknown repository or run 404.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from .plumbing import ApiError, Response

if TYPE_CHECKING:
    from .server import FakeGitHub

CONTROL_PREFIX = "/_fake/"
RUNS = r"/_fake/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/runs"


def serve_control(fake: FakeGitHub, method: str, target: str, body: bytes) -> Response:
    parsed = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(parsed.query)
    path = parsed.path
    if method != "POST":
        return _error(405, f"{method} {path}: the control routes take POST")
    try:
        if m := re.fullmatch(RUNS, path):
            run_id = fake.add_workflow_run(m["owner"], m["repo"], **_json_object(body))
            return _created(201, fake, m, f"/actions/runs/{run_id}", run_id)
        if m := re.fullmatch(RUNS + r"/(?P<run>[0-9]+)/artifacts", path):
            name = query.get("name", [""])[-1]
            if not name:
                return _error(400, "artifact upload needs ?name=NAME")
            artifact_id = fake.add_artifact(m["owner"], m["repo"], int(m["run"]), name, body)
            return _created(201, fake, m, f"/actions/artifacts/{artifact_id}", artifact_id)
        if m := re.fullmatch(RUNS + r"/(?P<run>[0-9]+)/complete", path):
            conclusion = _json_object(body).get("conclusion", "success")
            with fake.lock:
                if int(m["run"]) not in fake._repo(m["owner"], m["repo"]).runs:
                    raise KeyError(f"no workflow run {m['run']} in {m['owner']}/{m['repo']}")
                fake.complete_run(int(m["run"]), conclusion)
            return _created(200, fake, m, f"/actions/runs/{m['run']}", int(m["run"]))
    except ApiError as exc:
        return _error(exc.status, f"{path}: {exc.message}")
    except KeyError as exc:
        return _error(404, str(exc.args[0]))
    except (TypeError, ValueError) as exc:
        return _error(400, str(exc))
    return _error(404, f"{path}: no such control route (see tests/fakegithub/http_control.py)")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def _created(status: int, fake: FakeGitHub, m: re.Match[str], suffix: str, ident: int) -> Response:
    url = f"{fake.url}/repos/{m['owner']}/{m['repo']}{suffix}"
    return Response(status, {"id": ident, "url": url})


def _error(status: int, message: str) -> Response:
    return Response(status, {"message": message})
