"""Pure parts of the smoke tests: artifact and check selection, results, runtime context."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from bot.build.manifest import Dependency, Manifest, SourceRef
from bot.containers.images import inputs_hash
from bot.errors import UsageError
from bot.notes.collect import load_smoke_results, smoke_to_json
from bot.smoke.plan import CHECKS, RuntimeArtifact, plan_for_image, plan_from_artifacts
from bot.smoke.results import SmokeResult, excerpt
from bot.smoke.runtime import write_runtime_context

RUN_IMAGES = {"heroku-24": "heroku/heroku:24", "test": "release-bot-test/bookworm:run"}


def run_images(arch: str) -> dict[str, str]:
    """As Config.run_images: each stack's run image for `arch`."""
    return {k: v if arch == "amd64" else f"{v}-{arch}" for k, v in RUN_IMAGES.items()}


def manifest(component: str, version: str, stack: str = "test",
             built_against: dict[str, Dependency] | None = None, arch: str = "amd64"
             ) -> Manifest:
    name = f"{component}-{version}-{stack}{'' if arch == 'amd64' else '-' + arch}.tar.gz"
    return Manifest(component=component, version=version, stack=stack, artifact=name, arch=arch,
                    sha256=f"{component}{version}".ljust(64, "0"), size=1,
                    source=SourceRef(url="http://upstream.invalid/x", sha256="0" * 64),
                    builder_image="sha256:" + "1" * 64, build_image="b",
                    source_date_epoch=0, duration=0.0, built_against=built_against or {})


def names(plan_checks: tuple[object, ...]) -> list[str]:
    return [c.name for c in plan_checks]  # type: ignore[attr-defined]


def test_mono_alone_runs_console_and_web_on_the_stack_run_image(tmp_path: Path) -> None:
    plan = plan_from_artifacts([manifest("mono", "6.8.0.105")], tmp_path, stack=None,
                               run_images=run_images)
    assert plan.stack == "test"
    assert plan.base_image == "release-bot-test/bookworm:run"
    assert [(a.component, a.version) for a in plan.artifacts] == [("mono", "6.8.0.105")]
    assert plan.artifacts[0].path == tmp_path / "mono-6.8.0.105-test.tar.gz"
    assert names(plan.checks) == ["console", "web"]
    assert plan.runtime_image is None


def test_xsp_adds_its_check_and_is_extracted_after_mono(tmp_path: Path) -> None:
    plan = plan_from_artifacts([manifest("xsp", "4.7.1"), manifest("mono", "6.8.0.105")],
                               tmp_path, stack="test", run_images=run_images)
    assert [a.component for a in plan.artifacts] == ["mono", "xsp"]
    assert names(plan.checks) == ["console", "web", "xsp"]
    assert "mono 6.8.0.105, xsp 4.7.1" in plan.describe()


def test_xsp_picks_the_mono_it_was_built_against(tmp_path: Path) -> None:
    monos = [manifest("mono", v) for v in ("6.12.0.199", "6.14.1", "6.8.0.105")]
    xsp = manifest("xsp", "4.7.1", built_against={"mono": Dependency("6.12.0.199", "a" * 64)})
    plan = plan_from_artifacts([*monos, xsp], tmp_path, stack="test", run_images=run_images)
    assert [(a.component, a.version) for a in plan.artifacts] == [
        ("mono", "6.12.0.199"), ("xsp", "4.7.1")]


def test_without_xsp_the_newest_mono_wins_by_version_order(tmp_path: Path) -> None:
    monos = [manifest("mono", v) for v in ("6.12.0.1000", "6.12.0.199", "6.8.0.105")]
    plan = plan_from_artifacts(monos, tmp_path, stack="test", run_images=run_images)
    assert plan.artifacts[0].version == "6.12.0.1000"


def test_xsp_built_against_a_missing_mono_is_a_usage_error(tmp_path: Path) -> None:
    xsp = manifest("xsp", "4.7.1", built_against={"mono": Dependency("6.14.1", "a" * 64)})
    with pytest.raises(UsageError, match=r"built against mono 6\.14\.1"):
        plan_from_artifacts([manifest("mono", "6.8.0.105"), xsp], tmp_path, stack="test",
                            run_images=run_images)


def test_other_stacks_are_ignored_and_several_need_a_choice(tmp_path: Path) -> None:
    both = [manifest("mono", "6.8.0.105"), manifest("mono", "6.14.1", stack="heroku-24")]
    with pytest.raises(UsageError, match=r"several stacks .*--stack"):
        plan_from_artifacts(both, tmp_path, stack=None, run_images=run_images)
    plan = plan_from_artifacts(both, tmp_path, stack="heroku-24", run_images=run_images)
    assert [(a.version, a.stack) for a in plan.artifacts] == [("6.14.1", "heroku-24")]
    assert plan.base_image == "heroku/heroku:24"


def test_the_architecture_picks_the_artifacts_run_image_and_platform(tmp_path: Path) -> None:
    both = [manifest("mono", "6.14.1"), manifest("mono", "6.14.1", arch="arm64")]
    with pytest.raises(UsageError, match=r"several architectures \(amd64, arm64\); choose "
                                         r"one with --arch"):
        plan_from_artifacts(both, tmp_path, stack="test", run_images=run_images)
    arm = plan_from_artifacts(both, tmp_path, stack="test", run_images=run_images, arch="arm64")
    assert [a.path.name for a in arm.artifacts] == ["mono-6.14.1-test-arm64.tar.gz"]
    assert (arm.base_image, arm.arch, arm.platform) == (
        "release-bot-test/bookworm:run-arm64", "arm64", "linux/arm64")
    assert arm.describe().startswith("mono 6.14.1 on release-bot-test/bookworm:run-arm64 "
                                     "(stack test) for arm64;")
    amd = plan_from_artifacts(both, tmp_path, stack="test", run_images=run_images, arch="amd64")
    assert (amd.base_image, amd.platform) == ("release-bot-test/bookworm:run", None)
    assert plan_from_artifacts(both[1:], tmp_path, stack="test",
                               run_images=run_images).arch == "arm64"  # the only one there
    with pytest.raises(UsageError, match=r"no mono artifact for stack test \(arm64\) .*"
                                         r"`release-bot build mono --stack test --arch arm64`"):
        plan_from_artifacts(both[:1], tmp_path, stack="test", run_images=run_images,
                            arch="arm64")


def test_missing_mono_empty_dir_and_unknown_stack_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no build artifacts"):
        plan_from_artifacts([], tmp_path, stack=None, run_images=run_images)
    with pytest.raises(UsageError, match="release-bot build mono --stack test"):
        plan_from_artifacts([manifest("xsp", "4.7.1")], tmp_path, stack="test",
                            run_images=run_images)
    with pytest.raises(UsageError, match="did you mean 'test'"):
        plan_from_artifacts([manifest("mono", "6.8.0.105", stack="tset")], tmp_path,
                            stack="tset", run_images=run_images)


def test_check_selection_validates_names_and_needs() -> None:
    assert names(plan_for_image("img", has_xsp=True).checks) == ["console", "web", "xsp"]
    assert names(plan_for_image("img", has_xsp=False).checks) == ["console", "web"]
    assert names(plan_for_image("img", has_xsp=True, only=("web", "web")).checks) == ["web"]
    with pytest.raises(UsageError, match="did you mean 'console'"):
        plan_for_image("img", has_xsp=True, only=("consle",))
    with pytest.raises(UsageError, match="needs xsp"):
        plan_for_image("img", has_xsp=False, only=("xsp",))
    plan = plan_for_image("img", has_xsp=False, ready_timeout=7)
    assert plan.ready_timeout == 7
    assert plan.runtime_image == "img"
    assert plan.artifacts == ()


def test_http_checks_name_port_path_and_a_computed_marker() -> None:
    by_name = {c.name: c for c in CHECKS}
    assert (by_name["web"].port, by_name["web"].path) == (5000, "/")
    assert by_name["xsp"].port == 8080
    assert by_name["xsp"].path.endswith(".aspx")
    assert not by_name["xsp"].compiled
    page = (Path(__file__).resolve().parents[1] / "images/samples/xsp/index.aspx").read_text()
    # The marker appears only once ASP.NET has run the page, never in its source.
    assert by_name["xsp"].marker not in page


def test_result_json_has_every_field_rounded() -> None:
    result = SmokeResult("web", True, 1.23456, 200, 12.345, "body", "ok")
    assert result.to_json() == {"name": "web", "passed": True, "seconds": 1.235,
                                "http_status": 200, "latency_ms": 12.3,
                                "output_excerpt": "body", "detail": "ok"}
    assert result.row()[:5] == ["web", "pass", "1.2s", "200", "12 ms"]
    failed = SmokeResult("console", False, 0.5, detail="exited with code 1")
    assert failed.row()[1:5] == ["FAIL", "0.5s", "-", "-"]


def test_result_json_carries_its_stack_and_reads_back_into_the_notes(tmp_path: Path) -> None:
    web = SmokeResult("web", True, 1.23456, 200, 12.345, "body", "ok")
    console = SmokeResult("console", False, 0.5, detail="exited with code 1")
    tagged = web.to_json("heroku-24")
    assert next(iter(tagged)) == "stack" and tagged == {"stack": "heroku-24", **web.to_json()}
    path = tmp_path / "heroku-24.json"
    path.write_text(json.dumps([r.to_json("heroku-24") for r in (web, console)]))
    assert smoke_to_json("heroku-24", [web, console]) == json.loads(path.read_text())
    loaded = load_smoke_results(path, default_stack="other")
    assert [(s.name, s.stack, s.passed) for s in loaded] == [
        ("web", "heroku-24", True), ("console", "heroku-24", False)]


def test_excerpt_keeps_the_end_of_long_output() -> None:
    assert excerpt("  short\n") == "short"
    long = "x" * 1000 + "THE END"
    cut = excerpt(long, 50)
    assert cut.endswith("THE END")
    assert len(cut) == 51


def test_inputs_hash_separates_parts() -> None:
    assert inputs_hash([b"ab", b"c"]) != inputs_hash([b"a", b"bc"])
    assert inputs_hash([b"ab", b"c"]) == inputs_hash([b"ab", b"c"])


def test_runtime_context_orders_artifacts_mono_first(tmp_path: Path) -> None:
    built = tmp_path / "dist"
    built.mkdir()
    artifacts = []
    for component in ("mono", "xsp"):
        tarball = built / f"{component}.tar.gz"
        with tarfile.open(tarball, "w:gz"):
            pass
        artifacts.append(RuntimeArtifact(component, "1", "test", tarball, "0" * 64))
    context = tmp_path / "context"
    context.mkdir()
    write_runtime_context(context, artifacts)
    assert sorted(p.name for p in (context / "artifacts").iterdir()) == [
        "01-mono.tar.gz", "02-xsp.tar.gz"]
    assert (context / "artifacts/01-mono.tar.gz").read_bytes() == artifacts[0].path.read_bytes()
    assert (context / "Dockerfile").is_file()
