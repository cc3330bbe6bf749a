"""Stand-in for actions/setup-python v7 (stdlib only; inputs as JSON in STANDIN_INPUTS).

No download. With $RELEASE_BOT_ACT_PYTHON (a prepared venv's python that already has the
bot's dependencies, for speed) the job gets a fresh venv of its own whose site-packages also
sees that venv's (a .pth file), so a `pip install` in the job installs into the job's venv,
never into the prepared one, and finds the dependencies already there; else the host
python3 running this script. Its scripts directory and a directory of
`python`/`python3`/`pip`/`pip3` wrappers go on PATH. Wrappers, not symlinks: a symlink to
a venv's python loses the venv (Python finds pyvenv.cfg from the path it was started by).
It fails when the interpreter's major version is below the one asked for; a different
minor version is only reported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from standin_env import record_environment, standin_inputs

PROBE = ("import json, sys, sysconfig; print(json.dumps({'version': '%d.%d.%d' % "
         "sys.version_info[:3], 'prefix': sys.prefix, 'scripts': sysconfig.get_path('scripts'), "
         "'base': getattr(sys, '_base_executable', sys.executable), "
         "'site': sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})}))")


def job_venv(prepared: str) -> str:
    """A fresh venv for this job that also sees `prepared`'s site-packages."""
    facts = json.loads(subprocess.run([prepared, "-c", PROBE], check=True,
                                      capture_output=True, text=True).stdout)
    venv = Path(os.environ.get("RUNNER_TEMP") or "/tmp") / f"python-{uuid.uuid4().hex[:8]}"
    subprocess.run([facts["base"], "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = json.loads(subprocess.run([python, "-c", PROBE], check=True, capture_output=True,
                                     text=True).stdout)["site"][0]
    Path(site, "release-bot-act-prepared.pth").write_text("\n".join(facts["site"]) + "\n")
    return python


def append(var: str, line: str) -> None:
    with open(os.environ[var], "a", encoding="utf-8") as out:
        out.write(line + "\n")


def set_output(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    append("GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}")


def requested(inputs: dict[str, str]) -> str:
    if inputs.get("python-version"):
        return inputs["python-version"].strip()
    version_file = inputs.get("python-version-file") or ".python-version"
    path = Path(version_file)
    if path.is_file():
        lines = path.read_text().split()
        return lines[0] if lines else ""
    if inputs.get("python-version-file"):
        print(f"::error::The specified python version file at: {path} does not exist")
        raise SystemExit(1)
    return ""


def main() -> int:
    record_environment("setup-python")
    inputs = standin_inputs()
    python = os.environ.get("RELEASE_BOT_ACT_PYTHON") or sys.executable
    if not os.access(python, os.X_OK):
        print(f"::error::setup-python stand-in: RELEASE_BOT_ACT_PYTHON={python} is not executable")
        return 1
    if os.environ.get("RELEASE_BOT_ACT_PYTHON"):
        python = job_venv(python)
    facts = json.loads(subprocess.run([python, "-c", PROBE], check=True, capture_output=True,
                                      text=True).stdout)
    want = requested(inputs)
    if want.lower().startswith(("pypy", "graalpy")):
        print(f"::error::setup-python stand-in: only CPython, not {want}")
        return 1
    major = re.search(r"\d+", want)
    have = tuple(int(x) for x in facts["version"].split("."))
    if major and have[0] < int(major.group()):
        print(f"::error::setup-python stand-in: {python} is Python {facts['version']}; "
              f"the workflow asks for {want}")
        return 1
    print(f"setup-python stand-in: Python {facts['version']} ({python}) for '{want}'")
    shims = Path(os.environ.get("RUNNER_TEMP") or "/tmp") / "setup-python-stand-in"
    shims.mkdir(parents=True, exist_ok=True)
    for name, tail in (("python", ""), ("python3", ""), ("pip", " -m pip"), ("pip3", " -m pip")):
        wrapper = shims / name
        wrapper.write_text(f'#!/bin/sh\nexec "{python}"{tail} "$@"\n')
        wrapper.chmod(0o755)
    append("GITHUB_PATH", facts["scripts"])
    append("GITHUB_PATH", str(shims))
    if inputs.get("update-environment", "true").lower() == "true":
        prefix = facts["prefix"]
        for var in ("pythonLocation", "Python_ROOT_DIR", "Python2_ROOT_DIR", "Python3_ROOT_DIR"):
            append("GITHUB_ENV", f"{var}={prefix}")
        append("GITHUB_ENV", f"PKG_CONFIG_PATH={prefix}/lib/pkgconfig")
    set_output("python-version", facts["version"])
    set_output("python-path", python)
    set_output("cache-hit", "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
