"""What the Python stand-ins share (stdlib only): their inputs, and the job's environment
recorded for the tests. The harness stages this file beside each stand-in's script
(`tests.workflows.standins.SHARED`), which imports it from its own folder."""

from __future__ import annotations

import json
import os
from pathlib import Path


def standin_inputs() -> dict[str, str]:
    """The action's inputs, from the composite step's `STANDIN_INPUTS: ${{ toJSON(inputs) }}`."""
    return {k: "" if v is None else str(v)
            for k, v in json.loads(os.environ.get("STANDIN_INPUTS") or "{}").items()}


def record_environment(action: str) -> None:
    """The job's environment as this step sees it, less the action's own inputs (the tests
    check which secrets reached which job): a line in $RELEASE_BOT_ACT_LOG_DIR/env.jsonl."""
    folder = os.environ.get("RELEASE_BOT_ACT_LOG_DIR")
    if folder:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("INPUT_", "STANDIN_"))}
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / "env.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps({"job": os.environ.get("GITHUB_JOB", ""), "action": action,
                                  "env": env}) + "\n")
