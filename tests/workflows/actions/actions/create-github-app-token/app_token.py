"""Stand-in for actions/create-github-app-token v3 (stdlib only; STANDIN_INPUTS JSON).

The token is $RELEASE_BOT_ACT_APP_TOKEN (failing when unset), masked like the real one;
installation-id and app-slug are $RELEASE_BOT_ACT_APP_INSTALLATION_ID (default 1) and
$RELEASE_BOT_ACT_APP_SLUG (default release-bot-act). Each call is appended to
$RELEASE_BOT_ACT_LOG_DIR/create-github-app-token.jsonl with the private key replaced by
its sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid
from pathlib import Path


def set_output(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def record(log: str, entry: dict[str, object]) -> None:
    folder = os.environ.get("RELEASE_BOT_ACT_LOG_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / log, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")


def main() -> int:
    inputs = {k: "" if v is None else str(v)
              for k, v in json.loads(os.environ.get("STANDIN_INPUTS") or "{}").items()}
    key = inputs.get("private-key", "")
    if not key:
        print("::error::Input required and not supplied: private-key")
        return 1
    if not inputs.get("client-id") and not inputs.get("app-id"):
        print("::error::Either 'client-id' or 'app-id' input must be set")
        return 1
    token = os.environ.get("RELEASE_BOT_ACT_APP_TOKEN", "")
    if not token:
        print("::error::create-github-app-token stand-in: RELEASE_BOT_ACT_APP_TOKEN is not set")
        return 1
    print(f"::add-mask::{token}")
    given: dict[str, object] = {k: v for k, v in inputs.items() if v != "" and k != "private-key"}
    given["private-key-sha256"] = hashlib.sha256(key.encode()).hexdigest()
    run_id = os.environ.get("RELEASE_BOT_ACT_RUN_ID", "1")
    record("create-github-app-token.jsonl",
           {"job": os.environ.get("GITHUB_JOB", ""), "run_id": run_id, "inputs": given})
    set_output("token", token)
    set_output("installation-id", os.environ.get("RELEASE_BOT_ACT_APP_INSTALLATION_ID") or "1")
    set_output("app-slug", os.environ.get("RELEASE_BOT_ACT_APP_SLUG") or "release-bot-act")
    print("create-github-app-token stand-in: token from RELEASE_BOT_ACT_APP_TOKEN")
    return 0


if __name__ == "__main__":
    sys.exit(main())
