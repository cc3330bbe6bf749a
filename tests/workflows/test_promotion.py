"""Issue 12 under act: the bot's pull request is built and smoke-tested by pr-build.yml and
reported in one comment; merging it publishes exactly those artifacts, with no build in the
merge's run (the scenario set-up of test_pipeline: two stacks, Mono and XSP)."""

from __future__ import annotations

import re

import pytest

from tests.workflows.test_pipeline import (  # noqa: F401 - fixtures
    NAME,
    OWNER,
    STACKS,
    Buildpack,
    assert_ok,
    bot_checkout,
    buildpack,
)

pytestmark = [pytest.mark.workflows, pytest.mark.docker]
BRANCH = "release-bot/mono"


def open_bump(bp: Buildpack, mono: str) -> tuple[int, str]:
    """The bot's pull request bumping Mono, on the fake GitHub; (number, head sha)."""
    bp.publish_upstream("mono", mono)
    head = bp.fake.push(OWNER, NAME, BRANCH, {"versions.toml": bp.versions_toml(mono)},
                        f"mono {mono}", base="main")
    with bp.fake.client() as gh:
        number = gh.get_repo(f"{OWNER}/{NAME}").create_pull(
            base="main", head=BRANCH, title=f"Update mono to {mono}", body="").number
    return number, head


def pr_build(bp: Buildpack, number: int, head: str, mono: str):  # type: ignore[no-untyped-def]
    """pr-build.yml on the pull request's versions.toml; the fake run completed as act ended."""
    bp.git("checkout", "-q", "-B", BRANCH)
    (bp.repo / "versions.toml").write_text(bp.versions_toml(mono))
    bp.commit(f"mono {mono}")
    repo = {"full_name": f"{OWNER}/{NAME}"}
    run = bp.act("pr-build.yml", "pull_request", {
        "number": number, "repository": repo,
        "pull_request": {"number": number, "head": {"sha": head, "ref": BRANCH, "repo": repo},
                         "base": {"ref": "main", "repo": repo}}})
    bp.git("checkout", "-q", "main")
    # the run is registered on the fake by its first upload (none when every stack failed)
    for fake_run in [r for r in bp.fake.workflow_runs(OWNER, NAME)
                     if r["path"].endswith("pr-build.yml") and r["head_sha"] == head
                     and r["status"] != "completed"]:
        bp.fake.complete_run(fake_run["id"], "success" if run.returncode == 0 else "failure")
    return run


def merge(bp: Buildpack, number: int, mono: str):  # type: ignore[no-untyped-def]
    sha = bp.fake.merge_pull(OWNER, NAME, number)
    (bp.repo / "versions.toml").write_text(bp.versions_toml(mono))
    bp.commit(f"Merge pull request #{number}")
    return bp.act("build.yml", "push", bp.push_event(sha))


def test_the_pull_request_is_built_reported_and_its_artifacts_published_on_merge(
        buildpack: Buildpack) -> None:  # noqa: F811 - the fixture
    number, head = open_bump(buildpack, "1.1")
    pr = pr_build(buildpack, number, head, "1.1")
    assert pr.returncode == 0, pr.summary()
    assert_ok(pr, "plan", "build (heroku-22)", "build (heroku-24)", "report")
    (comment,) = buildpack.fake.comments(OWNER, NAME, number)
    assert comment.startswith("<!-- release-bot:pr-report -->")
    assert "✅ **Every planned build passed" in comment
    shown = {(m[0], m[1]): m[2] for m in re.findall(
        r"^\| (mono|xsp) \| [0-9.]+ \| (heroku-2[24]) \| ✅ built \|.*`([0-9a-f]{64})` \|$",
        comment, flags=re.MULTILINE)}
    assert set(shown) == {(c, s) for c in ("mono", "xsp") for s in STACKS}, comment

    run = merge(buildpack, number, "1.1")
    assert run.returncode == 0, run.summary()
    assert_ok(run, "plan", "promote", "publish", "release")
    for stack in STACKS:  # no build job ran, so no build container was started
        assert run.jobs.get(f"build ({stack})") in (None, "skipped"), run.jobs
    assert not any("build mono 1.1" in line or "build xsp 2.0" in line
                   for line in run.text.splitlines()), run.summary()
    assert any("promoting" in line for line in run.lines("promote"))
    index = buildpack.index()
    assert index is not None
    published = {(e["component"], e["stack"]): e["sha256"] for e in index["artifacts"]}
    assert published == shown  # the very bytes the pull request built and reported
    (release,) = buildpack.releases()
    assert f"built and smoke-tested by pull request #{number}" in release["body"]


def test_a_second_push_edits_the_one_comment_and_a_failing_smoke_makes_it_red(
        buildpack: Buildpack) -> None:  # noqa: F811 - the fixture
    number, head = open_bump(buildpack, "1.1")
    assert pr_build(buildpack, number, head, "1.1").returncode == 0
    (first,) = buildpack.fake.comments(OWNER, NAME, number)
    buildpack.run_image = dict.fromkeys(STACKS, buildpack.images[1])  # no Mono to run on
    second = buildpack.fake.push(OWNER, NAME, BRANCH,
                                 {"versions.toml": buildpack.versions_toml("1.1") + "\n"},
                                 "mono 1.1, again")
    pr = pr_build(buildpack, number, second, "1.1")
    assert pr.returncode != 0, pr.summary()  # the pull request's check is red
    (comment,) = buildpack.fake.comments(OWNER, NAME, number)  # edited, not a second one
    assert comment != first and second[:12] in comment
    assert "❌ **Failed** on heroku-22, heroku-24" in comment, comment


def test_deleted_or_tampered_artifacts_are_refused_and_built_again(
        buildpack: Buildpack) -> None:  # noqa: F811 - the fixture
    number, head = open_bump(buildpack, "1.1")
    assert pr_build(buildpack, number, head, "1.1").returncode == 0
    by_stack = {a["name"].removeprefix("release-bot-stack-"): a
                for a in buildpack.fake.artifacts(OWNER, NAME)}
    gone, tampered = by_stack["heroku-22"], by_stack["heroku-24"]
    buildpack.fake.delete_artifact(OWNER, NAME, gone["id"])
    files = dict(tampered["files"])
    (tarball,) = [p for p in files if p.startswith("mono-") and p.endswith(".tar.gz")]
    files[tarball] = files[tarball] + b"\0"  # no longer the bytes its manifest names
    buildpack.fake.delete_artifact(OWNER, NAME, tampered["id"])
    buildpack.fake.add_artifact(OWNER, NAME, tampered["run_id"], tampered["name"], files)

    run = merge(buildpack, number, "1.1")
    assert run.returncode == 0, run.summary()
    assert_ok(run, "plan", "promote", "build (heroku-22)", "build (heroku-24)", "publish",
              "release")
    warnings = [line for line in run.lines("promote") if "::warning" in line]
    assert any("heroku-22" in w for w in warnings) and any("heroku-24" in w for w in warnings), \
        warnings
    index = buildpack.index()
    assert index is not None
    published = {(e["component"], e["stack"]) for e in index["artifacts"]}
    assert published == {(c, s) for c in ("mono", "xsp") for s in STACKS}
    (release,) = buildpack.releases()
    assert f"pull request #{number}" not in release["body"]  # nothing was promoted
