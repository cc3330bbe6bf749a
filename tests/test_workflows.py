"""Contract tests for .github/workflows: hygiene, the real CLI, the plan -> matrix hand-off.

The workflows' `run:` scripts are executed by bash here (as the runner would run them), with
the `env:` their steps set (the `${{ }}` expressions evaluated against sample contexts):

* with a recording stand-in for `release-bot` on PATH, every command line they produce must
  parse with the real click CLI (`bot.cli.cli`), and each workflow_dispatch input must change
  some option of some command;
* with the real `release-bot`, `test_replay_build_workflow` replays build.yml's jobs in order
  (plan, build, smoke, publish, release) against the local Docker engine, the moto S3 server
  and the fake GitHub.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bot.cli import cli
from tests.clirunner import run_cli
from tests.fakegithub.server import FakeGitHub
from tests.harness import docker as hdocker
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer
from tests.projects import addon_project, hello_project, make_tarball
from tests.test_publish_s3 import make_public

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
VENV_BIN = Path(sys.executable).parent

Job = dict[str, Any]
Step = dict[str, Any]


# -- loading ----------------------------------------------------------------------------
def load_workflow(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), f"{path.name}: not a mapping"
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


WORKFLOW_PATHS = sorted(WORKFLOW_DIR.glob("*.y*ml"))
WORKFLOWS = {p.name: load_workflow(p) for p in WORKFLOW_PATHS}


def jobs_of(name: str) -> dict[str, Job]:
    jobs = WORKFLOWS[name]["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def run_steps(job: Job) -> Iterator[tuple[int, Step]]:
    for i, step in enumerate(job.get("steps", [])):
        if "run" in step:
            yield i, step


def dispatch_inputs(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    on = workflow["on"]
    dispatch = on.get("workflow_dispatch") if isinstance(on, dict) else None
    return dict((dispatch or {}).get("inputs") or {})


# -- a small evaluator of ${{ }} expressions ---------------------------------------------
_CONTEXT_PATH = re.compile(r"\b(?:inputs|matrix|vars|secrets|github|steps|env|needs|runner)"
                           r"(?:\.[A-Za-z_][A-Za-z0-9_-]*)+")
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def _translate(expr: str) -> str:
    """GitHub's expression syntax -> Python (operands of && and || come back as in JS)."""
    parts = re.split(r"('(?:[^']|'')*')", expr)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a string literal; '' is an escaped quote
            out.append(repr(part[1:-1].replace("''", "'")))
            continue
        code = _CONTEXT_PATH.sub(lambda m: f"_ctx({m.group(0)!r})", part)
        code = code.replace("&&", " and ").replace("||", " or ")
        code = re.sub(r"!(?!=)", " not ", code)
        code = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", code))
        out.append(re.sub(r"\bnull\b", "None", code))
    return "".join(out).strip()


@dataclass
class Contexts:
    """What `${{ }}` expressions see. Unknown paths are null, as on GitHub."""

    inputs: dict[str, Any] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    github: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    needs: dict[str, Any] = field(default_factory=dict)
    default_secret: str | None = None

    def lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        value: Any = getattr(self, head)
        if head == "secrets" and rest and rest[0] not in self.secrets:
            return self.default_secret or ""  # an unset secret or variable reads as ''
        if head == "vars" and rest and rest[0] not in self.vars:
            return ""
        for key in rest:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    def evaluate(self, expr: str, *, failed: bool = False) -> Any:
        names: dict[str, Any] = {
            "__builtins__": {}, "_ctx": self.lookup, "fromJSON": json.loads,
            "toJSON": json.dumps, "cancelled": lambda: False, "success": lambda: not failed,
            "failure": lambda: failed, "always": lambda: True,
        }
        return eval(_translate(expr), names)

    def interpolate(self, text: Any) -> str:
        if not isinstance(text, str):
            return as_string(text)
        return _EXPR.sub(lambda m: as_string(self.evaluate(m.group(1))), text)

    def condition(self, text: Any, *, failed: bool = False) -> bool:
        """An `if:`; without a status function it is `success() && (...)`, as on GitHub."""
        if text is None:
            text = "success()"
        if isinstance(text, bool):
            return text and not failed
        m = _EXPR.fullmatch(text.strip())
        expr = m.group(1) if m else text
        if not re.search(r"\b(?:success|failure|always|cancelled)\(", expr):
            expr = f"success() && ({expr})"
        return bool(self.evaluate(expr, failed=failed))


def as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def test_expression_evaluator_follows_github_semantics() -> None:
    ctx = Contexts(inputs={"component": "all", "force": False, "dry-run": True})
    assert ctx.interpolate("${{ inputs.component != 'all' && inputs.component || '' }}") == ""
    ctx.inputs["component"] = "xsp"
    assert ctx.interpolate("${{ inputs.component != 'all' && inputs.component || '' }}") == "xsp"
    assert ctx.interpolate("${{ inputs.force && '1' || '' }}") == ""
    assert ctx.interpolate("${{ inputs.dry-run && '1' || '' }}") == "1"
    assert ctx.condition("!cancelled() && inputs.missing == null")


# -- running a step's script under bash ---------------------------------------------------
def parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT / $GITHUB_ENV: `name=value` lines and `name<<DELIM` heredocs."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if line:
            name, _, value = line.partition("=")
            out[name] = value
        i += 1
    return out


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def step_env(workflow: Mapping[str, Any], job: Job, step: Step, ctx: Contexts
             ) -> dict[str, str]:
    env: dict[str, str] = {}
    for scope in (workflow.get("env"), job.get("env"), step.get("env")):
        for key, value in (scope or {}).items():
            ctx.env = dict(env)
            env[key] = ctx.interpolate(value)
    return env


def run_script(script: str, env: Mapping[str, str], cwd: Path, *, base_env: Mapping[str, str]
               ) -> StepRun:
    """Run like the runner does (`bash -e {0}`), with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY."""
    work = cwd / ".runner"
    work.mkdir(exist_ok=True)
    n = len(list(work.glob("step-*.sh")))
    path, output, summary = (work / f"step-{n}.sh", work / f"output-{n}",
                             work / f"summary-{n}.md")
    path.write_text(script)
    output.touch()
    summary.touch()
    full = {**base_env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
            **env}
    proc = subprocess.run(["bash", "-e", str(path)], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=3600, check=False)
    return StepRun(proc.returncode, proc.stdout, proc.stderr,
                   parse_output_file(output.read_text()), summary.read_text())


# -- the CLI ------------------------------------------------------------------------------
def parse_cli(argv: list[str]) -> tuple[str, click.Command, dict[str, Any]]:
    """Parse `release-bot ARGV` with the real click CLI (no callback runs): the subcommand
    name, the command, its parsed parameters. Raises click's errors on a bad command line."""
    ctx = cli.make_context("release-bot", list(argv))
    rest = [*ctx._protected_args, *ctx.args]  # the group leaves the subcommand's argv here
    assert rest, f"release-bot {' '.join(argv)}: no subcommand"
    name, command, args = cli.resolve_command(ctx, rest)
    assert name is not None and command is not None
    sub = command.make_context(name, list(args), parent=ctx)
    return name, command, dict(sub.params)


RECORDER = """#!{python}
# records its argv; prints an empty but well-formed result where the real one prints JSON
import json, os, sys
argv = sys.argv[1:]
with open(os.environ["RELEASE_BOT_RECORD"], "a") as fh:
    fh.write(json.dumps(argv) + "\\n")
if "--json" in argv:
    print(json.dumps({{"include": []}} if "plan" in argv else []))
if "--output" in argv[:-1]:
    out = argv[argv.index("--output") + 1]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    open(out, "w").write("notes")
"""


@pytest.fixture
def recorder(tmp_path: Path) -> dict[str, str]:
    """A `release-bot` on PATH that records its argv (one JSON list a line)."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    fake = bindir / "release-bot"
    fake.write_text(RECORDER.format(python=sys.executable))
    fake.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path), "RELEASE_BOT_RECORD": str(tmp_path / "argv.jsonl")}


SAMPLE_MATRIX = {"component": "xsp", "version": "4.7.1", "stack": "heroku-24"}
SAMPLE_INPUTS = {"version": "6.14.1", "sha256": "ab" * 32, "stacks": "heroku-22 heroku-24"}


def sample_input(name: str, spec: Mapping[str, Any]) -> Any:
    """A value that differs from the input's default."""
    kind = spec.get("type", "string")
    if kind == "boolean":
        return not spec.get("default", False)
    if kind == "choice":
        return next(o for o in spec["options"] if o != spec.get("default"))
    return SAMPLE_INPUTS.get(name, f"sample-{name}")


def default_inputs(workflow: Mapping[str, Any]) -> dict[str, Any]:
    return {n: s.get("default", False if s.get("type") == "boolean" else "")
            for n, s in dispatch_inputs(workflow).items()}


def sample_contexts(inputs: Mapping[str, Any]) -> Contexts:
    return Contexts(
        inputs=dict(inputs), matrix=dict(SAMPLE_MATRIX),
        vars={"RELEASE_BOT_STORE": "s3://releases/buildpack", "AWS_REGION": "us-east-1",
              "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/release-bot"},
        github={"token": "ghs_sampletoken", "repository": "acme/buildpack"},
        default_secret="sample-secret",
    )


def recorded_commands(workflow_name: str, inputs: Mapping[str, Any], base_env: dict[str, str],
                      cwd: Path) -> dict[tuple[str, int], list[list[str]]]:
    """{(job, step index): [argv, ...]} of every release-bot call the run steps make."""
    workflow = WORKFLOWS[workflow_name]
    record = Path(base_env["RELEASE_BOT_RECORD"])
    calls: dict[tuple[str, int], list[list[str]]] = {}
    for job_name, job in jobs_of(workflow_name).items():
        for i, step in run_steps(job):
            if "release-bot" not in step["run"]:
                continue
            ctx = sample_contexts(inputs)
            record.write_text("")
            result = run_script(step["run"], step_env(workflow, job, step, ctx), cwd,
                                base_env=base_env)
            assert result.code == 0, (f"{workflow_name} {job_name} step {i}: "
                                      f"{result.stderr}")
            calls[(job_name, i)] = [json.loads(line) for line in
                                    record.read_text().splitlines()]
    return calls


def scenarios(workflow_name: str) -> dict[str, dict[str, Any]]:
    workflow = WORKFLOWS[workflow_name]
    defaults = default_inputs(workflow)
    every = {n: sample_input(n, s) for n, s in dispatch_inputs(workflow).items()}
    return {"push or schedule (no inputs)": {}, "dispatch, defaults": defaults,
            "dispatch, every input set": every}


# -- the workflows are there and well-formed ---------------------------------------------
def test_the_three_workflows_exist() -> None:
    assert {"poll.yml", "build.yml", "ci.yml"} <= set(WORKFLOWS)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_hygiene(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert workflow.get("permissions") == {}, f"{name}: needs `permissions: {{}}` at the top"
    for job_name, job in jobs_of(name).items():
        where = f"{name} job {job_name}"
        assert isinstance(job.get("timeout-minutes"), int), f"{where}: no timeout-minutes"
        assert isinstance(job.get("permissions"), dict), f"{where}: no explicit permissions"
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, \
                    f"{where}: checkout without persist-credentials: false"
            if "run" in step:
                assert "${{" not in step["run"], (
                    f"{where}: `${{{{ }}}}` inside run: {step['run']!r}; pass it through env:")


@pytest.mark.parametrize("path", WORKFLOW_PATHS, ids=lambda p: p.name)
def test_actions_are_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    uses = [line.strip() for line in path.read_text().splitlines()
            if re.match(r"\s*(?:-\s+)?uses:", line)]
    assert uses, f"{path.name} uses no action"
    pinned = re.compile(r"(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s+v\d+(?:\.\d+)*$")
    bad = [u for u in uses if not pinned.fullmatch(u)]
    assert not bad, f"{path.name}: not pinned by full SHA with a version comment: {bad}"


def test_publish_is_the_only_job_with_aws_credentials_and_release_the_only_writer() -> None:
    for name in WORKFLOWS:
        for job_name, job in jobs_of(name).items():
            text = json.dumps(job)
            aws = "configure-aws-credentials" in text or "AWS_SECRET_ACCESS_KEY" in text
            oidc = job["permissions"].get("id-token") == "write"
            if name == "build.yml" and job_name == "publish":
                assert aws and oidc, "publish must assume the AWS role (OIDC) or use keys"
            else:
                assert not aws and not oidc, f"{name} {job_name} must not get AWS credentials"
    writers = {j for j, job in jobs_of("build.yml").items()
               if "write" in {v for k, v in job["permissions"].items() if k != "id-token"}}
    assert writers == {"release"}


def test_poll_is_scheduled_and_never_races() -> None:
    poll = WORKFLOWS["poll.yml"]
    crons = [s["cron"] for s in poll["on"]["schedule"]]
    assert crons and all(c.split()[1] == "*/6" for c in crons), crons
    assert "workflow_dispatch" in poll["on"]
    assert poll["concurrency"]["group"] and poll["concurrency"]["cancel-in-progress"] is False


def test_build_runs_on_versions_toml_and_by_hand() -> None:
    on = WORKFLOWS["build.yml"]["on"]
    assert on["push"]["paths"] == ["versions.toml"]
    assert set(dispatch_inputs(WORKFLOWS["build.yml"])) == {
        "component", "version", "sha256", "stacks", "force", "dry-run"}
    assert dispatch_inputs(WORKFLOWS["build.yml"])["component"]["options"] == [
        "all", "mono", "xsp"]
    build = jobs_of("build.yml")
    for name, job in build.items():
        if "strategy" in job:
            assert job["strategy"]["fail-fast"] is False, f"{name}: fail-fast must be false"


# -- poll's token choice ------------------------------------------------------------------
@pytest.mark.parametrize(("app_token", "pat", "warned"), [
    ("", "", True), ("ghs_app", "", False), ("", "ghp_pat", False)])
def test_poll_warns_when_it_falls_back_to_github_token(
        tmp_path: Path, app_token: str, pat: str, warned: bool) -> None:
    job = jobs_of("poll.yml")["pr"]
    ctx = Contexts(steps={"app-token": {"outputs": {"token": app_token}}},
                   secrets={"RELEASE_BOT_TOKEN": pat}, github={"token": "ghs_workflow"})
    warnings = []
    chosen = None
    for _, step in run_steps(job):
        env = step_env(WORKFLOWS["poll.yml"], job, step, ctx)
        if "RELEASE_BOT_GITHUB_TOKEN" in env:
            chosen = env["RELEASE_BOT_GITHUB_TOKEN"]
            continue
        result = run_script(step["run"], env, tmp_path, base_env={"PATH": "/usr/bin:/bin"})
        warnings += [line for line in result.stdout.splitlines()
                     if line.startswith("::warning")]
    assert chosen == (app_token or pat or "ghs_workflow")
    assert bool(warnings) == warned, warnings
    if warned:
        assert "start" in warnings[0] and "no workflows" in warnings[0]


# -- every release-bot command line parses with the real CLI -------------------------------
@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_release_bot_command_parses(name: str, recorder: dict[str, str],
                                          tmp_path: Path) -> None:
    problems: list[str] = []
    seen = 0
    for label, inputs in scenarios(name).items():
        calls = recorded_commands(name, inputs, recorder, tmp_path)
        for (job, i), argvs in calls.items():
            for argv in argvs:
                seen += 1
                where = f"{name} {job} step {i} ({label}): release-bot {' '.join(argv)}"
                try:
                    parse_cli(argv)
                except click.ClickException as exc:
                    problems.append(f"{where}\n    -> {exc.format_message()}")
    if name == "ci.yml":
        assert seen == 0
        return
    assert seen, f"{name} runs no release-bot command"
    assert not problems, "command lines the real CLI rejects:\n" + "\n".join(problems)


@pytest.mark.parametrize(("name", "input_name"), [
    (n, i) for n in sorted(WORKFLOWS) for i in sorted(dispatch_inputs(WORKFLOWS[n]))])
def test_each_dispatch_input_maps_to_a_cli_option(name: str, input_name: str,
                                                  recorder: dict[str, str],
                                                  tmp_path: Path) -> None:
    workflow = WORKFLOWS[name]
    base = default_inputs(workflow)
    changed = {**base, input_name: sample_input(input_name,
                                                dispatch_inputs(workflow)[input_name])}
    before = recorded_commands(name, base, recorder, tmp_path)
    after = recorded_commands(name, changed, recorder, tmp_path)
    mapped: list[str] = []
    errors: list[str] = []
    for key, argvs in after.items():
        for old, new in zip(before[key], argvs, strict=True):
            if old == new:
                continue
            try:
                sub, _, new_params = parse_cli(new)
                _, _, old_params = parse_cli(old)
            except click.ClickException as exc:
                errors.append(f"{key}: release-bot {' '.join(new)} -> {exc.format_message()}")
                continue
            mapped += [f"{sub} {p}" for p in new_params if new_params[p] != old_params.get(p)]
    assert not errors, (f"input {input_name!r} of {name} becomes an option the CLI does not "
                        "have:\n" + "\n".join(errors))
    assert mapped, f"input {input_name!r} of {name} changes no option of any release-bot call"


# -- the plan job's output is what the build matrix reads ---------------------------------
FAKE_SHA = "0" * 64


def two_stack_config(path: Path) -> Path:
    path.write_text(f"""
[stacks.heroku-22]
build-image = "heroku/heroku:22-build"
run-image = "heroku/heroku:22"

[stacks.heroku-24]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[components.mono]
version = "6.14.1"
source = "https://dl.winehq.org/mono/sources/mono/mono-{{version}}.tar.xz"
sha256 = "{FAKE_SHA}"

[components.xsp]
version = "4.7.1"
source = "https://github.com/mono/xsp/archive/refs/tags/{{version}}.tar.gz"
sha256 = "{FAKE_SHA.replace("0", "1")}"
requires = ["mono"]
""")
    return path


def plan_job_name(workflow_name: str) -> str:
    names = [n for n, job in jobs_of(workflow_name).items()
             if any(re.search(r"\brelease-bot plan\b", s["run"]) for _, s in run_steps(job))]
    assert len(names) == 1, f"{workflow_name}: expected one job running `release-bot plan`"
    return names[0]


def resolve_plan_outputs(workflow_name: str, plan_stdout: str, reporter_outputs: dict[str, str],
                         cwd: Path) -> dict[str, str]:
    """The plan job's outputs, given what the real `release-bot plan --json` printed and wrote
    to $GITHUB_OUTPUT: the plan step's outputs are the reporter's, every other run step
    between is executed by bash on the plan's files."""
    workflow = WORKFLOWS[workflow_name]
    name = plan_job_name(workflow_name)
    job = jobs_of(workflow_name)[name]
    steps: dict[str, dict[str, Any]] = {}
    for _, step in run_steps(job):
        if re.search(r"\brelease-bot plan\b", step["run"]):
            m = re.search(r">\s*(\S+)", step["run"].split("release-bot plan", 1)[1])
            if m:
                (cwd / m.group(1)).write_text(plan_stdout)
            outputs = dict(reporter_outputs)
        elif "release-bot" in step["run"] or "pip install" in step["run"]:
            continue
        else:
            result = run_script(step["run"], step_env(workflow, job, step, Contexts()), cwd,
                                base_env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
            assert result.code == 0, result.stderr
            outputs = result.outputs
        if "id" in step:
            steps[step["id"]] = {"outputs": outputs}
    ctx = Contexts(steps=steps)
    return {k: ctx.interpolate(v) for k, v in job.get("outputs", {}).items()}


def expand_matrix(matrix: Any) -> list[dict[str, Any]]:
    if isinstance(matrix, dict) and set(matrix) == {"include"}:
        return list(matrix["include"])
    assert isinstance(matrix, dict)
    keys = [k for k in matrix if k not in ("include", "exclude")]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(matrix[k] for k in keys))]


def matrix_jobs(workflow_name: str, plan_outputs: Mapping[str, str]
                ) -> dict[str, list[dict[str, Any]] | None]:
    """{job: its matrix combinations, or None when its `if:` skips it}."""
    plan = plan_job_name(workflow_name)
    ctx = Contexts(needs={**{j: {"result": "success"} for j in jobs_of(workflow_name)},
                          plan: {"outputs": dict(plan_outputs), "result": "success"}})
    found: dict[str, list[dict[str, Any]] | None] = {}
    for name, job in jobs_of(workflow_name).items():
        strategy = job.get("strategy") or {}
        if "matrix" not in strategy:
            continue
        raw = json.dumps(strategy["matrix"])
        assert f"needs.{plan}.outputs." in raw, f"{name}: matrix not read from the plan job"
        if not ctx.condition(job.get("if")):
            found[name] = None
            continue
        matrix = strategy["matrix"]
        if isinstance(matrix, str):
            m = _EXPR.fullmatch(matrix.strip())
            assert m, f"{name}: matrix {matrix!r}"
            matrix = ctx.evaluate(m.group(1))
        else:
            matrix = {k: ctx.evaluate(_EXPR.fullmatch(v.strip()).group(1))  # type: ignore[union-attr]
                      if isinstance(v, str) else v for k, v in matrix.items()}
        found[name] = expand_matrix(matrix)
    return found


def real_plan(tmp_path: Path, *extra: str) -> tuple[str, dict[str, str]]:
    config = two_stack_config(tmp_path / "versions.toml")
    output = tmp_path / "github-output"
    output.touch()
    result = run_cli(["--config", str(config), "plan", "--json", "--store",
                      f"file://{tmp_path / 'store'}", *extra],
                     env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
                          "RELEASE_BOT_CACHE": str(tmp_path / "cache")}, cwd=tmp_path)
    assert result.code == 0, result.output
    return result.stdout, parse_output_file(output.read_text())


def test_plan_output_is_what_the_build_matrix_reads(tmp_path: Path) -> None:
    stdout, outputs = real_plan(tmp_path)
    planned = json.loads(stdout)["include"]
    assert json.loads(outputs["matrix"]) == json.loads(stdout)  # the step output = --json
    assert len(planned) == 4
    keys = set(planned[0])
    plan_outputs = resolve_plan_outputs("build.yml", stdout, outputs, tmp_path)
    assert json.loads(plan_outputs["matrix"]) == {"include": planned}
    jobs = matrix_jobs("build.yml", plan_outputs)
    built: list[dict[str, Any]] = []
    for name, combos in jobs.items():
        assert combos, f"{name} is skipped or empty although the plan has work"
        referenced = set(re.findall(r"\bmatrix\.([A-Za-z_][\w-]*)",
                                    json.dumps(jobs_of("build.yml")[name])))
        for combo in combos:
            missing = referenced - set(combo)
            assert not missing, f"{name} reads matrix.{sorted(missing)} that plan never sets"
        if "component" in referenced:
            assert referenced <= keys
            built += combos
    # every planned (component, version, stack) is built exactly once, Mono in an earlier job
    assert sorted(map(json.dumps, built)) == sorted(map(json.dumps, planned))
    order = list(jobs_of("build.yml"))
    stage = {json.dumps(c): order.index(n) for n, cs in jobs.items() for c in cs or []
             if "component" in c}
    for entry in planned:
        if entry["component"] == "xsp":
            mono = {**entry, "component": "mono", "version": "6.14.1"}
            assert stage[json.dumps(mono)] < stage[json.dumps(entry)]
            needs = jobs_of("build.yml")[order[stage[json.dumps(entry)]]]["needs"]
            assert order[stage[json.dumps(mono)]] in needs
    smoke_stacks = {c["stack"] for n, cs in jobs.items() for c in cs or []
                    if "component" not in c}
    assert smoke_stacks == {e["stack"] for e in planned}


def test_nothing_to_build_skips_every_matrix_job(tmp_path: Path) -> None:
    """An empty matrix is an error on GitHub: every matrix job must be skipped instead."""
    stdout, outputs = real_plan(tmp_path, "--component", "mono", "--stack", "heroku-24")
    empty = json.dumps({"include": []})
    plan_outputs = resolve_plan_outputs("build.yml", empty, {**outputs, "matrix": empty,
                                                             "count": "0"}, tmp_path)
    assert all(combos is None for combos in matrix_jobs("build.yml", plan_outputs).values())
    # and with only Mono planned, the XSP stage is skipped while Mono's runs
    plan_outputs = resolve_plan_outputs("build.yml", stdout, outputs, tmp_path)
    jobs = matrix_jobs("build.yml", plan_outputs)
    assert [c for cs in jobs.values() if cs for c in cs if "component" in c] == [
        {"component": "mono", "version": "6.14.1", "stack": "heroku-24"}]


# -- step summaries ---------------------------------------------------------------------
def test_poll_json_still_writes_its_table_to_the_step_summary(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    from tests.test_poll import env_for, seed_all, write_config

    seed_all(upstream, fake_github)
    config = write_config(tmp_path, upstream, xsp="4.7.1")
    summary = tmp_path / "summary.md"
    summary.touch()
    env = {**env_for(tmp_path, fake_github), "GITHUB_ACTIONS": "true",
           "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_cli(["--config", str(config), "poll", "--json"], env=env, cwd=tmp_path)
    assert result.code == 0, result.output
    rows = json.loads(result.stdout)  # stdout stays the JSON alone
    text = summary.read_text()
    assert "| component | current | latest | status | error |" in text
    for row in rows:
        assert f"| {row['component']} | {row['current']} | {row['latest']} | " \
            f"{row['status']} |" in text


# -- linters ------------------------------------------------------------------------------
def linter(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed (pip install '.[test]')")
        return found
    return str(path)


def test_actionlint_is_clean() -> None:
    proc = subprocess.run([linter("actionlint"), *map(str, WORKFLOW_PATHS)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_is_clean() -> None:
    proc = subprocess.run([linter("zizmor"), "--offline", "--no-progress", str(WORKFLOW_DIR)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_is_clean() -> None:
    dockerfiles = sorted(p for p in (ROOT / "images").rglob("Dockerfile*") if p.is_file())
    assert dockerfiles
    proc = subprocess.run([linter("hadolint"), *map(str, dockerfiles)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- replay: build.yml's jobs in order, on this machine -----------------------------------

OWNER, REPO = "acme", "buildpack"


@dataclass
class Runner:
    """Runs one workflow's jobs the way GitHub would, on this machine: a fresh workspace
    per job (the checkout), `run:` steps in bash with the env the workflow sets, the
    actions it uses emulated (artifacts in a directory, AWS keys exported, ...)."""

    workflow: dict[str, Any]
    root: Path
    checkout: dict[str, bytes]
    contexts: Contexts
    base_env: dict[str, str]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def artifacts(self) -> Path:
        return self.root / "artifact-storage"

    def job(self, name: str) -> None:
        job = self.workflow["jobs"][name]
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        ctx = Contexts(**{**self.contexts.__dict__,
                          "needs": {n: self.results[n] for n in needs}})
        needs_failed = any(self.results[n]["result"] != "success" for n in needs)
        if not ctx.condition(job.get("if"), failed=needs_failed):
            self.results[name] = {"result": "skipped", "outputs": {}}
            return
        matrix = (job.get("strategy") or {}).get("matrix")
        combos: list[dict[str, Any]] = [{}]
        if isinstance(matrix, str):
            combos = expand_matrix(ctx.evaluate(_EXPR.fullmatch(matrix.strip()).group(1)))  # type: ignore[union-attr]
        elif isinstance(matrix, dict):
            combos = expand_matrix({k: ctx.evaluate(_EXPR.fullmatch(v.strip()).group(1))  # type: ignore[union-attr]
                                    if isinstance(v, str) else v for k, v in matrix.items()})
        result, outputs = "success", {}
        for i, combo in enumerate(combos):
            ok, outputs = self.run_job(name, i, job, Contexts(**{**ctx.__dict__,
                                                                "matrix": combo}))
            result = result if ok else "failure"
        self.results[name] = {"result": result, "outputs": outputs}

    def run_job(self, name: str, index: int, job: Job, ctx: Contexts
                ) -> tuple[bool, dict[str, str]]:
        workspace = self.root / f"{name}-{index}"
        workspace.mkdir()
        for path, data in self.checkout.items():
            (workspace / path).write_bytes(data)
        env = {**self.base_env, "RELEASE_BOT_CACHE": str(workspace / ".cache")}
        steps: dict[str, Any] = {}
        failed = False
        for step in job["steps"]:
            ctx = Contexts(**{**ctx.__dict__, "steps": steps})
            if not ctx.condition(step.get("if"), failed=failed):
                continue
            outputs: dict[str, str] = {}
            if "uses" in step:
                self.emulate(step, ctx, workspace, env)
            elif "pip install" in step["run"]:
                pass  # the venv's release-bot (installed from this tree) is on PATH
            else:
                run = run_script(step["run"], step_env(self.workflow, job, step, ctx),
                                 workspace, base_env=env)
                self.log.append(f"== {name}[{index}] {step.get('name', '')}: exit {run.code}"
                                f"\n{run.stdout[-4000:]}\n{run.stderr[-6000:]}")
                self.summaries[f"{name}[{index}] {step.get('name', '')}"] = run.summary
                outputs = run.outputs
                if run.code != 0 and not step.get("continue-on-error"):
                    failed = True
            if "id" in step:
                steps[step["id"]] = {"outputs": outputs}
        job_outputs = {k: Contexts(**{**ctx.__dict__, "steps": steps}).interpolate(v)
                       for k, v in (job.get("outputs") or {}).items()}
        return not failed, job_outputs

    def emulate(self, step: Step, ctx: Contexts, workspace: Path, env: dict[str, str]) -> None:
        action = step["uses"].split("@")[0]
        with_ = {k: ctx.interpolate(v) for k, v in (step.get("with") or {}).items()}
        if action in ("actions/checkout", "actions/setup-python"):
            return  # the workspace is the checkout; Python is this venv's
        if action == "actions/upload-artifact":
            files = [f for pattern in with_["path"].splitlines() if pattern.strip()
                     and not pattern.startswith("!") for f in workspace.glob(pattern.strip())]
            excluded = {f for pattern in with_["path"].splitlines()
                        if pattern.startswith("!") for f in workspace.glob(pattern[1:].strip())}
            files = [f for f in files if f not in excluded]
            if not files:
                assert with_.get("if-no-files-found") in ("ignore", "warn"), \
                    f"upload-artifact {with_['name']}: no files at {with_['path']}"
                return
            dest = self.artifacts / with_["name"]
            assert not dest.exists(), f"artifact name {with_['name']} used twice"
            dest.mkdir(parents=True)
            for f in files:
                if f.is_dir():
                    shutil.copytree(f, dest, dirs_exist_ok=True)
                else:
                    shutil.copy2(f, dest / f.name)
            return
        if action == "actions/download-artifact":
            import fnmatch

            names = [p.name for p in sorted(self.artifacts.glob("*"))
                     if fnmatch.fnmatchcase(p.name, with_.get("pattern") or with_["name"])]
            assert names or step.get("continue-on-error"), \
                f"download-artifact: no artifact matches {with_.get('pattern')}"
            target = workspace / with_.get("path", ".")
            target.mkdir(parents=True, exist_ok=True)
            for n in names:
                dest = target if with_.get("merge-multiple") == "true" else target / n
                shutil.copytree(self.artifacts / n, dest, dirs_exist_ok=True)
            return
        if action == "aws-actions/configure-aws-credentials":
            assert "role-to-assume" not in with_, "the replay uses access keys"
            env.update({"AWS_ACCESS_KEY_ID": with_["aws-access-key-id"],
                        "AWS_SECRET_ACCESS_KEY": with_["aws-secret-access-key"],
                        "AWS_REGION": with_["aws-region"],
                        "AWS_DEFAULT_REGION": with_["aws-region"]})
            return
        raise AssertionError(f"the replay cannot emulate {action}")


@pytest.mark.docker
def test_replay_build_workflow(tmp_path: Path, upstream: UpstreamServer, s3: MotoS3,
                               fake_github: FakeGitHub, stack_images: tuple[str, str],
                               debian_runtime: str) -> None:
    # the buildpack repository: versions.toml naming two generated projects as mono and xsp
    sources = {}
    for name, version, files in (("mono", "1.0", hello_project(version="1.0")),
                                 ("xsp", "2.0", addon_project(version="2.0"))):
        data = make_tarball(files, f"{name}-{version}")
        upstream.add(f"/{name}/{name}-{version}.tar.gz", data)
        sources[name] = (f"{upstream.url}/{name}/{name}-{{version}}.tar.gz",
                         hashlib.sha256(data).hexdigest())
    versions = (f'[stacks.test]\nbuild-image = "{stack_images[0]}"\n'
                f'run-image = "{debian_runtime}"\n\n'
                f'[components.mono]\nversion = "1.0"\nsource = "{sources["mono"][0]}"\n'
                f'sha256 = "{sources["mono"][1]}"\n\n'
                f'[components.xsp]\nversion = "2.0"\nsource = "{sources["xsp"][0]}"\n'
                f'sha256 = "{sources["xsp"][1]}"\nrequires = ["mono"]\n')
    fake_github.create_repo(OWNER, REPO, files={"versions.toml": versions.encode()})
    # public-read, as the buildpack's bucket is: plan and release read it without credentials
    bucket = make_public(s3, s3.make_bucket("replay-releases"))
    aws = s3.env
    runner_env = {  # what a runner has, plus where this machine's stand-ins listen
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path), "CI": "true", "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": f"{OWNER}/{REPO}", "GITHUB_API_URL": fake_github.url,
        "DOCKER_HOST": hdocker.docker_base_url(),
        # AWS itself, not credentials: only the publish job's configure-aws-credentials
        # step exports keys. plan and release read index.json without them (the store is
        # public for buildpacks), so this fails at plan until the bot reads s3:// unsigned
        # when it has no credentials.
        **{k: v for k, v in aws.items() if k in (
            "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_EC2_METADATA_DISABLED")},
    }
    runner = Runner(
        workflow=WORKFLOWS["build.yml"], root=tmp_path,
        checkout={"versions.toml": versions.encode()},
        contexts=Contexts(
            inputs={},  # a push to the default branch touching versions.toml
            vars={"RELEASE_BOT_STORE": f"s3://{bucket}/buildpack", "AWS_REGION": aws["AWS_REGION"]},
            secrets={"AWS_ACCESS_KEY_ID": aws["AWS_ACCESS_KEY_ID"],
                     "AWS_SECRET_ACCESS_KEY": aws["AWS_SECRET_ACCESS_KEY"]},
            github={"token": "test-token", "repository": f"{OWNER}/{REPO}",
                    "event_name": "push"}),
        base_env=runner_env,
    )
    order = list(runner.workflow["jobs"])
    assert order == ["plan", "build-mono", "build-xsp", "smoke", "publish", "release"]
    for name in order:
        runner.job(name)
        assert runner.results[name]["result"] == "success", (
            f"job {name} of build.yml: {runner.results[name]['result']}\n"
            + "\n".join(runner.log)[-12000:])

    # the plan fanned out Mono then XSP; smoke ran on the one stack
    assert json.loads(runner.results["plan"]["outputs"]["matrix"]) == {"include": [
        {"component": "mono", "version": "1.0", "stack": "test"},
        {"component": "xsp", "version": "2.0", "stack": "test"}]}
    assert sorted(p.name for p in runner.artifacts.iterdir()) == [
        "build-mono-1.0-test", "build-xsp-2.0-test", "deps-xsp-2.0-test", "smoke-test"]

    # published write-once to the store, with the index buildpacks read
    client = s3.client()
    index = json.loads(client.get_object(Bucket=bucket, Key="buildpack/index.json")["Body"]
                       .read())
    entries = {(e["component"], e["version"], e["stack"]): e for e in index["artifacts"]}
    assert set(entries) == {("mono", "1.0", "test"), ("xsp", "2.0", "test")}
    manifests = {m.name: json.loads(m.read_text())
                 for m in (runner.artifacts / "build-mono-1.0-test").glob("*.json")}
    manifests |= {m.name: json.loads(m.read_text())
                  for m in (runner.artifacts / "build-xsp-2.0-test").glob("*.json")}
    for entry in entries.values():
        assert any(m["sha256"] == entry["sha256"] for m in manifests.values())

    # the GitHub Release: tag from the versions, URLs and checksums, smoke results, manifests
    releases = fake_github.releases(OWNER, REPO)
    assert len(releases) == 1, releases
    release = releases[0]
    assert release["tag_name"] == "mono-1.0+xsp-2.0"
    for entry in entries.values():
        assert entry["url"] in release["body"]
        assert entry["sha256"] in release["body"]
    smoke = json.loads((runner.artifacts / "smoke-test" / "test.json").read_text())
    assert {r["name"] for r in smoke} == {"console", "web", "xsp"}
    assert all(r["passed"] and r["stack"] == "test" for r in smoke)
    for r in smoke:
        assert r["name"] in release["body"]
    assert set(release["assets"]) == set(manifests)
    html_url = fake_github.client().get_repo(f"{OWNER}/{REPO}").get_release(
        release["tag_name"]).html_url
    assert runner.results["release"]["outputs"]["url"] == html_url

    # Actions-native output: the summaries a maintainer reads on the run page
    summary = "\n".join(runner.summaries.values())
    assert "Smoke tests" in summary and html_url in summary
    # every release-bot step but the builds (theirs is the builder's) wrote a step summary
    for job, step in (("plan", "What is not yet published"), ("smoke", "Smoke tests"),
                      ("publish", "Publish write-once"),
                      ("release", "Release notes and GitHub Release")):
        assert runner.summaries[f"{job}[0] {step}"].strip(), f"{job}: no step summary"
    plan_summary = runner.summaries["plan[0] What is not yet published"]
    assert "| mono | 1.0 | test | to build |" in plan_summary
    assert "| xsp | 2.0 | test | to build |" in plan_summary
    publish_summary = runner.summaries["publish[0] Publish write-once"]
    for entry in entries.values():
        assert f"| {entry['key']} | published |" in publish_summary
