"""Stand-in for actions/checkout v7 (stdlib only; inputs as JSON in STANDIN_INPUTS).

act does not run `actions/checkout` of the workflow's own repository: it copies the repo
dir into the workspace instead. This stand-in runs when a `ref` other than github.ref is
asked for (it checks that commit out in the copy), or under act --no-skip-checkout (the
workspace is empty: it clones $RELEASE_BOT_ACT_REPO_DIR at `ref` or GITHUB_SHA). Only the
workflow's own repository can be checked out. Nothing here touches the global git config
(no safe.directory, no credentials).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], check=False, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"::error::git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def set_output(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def resolve(ref: str, cwd: Path) -> str:
    for candidate in (ref, f"origin/{ref}", f"refs/tags/{ref}"):
        spec = f"{candidate}^{{commit}}"
        done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", spec], check=False,
                              cwd=cwd, capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.strip()
    raise SystemExit(f"::error::A branch or tag with the name '{ref}' could not be found")


def main() -> int:
    inputs = {k: "" if v is None else str(v)
              for k, v in json.loads(os.environ.get("STANDIN_INPUTS") or "{}").items()}
    own = os.environ.get("GITHUB_REPOSITORY", "")
    repository = inputs.get("repository") or own
    if repository.lower() != own.lower():
        print(f"::error::checkout stand-in: only the workflow's own repository ({own}) can be "
              f"checked out under act, not {repository}")
        return 1
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    dest = (workspace / inputs.get("path", "")).resolve()
    ref = inputs.get("ref", "")
    if not (dest / ".git").exists():
        source = os.environ.get("RELEASE_BOT_ACT_REPO_DIR", "")
        if not source:
            print(f"::error::checkout stand-in: {dest} is no git repository and "
                  "RELEASE_BOT_ACT_REPO_DIR is not set")
            return 1
        dest.mkdir(parents=True, exist_ok=True)
        git("clone", "--quiet", "--no-checkout", source, str(dest), cwd=workspace)
        target = resolve(ref, dest) if ref else os.environ.get("GITHUB_SHA") or "HEAD"
        git("checkout", "--quiet", "--force", "--detach", target, cwd=dest)
    elif ref:
        git("checkout", "--quiet", "--force", "--detach", resolve(ref, dest), cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest)
    print(f"checkout stand-in: {dest} at {commit}")
    set_output("ref", ref or os.environ.get("GITHUB_REF", ""))
    set_output("commit", commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
