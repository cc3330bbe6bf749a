"""`release-bot plan`: what versions.toml describes that the store has not published yet."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.store.layout import Index, IndexEntry
from bot.store.unpublished import PlanEntry, plan_unpublished
from bot.versions import Version
from tests.builtartifacts import make_artifact
from tests.clirunner import CliResult, run_cli
from tests.configs import MONO_SOURCE, XSP_SOURCE, component_table, heroku_stacks
from tests.harness.s3 import MotoS3

PIN = "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820"

# xsp first on purpose: the plan must still list Mono before XSP (dependency order)
VERSIONS = (heroku_stacks()
            + component_table("xsp", "4.7.1", XSP_SOURCE, "XSP_PIN", requires=["mono"],
                              bootstrap="autogen")
            + component_table("mono", "6.14.1", MONO_SOURCE, "MONO_PIN"))


def _config(tmp_path: Path, *, xsp_pinned: bool = True) -> Path:
    path = tmp_path / "versions.toml"
    path.write_text(VERSIONS.replace("MONO_PIN", PIN)
                    .replace("XSP_PIN", PIN if xsp_pinned else ""))
    return path


def _load(tmp_path: Path, *, xsp_pinned: bool = True) -> Config:
    return load_config(_config(tmp_path, xsp_pinned=xsp_pinned))


def _entry(component: str, version: str, stack: str) -> IndexEntry:
    key = f"{stack}/{component}-{version}.tar.gz"
    return IndexEntry(component, version, stack, key, f"https://example.test/{key}", PIN, 1,
                      "2026-01-01T00:00:00Z")


def _triples(entries: list[PlanEntry]) -> list[tuple[str, str, str]]:
    return [(e.component, e.version, e.stack) for e in entries]


def _step_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT's `name<<DELIMITER ... DELIMITER` records."""
    lines, found, i = text.splitlines(), {}, 0
    while i < len(lines):
        name, delimiter = lines[i].split("<<", 1)
        end = lines.index(delimiter, i + 1)
        found[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    return found


def test_everything_unpublished_in_dependency_order(tmp_path: Path) -> None:
    entries = plan_unpublished(_load(tmp_path), Index())
    assert _triples(entries) == [
        ("mono", "6.14.1", "heroku-22"), ("mono", "6.14.1", "heroku-24"),
        ("xsp", "4.7.1", "heroku-22"), ("xsp", "4.7.1", "heroku-24")]
    assert all(e.pinned and e.note == "" for e in entries)


def test_published_entries_and_older_versions(tmp_path: Path) -> None:
    index = Index((_entry("mono", "6.14.1", "heroku-22"), _entry("xsp", "4.7.0", "heroku-22"),
                   _entry("xsp", "4.7.1", "heroku-24")))
    entries = plan_unpublished(_load(tmp_path), index)
    assert _triples(entries) == [
        ("mono", "6.14.1", "heroku-24"), ("xsp", "4.7.1", "heroku-22")]


def test_filters_by_component_and_stack(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert _triples(plan_unpublished(config, Index(), ["xsp"])) == [
        ("xsp", "4.7.1", "heroku-22"), ("xsp", "4.7.1", "heroku-24")]
    assert _triples(plan_unpublished(config, Index(), None, ["heroku-24"])) == [
        ("mono", "6.14.1", "heroku-24"), ("xsp", "4.7.1", "heroku-24")]


def test_unpinned_components_are_marked(tmp_path: Path) -> None:
    entries = plan_unpublished(_load(tmp_path, xsp_pinned=False), Index())
    assert [(e.component, e.pinned) for e in entries] == [
        ("mono", True), ("mono", True), ("xsp", False), ("xsp", False)]
    assert "release-bot pin xsp" in entries[-1].note


def test_cli_matrix_shrinks_as_artifacts_are_published(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = f"file://{tmp_path / 'store'}"
    plan = run_cli(["--config", str(config), "plan", "--json", "--store", store], env={},
                   cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert json.loads(plan.stdout) == {"include": [
        {"component": "mono", "version": "6.14.1", "stack": "heroku-22", "arch": "amd64"},
        {"component": "mono", "version": "6.14.1", "stack": "heroku-24", "arch": "amd64"},
        {"component": "xsp", "version": "4.7.1", "stack": "heroku-22", "arch": "amd64"},
        {"component": "xsp", "version": "4.7.1", "stack": "heroku-24", "arch": "amd64"}]}

    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-22")
    make_artifact(out, "xsp", "4.7.1", "heroku-24")
    make_artifact(out, "mono", "6.12.0", "heroku-24")  # an older version does not count
    assert run_cli(["publish", str(out), "--store", store], env={}, cwd=tmp_path).code == 0

    plan = run_cli(["--config", str(config), "plan", "--json", "--store", store], env={},
                   cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert json.loads(plan.stdout)["include"] == [
        {"component": "mono", "version": "6.14.1", "stack": "heroku-24", "arch": "amd64"},
        {"component": "xsp", "version": "4.7.1", "stack": "heroku-22", "arch": "amd64"}]

    table = run_cli(["--config", str(config), "plan", "--store", store, "--stack", "heroku-22"],
                    env={}, cwd=tmp_path)
    assert table.code == 0, table.output
    assert "xsp" in table.stdout and "mono" not in table.stdout


def test_cli_nothing_to_build(tmp_path: Path) -> None:
    config = _config(tmp_path)
    out = tmp_path / "out"
    for component, version in (("mono", "6.14.1"), ("xsp", "4.7.1")):
        for stack in ("heroku-22", "heroku-24"):
            make_artifact(out, component, version, stack)
    assert run_cli(["publish", str(out)], env={}, cwd=tmp_path).code == 0
    plan = run_cli(["--config", str(config), "plan"], env={}, cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert "nothing to build" in plan.stderr
    assert json.loads(run_cli(["--config", str(config), "plan", "--json"], env={},
                              cwd=tmp_path).stdout) == {"include": []}


def test_cli_unpinned_left_out_of_matrix_with_a_warning(tmp_path: Path) -> None:
    config = _config(tmp_path, xsp_pinned=False)
    outputs = tmp_path / "github-output"
    outputs.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(outputs)}
    plan = run_cli(["--config", str(config), "plan", "--json"], env=env, cwd=tmp_path)
    assert plan.code == 0, plan.output
    matrix = json.loads(plan.stdout)
    assert {row["component"] for row in matrix["include"]} == {"mono"}
    assert plan.output.count("release-bot pin xsp") == 2
    stacks = {"include": [{"stack": row["stack"], "arch": "amd64", "lane": row["stack"],
                           "runs-on": "ubuntu-24.04"} for row in matrix["include"]]}
    assert len(stacks["include"]) == 2  # one build job per stack
    assert _step_outputs(outputs.read_text()) == {"matrix": json.dumps(matrix), "count": "2",
                                                  "stacks": json.dumps(stacks)}


def test_cli_unknown_component_is_a_usage_error(tmp_path: Path) -> None:
    config = _config(tmp_path)
    plan = run_cli(["--config", str(config), "plan", "--component", "mnoo"], env={},
                   cwd=tmp_path)
    assert plan.code == 2
    assert "did you mean 'mono'?" in plan.stderr


@pytest.mark.parametrize("prefix", ["", "deep/prefix"])
def test_cli_reads_the_s3_index(s3: MotoS3, tmp_path: Path, prefix: str) -> None:
    config = _config(tmp_path)
    bucket = s3.make_bucket(f"plan-{uuid.uuid4().hex[:12]}")
    store = f"s3://{bucket}/{prefix}".rstrip("/")
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-22")
    assert run_cli(["publish", str(out), "--store", store], env=s3.env, cwd=tmp_path).code == 0
    plan = run_cli(["--config", str(config), "plan", "--json"],
                   env={**s3.env, "RELEASE_BOT_STORE": store}, cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert [(r["component"], r["stack"]) for r in json.loads(plan.stdout)["include"]] == [
        ("mono", "heroku-24"), ("xsp", "heroku-22"), ("xsp", "heroku-24")]


# -- --version V --sha256 HEX, --force, the step summary -----------------------------------
OTHER_PIN = "ab" * 32


def test_plan_a_version_override_and_published_entries(tmp_path: Path) -> None:
    config = _load(tmp_path)
    index = Index((_entry("mono", "6.12.0", "heroku-22"), _entry("mono", "6.14.1", "heroku-24")))
    entries = plan_unpublished(config, index, ["mono"], version=Version.parse("6.12.0"),
                               override_pinned=True)
    assert [(e.component, e.version, e.stack, e.pinned) for e in entries] == [
        ("mono", "6.12.0", "heroku-24", True)]
    unpinned = plan_unpublished(config, index, ["mono"], version=Version.parse("6.12.0"))
    assert [e.pinned for e in unpinned] == [False]
    forced = plan_unpublished(config, index, None, ["heroku-24"], force=True)
    assert [(e.component, e.stack, e.published) for e in forced] == [
        ("mono", "heroku-24", True), ("xsp", "heroku-24", False)]
    assert "--force" in forced[0].note and forced[1].note == ""
    with pytest.raises(ValueError, match="exactly one component"):
        plan_unpublished(config, index, version=Version.parse("6.12.0"))


def _plan(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli(["--config", str(_config(tmp_path)), "plan", "--store",
                    f"file://{tmp_path / 'store'}", *args], env=env or {}, cwd=tmp_path)


def test_cli_version_override_needs_a_sha256_unless_it_is_the_pinned_one(tmp_path: Path
                                                                        ) -> None:
    refused = _plan(tmp_path, "--json", "--component", "mono", "--version", "6.12.0")
    assert refused.code == 2, refused.output
    assert refused.stdout == ""
    assert "mono 6.12.0 is not pinned" in refused.stderr and "--sha256" in refused.stderr
    assert "https://dl.winehq.org/mono/sources/mono/mono-6.12.0.tar.xz" in refused.stderr

    planned = _plan(tmp_path, "--json", "--component", "mono", "--version", "6.12.0",
                    "--sha256", OTHER_PIN)
    assert planned.code == 0, planned.output
    assert json.loads(planned.stdout)["include"] == [
        {"component": "mono", "version": "6.12.0", "stack": s, "arch": "amd64"}
        for s in ("heroku-22", "heroku-24")]

    pinned = _plan(tmp_path, "--json", "--component", "xsp", "--version", "4.7.1")
    assert pinned.code == 0, pinned.output
    assert [r["version"] for r in json.loads(pinned.stdout)["include"]] == ["4.7.1"] * 2

    for args, message in (
            (["--version", "6.12.0", "--sha256", OTHER_PIN], "exactly one --component"),
            (["--component", "mono", "--component", "xsp", "--version", "6.12.0"],
             "exactly one --component"),
            (["--component", "mono", "--sha256", OTHER_PIN], "pass --version too"),
            (["--component", "mono", "--version", "6.12.0", "--sha256", "abc"],
             "is not a sha256"),
            (["--component", "mono", "--version", "6.14.1", "--sha256", OTHER_PIN],
             "contradicts versions.toml's pin"),
            (["--component", "mono", "--version", "6.x"], "--version '6.x'")):
        result = _plan(tmp_path, "--json", *args)
        assert result.code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_cli_force_lists_published_entries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-22")
    assert run_cli(["publish", str(out), "--store", f"file://{tmp_path / 'store'}"], env={},
                   cwd=tmp_path).code == 0
    plain = _plan(tmp_path, "--json", "--component", "mono")
    assert [r["stack"] for r in json.loads(plain.stdout)["include"]] == ["heroku-24"]
    forced = _plan(tmp_path, "--json", "--component", "mono", "--force")
    assert forced.code == 0, forced.output
    assert [r["stack"] for r in json.loads(forced.stdout)["include"]] == [
        "heroku-22", "heroku-24"]


def test_cli_json_keeps_stdout_pure_and_writes_the_table_to_the_step_summary(
        tmp_path: Path) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    summary.touch()
    outputs.touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(outputs)}
    result = _plan(tmp_path, "--json", "--stack", "heroku-24", env=env)
    assert result.code == 0, result.output
    assert json.loads(result.stdout) == json.loads(_step_outputs(outputs.read_text())["matrix"])
    text = summary.read_text()
    assert "| component | version | stack | note |" in text
    assert "| mono | 6.14.1 | heroku-24 | to build |" in text
    assert "| xsp | 4.7.1 | heroku-24 | to build |" in text
    assert "heroku-22" not in text

    out = tmp_path / "out"
    for component, version in (("mono", "6.14.1"), ("xsp", "4.7.1")):
        make_artifact(out, component, version, "heroku-24")
    assert run_cli(["publish", str(out), "--store", f"file://{tmp_path / 'store'}"], env={},
                   cwd=tmp_path).code == 0
    summary.write_text("")
    empty = _plan(tmp_path, "--json", "--stack", "heroku-24", env=env)
    assert json.loads(empty.stdout) == {"include": []}
    assert "nothing to build" in summary.read_text()


def test_build_takes_the_same_version_and_sha256_pair(tmp_path: Path) -> None:
    config = _config(tmp_path)

    def build(*args: str) -> CliResult:
        return run_cli(["--config", str(config), "build", "mono", "--stack", "heroku-24",
                        "--plan", *args], env={}, cwd=tmp_path)

    refused = build("--version", "6.12.0")
    assert refused.code == 2, refused.output
    assert "mono 6.12.0 is not pinned" in refused.stderr and "--sha256" in refused.stderr
    planned = build("--version", "6.12.0", "--sha256", OTHER_PIN.upper())
    assert planned.code == 0, planned.output
    assert (f"fetch source: https://dl.winehq.org/mono/sources/mono/mono-6.12.0.tar.xz "
            f"sha256={OTHER_PIN}") in planned.stdout
    pinned = build()
    assert f"sha256={PIN}" in pinned.stdout
    assert build("--sha256", OTHER_PIN).code == 2
