"""The pure promotion decision: which run, which stacks, and why not (no network, no I/O
beyond the manifests the helper writes)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from bot.build.manifest import Dependency, Manifest
from bot.forge.actions import WorkflowRun
from bot.promote.decide import BuilderInputs, Evidence, Found, choose_run, decide_stack
from bot.promote.evidence import (
    builder_inputs,
    expected_builds,
    read_builder_inputs,
    read_evidence,
    unpack,
)
from bot.store.layout import Index
from bot.store.unpublished import plan_unpublished
from tests.clirunner import run_cli
from tests.promotion import REPOSITORY, stack_artifact, write_config, write_files

WORKFLOW = ".github/workflows/pr-build.yml"
HEAD = "c" * 40


def _run(run_id: int, *, path: str = WORKFLOW, head_repo: str = REPOSITORY,
         head_sha: str = HEAD, conclusion: str = "success") -> WorkflowRun:
    return WorkflowRun(run_id, path, head_sha, head_repo, conclusion,
                       f"https://github.test/{REPOSITORY}/actions/runs/{run_id}")


def test_the_newest_successful_run_of_the_workflow_is_chosen_and_others_named() -> None:
    runs = [_run(5), _run(9), _run(11, path=".github/workflows/check.yml"),
            _run(12, head_repo="mallory/buildpack"), _run(13, head_sha="d" * 40),
            _run(14, conclusion="failure")]
    choice = choose_run(runs, WORKFLOW, REPOSITORY, HEAD)
    assert choice.run is not None and choice.run.id == 9
    refused = "\n".join(choice.refused)
    assert "run 11" in refused and "check.yml, not .github/workflows/pr-build.yml" in refused
    assert "run 12" in refused and "fork mallory/buildpack" in refused
    assert "run 13" in refused and "run 14" in refused and "failure" in refused
    assert "run 5" not in refused  # older runs of the right workflow are simply not chosen


def test_no_acceptable_run_chooses_none() -> None:
    choice = choose_run([_run(3, head_repo="mallory/buildpack")], WORKFLOW, REPOSITORY, HEAD)
    assert choice.run is None and len(choice.refused) == 1


@pytest.fixture
def case(tmp_path: Path) -> tuple[dict[str, list], Evidence, BuilderInputs]:  # type: ignore[type-arg]
    config = write_config(tmp_path)
    expected = expected_builds(config, plan_unpublished(config, Index()))
    folder = write_files(tmp_path / "art", stack_artifact(config, "heroku-24"))
    return expected, read_evidence("heroku-24", folder), builder_inputs()


def _decide(case: tuple, evidence: Evidence | None = None):  # type: ignore[no-untyped-def,type-arg]
    expected, good, builder = case
    return decide_stack(expected["heroku-24"], evidence or good, builder, {})


def _with(evidence: Evidence, component: str, **changes: object) -> Evidence:
    found = tuple(replace(f, **changes) if f.manifest and f.manifest.component == component
                  else f for f in evidence.found)
    return replace(evidence, found=found)


def test_a_stack_that_matches_is_promoted_with_every_planned_tarball(case: tuple) -> None:  # type: ignore[type-arg]
    decision = _decide(case)
    assert decision.promote, decision.reasons
    assert decision.files == ("mono-6.14.1-heroku-24.tar.gz", "xsp-4.7.1-heroku-24.tar.gz")


def test_tampered_bytes_are_refused_naming_the_tarball(case: tuple) -> None:  # type: ignore[type-arg]
    tampered = _with(case[1], "mono", tarball_sha256=hashlib.sha256(b"evil").hexdigest())
    decision = _decide(case, tampered)
    assert not decision.promote
    assert any("mono-6.14.1-heroku-24.tar.gz: tampered" in r for r in decision.reasons)


def test_a_missing_or_wrong_sidecar_is_refused(case: tuple) -> None:  # type: ignore[type-arg]
    assert "sidecar is missing" in " ".join(_decide(case, _with(case[1], "xsp",
                                                                 sidecar=None)).reasons)
    wrong = _with(case[1], "xsp", sidecar="0" * 64 + "  xsp-4.7.1-heroku-24.tar.gz\n")
    assert "sidecar disagrees" in " ".join(_decide(case, wrong).reasons)


def _manifest(evidence: Evidence, component: str) -> Manifest:
    (m,) = [f.manifest for f in evidence.found if f.manifest and f.manifest.component == component]
    assert m is not None
    return m


def test_a_manifest_for_another_version_source_recipe_or_image_is_refused(
        case: tuple) -> None:  # type: ignore[type-arg]
    mono = _manifest(case[1], "mono")
    other_version = _with(case[1], "mono", manifest=replace(mono, version="6.12.0"))
    assert "is for mono 6.12.0 (heroku-24), versions.toml asks for mono 6.14.1" in " ".join(
        _decide(case, other_version).reasons)
    source = _with(case[1], "mono", manifest=replace(
        mono, source=replace(mono.source, sha256="f" * 64)))
    assert "source sha256 ffffffffffff" in " ".join(_decide(case, source).reasons)
    assert mono.provenance is not None
    recipe = _with(case[1], "mono", manifest=replace(
        mono, provenance=replace(mono.provenance, recipe_sha256="e" * 64)))
    assert "recipe hash eeeeeeeeeeee" in " ".join(_decide(case, recipe).reasons)
    no_provenance = _with(case[1], "mono", manifest=replace(mono, provenance=None))
    assert "(none recorded)" in " ".join(_decide(case, no_provenance).reasons)
    image = _with(case[1], "mono", manifest=replace(mono, build_image="heroku/heroku:20-build"))
    assert "built on heroku/heroku:20-build" in " ".join(_decide(case, image).reasons)


def test_other_builder_inputs_or_none_are_refused(case: tuple) -> None:  # type: ignore[type-arg]
    other = replace(case[1], builder=BuilderInputs("0" * 64, "0.0.9"))
    assert "other builder inputs" in " ".join(_decide(case, other).reasons)
    assert "no builder inputs recorded" in " ".join(
        _decide(case, replace(case[1], builder=None)).reasons)


def test_a_build_against_bytes_neither_promoted_nor_published_is_refused(
        case: tuple) -> None:  # type: ignore[type-arg]
    xsp = _manifest(case[1], "xsp")
    against = _with(case[1], "xsp", manifest=replace(
        xsp, built_against={"mono": Dependency("6.14.1", "9" * 64)}))
    reasons = " ".join(_decide(case, against).reasons)
    assert "built against mono 6.14.1 999999999999" in reasons
    # ... unless the store publishes exactly those bytes (Mono not rebuilt in this PR)
    expected, _, builder = case
    only_xsp = [e for e in expected["heroku-24"] if e.component == "xsp"]
    decision = decide_stack(only_xsp, against, builder, {("mono", "6.14.1"): "9" * 64})
    assert decision.promote and decision.files == ("xsp-4.7.1-heroku-24.tar.gz",)


def test_a_planned_build_without_an_artifact_or_a_run_problem_is_refused(
        case: tuple) -> None:  # type: ignore[type-arg]
    no_xsp = replace(case[1], found=tuple(f for f in case[1].found
                                          if f.manifest and f.manifest.component != "xsp"))
    assert "no artifact of xsp 4.7.1 (heroku-24)" in " ".join(_decide(case, no_xsp).reasons)
    expired = Evidence("heroku-24", problem="expired in run 7 (artifact 8)")
    (reason,) = _decide(case, expired).reasons
    assert reason == "release-bot-stack-heroku-24: expired in run 7 (artifact 8)"
    broken = _with(case[1], "mono", manifest=None, manifest_problem="not JSON")
    assert "unusable: mono-6.14.1-heroku-24.tar.gz" in " ".join(_decide(case, broken).reasons)


def test_found_without_a_manifest_is_named() -> None:
    lone = Found("mono-6.14.1-heroku-24.tar.gz", None, "no build manifest")
    assert lone.manifest is None


def test_unpacking_takes_only_the_stacks_files_and_nothing_outside(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mono-6.14.1-heroku-24.tar.gz", b"x")
        zf.writestr("../escaped.txt", b"evil")
        zf.writestr("smoke/heroku-24.json", b"[]")
        zf.writestr("smoke/heroku-22.json", b"[]")
        zf.writestr("deep/er/file", b"no")
    into = tmp_path / "in"
    assert unpack(buf.getvalue(), "heroku-24", into) == ""
    got = sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file())
    assert got == ["mono-6.14.1-heroku-24.tar.gz", "smoke/heroku-24.json"]
    assert not (tmp_path / "escaped.txt").exists()
    assert "not a readable zip" in unpack(b"PK not really", "heroku-24", into)


def test_builder_inputs_are_written_where_promote_reads_them(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = run_cli(["--config", str(config.path), "builder-inputs", "--stack", "heroku-24",
                      "--out", str(tmp_path / "out")], env={}, cwd=tmp_path)
    assert result.code == 0, result.output
    written = read_builder_inputs(tmp_path / "out" / "builder" / "heroku-24.json")
    assert written == builder_inputs()
    unknown = run_cli(["--config", str(config.path), "builder-inputs", "--stack", "nope",
                       "--out", str(tmp_path / "out")], env={}, cwd=tmp_path)
    assert unknown.code == 2 and "nope" in unknown.output
