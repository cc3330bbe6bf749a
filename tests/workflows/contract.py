"""Static checks of workflows and composite actions against the pinned actions' metadata.

check_text(text, where) returns a Problem for each of:

* pins: an external `uses: OWNER/REPO@REF` that is not vendored (PINS.md), not a 40-hex
  SHA, not PINS.md's SHA, or without the `# vX.Y.Z` comment naming PINS.md's tag;
* inputs: a `with:` key the action (the vendored action.real.yml; the root action.yml for
  `./` and for the project's own `OWNER/<project>@REF`) does not declare, a required input
  without default left out, a deprecated input used; for a local reusable workflow, `with:`
  and `secrets:` keys its `workflow_call` does not declare;
* outputs: `steps.<id>.outputs.<name>` naming no step with that id in the job, a later
  step, or an output the step's action does not declare (`run:` steps are not checked);
  `needs.<job>.outputs.<name>` naming a job outside `needs:` or an output it does not
  declare; `inputs.<name>` that the workflow's dispatch/call inputs (or the composite
  action's inputs) do not declare.

Expressions are read from `${{ }}` in every string and from whole `if:` values.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.workflows.standins import inputs_of, load_yaml, outputs_of, parse_yaml, pins

ROOT = Path(__file__).resolve().parents[2]

_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<q>['\"]?)(?P<ref>[^'\"\s#]+)(?P=q)\s*"
                        r"(?:#\s*(?P<comment>.*))?$")
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_KEY = r"(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])"
_STEP_OUT = re.compile(rf"(?<![\w.-])steps{_KEY}\.outputs{_KEY}")
_NEEDS_OUT = re.compile(rf"(?<![\w.-])needs{_KEY}\.outputs{_KEY}")
_INPUT = re.compile(rf"(?<![\w.-])inputs{_KEY}")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Meta:
    """What a `uses:` target declares."""

    name: str
    inputs: dict[str, dict[str, Any]]
    outputs: set[str]
    secrets: set[str] | None = None  # reusable workflows only


def project_name(root: Path = ROOT) -> str:
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["name"])


class Resolver:
    """Finds the metadata behind a `uses:` reference (None: nothing to check against)."""

    def __init__(self, root: Path = ROOT, own: str | None = None) -> None:
        self.root = root
        self.own = own if own is not None else project_name(root)

    def is_own(self, ref: str) -> bool:
        path = ref.split("@", 1)[0].split("/")
        return len(path) == 2 and path[1] == self.own

    def resolve(self, ref: str) -> Meta | str | None:
        """Meta, a reason it cannot be checked (a problem), or None (docker://)."""
        if ref.startswith("docker://"):
            return None
        if ref.startswith("./") or self.is_own(ref):
            rel = "" if self.is_own(ref) else ref[2:]
            return self._local(rel.split("@", 1)[0])
        path = ref.split("@", 1)[0]
        action = "/".join(path.split("/")[:2])
        pin = pins().get(action)
        if pin is None or path != action:
            return f"{path} is not vendored in tests/workflows/actions (PINS.md)"
        meta = load_yaml(pin.real)
        return Meta(action, inputs_of(meta), outputs_of(meta))

    def _local(self, rel: str) -> Meta | str:
        target = self.root / rel
        if target.suffix in (".yml", ".yaml"):
            if not target.is_file():
                return f"{rel} does not exist"
            call = (load_yaml(target).get("on") or {})
            call = call.get("workflow_call") if isinstance(call, dict) else None
            if not isinstance(call, dict):
                return f"{rel} has no `on: workflow_call`"
            return Meta(rel, {str(k): dict(v or {}) for k, v in (call.get("inputs") or {}).items()},
                        {str(k) for k in (call.get("outputs") or {})},
                        {str(k) for k in (call.get("secrets") or {})})
        for name in ("action.yml", "action.yaml"):
            if (target / name).is_file():
                meta = load_yaml(target / name)
                return Meta((target / name).relative_to(self.root).as_posix(), inputs_of(meta),
                            outputs_of(meta))
        return f"{(target / 'action.yml').relative_to(self.root)} does not exist"


# -- pins ------------------------------------------------------------------------------
def uses_lines(text: str) -> Iterator[tuple[int, str, str | None]]:
    for number, line in enumerate(text.splitlines(), 1):
        if m := _USES_LINE.match(line):
            yield number, m["ref"], m["comment"]


def check_pins(text: str, where: str, resolver: Resolver, first_line: int = 1) -> list[Problem]:
    problems: list[Problem] = []
    for number, ref, comment in uses_lines(text):
        at = f"{where}:{first_line + number - 1}"
        if ref.startswith(("./", "../", "docker://")) or resolver.is_own(ref):
            continue
        path, _, version = ref.partition("@")
        action = "/".join(path.split("/")[:2])
        pin = pins().get(action)
        if pin is None:
            problems.append(Problem(at, f"{action} is not vendored in tests/workflows/actions "
                                        "(add it to PINS.md with its action.real.yml)"))
            continue
        if not _SHA.match(version):
            problems.append(Problem(at, f"{ref} is not pinned to a commit SHA: use "
                                        f"{action}@{pin.sha} # {pin.tag}"))
        elif version != pin.sha:
            problems.append(Problem(at, f"{ref} is not the vendored pin {pin.sha} ({pin.tag})"))
        tag = (comment or "").split()[0] if (comment or "").split() else ""
        if tag != pin.tag:
            problems.append(Problem(at, f"uses {action} needs the comment `# {pin.tag}` "
                                        f"(found {('# ' + comment) if comment else 'none'})"))
    return problems


# -- expressions -----------------------------------------------------------------------
def _strings(node: Any, key: str = "") -> Iterator[str]:
    """The expression texts in a YAML node: ${{ }} contents, and whole `if:` values."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, key)
    elif isinstance(node, str):
        yield from _EXPR.findall(node)
        if key == "if" and "${{" not in node:
            yield node


def _refs(pattern: re.Pattern[str], node: Any) -> Iterator[tuple[str, str]]:
    for text in _strings(node):
        for m in pattern.finditer(text):
            groups = [g for g in m.groups() if g is not None]
            yield groups[0], groups[1] if len(groups) > 1 else ""


def _input_refs(node: Any) -> Iterator[str]:
    for text in _strings(node):
        for m in _INPUT.finditer(text):
            yield m.group(1) or m.group(2)


# -- documents -------------------------------------------------------------------------
def _check_with(step: dict[str, Any], meta: Meta, at: str) -> list[Problem]:
    problems: list[Problem] = []
    given = {str(k) for k in (step.get("with") or {})}
    for key in sorted(given - set(meta.inputs)):
        problems.append(Problem(at, f"{meta.name} has no input `{key}` "
                                    f"(inputs: {', '.join(sorted(meta.inputs)) or 'none'})"))
    for key in sorted(given & set(meta.inputs)):
        if meta.inputs[key].get("deprecationMessage"):
            problems.append(Problem(at, f"{meta.name} input `{key}` is deprecated: "
                                        f"{meta.inputs[key]['deprecationMessage']}"))
    for key, spec in meta.inputs.items():
        required = spec.get("required") in (True, "true")
        if required and spec.get("default") is None and key not in given:
            problems.append(Problem(at, f"{meta.name} requires input `{key}`"))
    return problems


def check_steps(steps: list[Any], where: str, resolver: Resolver,
                outputs_node: Any = None) -> list[Problem]:
    """`with:` keys and steps.<id>.outputs.<name> within one job (or composite action)."""
    problems: list[Problem] = []
    metas: dict[str, Meta | None] = {}
    position = {str(s["id"]): i for i, s in enumerate(steps) if isinstance(s, dict) and "id" in s}
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        at = f"{where}.steps[{index}]"
        meta: Meta | None = None
        if "uses" in step:
            found = resolver.resolve(str(step["uses"]))
            if isinstance(found, str):
                problems.append(Problem(at, found))
            elif found is not None:
                meta = found
                problems += _check_with(step, meta, at)
        for ref_id, name in _refs(_STEP_OUT, step):
            problems += _check_step_ref(ref_id, name, at, metas, position, index)
        if "id" in step:
            metas[str(step["id"])] = meta
    for ref_id, name in _refs(_STEP_OUT, outputs_node):
        problems += _check_step_ref(ref_id, name, f"{where}.outputs", metas, position, None)
    return problems


def _check_step_ref(ref_id: str, name: str, at: str, metas: dict[str, Meta | None],
                    position: dict[str, int], index: int | None) -> list[Problem]:
    if ref_id not in position:
        return [Problem(at, f"steps.{ref_id}.outputs.{name}: no step has id `{ref_id}`")]
    if index is not None and position[ref_id] >= index:
        return [Problem(at, f"steps.{ref_id}.outputs.{name}: step `{ref_id}` runs later")]
    meta = metas.get(ref_id)
    if meta is not None and name not in meta.outputs:
        return [Problem(at, f"steps.{ref_id}.outputs.{name}: {meta.name} has no output "
                            f"`{name}` (outputs: {', '.join(sorted(meta.outputs)) or 'none'})")]
    return []


def _declared_inputs(doc: dict[str, Any]) -> set[str]:
    on = doc.get("on")
    if not isinstance(on, dict):
        return set()
    names: set[str] = set()
    for event in ("workflow_dispatch", "workflow_call"):
        spec = on.get(event)
        if isinstance(spec, dict):
            names |= {str(k) for k in (spec.get("inputs") or {})}
    return names


def check_workflow(doc: dict[str, Any], where: str, resolver: Resolver) -> list[Problem]:
    problems: list[Problem] = []
    jobs = doc.get("jobs") or {}
    declared = _declared_inputs(doc)
    job_outputs: dict[str, set[str]] = {}
    for job_id, job in jobs.items():
        job_outputs[str(job_id)] = {str(k) for k in (job.get("outputs") or {})}
        if "uses" in job:
            found = resolver.resolve(str(job["uses"]))
            if isinstance(found, Meta):
                job_outputs[str(job_id)] = found.outputs
    for job_id, job in jobs.items():
        at = f"{where}: jobs.{job_id}"
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else [str(n) for n in needs]
        for other, name in _refs(_NEEDS_OUT, job):
            if other not in needs:
                problems.append(Problem(at, f"needs.{other}.outputs.{name}: `{other}` is not in "
                                            "this job's needs"))
            elif other in job_outputs and name not in job_outputs[other]:
                problems.append(Problem(at, f"needs.{other}.outputs.{name}: job `{other}` has no "
                                            f"output `{name}`"))
        for name in sorted(set(_input_refs(job)) - declared):
            problems.append(Problem(at, f"inputs.{name}: the workflow declares no such input"))
        if "uses" in job:
            problems += _check_reusable(job, at, resolver)
            continue
        problems += check_steps(list(job.get("steps") or []), at, resolver, job.get("outputs"))
    return problems


def _check_reusable(job: dict[str, Any], at: str, resolver: Resolver) -> list[Problem]:
    found = resolver.resolve(str(job["uses"]))
    if isinstance(found, str):
        return [Problem(at, found)]
    if found is None:
        return []
    problems = _check_with(job, found, at)
    secrets = job.get("secrets")
    if isinstance(secrets, dict) and found.secrets is not None:
        for key in sorted({str(k) for k in secrets} - found.secrets):
            problems.append(Problem(at, f"{found.name} declares no secret `{key}`"))
    return problems


def check_composite(doc: dict[str, Any], where: str, resolver: Resolver) -> list[Problem]:
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        return []
    declared = set(inputs_of(doc))
    problems = [Problem(where, f"inputs.{name}: the action declares no such input")
                for name in sorted(set(_input_refs(runs)) | set(_input_refs(doc.get("outputs"))))
                if name not in declared]
    values = {k: (v or {}).get("value") for k, v in (doc.get("outputs") or {}).items()}
    return problems + check_steps(list(runs.get("steps") or []), f"{where}: runs", resolver,
                                  values)


def check_text(text: str, where: str, resolver: Resolver | None = None,
               first_line: int = 1) -> list[Problem]:
    """All checks on one workflow or action.yml text (`first_line`: where it starts in `where`)."""
    resolver = resolver or Resolver()
    try:
        doc = parse_yaml(text, where)
    except (yaml.YAMLError, ValueError) as err:
        return [Problem(where, f"not a YAML mapping: {err}")]
    problems = check_pins(text, where, resolver, first_line)
    seen = {ref for _, ref, _ in uses_lines(text)}
    for ref in _all_uses(doc):
        if ref not in seen:
            problems.append(Problem(where, f"uses {ref}: not on a `uses:` line of its own, so "
                                           "its pin comment cannot be checked"))
    if "jobs" in doc:
        problems += check_workflow(doc, where, resolver)
    elif "runs" in doc:
        problems += check_composite(doc, where, resolver)
    return problems


def _all_uses(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uses" and isinstance(v, str):
                yield v
            else:
                yield from _all_uses(v)
    elif isinstance(node, list):
        for v in node:
            yield from _all_uses(v)


_FENCE = re.compile(r"^```ya?ml[ \t]*\n(.*?)^```", re.S | re.M)


def consumer_workflows(markdown: str) -> list[tuple[int, str]]:
    """(line number, text) of each ```yaml block with top-level `on:` and `jobs:` keys."""
    blocks = []
    for m in _FENCE.finditer(markdown):
        body = m.group(1)
        if re.search(r"^on:", body, re.M) and re.search(r"^jobs:", body, re.M):
            blocks.append((markdown[: m.start()].count("\n") + 2, body))
    return blocks


# -- stand-ins -------------------------------------------------------------------------
def _norm(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def standin_drift(real: dict[str, Any], standin: dict[str, Any], where: str) -> list[Problem]:
    """A stand-in must declare the real action's inputs (names, required, default) and outputs."""
    problems: list[Problem] = []
    real_in, fake_in = inputs_of(real), inputs_of(standin)
    for name in sorted(set(real_in) ^ set(fake_in)):
        side = "the real action" if name in real_in else "only the stand-in"
        problems.append(Problem(where, f"input `{name}`: declared by {side}"))
    for name in sorted(set(real_in) & set(fake_in)):
        for field in ("required", "default", "deprecationMessage"):
            want = _norm(real_in[name].get(field))
            have = _norm(fake_in[name].get(field))
            if field == "required":
                want, have = want or "false", have or "false"
            if want != have:
                problems.append(Problem(where, f"input `{name}`: {field} {have!r}, the real "
                                               f"action has {want!r}"))
    for name in sorted(outputs_of(real) ^ outputs_of(standin)):
        side = "the real action" if name in outputs_of(real) else "only the stand-in"
        problems.append(Problem(where, f"output `{name}`: declared by {side}"))
    return problems
