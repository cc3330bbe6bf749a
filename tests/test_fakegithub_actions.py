"""The fake GitHub's Actions endpoints (workflow runs, artifacts, artifact download), driven
through the real PyGithub client; every response is validated against GitHub's OpenAPI
description (the ``fake_github`` fixture fails on violations and unimplemented endpoints)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
import requests
from github import GithubException
from github.GithubException import UnknownObjectException

from tests.fakegithub import FakeGitHub, ResponseValidator
from tests.fakegithub.actions import artifact_zip, zip_files

OWNER, NAME = "acme", "buildpack"
FULL = f"{OWNER}/{NAME}"
TOKEN = {"Authorization": "token test-token"}
RUNS = "/repos/{owner}/{repo}/actions/runs"


@pytest.fixture
def seeded(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.create_repo(OWNER, NAME, files={"versions.toml": "mono = '6.12.0'\n"})
    return fake_github


def open_pull(server: FakeGitHub, branch: str = "bump") -> tuple[int, str]:
    """A bot pull request changing versions.toml: (number, head sha)."""
    sha = server.push(OWNER, NAME, branch, {"versions.toml": "mono = '6.14.1'\n"})
    pr = server.client().get_repo(FULL).create_pull(
        title="Bump mono to 6.14.1", body="", head=branch, base="main"
    )
    return pr.number, sha


# ---------------------------------------------------------------- runs
def test_runs_for_a_commit_are_filtered_like_github(seeded: FakeGitHub) -> None:
    number, sha = open_pull(seeded)
    main_sha = seeded.branch_sha(OWNER, NAME, "main")
    assert main_sha is not None
    ok = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, pull_numbers=[number])
    failed = seeded.add_workflow_run(
        OWNER, NAME, head_sha=sha, pull_numbers=[number], conclusion="failure"
    )
    running = seeded.add_workflow_run(
        OWNER, NAME, head_sha=sha, pull_numbers=[number], status="in_progress"
    )
    push = seeded.add_workflow_run(OWNER, NAME, head_sha=main_sha, event="push",
                                   workflow="build.yml")
    repo = seeded.client().get_repo(FULL)

    def ids(**filters: str) -> list[int]:
        return [run.id for run in repo.get_workflow_runs(**filters)]

    assert ids() == [push, running, failed, ok]  # newest first
    assert ids(head_sha=sha, event="pull_request", status="success") == [ok]
    assert ids(head_sha=sha, status="completed") == [failed, ok]  # status matches status...
    assert ids(status="failure") == [failed]  # ...and conclusion
    assert ids(status="in_progress") == [running]
    assert ids(event="push") == [push]
    assert ids(branch="bump") == [running, failed, ok]  # head_branch defaults to the PR's
    assert ids(branch="main") == [push]
    assert ids(head_sha="0" * 40) == []

    run = repo.get_workflow_run(ok)
    assert (run.head_sha, run.event, run.status, run.conclusion) == (
        sha, "pull_request", "completed", "success")
    assert run.path == ".github/workflows/check.yml" and run.name == "check"
    assert run.run_number == 1 and run.run_attempt == 1
    assert [p.number for p in run.pull_requests] == [number]
    assert run.pull_requests[0].head.sha == sha
    assert run.head_repository.full_name == FULL and not run.head_repository.fork
    assert run.head_commit.sha == sha and run.display_title == "Bump mono to 6.14.1"
    assert repo.get_workflow_run(running).conclusion is None
    assert repo.get_workflow_run(failed).run_number == 2  # numbered per workflow

    seeded.complete_run(running, "success")
    assert ids(head_sha=sha, status="success") == [running, ok]
    _, data = repo.requester.requestJsonAndCheck(
        "GET", f"{repo.url}/actions/runs", parameters={"exclude_pull_requests": "true"})
    assert all(r["pull_requests"] == [] for r in data["workflow_runs"])
    assert data["total_count"] == 4


def test_workflow_runs_by_file_name_and_by_id(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    check = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push")
    build = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push", workflow="build.yml",
                                    name="Build and publish")
    repo = seeded.client().get_repo(FULL)
    wf = repo.get_workflow("build.yml")
    assert (wf.name, wf.path, wf.state) == (
        "Build and publish", ".github/workflows/build.yml", "active")
    assert [r.id for r in wf.get_runs(head_sha=sha, status="success")] == [build]
    by_id = repo.get_workflow(repo.get_workflow_run(check).workflow_id)
    assert by_id.path == ".github/workflows/check.yml"
    assert [r.id for r in by_id.get_runs(event="push")] == [check]
    assert [r.id for r in repo.get_workflow("check.yml").get_runs(event="pull_request")] == []
    with pytest.raises(UnknownObjectException):
        repo.get_workflow("nope.yml").get_runs()[0]


def test_runs_and_artifacts_are_paginated(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    made = [seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push") for _ in range(7)]
    for i in range(5):
        seeded.add_artifact(OWNER, NAME, made[0], f"part-{i}", {"f.txt": b"x" * i})
    gh = seeded.client(per_page=3)
    repo = gh.get_repo(FULL)
    runs = repo.get_workflow_runs(head_sha=sha)
    assert runs.totalCount == 7
    before = len(seeded.requests_matching("GET", r"/actions/runs$"))
    assert [r.id for r in runs] == made[::-1]
    pages = seeded.requests_matching("GET", r"/actions/runs$")[before:]
    assert [r.query.get("page", ["1"])[-1] for r in pages] == ["1", "2", "3"]
    artifacts = repo.get_workflow_run(made[0]).get_artifacts()
    assert artifacts.totalCount == 5
    assert [a.name for a in artifacts] == [f"part-{i}" for i in reversed(range(5))]
    page2 = requests.get(f"{seeded.url}/repos/{FULL}/actions/runs?per_page=3&page=2",
                         headers=TOKEN, timeout=5)
    assert {'rel="next"', 'rel="prev"', 'rel="last"', 'rel="first"'} <= {
        part.split(";")[1].strip() for part in page2.headers["link"].split(",")}


def test_a_forks_run_is_told_apart_from_the_base_repositorys(seeded: FakeGitHub) -> None:
    number, sha = open_pull(seeded)
    own = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, pull_numbers=[number])
    fork = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, pull_numbers=[number],
                                   head_repo="other/buildpack")
    art = seeded.add_artifact(OWNER, NAME, fork, "mono", {"m.json": b"{}"})
    repo = seeded.client().get_repo(FULL)
    run = repo.get_workflow_run(fork)
    assert run.head_repository.full_name == "other/buildpack"
    assert run.head_repository.fork is True
    assert run.repository.full_name == FULL
    assert run.pull_requests == []  # like GitHub: empty for a fork's pull request
    assert repo.get_workflow_run(own).head_repository.full_name == FULL
    wr = repo.get_artifact(art).raw_data["workflow_run"]
    assert wr["head_repository_id"] != wr["repository_id"] == repo.id
    assert seeded.workflow_runs(OWNER, NAME)[1]["head_repo"] == "other/buildpack"
    assert seeded.workflow_runs(OWNER, NAME)[0]["head_repo"] is None


# ---------------------------------------------------------------- artifacts
def test_artifact_download_redirects_to_a_blob_url_without_auth(seeded: FakeGitHub) -> None:
    number, sha = open_pull(seeded)
    run_id = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, pull_numbers=[number])
    files = {"mono-6.14.1-ubuntu.tar.gz": b"\x1f\x8b tarball", "manifest.json": b'{"v": 1}'}
    aid = seeded.add_artifact(OWNER, NAME, run_id, f"build-{sha}", files)
    repo = seeded.client().get_repo(FULL)
    (artifact,) = repo.get_workflow_run(run_id).get_artifacts()
    assert artifact.id == aid and artifact.name == f"build-{sha}" and not artifact.expired
    assert artifact.expires_at > artifact.created_at
    same = repo.get_artifact(aid)
    assert (same.digest, same.size_in_bytes) == (artifact.digest, artifact.size_in_bytes)

    redirect = requests.get(artifact.archive_download_url, headers=TOKEN, timeout=5,
                            allow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(f"{seeded.url}/_blobs/")
    blob = requests.get(location, timeout=5)  # no Authorization: the URL is signed
    assert blob.status_code == 200
    assert zip_files(blob.content) == files  # the files at the zip's root
    assert artifact.digest == "sha256:" + hashlib.sha256(blob.content).hexdigest()
    assert artifact.size_in_bytes == len(blob.content)
    followed = requests.get(artifact.archive_download_url, headers=TOKEN, timeout=5)
    assert followed.content == blob.content and followed.history[0].status_code == 302

    assert requests.get(location.replace("sig=", "sig=x"), timeout=5).status_code == 403
    unauthenticated = requests.get(artifact.archive_download_url, timeout=5,
                                   allow_redirects=False)
    assert unauthenticated.status_code == 401
    snap = seeded.artifacts(OWNER, NAME)[0]
    assert snap["files"] == files and snap["zip"] == blob.content
    assert snap["digest"] == artifact.digest


def test_blob_urls_are_short_lived(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    run_id = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push")
    aid = seeded.add_artifact(OWNER, NAME, run_id, "a", {"f": b"1"})
    seeded.blob_url_ttl = 0  # every signed URL has lapsed by the time it is used
    url = f"{seeded.url}/repos/{FULL}/actions/artifacts/{aid}/zip"
    blob = requests.get(url, headers=TOKEN, timeout=5)
    assert blob.status_code == 403 and blob.history[0].status_code == 302


def test_expired_artifacts_are_listed_and_answer_410(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    run_id = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push")
    old = seeded.add_artifact(OWNER, NAME, run_id, "old", {"f": b"1"}, expired=True)
    later = seeded.add_artifact(OWNER, NAME, run_id, "later", {"f": b"2"})
    repo = seeded.client().get_repo(FULL)
    assert {a.name: a.expired for a in repo.get_workflow_run(run_id).get_artifacts()} == {
        "old": True, "later": False}
    gone = requests.get(repo.get_artifact(old).archive_download_url, headers=TOKEN, timeout=5)
    assert gone.status_code == 410
    assert gone.json()["message"] == "Artifact has expired"
    seeded.expire_artifact(OWNER, NAME, later)
    assert repo.get_artifact(later).expired
    url = f"{seeded.url}/repos/{FULL}/actions/artifacts/{later}/zip"
    assert requests.get(url, headers=TOKEN, timeout=5).status_code == 410


def test_artifacts_can_be_deleted_and_filtered_by_name(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    run_id = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push")
    other = seeded.add_workflow_run(OWNER, NAME, head_sha=sha, event="push")
    first = seeded.add_artifact(OWNER, NAME, run_id, "mono", {"f": b"1"})
    second = seeded.add_artifact(OWNER, NAME, run_id, "xsp", {"f": b"2"})
    elsewhere = seeded.add_artifact(OWNER, NAME, other, "mono", {"f": b"3"})
    repo = seeded.client().get_repo(FULL)
    run = repo.get_workflow_run(run_id)
    _, data = repo.requester.requestJsonAndCheck(
        "GET", run.artifacts_url, parameters={"name": "mono"})
    assert [a["id"] for a in data["artifacts"]] == [first]
    _, data = repo.requester.requestJsonAndCheck(
        "GET", run.artifacts_url, parameters={"direction": "asc"})
    assert [a["id"] for a in data["artifacts"]] == [first, second]
    assert [a.id for a in repo.get_artifacts(name="mono")] == [elsewhere, first]

    assert repo.get_artifact(first).delete() is True
    with pytest.raises(UnknownObjectException):
        repo.get_artifact(first)
    assert [a.id for a in run.get_artifacts()] == [second]
    seeded.delete_artifact(OWNER, NAME, second)
    assert run.get_artifacts().totalCount == 0
    assert [a["id"] for a in seeded.artifacts(OWNER, NAME)] == [elsewhere]
    assert seeded.requests_matching("DELETE", r"/actions/artifacts/")[0].status == 204


def test_unknown_repos_runs_and_artifacts_are_404(seeded: FakeGitHub) -> None:
    seeded.create_repo("other", "thing")
    sha = seeded.branch_sha("other", "thing", "main")
    assert sha is not None
    foreign_run = seeded.add_workflow_run("other", "thing", head_sha=sha, event="push")
    foreign = seeded.add_artifact("other", "thing", foreign_run, "a", {"f": b"1"})
    gh = seeded.client(retry=None)
    repo = gh.get_repo(FULL)
    with pytest.raises(UnknownObjectException):
        _ = repo.get_workflow_run(foreign_run).head_sha  # another repository's run
    with pytest.raises(UnknownObjectException):
        repo.get_artifact(foreign)
    with pytest.raises(UnknownObjectException):
        repo.get_workflow_run(foreign_run).get_artifacts()[0]
    url = f"{seeded.url}/repos/{FULL}/actions/artifacts/{foreign}/zip"
    assert requests.get(url, headers=TOKEN, timeout=5).status_code == 404
    missing = requests.get(f"{seeded.url}/repos/acme/nope/actions/runs", headers=TOKEN, timeout=5)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    tar = requests.get(f"{seeded.url}/repos/other/thing/actions/artifacts/{foreign}/tar",
                       headers=TOKEN, timeout=5, allow_redirects=False)
    assert tar.status_code == 404  # zip is the only archive format
    with pytest.raises(GithubException) as exc:
        list(repo.get_workflow_runs(status="bogus"))
    assert exc.value.status == 422


def test_tokens_are_checked_like_on_every_endpoint(fake_github_validator: ResponseValidator,
                                                   ) -> None:
    with FakeGitHub(tokens={"good"}, validator=fake_github_validator) as server:
        server.create_repo(OWNER, NAME)
        url = f"{server.url}/repos/{FULL}/actions/runs"
        bad = requests.get(url, headers={"Authorization": "token bad"}, timeout=5)
        assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
        ok = requests.get(url, headers={"Authorization": "Bearer good"}, timeout=5)
        assert ok.json() == {"total_count": 0, "workflow_runs": []}
        assert server.validation_errors == []


def test_an_unsupported_run_filter_is_reported(seeded: FakeGitHub) -> None:
    repo = seeded.client().get_repo(FULL)
    list(repo.get_workflow_runs(created=">=2026-01-01"))
    assert seeded.unimplemented == [
        f"GET /repos/{FULL}/actions/runs?created= (a filter the fake ignores)"]
    seeded.unimplemented.clear()  # the fixture would otherwise fail the test


# ---------------------------------------------------------------- control API
def test_control_api_refuses_bad_input(seeded: FakeGitHub) -> None:
    sha = seeded.branch_sha(OWNER, NAME, "main")
    assert sha is not None
    with pytest.raises(ValueError, match="40-hex"):
        seeded.add_workflow_run(OWNER, NAME, head_sha="abc")
    with pytest.raises(ValueError, match="status 'done'"):
        seeded.add_workflow_run(OWNER, NAME, head_sha=sha, status="done")
    with pytest.raises(ValueError, match="no pull request #9"):
        seeded.add_workflow_run(OWNER, NAME, head_sha=sha, pull_numbers=[9])
    run_id = seeded.add_workflow_run(OWNER, NAME, head_sha=sha)
    seeded.add_artifact(OWNER, NAME, run_id, "a", {"f": b"1"})
    with pytest.raises(ValueError, match="already has an artifact named 'a'"):
        seeded.add_artifact(OWNER, NAME, run_id, "a", {"f": b"2"})
    with pytest.raises(ValueError, match="not a zip"):
        seeded.add_artifact(OWNER, NAME, run_id, "b", b"plain bytes")
    for bad in ("../f", "/abs"):
        with pytest.raises(ValueError, match="relative"):
            seeded.add_artifact(OWNER, NAME, run_id, "c", {bad: b"1"})
    with pytest.raises(KeyError):
        seeded.add_artifact(OWNER, NAME, 1, "d", {"f": b"1"})
    with pytest.raises(ValueError, match="conclusion 'great'"):
        seeded.complete_run(run_id, "great")


def test_artifact_zip_holds_the_files_at_its_root_reproducibly() -> None:
    files = {"b/inner.txt": b"inner", "top.txt": b"top"}
    data = artifact_zip(files)
    assert data == artifact_zip(dict(reversed(files.items())))  # same files, same bytes
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["b/inner.txt", "top.txt"]
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}


def test_http_control_routes_register_a_run_and_its_artifact(seeded: FakeGitHub) -> None:
    number, sha = open_pull(seeded)
    writes = seeded.writes
    base = f"{seeded.url}/_fake/repos/{FULL}/actions/runs"
    made = requests.post(base, timeout=5, json={
        "head_sha": sha, "pull_numbers": [number], "status": "in_progress"})
    assert made.status_code == 201
    run_id = made.json()["id"]
    assert made.json()["url"] == f"{seeded.url}/repos/{FULL}/actions/runs/{run_id}"
    zipped = artifact_zip({"manifest.json": b"{}"})
    up = requests.post(f"{base}/{run_id}/artifacts?name=build-{sha}", data=zipped, timeout=5,
                       headers={"Content-Type": "application/zip"})
    assert up.status_code == 201
    done = requests.post(f"{base}/{run_id}/complete", json={"conclusion": "success"}, timeout=5)
    assert done.status_code == 200
    assert seeded.writes == writes  # control routes are not API writes

    repo = seeded.client().get_repo(FULL)
    (run,) = repo.get_workflow_runs(head_sha=sha, status="success")
    assert run.id == run_id and [p.number for p in run.pull_requests] == [number]
    (artifact,) = run.get_artifacts()
    assert artifact.id == up.json()["id"]
    blob = requests.get(artifact.archive_download_url, headers=TOKEN, timeout=5)
    assert blob.content == zipped

    def refused(url: str, **kwargs: object) -> tuple[int, str]:
        resp = requests.post(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        return resp.status_code, resp.json()["message"]

    assert refused(base, json={"event": "push"})[0] == 400  # no head_sha
    assert "bogus" in refused(base, json={"head_sha": sha, "bogus": 1})[1]
    assert refused(base, data=b"not json")[1] == "the request body is not JSON"
    assert refused(f"{base}/{run_id}/artifacts", data=zipped)[1] == (
        "artifact upload needs ?name=NAME")
    assert refused(f"{base}/{run_id}/artifacts?name=x", data=b"text")[0] == 400
    assert refused(f"{base}/999/artifacts?name=x", data=zipped)[0] == 404
    assert refused(f"{base}/999/complete", json={})[0] == 404
    assert refused(f"{seeded.url}/_fake/repos/acme/nope/actions/runs",
                   json={"head_sha": sha})[0] == 404
    assert refused(f"{seeded.url}/_fake/elsewhere")[0] == 404
    assert requests.get(base, timeout=5).status_code == 405


# ---------------------------------------------------------------- schema
def test_the_actions_operations_are_validated_against_the_description() -> None:
    v = ResponseValidator.default()
    assert v.errors("GET", RUNS + "/{run_id}", 200, {"id": 1})  # required fields missing
    listing = {"total_count": 1, "workflow_runs": [{"id": "one"}]}
    assert "workflow_runs/0" in v.errors("GET", RUNS, 200, listing)[0]
    download = "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}"
    assert v.errors("GET", download, 302, None) == []
    assert v.errors("GET", download, 302, {"x": 1})  # documented without a body
    assert v.errors("GET", download, 200, b"zip")  # GitHub never answers 200 there
    gone = {"message": "Artifact has expired", "documentation_url": "x", "status": "410"}
    assert v.errors("GET", download, 410, gone) == []
    assert json.dumps(v.spec["paths"][RUNS]["get"]["parameters"]).count("$ref") >= 10
