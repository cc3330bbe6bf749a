"""Smoke tests of the act harness (tests/workflows/act.py and the stand-ins) on tiny workflows.

Each test makes a throwaway git repository with one workflow that names the pinned actions
by SHA, runs it with run_act, and checks what really happened: files that crossed jobs
through the artifact stand-ins, the upload/download failure modes, the recording stand-ins'
logs, and that secrets neither show in the log nor reach a job that does not name them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.act import ActRun, run_act
from tests.workflows.standins import pins

pytestmark = pytest.mark.workflows

SECRET = "s3cr3t-'quoted' \"double\" $HOME \\n back\\slash\nsecond line"
KEY_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def uses(action: str) -> str:
    pin = pins()[action]
    return f"{pin.uses} # {pin.tag}"


def make_repo(root: Path, workflow: str) -> Path:
    repo = root / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "w.yml").write_text(workflow)
    (repo / "data.txt").write_text("tracked\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/acme/buildpack.git"],
                   check=True)
    return repo


def act(tmp_path: Path, repo: Path, run_id: str = "1", env: dict[str, str] | None = None,
        **kwargs: Any) -> ActRun:
    """run_act with this test's store and workdir; the venv's python for setup-python."""
    return run_act(repo, ".github/workflows/w.yml", "push", payload={},
                   env={"RELEASE_BOT_ACT_PYTHON": sys.executable, **(env or {})},
                   artifacts=tmp_path / "artifacts", run_id=run_id,
                   workdir=tmp_path / f"act-{run_id}", timeout=300, **kwargs)


ARTIFACTS_WORKFLOW = """
name: harness
on: push
jobs:
  produce:
    runs-on: ubuntu-24.04
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
      - id: py
        uses: {setup_python}
        with:
          python-version: "3.11"
      - name: make files
        run: |
          mkdir -p out/sub out/skip
          echo payload > out/hello.txt
          echo deep > out/sub/deep.txt
          echo skipped > out/skip/x.log
          echo hidden > out/.hidden
          echo "python=$(command -v python) ${{{{ steps.py.outputs.python-version }}}}"
          echo "python-path=${{{{ steps.py.outputs.python-path }}}}"
      - id: up
        uses: {upload}
        with:
          name: bundle
          path: |
            out/
            !out/skip/
          if-no-files-found: error
      - env:
          ID: ${{{{ steps.up.outputs.artifact-id }}}}
          DIGEST: ${{{{ steps.up.outputs.artifact-digest }}}}
          URL: ${{{{ steps.up.outputs.artifact-url }}}}
        run: echo "uploaded id=$ID digest=$DIGEST url=$URL"
      - id: dup
        continue-on-error: true
        uses: {upload}
        with:
          name: bundle
          path: out/hello.txt
      - id: single
        uses: {upload}
        with:
          name: single
          path: out/hello.txt
      - uses: {upload}
        with:
          name: single
          path: out/sub/deep.txt
          overwrite: true
      - id: none
        continue-on-error: true
        uses: {upload}
        with:
          name: nothing
          path: not-there/*
          if-no-files-found: error
      - run: echo "outcomes dup=${{{{ steps.dup.outcome }}}} none=${{{{ steps.none.outcome }}}}"
      - name: uses the secret
        env:
          THE_SECRET: ${{{{ secrets.THE_SECRET }}}}
        run: |
          echo "the secret is $THE_SECRET"
          printf '%s' "$THE_SECRET" | sha256sum
  consume:
    needs: produce
    runs-on: ubuntu-24.04
    steps:
      - uses: {checkout}
      - id: co
        uses: {checkout}
        with:
          ref: main
      - run: echo "checked out ${{{{ steps.co.outputs.commit }}}} (${{{{ steps.co.outputs.ref }}}})"
      - id: dl
        uses: {download}
        with:
          name: bundle
          path: got
      - id: nomatch
        uses: {download}
        with:
          pattern: nomatch-*
          path: nomatch
      - uses: {download}
        with:
          path: all
      - uses: {download}
        with:
          pattern: sing*
          path: one
      - uses: {download}
        with:
          pattern: "{{bundle,single}}"
          path: merged
          merge-multiple: true
      - id: missing
        continue-on-error: true
        uses: {download}
        with:
          name: missing
      - name: what arrived
        run: |
          echo "download-path=${{{{ steps.dl.outputs.download-path }}}}"
          echo "nomatch=${{{{ steps.nomatch.outcome }}}} missing=${{{{ steps.missing.outcome }}}}"
          find got all merged one -type f | sort | sed 's/^/file: /'
          test ! -e nomatch || echo "nomatch exists: $(ls -A nomatch | wc -l) entries"
          cat got/hello.txt
  bystander:
    runs-on: ubuntu-24.04
    steps:
      - name: environment
        run: echo "env-b64=$(env | base64 -w0)"
  fails:
    runs-on: ubuntu-24.04
    steps:
      - run: exit 3
  after-fail:
    needs: fails
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
"""


def fill(template: str) -> str:
    return template.format(checkout=uses("actions/checkout"),
                           setup_python=uses("actions/setup-python"),
                           upload=uses("actions/upload-artifact"),
                           download=uses("actions/download-artifact"),
                           aws=uses("aws-actions/configure-aws-credentials"),
                           app_token=uses("actions/create-github-app-token"),
                           attest=uses("actions/attest-build-provenance"))


def test_artifacts_cross_jobs_and_secrets_stay_put(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, fill(ARTIFACTS_WORKFLOW))
    run = act(tmp_path, repo, secrets={"THE_SECRET": SECRET})

    assert run.jobs == {"produce": "success", "consume": "success", "bystander": "success",
                        "fails": "failure", "after-fail": "skipped"}, run.summary()
    assert run.returncode != 0  # a job failed

    produce = run.output("produce")
    assert f"python={Path(run.workdir)}" in produce  # the wrapper dir in the job's RUNNER_TEMP
    # a venv of the job's own that sees the prepared one's packages (pip installs stay there)
    assert f"python-path={Path(run.workdir)}" in produce
    assert "uploaded id=1 digest=" in produce
    assert "url=https://github.com/acme/buildpack/actions/runs/1/artifacts/1" in produce
    assert "outcomes dup=failure none=failure" in produce
    assert "(409) Conflict: an artifact with this name already exists" in run.log
    assert "No files were found with the provided path: not-there/*" in run.log

    stored = tmp_path / "artifacts" / "1"
    assert sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file()) \
        == ["bundle/hello.txt", "bundle/sub/deep.txt", "single/deep.txt"]  # overwritten

    consume = run.output("consume")
    files = sorted(line.removeprefix("file: ") for line in consume.splitlines()
                   if line.startswith("file: "))
    assert files == ["all/bundle/hello.txt", "all/bundle/sub/deep.txt", "all/single/deep.txt",
                     "got/hello.txt", "got/sub/deep.txt", "merged/deep.txt", "merged/hello.txt",
                     "merged/sub/deep.txt", "one/deep.txt"]  # one match: no sub-folder
    assert "nomatch exists" not in consume
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert f"checked out {head} (main)" in consume  # a `ref` makes act run the stand-in
    assert "download-path=" in consume and "/hostexecutor/got" in consume
    assert "nomatch=success missing=failure" in consume
    assert "Total of 0 artifact(s) downloaded" in "\n".join(run.lines("consume"))
    assert "Unable to download artifact(s): Artifact not found for name: missing" in run.log
    assert "payload" in consume

    # the secret: masked in the log, intact in the job that names it, absent elsewhere
    for line in SECRET.splitlines():
        assert line not in run.log
    assert "the secret is ***" in produce
    assert hashlib.sha256(SECRET.encode()).hexdigest() in produce
    b64 = next(line.split("=", 1)[1] for line in run.output("bystander").splitlines()
               if line.startswith("env-b64="))
    bystander_env = base64.b64decode(b64).decode()
    assert "s3cr3t" not in bystander_env and "THE_SECRET" not in bystander_env
    assert "GITHUB_REPOSITORY=acme/buildpack" in bystander_env
    assert not list(run.workdir.glob("secrets-*"))  # the secret file is gone


UPLOAD_WORKFLOW = """
name: upload
on: push
jobs:
  put:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "from run $GITHUB_RUN_ID" > hello.txt
      - uses: {upload}
        with:
          name: single
          path: hello.txt
"""

CROSS_RUN_WORKFLOW = """
name: cross-run
on: push
jobs:
  fetch:
    runs-on: ubuntu-24.04
    steps:
      - uses: {download}
        with:
          name: single
          path: earlier
          run-id: "1"
          github-token: ${{{{ secrets.GITHUB_TOKEN }}}}
      - run: cat earlier/hello.txt
      - run: echo "repo=${{{{ github.repository }}}} owner=${{{{ github.repository_owner }}}}"
      - run: echo "run=${{{{ github.run_id }}}} GITHUB_REPOSITORY=$GITHUB_REPOSITORY"
      - id: own
        continue-on-error: true
        uses: {download}
        with:
          name: single
      - run: echo "own run=${{{{ steps.own.outcome }}}}"
"""


def test_download_from_another_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, fill(UPLOAD_WORKFLOW))
    first = act(tmp_path, repo, run_id="1")
    assert first.jobs == {"put": "success"}, first.summary()

    (repo / ".github" / "workflows" / "w.yml").write_text(fill(CROSS_RUN_WORKFLOW))
    second = act(tmp_path, repo, run_id="2", secrets={"GITHUB_TOKEN": "ghs_test"},
                 repository="acme/renamed")
    assert second.jobs == {"fetch": "success"}, second.summary()
    out = second.output("fetch")
    assert "from run 1" in out
    assert "repo=acme/renamed owner=acme" in out
    assert "run=2 GITHUB_REPOSITORY=acme/renamed" in out
    assert "own run=failure" in second.output("fetch")  # run 2 has no artifact `single`


RECORDERS_WORKFLOW = """
name: recorders
on: push
jobs:
  creds:
    runs-on: ubuntu-24.04
    steps:
      - id: keys
        uses: {aws}
        with:
          aws-access-key-id: ${{{{ secrets.AWS_ACCESS_KEY_ID }}}}
          aws-secret-access-key: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}
          aws-region: eu-west-1
      - env:
          ACCOUNT: ${{{{ steps.keys.outputs.aws-account-id }}}}
        run: |
          echo "region=$AWS_REGION default=$AWS_DEFAULT_REGION account=$ACCOUNT"
          printf '%s' "$AWS_SECRET_ACCESS_KEY" | sha256sum
      - id: no-oidc
        continue-on-error: true
        env:
          RELEASE_BOT_ACT_OIDC_KEYS: ""
        uses: {aws}
        with:
          role-to-assume: arn:aws:iam::123456789012:role/publish
          aws-region: us-east-1
      - uses: {aws}
        with:
          role-to-assume: arn:aws:iam::123456789012:role/publish
          role-session-name: release-bot-publish
          aws-region: us-east-1
      - run: |
          test "$AWS_ACCESS_KEY_ID:$AWS_SESSION_TOKEN" = "ASIAOIDC:oidc-token"
          echo "role-ok $AWS_REGION"
      - id: app
        uses: {app_token}
        with:
          client-id: Iv1.test
          private-key: ${{{{ secrets.APP_KEY }}}}
          permission-contents: write
      - env:
          TOKEN: ${{{{ steps.app.outputs.token }}}}
          SLUG: ${{{{ steps.app.outputs.app-slug }}}}
        run: test "$TOKEN" = "$EXPECTED_TOKEN" && echo "token-ok $SLUG"
      - run: echo built > dist.tar.gz
      - id: attest
        uses: {attest}
        with:
          subject-path: "*.tar.gz"
      - env:
          BUNDLE: ${{{{ steps.attest.outputs.bundle-path }}}}
          URL: ${{{{ steps.attest.outputs.attestation-url }}}}
        run: test -f "$BUNDLE" && echo "attested $URL"
      - run: echo "outcome no-oidc=${{{{ steps.no-oidc.outcome }}}}"
"""


def test_recording_standins(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, fill(RECORDERS_WORKFLOW))
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEtest\n-----END RSA PRIVATE KEY-----"
    run = act(tmp_path, repo,
              env={"RELEASE_BOT_ACT_OIDC_KEYS": "ASIAOIDC:oidc-secret:oidc-token",
                   "RELEASE_BOT_ACT_APP_TOKEN": "ghs_app_token", "EXPECTED_TOKEN": "ghs_app_token"},
              secrets={"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": KEY_SECRET,
                       "APP_KEY": key})
    assert run.jobs == {"creds": "success"}, run.summary()
    out = run.output("creds")
    assert "region=eu-west-1 default=eu-west-1 account=123456789012" in out
    assert hashlib.sha256(KEY_SECRET.encode()).hexdigest() in out
    assert "role-ok us-east-1" in out
    assert "token-ok release-bot-act" in out
    assert "attested https://github.com/acme/buildpack/attestations/" in out
    assert "outcome no-oidc=failure" in out
    assert "role-to-assume needs RELEASE_BOT_ACT_OIDC_KEYS" in run.log
    for secret in (KEY_SECRET, "MIIEtest", "ghs_app_token", "oidc-secret", "AKIATEST"):
        assert secret not in run.log

    aws = run.calls("configure-aws-credentials")
    assert [c["mode"] for c in aws] == ["access-keys", "assume-role"]
    assert aws[0]["inputs"]["aws-secret-access-key"] == "***"
    assert aws[1]["inputs"]["role-session-name"] == "release-bot-publish"
    assert KEY_SECRET not in json.dumps(aws)
    (app,) = run.calls("create-github-app-token")
    assert app["inputs"]["client-id"] == "Iv1.test"
    assert app["inputs"]["permission-contents"] == "write"
    assert app["inputs"]["private-key-sha256"] == hashlib.sha256(key.encode()).hexdigest()
    (attest,) = run.calls("attest")
    assert attest["inputs"]["subject-path"] == "*.tar.gz"
    assert attest["subjects"] == [{"name": "dist.tar.gz", "path": "dist.tar.gz",
                                   "digest": {"sha256": hashlib.sha256(b"built\n").hexdigest()}}]
    assert attest["predicate-type"] == "https://slsa.dev/provenance/v1"


CHECKOUT_WORKFLOW = """
name: checkout
on: push
jobs:
  with-checkout:
    runs-on: ubuntu-24.04
    steps:
      - id: co
        uses: {checkout}
        with:
          persist-credentials: false
      - run: |
          echo "commit=${{{{ steps.co.outputs.commit }}}} ref=${{{{ steps.co.outputs.ref }}}}"
          cat data.txt
          test ! -e untracked.txt && echo "no untracked file"
  without-checkout:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "workspace entries=$(ls -A | wc -l)"
"""


def test_checkout_clones_without_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_BOT_HOST_ONLY", "host-value")  # must not reach any job
    repo = make_repo(tmp_path, fill(CHECKOUT_WORKFLOW))
    (repo / "untracked.txt").write_text("not committed\n")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    run = act(tmp_path, repo, skip_checkout=False)
    assert run.jobs == {"with-checkout": "success", "without-checkout": "success"}, run.summary()
    out = run.output("with-checkout")
    assert f"commit={head} ref=refs/heads/main" in out
    assert "tracked" in out and "no untracked file" in out
    assert "workspace entries=0" in run.output("without-checkout")
    assert "host-value" not in run.log


MATRIX_WORKFLOW = """
name: matrix/names
on: push
jobs:
  named:
    name: build (${{ matrix.stack }})
    runs-on: ubuntu-24.04
    strategy:
      fail-fast: false
      matrix:
        stack: [stack-a, stack-b]
    steps:
      - run: test "${{ matrix.stack }}" = stack-a && echo "built ${{ matrix.stack }}"
  plain:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: echo "n=${{ matrix.n }}"
  off:
    if: false
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
"""


def test_job_results_by_id_and_display_name(tmp_path: Path) -> None:
    run = act(tmp_path, make_repo(tmp_path, MATRIX_WORKFLOW))
    assert run.jobs == {"named": "failure", "plain": "success", "off": "skipped",
                        "build (stack-a)": "success", "build (stack-b)": "failure",
                        "plain (1)": "success", "plain (2)": "success"}, run.summary()
    assert "built stack-a" in run.output("build (stack-a)")
    assert "[build (stack-a)] built stack-a" in run.text.splitlines()
    assert run.output("build (stack-b)") == ""
    assert "n=1" in run.output("plain") and "n=2" in run.output("plain")
    assert ("test \"stack-b\" = stack-a && echo \"built stack-b\"", "failure") \
        in run.steps("build (stack-b)")
