"""Tests of the fake GitHub server, driven through the real PyGithub client."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry, InputGitTreeElement
from github.GithubException import RateLimitExceededException, UnknownObjectException

from tests.fakegithub import FakeGitHub, ResponseValidator
from tests.fakegithub.server import _Ctx

OWNER, NAME = "acme", "buildpack"
FULL = f"{OWNER}/{NAME}"


@pytest.fixture
def seeded(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.create_repo(
        OWNER, NAME, files={"versions.toml": "mono = '6.12.0'\n", "README.md": "# bp\n"}
    )
    return fake_github


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# ---------------------------------------------------------------- basics
def test_repo_user_and_rate_limit(seeded: FakeGitHub) -> None:
    gh = seeded.client()
    assert gh.get_user().login == "release-bot"
    repo = gh.get_repo(FULL)
    assert repo.default_branch == "main"
    assert repo.full_name == FULL
    core = gh.get_rate_limit().resources.core
    assert core.limit == 5000
    assert core.remaining == 5000 - seeded.quota_used
    assert gh.requester.rate_limiting[1] == 5000  # rate-limit headers are on every response
    with pytest.raises(UnknownObjectException):
        gh.get_repo("acme/nope")


def test_auth_is_required_and_requests_are_recorded_without_it(seeded: FakeGitHub) -> None:
    r = requests.get(f"{seeded.url}/repos/{FULL}", timeout=5)
    assert r.status_code == 401
    assert r.json()["message"] == "Requires authentication"
    r = requests.get(
        f"{seeded.url}/repos/{FULL}", headers={"Authorization": "Bearer abc"}, timeout=5
    )
    assert r.status_code == 200
    assert r.headers["x-ratelimit-resource"] == "core"
    assert {
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
    } <= {k.lower() for k in r.headers}
    assert all("authorization" not in req.headers for req in seeded.requests)
    assert seeded.requests[-1].token == "abc"
    assert seeded.writes == 0


def test_git_shas_are_real_git_object_ids(seeded: FakeGitHub) -> None:
    repo = seeded.client().get_repo(FULL)
    content = repo.get_contents("versions.toml")
    assert content.sha == git_blob_sha(b"mono = '6.12.0'\n")
    blob = repo.create_git_blob("data", "utf-8")
    assert (
        blob.sha == "6320cd248dd8aeaab759d5871f8781b5c0505172"
    )  # `printf data | git hash-object --stdin`


# ---------------------------------------------------------------- contents API
def test_branch_and_commit_through_contents_api(seeded: FakeGitHub) -> None:
    repo = seeded.client().get_repo(FULL)
    main_sha = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/bump/mono-6.13", main_sha)
    current = repo.get_contents("versions.toml", ref="bump/mono-6.13")
    result = repo.update_file(
        "versions.toml",
        "Bump mono to 6.13",
        "mono = '6.13.0'\n",
        current.sha,
        branch="bump/mono-6.13",
    )
    new_sha = result["commit"].sha
    assert seeded.branch_sha(OWNER, NAME, "bump/mono-6.13") == new_sha
    assert seeded.branch_sha(OWNER, NAME, "main") == main_sha
    assert seeded.file_at(OWNER, NAME, "bump/mono-6.13", "versions.toml") == b"mono = '6.13.0'\n"
    assert seeded.commit_info(OWNER, NAME, new_sha).parents == [main_sha]
    assert (
        repo.get_contents("versions.toml", ref="bump/mono-6.13").decoded_content
        == b"mono = '6.13.0'\n"
    )
    created = repo.create_file("docs/new.md", "add docs", b"hello", branch="bump/mono-6.13")
    assert created["content"].path == "docs/new.md"
    listing = repo.get_contents("docs", ref="bump/mono-6.13")
    assert [c.path for c in listing] == ["docs/new.md"]
    commit = repo.get_commit("bump/mono-6.13")
    assert [f.filename for f in commit.files] == ["docs/new.md"]
    assert commit.parents[0].sha == new_sha
    with pytest.raises(UnknownObjectException):
        repo.get_contents("missing.txt")


def test_contents_optimistic_lock_conflict(seeded: FakeGitHub) -> None:
    repo = seeded.client(retry=None).get_repo(FULL)
    stale = repo.get_contents("versions.toml")
    seeded.push(OWNER, NAME, "main", {"versions.toml": "mono = '6.12.1'\n"}, "human edit")
    with pytest.raises(GithubException) as exc:
        repo.update_file("versions.toml", "bot edit", "mono = '6.14'\n", stale.sha)
    assert exc.value.status == 409
    assert "does not match" in exc.value.data["message"]
    with pytest.raises(GithubException) as exc:  # overwriting an existing file needs its sha
        repo.create_file("versions.toml", "bot edit", "x")
    assert exc.value.status == 422
    assert seeded.file_at(OWNER, NAME, "main", "versions.toml") == b"mono = '6.12.1'\n"


def test_git_data_api_and_refs(seeded: FakeGitHub) -> None:
    repo = seeded.client(retry=None).get_repo(FULL)
    head = repo.get_git_commit(repo.get_branch("main").commit.sha)
    blob = repo.create_git_blob(base64.b64encode(b"\x00bin").decode(), "base64")
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("bin/tool", "100755", "blob", sha=blob.sha),
            InputGitTreeElement("README.md", "100644", "blob", sha=None),
        ],
        base_tree=repo.get_git_tree(head.tree.sha),
    )
    commit = repo.create_git_commit("tree edit", tree, [head])
    assert commit.parents[0].sha == head.sha
    ref = repo.get_git_ref("heads/main")
    ref.edit(commit.sha)
    assert seeded.files_at(OWNER, NAME, "main") == {
        "bin/tool": b"\x00bin",
        "versions.toml": b"mono = '6.12.0'\n",
    }
    paths = [e.path for e in repo.get_git_tree("main", recursive=True).tree]
    assert paths == ["bin", "bin/tool", "versions.toml"]
    with pytest.raises(GithubException) as exc:  # not a fast-forward
        repo.get_git_ref("heads/main").edit(head.sha)
    assert exc.value.status == 422
    repo.get_git_ref("heads/main").edit(head.sha, force=True)
    assert seeded.branch_sha(OWNER, NAME, "main") == head.sha
    repo.create_git_ref("refs/heads/tmp", head.sha)
    with pytest.raises(GithubException) as exc:
        repo.create_git_ref("refs/heads/tmp", head.sha)
    assert exc.value.status == 422
    assert [r.ref for r in repo.get_git_matching_refs("heads/")] == [
        "refs/heads/main",
        "refs/heads/tmp",
    ]
    repo.get_git_ref("heads/tmp").delete()
    assert seeded.branch_sha(OWNER, NAME, "tmp") is None
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("heads/tmp").object  # noqa: B018  (lazy object completes here)


# ---------------------------------------------------------------- pulls, labels, comments
def test_pull_request_lifecycle(seeded: FakeGitHub) -> None:
    repo = seeded.client(retry=None).get_repo(FULL)
    seeded.push(OWNER, NAME, "bump", {"versions.toml": "mono = '6.13.0'\n"}, "bump")
    pr = repo.create_pull(title="Bump mono", body="body", head="bump", base="main")
    assert pr.number == 1
    assert pr.mergeable is True
    assert pr.head.ref == "bump"
    with pytest.raises(GithubException) as exc:
        repo.create_pull(title="again", body="", head="bump", base="main")
    assert exc.value.status == 422
    assert "A pull request already exists" in exc.value.data["errors"][0]["message"]

    found = list(repo.get_pulls(state="open", head=f"{OWNER}:bump", base="main"))
    assert [p.number for p in found] == [1]
    assert list(repo.get_pulls(state="open", head=f"{OWNER}:other")) == []

    pr.edit(title="Bump mono to 6.13", body="new body")
    assert repo.get_pull(1).title == "Bump mono to 6.13"
    pr.edit(state="closed")
    assert seeded.pulls(OWNER, NAME)[0]["state"] == "closed"
    assert list(repo.get_pulls(state="open")) == []
    pr.edit(state="open")

    seeded.push(OWNER, NAME, "main", {"README.md": "# human change\n"}, "human")
    status = repo.get_pull(1).merge(merge_method="merge")
    assert status.merged
    main_head = seeded.branch_sha(OWNER, NAME, "main")
    assert main_head is not None
    assert main_head == status.sha
    assert len(seeded.commit_info(OWNER, NAME, main_head).parents) == 2
    assert seeded.files_at(OWNER, NAME, "main") == {
        "README.md": b"# human change\n",
        "versions.toml": b"mono = '6.13.0'\n",
    }
    merged = repo.get_pull(1)
    assert merged.merged and merged.state == "closed" and merged.is_merged()
    with pytest.raises(GithubException) as exc:
        merged.merge()
    assert exc.value.status == 405


def test_humans_close_and_merge_pulls(seeded: FakeGitHub) -> None:
    repo = seeded.client().get_repo(FULL)
    seeded.push(OWNER, NAME, "a", {"a.txt": "a"})
    seeded.push(OWNER, NAME, "b", {"b.txt": "b"})
    pa = repo.create_pull(title="a", body="", head="a", base="main")
    pb = repo.create_pull(title="b", body="", head="b", base="main")
    seeded.close_pull(pa.number)
    main_before = seeded.branch_sha(OWNER, NAME, "main")
    sha = seeded.merge_pull(OWNER, NAME, pb.number, merge_method="squash")
    assert repo.get_pull(pa.number).state == "closed"
    assert not repo.get_pull(pa.number).merged
    assert repo.get_pull(pb.number).merged
    assert seeded.commit_info(OWNER, NAME, sha).parents == [main_before]
    assert seeded.file_at(OWNER, NAME, "main", "b.txt") == b"b"
    # a new PR for the same head is allowed once the old one is closed
    assert repo.create_pull(title="a2", body="", head="a", base="main").number == 3


def test_labels_and_comments(seeded: FakeGitHub) -> None:
    repo = seeded.client(retry=None).get_repo(FULL)
    seeded.push(OWNER, NAME, "bump", {"x": "1"})
    pr = repo.create_pull(title="t", body="", head="bump", base="main")
    repo.create_label("release", "00ff00", "ships a release")
    with pytest.raises(GithubException) as exc:
        repo.create_label("release", "00ff00")
    assert exc.value.status == 422
    pr.add_to_labels("release", "automated")  # unknown labels are created, like on GitHub
    assert sorted(lab.name for lab in repo.get_labels()) == ["automated", "release"]
    assert repo.get_label("release").description == "ships a release"
    assert [lab.name for lab in repo.get_pull(pr.number).labels] == ["release", "automated"]
    assert [lab.name for lab in repo.get_issue(pr.number).labels] == ["release", "automated"]
    pr.create_issue_comment("first")
    repo.get_issue(pr.number).create_comment("second")
    assert [c.body for c in pr.get_issue_comments()] == ["first", "second"]
    assert seeded.comments(OWNER, NAME, pr.number) == ["first", "second"]
    assert seeded.pulls(OWNER, NAME)[0]["labels"] == ["release", "automated"]


# ---------------------------------------------------------------- tags & releases
def test_tags_are_paginated_with_link_headers(seeded: FakeGitHub) -> None:
    for i in range(150):
        seeded.add_tag(OWNER, NAME, f"v1.{i}.0")
    before = len(seeded.requests)
    gh = seeded.client(per_page=100)
    tags = [t.name for t in gh.get_repo(FULL).get_tags()]
    assert len(tags) == 150
    assert tags[0] == "v1.149.0" and tags[-1] == "v1.0.0"  # newest version first
    pages = seeded.requests_matching("GET", r"/tags$")[-2:]
    assert [r.query.get("page") for r in pages] == [None, ["2"]]
    assert len(seeded.requests) - before == 3  # repo + two pages
    default_pages = seeded.client().get_repo(FULL).get_tags()
    assert default_pages.totalCount == 150  # via rel="last"


def test_releases_with_drafts_and_prereleases(seeded: FakeGitHub) -> None:
    seeded.add_release(OWNER, NAME, "v1.0.0")
    seeded.add_release(OWNER, NAME, "v1.1.0-rc1", prerelease=True)
    draft_id = seeded.add_release(OWNER, NAME, "v1.1.0", draft=True)
    repo = seeded.client(retry=None).get_repo(FULL)
    releases = {r.tag_name: (r.draft, r.prerelease) for r in repo.get_releases()}
    assert releases == {
        "v1.0.0": (False, False),
        "v1.1.0-rc1": (False, True),
        "v1.1.0": (True, False),
    }
    assert repo.get_latest_release().tag_name == "v1.0.0"
    assert repo.get_release("v1.1.0-rc1").prerelease
    with pytest.raises(UnknownObjectException):  # drafts are not reachable by tag
        repo.get_release("v1.1.0")
    assert "v1.1.0" not in seeded.tags(OWNER, NAME)  # drafts have no tag yet

    draft = repo.get_release(draft_id)
    published = draft.update_release(name="1.1.0", message="notes", draft=False)
    assert not published.draft
    assert "v1.1.0" in seeded.tags(OWNER, NAME)
    assert repo.get_latest_release().tag_name == "v1.1.0"

    created = repo.create_git_release("v2.0.0", "2.0.0", "body", draft=False, prerelease=True)
    assert seeded.tags(OWNER, NAME)["v2.0.0"] == seeded.branch_sha(OWNER, NAME, "main")
    with pytest.raises(GithubException) as exc:
        repo.create_git_release("v2.0.0", "dup", "body")
    assert exc.value.status == 422
    created.delete_release()
    assert "v2.0.0" not in {r["tag_name"] for r in seeded.releases(OWNER, NAME)}


def test_asset_upload_listing_download_delete(seeded: FakeGitHub, tmp_path: Path) -> None:
    rid = seeded.add_release(OWNER, NAME, "v1.0.0", draft=True)
    repo = seeded.client(retry=None).get_repo(FULL)
    release = repo.get_release(rid)
    assert release.upload_url.startswith(f"{seeded.url}/uploads/repos/{FULL}/releases/{rid}/assets")
    tarball = tmp_path / "mono-6.13.tar.gz"
    tarball.write_bytes(b"\x1f\x8b fake tarball")
    asset = release.upload_asset(str(tarball), label="Mono 6.13", content_type="application/gzip")
    assert (asset.name, asset.size, asset.label) == ("mono-6.13.tar.gz", 15, "Mono 6.13")
    import io

    release.upload_asset_from_memory(io.BytesIO(b"abc"), 3, "SHA256SUMS", content_type="text/plain")
    assert sorted(a.name for a in release.get_assets()) == ["SHA256SUMS", "mono-6.13.tar.gz"]
    with pytest.raises(GithubException) as exc:
        release.upload_asset(str(tarball))
    assert exc.value.status == 422
    assert seeded.releases(OWNER, NAME)[0]["assets"]["SHA256SUMS"] == b"abc"
    got = requests.get(asset.browser_download_url, timeout=5)
    assert got.content == b"\x1f\x8b fake tarball"
    asset.delete_asset()
    assert [a.name for a in repo.get_release(rid).get_assets()] == ["SHA256SUMS"]
    uploads = seeded.requests_matching("POST", r"^/uploads/")
    assert len(uploads) == 3 and uploads[0].query["name"] == ["mono-6.13.tar.gz"]


# ---------------------------------------------------------------- conditional requests & quota
def test_conditional_get_304_costs_no_quota(seeded: FakeGitHub) -> None:
    gh = seeded.client()
    repo = gh.get_repo(FULL)
    assert repo.etag
    used = seeded.quota_used
    # 1. object level: GithubObject.update() sends If-None-Match (+ If-Modified-Since) itself
    assert repo.update() is False
    assert seeded.quota_used == used
    # 2. raw level (what the product should use for polling): keep the etag, send If-None-Match
    url = f"/repos/{FULL}/releases"
    headers, _ = gh.requester.requestJsonAndCheck("GET", url)
    etag = headers["etag"]
    used = seeded.quota_used
    status, headers, _ = gh.requester.requestJson("GET", url, headers={"If-None-Match": etag})
    assert status == 304
    assert seeded.quota_used == used
    assert int(headers["x-ratelimit-used"]) == used
    # a change invalidates the etag and costs quota again
    seeded.add_release(OWNER, NAME, "v9")
    status, _, body = gh.requester.requestJson("GET", url, headers={"If-None-Match": etag})
    assert status == 200 and '"v9"' in body
    assert seeded.quota_used == used + 1
    assert repo.update() is False  # the repo itself is unchanged


def test_primary_rate_limit_exhaustion(seeded: FakeGitHub) -> None:
    gh = seeded.client(retry=None)
    seeded.set_rate_limit_remaining(1)
    gh.get_repo(FULL)
    with pytest.raises(RateLimitExceededException):
        gh.get_repo(FULL)
    assert gh.get_rate_limit().resources.core.remaining == 0  # /rate_limit itself is free


# ---------------------------------------------------------------- fault injection
def test_server_error_then_success_with_pygithub_retry(seeded: FakeGitHub) -> None:
    fault = seeded.inject("GET", r"/repos/acme/buildpack$", "500", times=2)
    gh = seeded.client(retry=GithubRetry(total=3, backoff_factor=0))
    assert gh.get_repo(FULL).name == NAME
    assert fault.hits == 2
    assert len(seeded.requests_matching("GET", r"/repos/acme/buildpack$")) == 3

    seeded.inject("GET", r"/repos/acme/buildpack$", "502")
    with pytest.raises(GithubException) as exc:
        seeded.client(retry=None).get_repo(FULL)
    assert exc.value.status == 502
    assert exc.value.data["message"] == "Server Error"


def test_secondary_rate_limit_is_waited_out(seeded: FakeGitHub) -> None:
    seeded.inject("POST", r"/labels$", "secondary-rate-limit", seconds=1)
    gh = seeded.client(retry=GithubRetry(total=3, backoff_factor=0))
    start = time.monotonic()
    gh.get_repo(FULL).create_label("x", "ffffff")
    assert time.monotonic() - start >= 1.0  # honoured retry-after: 1
    assert [r.status for r in seeded.requests_matching("POST", r"/labels$")] == [403, 201]

    seeded.inject("POST", r"/labels$", "secondary-rate-limit")
    with pytest.raises(RateLimitExceededException) as exc:
        seeded.client(retry=None).get_repo(FULL).create_label("y", "ffffff")
    assert (exc.value.headers or {})["retry-after"] == "1"
    assert "secondary rate limit" in exc.value.data["message"]


def test_primary_rate_limit_fault_is_waited_out_until_reset(seeded: FakeGitHub) -> None:
    # reset "now": GithubRetry sleeps until x-ratelimit-reset + 1s (so < 1s here) and retries
    seeded.inject("GET", r"/user$", "rate-limit", seconds=0)
    gh = seeded.client(retry=GithubRetry(total=3, backoff_factor=0, max_rate_limit_wait=5))
    start = time.monotonic()
    assert gh.get_user().login == "release-bot"
    assert time.monotonic() - start < 5
    assert [r.status for r in seeded.requests_matching("GET", r"/user$")] == [403, 200]


def test_primary_rate_limit_fault_and_404_and_slow(seeded: FakeGitHub) -> None:
    seeded.inject("GET", r"/user$", "rate-limit", seconds=30)
    gh = seeded.client(retry=None)
    with pytest.raises(RateLimitExceededException) as exc:
        gh.get_user().login  # noqa: B018
    assert (exc.value.headers or {})["x-ratelimit-remaining"] == "0"
    seeded.inject("*", r"/git/ref/", "404")
    with pytest.raises(UnknownObjectException):
        gh.get_repo(FULL).get_git_ref("heads/main").object  # noqa: B018
    seeded.inject("GET", r"/branches/", "slow", seconds=0.3)
    start = time.monotonic()
    assert gh.get_repo(FULL).get_branch("main").name == "main"
    assert time.monotonic() - start >= 0.3
    with pytest.raises(ValueError, match="unknown fault kind"):
        seeded.inject("GET", ".", "teapot")


def test_unimplemented_endpoints_are_reported(seeded: FakeGitHub) -> None:
    gh = seeded.client(retry=None)
    with pytest.raises(UnknownObjectException):
        gh.get_repo(FULL).get_branches()[0]  # GET /branches is not implemented
    assert seeded.unimplemented == [f"GET /repos/{FULL}/branches"]
    seeded.unimplemented.clear()  # the fixture would otherwise fail the test


# ---------------------------------------------------------------- schema validation
def test_validator_rejects_malformed_bodies() -> None:
    v = ResponseValidator.default()
    assert v.source["file"] == "api.github.com.json"
    tmpl = "/repos/{owner}/{repo}/git/ref/{ref}"
    good = {
        "ref": "refs/heads/main",
        "node_id": "x",
        "url": "http://h/x",
        "object": {"type": "commit", "sha": "a" * 40, "url": "http://h/c"},
    }
    assert v.errors("GET", tmpl, 200, good) == []
    bad = {**good, "object": {"type": "commit", "sha": 42, "url": "http://h/c"}}
    assert "object/sha" in v.errors("GET", tmpl, 200, bad)[0]
    assert v.errors("GET", tmpl, 200, {"ref": "x"})  # required fields missing
    assert "not documented" in v.errors("GET", tmpl, 201, good)[0]
    assert v.errors("GET", tmpl, 404, {"message": "Not Found", "documentation_url": "x"}) == []
    assert v.errors("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", 204, None) == []
    assert v.errors("GET", "/nope", 200, {})  # unknown operation
    # nullable: release.body may be null, release.tag_name may not
    assert v.errors("GET", "/repos/{owner}/{repo}/releases/{release_id}", 200, {"body": None})


def test_malformed_server_response_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _Ctx.label

    def broken_label(self: _Ctx, r: object, lab: dict[str, object]) -> dict[str, object]:
        out = original(self, r, lab)  # type: ignore[arg-type]
        del out["color"]
        return out

    monkeypatch.setattr(_Ctx, "label", broken_label)
    with FakeGitHub() as server:
        server.create_repo(OWNER, NAME)
        gh = Github(
            base_url=server.url,
            auth=Auth.Token("t"),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        try:
            with pytest.raises(GithubException) as exc:
                gh.get_repo(FULL).create_label("bug", "ff0000")
        finally:
            gh.close()
    assert exc.value.status == 500
    assert "failed OpenAPI validation" in exc.value.data["message"]
    assert len(server.validation_errors) == 1
    assert "'color' is a required property" in server.validation_errors[0]


def test_subset_is_vendored_with_provenance() -> None:
    v = ResponseValidator.default()
    src = v.spec["x-fakegithub-source"]
    assert src["info_version"] == v.spec["info"]["version"]
    assert src["extracted_on"]
    assert (Path(__file__).parent / "fakegithub" / "OPENAPI-LICENSE").is_file()
    assert "examples" not in v.spec["components"]
