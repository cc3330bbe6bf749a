"""Stand-in for actions/attest v4 (and so attest-build-provenance; stdlib only).

Checks the subject inputs as the real action does (exactly one of subject-path,
subject-digest, subject-checksums; subject-name with subject-digest), resolves subject-path
(newline- or comma-separated globs, `**` included) to files and their sha256, and appends the
call to $RELEASE_BOT_ACT_LOG_DIR/attest.jsonl. Outputs a small JSON bundle in $RUNNER_TEMP,
an attestation id and URL; no signing, no registry.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import sys
import uuid
from pathlib import Path

PROVENANCE = "https://slsa.dev/provenance/v1"


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


class Failed(Exception):
    pass


def subjects(inputs: dict[str, str]) -> list[dict[str, object]]:
    path, digest = inputs.get("subject-path", ""), inputs.get("subject-digest", "")
    checksums = inputs.get("subject-checksums", "")
    if sum(bool(x) for x in (path, digest, checksums)) != 1:
        raise Failed("One of subject-path, subject-digest, or subject-checksums must be provided")
    if digest:
        name = inputs.get("subject-name", "")
        if not name:
            raise Failed("subject-name must be provided when using subject-digest")
        algorithm, _, value = digest.partition(":")
        if algorithm not in ("sha256", "sha512") or not re.fullmatch(r"[0-9a-f]+", value):
            raise Failed(f"subject-digest must be in the format \"<algorithm>:<digest>\": {digest}")
        return [{"name": name, "digest": {algorithm: value}}]
    found: list[dict[str, object]] = []
    if checksums:
        for line in Path(checksums).read_text().splitlines():
            if line.strip():
                value, name = line.split(maxsplit=1)
                found.append({"name": name.lstrip("*"), "digest": {"sha256": value}})
        return found
    for pattern in (p.strip() for p in re.split(r"[,\n]", path)):
        for file in sorted(glob.glob(pattern, recursive=True)):
            if os.path.isfile(file):
                sha = hashlib.sha256(Path(file).read_bytes()).hexdigest()
                found.append({"name": os.path.basename(file), "path": file,
                              "digest": {"sha256": sha}})
    if not found:
        raise Failed(f"Could not find subject at path {path}")
    return found


def main() -> int:
    inputs = {k: "" if v is None else str(v)
              for k, v in json.loads(os.environ.get("STANDIN_INPUTS") or "{}").items()}
    try:
        found = subjects(inputs)
    except Failed as err:
        print(f"::error::{err}")
        return 1
    predicate_type = inputs.get("predicate-type") or PROVENANCE
    given = {k: v for k, v in inputs.items() if v != "" and k != "github-token"}
    key = json.dumps(found, sort_keys=True).encode()
    attestation_id = str(int(hashlib.sha256(key).hexdigest()[:8], 16))
    record("attest.jsonl", {"job": os.environ.get("GITHUB_JOB", ""),
                            "run_id": os.environ.get("RELEASE_BOT_ACT_RUN_ID", "1"),
                            "inputs": given, "subjects": found, "predicate-type": predicate_type,
                            "attestation-id": attestation_id})
    bundle = Path(os.environ.get("RUNNER_TEMP") or "/tmp") / f"attestation-{attestation_id}.json"
    bundle.write_text(json.dumps({"stand-in": "actions/attest", "predicateType": predicate_type,
                                  "subjects": found}, indent=2))
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    set_output("bundle-path", str(bundle))
    set_output("attestation-id", attestation_id)
    set_output("attestation-url", f"{server}/{repo}/attestations/{attestation_id}")
    set_output("storage-record-ids", "")
    for subject in found:
        print(f"attest stand-in: {subject['name']} {subject['digest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
