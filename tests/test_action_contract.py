"""The workflows' contract with the actions they pin (fast: no Docker, no network, no act).

Checked for .github/workflows/*, the root action.yml, every consumer workflow in README.md
(a ```yaml block with `on:` and `jobs:`) and the stand-ins themselves
(tests/workflows/contract.py has the rules): external actions pinned to PINS.md's SHA with
its `# vX.Y.Z` comment; `with:` keys the pinned action declares; `steps.<id>.outputs.<name>`
the step's action declares. Each stand-in declares exactly the real action's inputs and
outputs. The synthetic tests below show each rule catches what it is for.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.workflows.contract import (
    Problem,
    Resolver,
    check_text,
    consumer_workflows,
    standin_drift,
)
from tests.workflows.standins import ACTIONS_DIR, SHARED, Pin, load_yaml, pins, staged

ROOT = Path(__file__).resolve().parents[1]


def _targets() -> list[tuple[str, str, int]]:
    found = [(p.relative_to(ROOT).as_posix(), p.read_text(), 1)
             for p in sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))]
    for name in ("action.yml", "action.yaml"):
        if (ROOT / name).is_file():
            found.append((name, (ROOT / name).read_text(), 1))
    readme = (ROOT / "README.md").read_text()
    found += [("README.md", text, line) for line, text in consumer_workflows(readme)]
    found += [(p.standin.relative_to(ROOT).as_posix(), p.standin.read_text(), 1)
              for p in pins().values()]
    return found


TARGETS = _targets()


@pytest.mark.parametrize(("where", "text", "first_line"), TARGETS,
                         ids=[f"{w}:{n}" for w, _, n in TARGETS])
def test_contract(where: str, text: str, first_line: int) -> None:
    problems = check_text(text, where, first_line=first_line)
    assert not problems, "\n".join(str(p) for p in problems)


PINS = sorted(pins().values(), key=lambda p: p.action)


@pytest.mark.parametrize("pin", PINS, ids=[p.action for p in PINS])
def test_standin_declares_what_the_real_action_does(pin: Pin) -> None:
    standin = load_yaml(pin.standin)
    assert (standin.get("runs") or {}).get("using") == "composite"
    problems = standin_drift(load_yaml(pin.real), standin, str(pin.standin.relative_to(ROOT)))
    assert not problems, "\n".join(str(p) for p in problems)


def test_every_pin_has_a_standin_and_act_gets_the_shared_modules(tmp_path: Path) -> None:
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact",
            "actions/download-artifact", "aws-actions/configure-aws-credentials",
            "actions/create-github-app-token", "actions/attest-build-provenance",
            "actions/attest"} <= set(pins())
    for pin in PINS:
        assert pin.standin.is_file(), pin.action
    folders = staged(tmp_path)
    assert set(folders) == set(pins())
    for module, users in SHARED.items():
        for action in pins():  # exactly the stand-ins that run or import the module
            runs = any(module.removesuffix(".py") in f.read_text()
                       for f in folders[action].iterdir() if f.is_file() and f.name != module)
            assert runs == (action in users), (action, module)
            assert (folders[action] / module).is_file() == runs, (action, module)
            if runs:
                assert (folders[action] / module).read_bytes() == \
                    (ACTIONS_DIR / module).read_bytes()


# -- the rules, on synthetic workflows -------------------------------------------------
def uses(action: str) -> str:
    pin = pins()[action]
    return f"{pin.uses} # {pin.tag}"


CHECKOUT, UPLOAD, APP = (uses("actions/checkout"), uses("actions/upload-artifact"),
                         uses("actions/create-github-app-token"))


def workflow(steps: str, extra_jobs: str = "", on: str = "push") -> str:
    return (f"on: {on}\njobs:\n  one:\n    runs-on: ubuntu-24.04\n    steps:\n"
            + textwrap.indent(textwrap.dedent(steps).strip("\n"), " " * 6) + "\n"
            + textwrap.dedent(extra_jobs))


def messages(text: str, resolver: Resolver | None = None) -> list[str]:
    return [p.message for p in check_text(text, "w.yml", resolver)]


def test_a_clean_workflow_has_no_problems() -> None:
    text = workflow(f"""
        - id: co
          uses: {CHECKOUT}
          with:
            persist-credentials: false
        - id: up
          uses: {UPLOAD}
          with:
            name: x
            path: dist/
        - run: echo "${{{{ steps.co.outputs.commit }}}} ${{{{ steps.up.outputs.artifact-id }}}}"
        """)
    assert messages(text) == []


def test_an_input_the_pinned_action_lacks() -> None:
    text = workflow(f"""
        - uses: {UPLOAD}
          with:
            path: dist/
            retention: 7
        """)
    (message,) = messages(text)
    assert "actions/upload-artifact has no input `retention`" in message


def test_an_output_the_action_does_not_set() -> None:
    text = workflow(f"""
        - id: up
          uses: {UPLOAD}
          with:
            path: dist/
        - if: steps.up.outputs.artifact-name != ''
          run: echo "${{{{ steps.up.outputs.artifact-digest }}}}"
        """)
    (message,) = messages(text)
    assert "steps.up.outputs.artifact-name: actions/upload-artifact has no output" in message


def test_step_outputs_of_missing_or_later_steps() -> None:
    text = workflow(f"""
        - run: echo "${{{{ steps.later.outputs.commit }}}} ${{{{ steps['nope'].outputs['x'] }}}}"
        - id: later
          uses: {CHECKOUT}
        """)
    found = messages(text)
    assert any("steps.later.outputs.commit: step `later` runs later" in m for m in found)
    assert any("steps.nope.outputs.x: no step has id `nope`" in m for m in found)


def test_run_step_outputs_are_not_checked() -> None:
    text = workflow("""
        - id: mine
          run: echo "anything=1" >> "$GITHUB_OUTPUT"
        - run: echo "${{ steps.mine.outputs.anything }}"
        """)
    assert messages(text) == []


def test_job_outputs_and_needs() -> None:
    text = textwrap.dedent(f"""
        on: push
        jobs:
          one:
            runs-on: ubuntu-24.04
            outputs:
              commit: ${{{{ steps.co.outputs.commitish }}}}
            steps:
              - id: co
                uses: {CHECKOUT}
          two:
            needs: one
            runs-on: ubuntu-24.04
            steps:
              - run: echo "${{{{ needs.one.outputs.commit }}}} ${{{{ needs.one.outputs.sha }}}}"
              - run: echo "${{{{ needs.three.outputs.x }}}}"
        """)
    found = messages(text)
    assert any("steps.co.outputs.commitish: actions/checkout has no output" in m for m in found)
    assert any("needs.one.outputs.sha: job `one` has no output `sha`" in m for m in found)
    assert any("`three` is not in this job's needs" in m for m in found)
    assert len(found) == 3, found


def test_undeclared_workflow_inputs() -> None:
    on = "\n  workflow_dispatch:\n    inputs:\n      dry-run:\n        type: boolean\n"
    text = workflow('- run: echo "${{ inputs.dry-run }} ${{ inputs.dryrun }}"', on=on)
    assert messages(text) == ["inputs.dryrun: the workflow declares no such input"]


@pytest.mark.parametrize(("ref", "expected"), [
    ("actions/checkout@v7", "is not pinned to a commit SHA"),
    ("actions/checkout@" + "0" * 40 + " # v7.0.1", "is not the vendored pin"),
    ("actions/checkout@" + pins()["actions/checkout"].sha, "needs the comment `# v7.0.1`"),
    ("actions/checkout@" + pins()["actions/checkout"].sha + " # v7.0.0",
     "needs the comment `# v7.0.1`"),
    ("actions/cache@" + "1" * 40 + " # v4.2.0", "actions/cache is not vendored"),
])
def test_pins(ref: str, expected: str) -> None:
    found = messages(workflow(f"- uses: {ref}"))
    assert any(expected in m for m in found), found


def test_required_and_deprecated_inputs() -> None:
    text = workflow(f"""
        - uses: {UPLOAD}
          with:
            name: x
        - uses: {APP}
          with:
            app-id: "1"
            private-key: k
        """)
    found = messages(text)
    assert any("actions/upload-artifact requires input `path`" in m for m in found)
    assert any("input `app-id` is deprecated: Use 'client-id' instead." in m for m in found)


def project(tmp_path: Path, action: str, **files: str) -> Resolver:
    (tmp_path / "action.yml").write_text(textwrap.dedent(action))
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Resolver(root=tmp_path, own="release-bot")


OWN_ACTION = f"""
    name: bot
    inputs:
      command:
        required: true
      store:
        default: ""
    outputs:
      matrix:
        value: ${{{{ steps.plan.outputs.matrix }}}}
      url:
        value: ${{{{ steps.up.outputs.artifact-url }}}}
    runs:
      using: composite
      steps:
        - id: plan
          shell: bash
          run: echo "matrix={{}}" >> "$GITHUB_OUTPUT"
        - id: up
          if: inputs.command == 'build' && inputs.stack != ''
          uses: {UPLOAD}
          with:
            path: out/
    """


def test_own_action_is_checked_against_the_root_action_yml(tmp_path: Path) -> None:
    resolver = project(tmp_path, OWN_ACTION)
    text = workflow("""
        - id: bot
          uses: OWNER/release-bot@SHA # the release-bot commit you install
          with:
            command: plan
            stores: s3://x
        - run: echo "${{ steps.bot.outputs.matrix }} ${{ steps.bot.outputs.count }}"
        - uses: ./
          with:
            store: s3://x
        """)
    found = messages(text, resolver)
    assert any("has no input `stores`" in m for m in found), found
    assert any("steps.bot.outputs.count: action.yml has no output `count`" in m
               for m in found), found
    assert any("requires input `command`" in m for m in found), found
    assert not any("pinned" in m or "comment" in m for m in found), found


def test_composite_action_rules(tmp_path: Path) -> None:
    resolver = project(tmp_path, OWN_ACTION)
    found = [p.message for p in check_text((tmp_path / "action.yml").read_text(), "action.yml",
                                           resolver)]
    assert found == ["inputs.stack: the action declares no such input"]
    broken = OWN_ACTION.replace("steps.up.outputs.artifact-url", "steps.up.outputs.url")
    found = [p.message for p in check_text(textwrap.dedent(broken), "action.yml", resolver)]
    assert any("steps.up.outputs.url: actions/upload-artifact has no output `url`" in m
               for m in found), found


def test_local_reusable_workflow(tmp_path: Path) -> None:
    called = """
        on:
          workflow_call:
            inputs:
              stack:
                type: string
                required: true
            secrets:
              token:
                required: false
            outputs:
              result:
                value: x
        jobs: {}
        """
    resolver = project(tmp_path, OWN_ACTION, **{".github__workflows__called.yml": called})
    text = textwrap.dedent("""
        on: push
        jobs:
          call:
            uses: ./.github/workflows/called.yml
            with:
              stack: a
              stacks: b
            secrets:
              tokn: x
          after:
            needs: call
            runs-on: ubuntu-24.04
            steps:
              - run: echo "${{ needs.call.outputs.result }} ${{ needs.call.outputs.other }}"
        """)
    found = messages(text, resolver)
    assert any("has no input `stacks`" in m for m in found), found
    assert any("declares no secret `tokn`" in m for m in found), found
    assert any("job `call` has no output `other`" in m for m in found), found
    assert len(found) == 3, found


def test_readme_blocks_and_their_line_numbers() -> None:
    markdown = textwrap.dedent(f"""\
        # title

        ```yaml
        key: not a workflow
        ```

        ```yaml
        on: push
        jobs:
          one:
            runs-on: ubuntu-24.04
            steps:
              - uses: actions/checkout@v7
              - uses: {CHECKOUT}
        ```
        """)
    ((line, text),) = consumer_workflows(markdown)
    assert line == 8 and text.startswith("on: push")
    problems = check_text(text, "README.md", first_line=line)
    assert {p.where for p in problems} == {"README.md:13"}  # not a SHA, no comment
    assert all(isinstance(p, Problem) for p in problems)


def test_standin_drift_is_reported() -> None:
    real = {"inputs": {"path": {"required": True}, "name": {"default": "artifact"},
                       "flag": {"default": False}}, "outputs": {"id": {}, "url": {}}}
    same = {"inputs": {"path": {"required": "true"}, "name": {"default": "artifact"},
                       "flag": {"default": "false"}}, "outputs": {"id": {}, "url": {}}}
    assert standin_drift(real, same, "x") == []
    drifted = {"inputs": {"path": {}, "name": {"default": "other"}, "extra": {}},
               "outputs": {"id": {}}}
    found = [p.message for p in standin_drift(real, drifted, "x")]
    assert found == ["input `extra`: declared by only the stand-in",
                     "input `flag`: declared by the real action",
                     "input `name`: default 'other', the real action has 'artifact'",
                     "input `path`: required 'false', the real action has 'true'",
                     "output `url`: declared by the real action"]
