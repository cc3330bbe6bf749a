"""Stand-in for aws-actions/configure-aws-credentials v6 (stdlib only; STANDIN_INPUTS JSON).

Access keys given as inputs are exported as the real action exports them (masked first);
`role-to-assume` stands for an OIDC assume-role and exports $RELEASE_BOT_ACT_OIDC_KEYS
("KEYID:SECRET" or "KEYID:SECRET:SESSION_TOKEN") instead, failing when it is unset. The
account id output is $RELEASE_BOT_ACT_AWS_ACCOUNT_ID (default 123456789012). Each call is
appended, without secret values, to $RELEASE_BOT_ACT_LOG_DIR/configure-aws-credentials.jsonl.
`aws-profile` is refused: it would write the host's ~/.aws.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

SECRET_INPUTS = ("aws-secret-access-key", "aws-session-token")


def append(var: str, line: str) -> None:
    with open(os.environ[var], "a", encoding="utf-8") as out:
        out.write(line + "\n")


def set_output(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    append("GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}")


def export(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    append("GITHUB_ENV", f"{name}<<{delimiter}\n{value}\n{delimiter}")


def record(log: str, entry: dict[str, object]) -> None:
    folder = os.environ.get("RELEASE_BOT_ACT_LOG_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / log, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")


def fail(message: str) -> int:
    print(f"::error::{message}")
    return 1


def main() -> int:
    inputs = {k: "" if v is None else str(v)
              for k, v in json.loads(os.environ.get("STANDIN_INPUTS") or "{}").items()}
    given = {k: ("***" if k in SECRET_INPUTS else v) for k, v in inputs.items() if v != ""}
    region = inputs.get("aws-region", "").strip()
    key, secret = inputs.get("aws-access-key-id", ""), inputs.get("aws-secret-access-key", "")
    token, role = inputs.get("aws-session-token", ""), inputs.get("role-to-assume", "")
    entry: dict[str, object] = {"job": os.environ.get("GITHUB_JOB", ""),
                                "run_id": os.environ.get("RELEASE_BOT_ACT_RUN_ID", "1"),
                                "inputs": given}
    if not region:
        return fail("Input required and not supplied: aws-region")
    if inputs.get("aws-profile"):
        return fail("configure-aws-credentials stand-in: aws-profile is not supported")
    if key and not secret:
        return fail("'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided")
    for value in (key, secret, token):
        if value:
            print(f"::add-mask::{value}")
    if role:
        oidc = os.environ.get("RELEASE_BOT_ACT_OIDC_KEYS", "")
        parts = oidc.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            return fail("configure-aws-credentials stand-in: role-to-assume needs "
                        "RELEASE_BOT_ACT_OIDC_KEYS=KEYID:SECRET[:SESSION_TOKEN] (the stand-in "
                        "for the OIDC assume-role)")
        key, secret, token = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        for value in parts:
            print(f"::add-mask::{value}")
        entry["mode"] = "assume-role"
    elif key:
        entry["mode"] = "access-keys"
    else:
        return fail("Credentials could not be loaded, please check your action inputs: "
                    "Could not load credentials from any providers")
    entry["access_key_id"] = key
    record("configure-aws-credentials.jsonl", entry)
    export("AWS_DEFAULT_REGION", region)
    export("AWS_REGION", region)
    if inputs.get("output-env-credentials", "").lower() != "false":
        export("AWS_ACCESS_KEY_ID", key)
        export("AWS_SECRET_ACCESS_KEY", secret)
        if token:
            export("AWS_SESSION_TOKEN", token)
        elif os.environ.get("AWS_SESSION_TOKEN"):
            export("AWS_SESSION_TOKEN", "")
    account = os.environ.get("RELEASE_BOT_ACT_AWS_ACCOUNT_ID") or "123456789012"
    if inputs.get("mask-aws-account-id", "").lower() == "true":
        print(f"::add-mask::{account}")
    set_output("aws-account-id", account)
    if inputs.get("output-credentials", "").lower() == "true":
        set_output("aws-access-key-id", key)
        set_output("aws-secret-access-key", secret)
        if token:
            set_output("aws-session-token", token)
    print(f"configure-aws-credentials stand-in: {entry['mode']} in {region}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
