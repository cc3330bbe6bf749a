"""Architectures in versions.toml, the plan, the build matrix, artifact names and index.json
(issue 14): amd64 names, keys and index entries stay exactly as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.build.manifest import artifact_stem
from bot.commands.plan import stack_matrix
from bot.config import load_config
from bot.errors import UsageError
from bot.notes.model import NoteSmoke
from bot.promote.evidence import expected_builds
from bot.promote.report import build_report, render_report
from bot.run.plan import plan_run
from bot.store.layout import (
    INDEX_SCHEMA,
    OTHER_ARCHES,
    Index,
    IndexEntry,
    artifact_key,
    merge_index,
    parse_index,
    render_index,
)
from bot.store.unpublished import plan_unpublished
from tests.clirunner import run_cli
from tests.configs import MONO_SOURCE, component_table, heroku_stacks
from tests.test_smoke_plan import manifest

PIN = "a" * 64


def _config(tmp_path: Path, arches: str = '["amd64", "arm64"]') -> Path:
    path = tmp_path / "versions.toml"
    path.write_text(heroku_stacks(arches) + component_table("mono", "6.14.1", MONO_SOURCE, PIN))
    return path


def _entry(stack: str, arch: str) -> IndexEntry:
    key = artifact_key("mono", "6.14.1", stack, arch)
    return IndexEntry("mono", "6.14.1", stack, key, f"https://example.test/{key}", PIN, 1,
                      "2026-01-01T00:00:00Z", arch)


def test_a_stack_lists_its_architectures_default_amd64(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    assert config.stack("heroku-22").arches == ("amd64",)
    assert config.stack("heroku-24").arches == ("amd64", "arm64")


@pytest.mark.parametrize(("arches", "said"), [
    ('["amd64", "arm46"]', "unknown architecture 'arm46'"),
    ('["arm64", "arm64"]', "'arm64' is listed twice"),
    ("[]", "no architectures listed"),
    ('"arm64"', "expected an array of strings"),
])
def test_a_bad_architecture_exits_2_with_one_line(tmp_path: Path, arches: str,
                                                  said: str) -> None:
    result = run_cli(["--config", str(_config(tmp_path, arches)), "check"], env={},
                     cwd=tmp_path)
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and "heroku-24" in lines[0], result.stderr
    if "arm46" in arches:
        assert "did you mean 'arm64'?" in lines[0]


def test_amd64_names_are_unchanged_and_other_arches_get_their_own_part() -> None:
    assert artifact_stem("mono", "6.14.1", "heroku-24") == "mono-6.14.1-heroku-24"
    assert artifact_stem("mono", "6.14.1", "heroku-24", arch="amd64", key=True) \
        == "heroku-24/mono-6.14.1"
    assert artifact_key("mono", "6.14.1", "heroku-24") == "heroku-24/mono-6.14.1.tar.gz"
    assert artifact_stem("mono", "6.14.1", "heroku-24", arch="arm64") \
        == "mono-6.14.1-heroku-24-arm64"
    assert artifact_key("mono", "6.14.1", "heroku-24", "arm64") \
        == "heroku-24/arm64/mono-6.14.1.tar.gz"


def test_index_keeps_amd64_in_artifacts_and_other_arches_apart() -> None:
    entries = (_entry("heroku-24", "arm64"), _entry("heroku-24", "amd64"),
               _entry("heroku-22", "amd64"))
    index = merge_index(Index(), entries, "2026-01-01T00:00:00Z")
    assert index is not None
    doc = json.loads(render_index(index))
    assert doc["schema"] == INDEX_SCHEMA
    # a reader of the current schema sees exactly the amd64 builds under `artifacts`
    assert [(e["stack"], e["arch"]) for e in doc["artifacts"]] \
        == [("heroku-22", "amd64"), ("heroku-24", "amd64")]
    assert [(e["key"], e["arch"]) for e in doc[OTHER_ARCHES]] \
        == [("heroku-24/arm64/mono-6.14.1.tar.gz", "arm64")]
    back = parse_index(render_index(index), "index.json")
    assert back == index
    assert back.find("mono", "6.14.1", "heroku-24", "arm64") == _entry("heroku-24", "arm64")
    # the same entries again (a re-publish) change nothing
    assert merge_index(back, entries, "2026-02-02T00:00:00Z") is None


def test_an_index_written_before_architectures_reads_as_amd64() -> None:
    old = {"schema": 1, "updated": "2026-01-01T00:00:00Z", "artifacts": [
        {k: v for k, v in json.loads(render_index(Index((_entry("heroku-24", "amd64"),))))
         ["artifacts"][0].items() if k != "arch"}]}
    index = parse_index(json.dumps(old).encode(), "index.json")
    assert index.entries == (_entry("heroku-24", "amd64"),)
    assert ("mono", "6.14.1", "heroku-24", "amd64") in index.published()
    # an amd64 entry added later leaves the old entry as it was: same key, url, sha256
    merged = merge_index(index, [_entry("heroku-22", "amd64")], "2026-02-02T00:00:00Z")
    assert merged is not None
    assert json.loads(render_index(merged))["artifacts"][1] \
        == {**old["artifacts"][0], "arch": "amd64"}


def test_plan_and_matrix_carry_the_architecture_and_its_runner(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    index = Index((_entry("heroku-24", "amd64"),))
    entries = plan_unpublished(config, index)
    assert [(e.stack, e.arch) for e in entries] == [("heroku-22", "amd64"),
                                                    ("heroku-24", "arm64")]
    assert entries[1].matrix_row() == {"component": "mono", "version": "6.14.1",
                                       "stack": "heroku-24", "arch": "arm64"}
    assert stack_matrix(entries) == {"include": [
        {"stack": "heroku-22", "arch": "amd64", "lane": "heroku-22", "runs-on": "ubuntu-24.04"},
        {"stack": "heroku-24", "arch": "arm64", "lane": "heroku-24-arm64",
         "runs-on": "ubuntu-24.04-arm"}]}


def test_run_plans_each_architecture_of_a_stack_on_its_own(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    plan = plan_run(config, Index())
    assert [(s.stack, s.arch, s.lane) for s in plan.stacks] == [
        ("heroku-22", "amd64", "heroku-22"), ("heroku-24", "amd64", "heroku-24"),
        ("heroku-24", "arm64", "heroku-24-arm64")]
    assert all(t.arch == s.arch for s in plan.stacks for t in s.builds)
    assert plan.stacks[2].builds[0].describe() == "mono 6.14.1 (heroku-24, arm64)"
    # the amd64 artifact published: only arm64 is left, and the filter keeps one architecture
    index = Index((_entry("heroku-24", "amd64"),))
    assert [s.lane for s in plan_run(config, index, stacks=["heroku-24"]).stacks] \
        == ["heroku-24-arm64"]
    assert [s.lane for s in plan_run(config, Index(), arches=["amd64"]).stacks] \
        == ["heroku-22", "heroku-24"]
    with pytest.raises(UsageError, match=r"no stack chosen .* builds for arm64 \(arches of "
                                         r"heroku-22: amd64\); add arm64 to a stack's arches"):
        plan_run(config, Index(), stacks=["heroku-22"], arches=["arm64"])


def test_an_arch_template_in_the_images_is_resolved_wherever_they_are_read(
        tmp_path: Path) -> None:
    path = _config(tmp_path)
    path.write_text(path.read_text()
                    .replace('"heroku/heroku:24-build"', '"heroku/heroku:24-build-{arch}"')
                    .replace('"heroku/heroku:24"', '"heroku/heroku:24-{arch}"'))
    config = load_config(path)
    assert config.run_images() == {"heroku-22": "heroku/heroku:22",
                                   "heroku-24": "heroku/heroku:24-amd64"}
    assert config.run_images("arm64")["heroku-24"] == "heroku/heroku:24-arm64"
    # promotion compares a manifest's build image with what a build here would record
    expected = expected_builds(config, plan_unpublished(config, Index()))
    assert [(x.stack, x.build_image) for xs in expected.values() for x in xs] == [
        ("heroku-22", "heroku/heroku:22-build"), ("heroku-24", "heroku/heroku:24-build-amd64"),
        ("heroku-24", "heroku/heroku:24-build-arm64")]


def test_the_pull_request_report_keeps_each_architecture_apart(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    entries = plan_unpublished(config, Index(), stacks=["heroku-24"])
    arm = manifest("mono", "6.14.1", stack="heroku-24", arch="arm64")
    smoke = [NoteSmoke("console", "heroku-24", True, 1.0),
             NoteSmoke("console", "heroku-24", False, 2.0, arch="arm64")]
    report = build_report(entries, [arm], Index((_entry("heroku-24", "arm64"),)), smoke,
                          "https://example.test/run/1", "f" * 40)
    assert [(r.entry.arch, r.manifest) for r in report.rows] == [("amd64", None),
                                                                 ("arm64", arm)]
    assert report.failed_stacks == ["heroku-24", "heroku-24-arm64"]
    text = render_report(report)
    assert "| mono | 6.14.1 | heroku-24 | ❌ failed |" in text
    assert "| mono | 6.14.1 | heroku-24-arm64 | ✅ built |" in text
    assert "- heroku-24: ✅ console (1.0s)" in text
    assert "- heroku-24-arm64: ❌ console (2.0s)" in text
