"""Static contract of the workflows and the composite action (no Docker, no act).

What a buildpack repository copies is the README's three consumer workflows; this repository
runs the same files with `uses: ./`. These tests hold the shape both must keep: hygiene
(permissions, pins, timeouts), which job receives which secret, no component names, the
dispatch inputs reaching the action. The act tier (tests/workflows/) runs them for real; the
pins and the inputs/outputs of every action are checked in tests/test_action_contract.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
CONSUMER = ("poll.yml", "build.yml", "check.yml", "pr-build.yml", "verify.yml")
VENV_BIN = Path(sys.executable).parent
BOT_USES = "uses: OWNER/release-bot@SHA # the release-bot commit you install"
SELF_USES = ("uses: ./ # this repository's own action.yml; a buildpack repository pins "
             "OWNER/release-bot@SHA")


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    if True in data:  # YAML 1.1 reads the key `on` as True
        data["on"] = data.pop(True)
    assert isinstance(data, dict)
    return data


def readme_workflows() -> dict[str, str]:
    """The consumer workflows of the README: a `.github/workflows/NAME` line, then a yaml
    block."""
    text = (ROOT / "README.md").read_text()
    found = re.findall(r"`\.github/workflows/([\w.-]+\.yml)`:\n\n```yaml\n(.*?)```", text,
                       flags=re.DOTALL)
    return dict(found)


def consumer(name: str) -> dict[str, Any]:
    return load(readme_workflows()[name])


def action() -> dict[str, Any]:
    return load((ROOT / "action.yml").read_text())


def bot_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_name, step) for job_name, job in workflow["jobs"].items()
            for step in job["steps"] if "release-bot" in step.get("uses", "")]


def test_the_readme_shows_the_three_consumer_workflows_and_this_repository_runs_them() -> None:
    shown = readme_workflows()
    assert set(shown) == set(CONSUMER)
    for name, text in shown.items():
        own = (WORKFLOW_DIR / name).read_text()
        assert own == text.replace(BOT_USES, SELF_USES), (
            f".github/workflows/{name} differs from the README's consumer workflow "
            "(other than `uses: ./`)")
        assert text.count(BOT_USES) == len(bot_steps(load(text))) > 0


@pytest.mark.parametrize("name", CONSUMER)
def test_workflow_hygiene(name: str) -> None:
    workflow = consumer(name)
    assert workflow.get("permissions") == {}, f"{name}: needs `permissions: {{}}` at the top"
    for job_name, job in workflow["jobs"].items():
        where = f"{name} job {job_name}"
        assert isinstance(job.get("timeout-minutes"), int), f"{where}: no timeout-minutes"
        assert isinstance(job.get("permissions"), dict), f"{where}: no explicit permissions"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, where
            assert "run" not in step, f"{where}: the bot's steps live in action.yml"
        if "strategy" in job:
            assert job["strategy"]["fail-fast"] is False, f"{where}: fail-fast must be false"


def test_action_scripts_take_inputs_through_env_only() -> None:
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"].replace("\\${{", ""), (
                f"{step.get('name')}: `${{{{ }}}}` inside run:; pass it through env:")


SECRET_INPUTS = {
    "github-token": {("poll.yml", "pr"), ("build.yml", "promote"), ("build.yml", "release"),
                     ("pr-build.yml", "report"), ("verify.yml", "verify")},
    "token": {("poll.yml", "pr")},
    "app-private-key": {("poll.yml", "pr")},
    "gitlab-token": {("poll.yml", "pr")},
    "aws-access-key-id": {("build.yml", "publish")},
    "aws-secret-access-key": {("build.yml", "publish")},
    "aws-role-arn": {("build.yml", "publish")},
}


def test_each_secret_reaches_only_the_job_that_uses_it() -> None:
    for name in CONSUMER:
        for job_name, step in bot_steps(consumer(name)):
            given = set(step["with"]) & set(SECRET_INPUTS)
            expected = {i for i, jobs in SECRET_INPUTS.items() if (name, job_name) in jobs}
            assert given == expected, f"{name} {job_name}: secrets {sorted(given)}"
        for job_name, job in consumer(name)["jobs"].items():
            oidc = job["permissions"].get("id-token") == "write"
            assert oidc == ((name, job_name) == ("build.yml", "publish")), job_name
            writes = {k for k, v in job["permissions"].items() if v == "write"} - {"id-token"}
            allowed = {("poll.yml", "pr"): {"contents", "pull-requests"},
                       ("build.yml", "publish"): {"attestations"},
                       ("verify.yml", "verify"): {"issues"},
                       ("pr-build.yml", "report"): {"pull-requests"},
                       ("build.yml", "release"): {"contents"}}.get((name, job_name), set())
            assert writes == allowed, f"{name} {job_name} may write {sorted(writes)}"


def test_workflows_and_action_name_no_component() -> None:
    """The order of builds comes from `requires`, computed by `plan`: nothing downstream
    knows the components' names."""
    texts = {**dict(readme_workflows().items()),
             "action.yml": (ROOT / "action.yml").read_text()}
    for name, text in texts.items():
        code = "\n".join(line.split(" #")[0] for line in text.splitlines()
                         if not line.lstrip().startswith("#"))
        found = re.findall(r"\b(mono|xsp)\b", code, flags=re.IGNORECASE)
        assert not found, f"{name} names components: {found}"


def test_build_runs_on_versions_toml_and_by_hand_and_passes_every_input() -> None:
    build = consumer("build.yml")
    assert build["on"]["push"]["paths"] == ["versions.toml"]
    inputs = build["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"component", "version", "sha256", "stacks", "force", "dry-run",
                           "no-promote"}
    declared = set(action()["inputs"])
    used: set[str] = set()
    for _, step in bot_steps(build):
        assert set(step["with"]) <= declared
        used |= {k for k, v in step["with"].items() if f"inputs.{k}" in str(v)}
    # dry-run decides which jobs run (publish is skipped) and reaches release's notes
    assert used == set(inputs), f"dispatch inputs reaching no job: {set(inputs) - used}"
    assert "!inputs.dry-run" in build["jobs"]["publish"]["if"]


def test_poll_is_scheduled_and_never_races() -> None:
    poll = consumer("poll.yml")
    crons = [s["cron"] for s in poll["on"]["schedule"]]
    assert crons and all(c.split()[1] == "*/6" for c in crons), crons
    assert "workflow_dispatch" in poll["on"]
    assert poll["concurrency"]["group"] and poll["concurrency"]["cancel-in-progress"] is False


def linter(name: str) -> str:
    path = VENV_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return found


def test_actionlint_is_clean() -> None:
    proc = subprocess.run([linter("actionlint"), *map(str, sorted(WORKFLOW_DIR.glob("*.yml")))],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_is_clean() -> None:
    proc = subprocess.run([linter("zizmor"), "--offline", "--no-progress", str(WORKFLOW_DIR),
                           str(ROOT / "action.yml")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_is_clean() -> None:
    dockerfiles = sorted(p for p in (ROOT / "images").rglob("Dockerfile*") if p.is_file())
    assert dockerfiles
    proc = subprocess.run([linter("hadolint"), *map(str, dockerfiles)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# What each S3 call of the store needs in IAM (S3's "actions" for its operations).
IAM_ACTION = {
    "put_object": "s3:PutObject", "create_multipart_upload": "s3:PutObject",
    "upload_part": "s3:PutObject", "complete_multipart_upload": "s3:PutObject",
    "abort_multipart_upload": "s3:AbortMultipartUpload", "delete_object": "s3:DeleteObject",
    "get_object": "s3:GetObject", "head_object": "s3:GetObject",
    "list_objects_v2": "s3:ListBucket",
}


def test_the_readmes_iam_policy_allows_every_call_the_store_makes() -> None:
    calls = set(re.findall(r"self\.client\.([a-z_0-9]+)\(",
                           (ROOT / "bot" / "store" / "s3.py").read_text()))
    unknown = calls - set(IAM_ACTION)
    assert not unknown, f"map the store's new S3 calls to IAM actions here: {unknown}"
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```json\n(\{\"Version\": \"2012-10-17\".*?)```", text, re.DOTALL)
    assert block is not None, "the README shows no IAM policy"
    allowed = {a for st in json.loads(block.group(1))["Statement"] for a in st["Action"]}
    missing = {IAM_ACTION[c] for c in calls} - allowed
    assert not missing, f"the README's IAM policy lacks {sorted(missing)}"


def test_the_pull_request_builds_without_credentials_and_the_merge_promotes_its_run() -> None:
    """pr-build.yml's jobs read only (the report alone writes, its one comment, and only on
    pull requests of this repository); build.yml's promote job reads that workflow's runs
    and decides the build matrix."""
    pr = consumer("pr-build.yml")
    assert pr["on"] == {"pull_request": {"paths": ["versions.toml"]}}
    for job_name, job in pr["jobs"].items():
        assert "id-token" not in job["permissions"], job_name
        for _, step in bot_steps({"jobs": {job_name: job}}):
            assert not {k for k in step["with"] if k.startswith("aws-") and k != "aws-region"}
    assert "head.repo.full_name == github.repository" in pr["jobs"]["report"]["if"]
    build = consumer("build.yml")
    promote = build["jobs"]["promote"]
    assert promote["needs"] == "plan" and promote["permissions"]["actions"] == "read"
    assert build["jobs"]["build"]["strategy"]["matrix"] == \
        "${{ fromJSON(needs.promote.outputs.stacks) }}"
    assert "promote" in build["jobs"]["publish"]["needs"]
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "promote"]
    assert "PR_WORKFLOW" in step["env"] and action()["inputs"]["pr-workflow"]["default"] == \
        "pr-build.yml"
