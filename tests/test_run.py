"""`release-bot run`, the main job: the pure plan, then end to end through the real CLI.

The end-to-end runs build a generated C project (tests/projects.py) served by the loopback
`upstream` on the test stack, publish to a `file://` store in tmp_path and write the notes
(a file, or a Release on the fake GitHub). The generated component is not Mono, so the
sample checks do not apply to it and the notes must say so. The smoke wiring (checks gate
publishing, results reach the notes) is exercised by naming the C project `mono` and
running the checks on a prepared runtime image (`--runtime-image`): the default tier cannot
afford a Mono build, and the notes state which runtime the checks ran on.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import PublishError, UsageError
from bot.run.plan import Target, plan_run
from bot.run.runner import take_from_store
from bot.store import LocalStore
from bot.store.layout import Index, IndexEntry
from bot.store.publish import collect_artifacts, publish
from bot.store.s3 import S3Store
from bot.versions import Version
from tests.builtartifacts import index_entries, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.fakegithub.server import FakeGitHub
from tests.harness import docker as hdocker
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer
from tests.projects import addon_project, hello_project, make_tarball
from tests.recording import RecordingReporter

SHA = "a" * 64
UNREACHABLE_DOCKER = "unix:///nonexistent/docker.sock"


# -- the plan (pure) ----------------------------------------------------------------------
def write_config(root: Path, body: str) -> Path:
    stacks = ('[stacks.s1]\nbuild-image = "b1"\nrun-image = "r1"\n\n'
              '[stacks.s2]\nbuild-image = "b2"\nrun-image = "r2"\n\n')
    path = root / "versions.toml"
    path.write_text(stacks + body)
    return path


def component(name: str, version: str, *, pinned: bool = True, requires: str = "") -> str:
    return (f'[components.{name}]\nversion = "{version}"\n'
            f'source = "https://example.org/{name}-{{version}}.tar.gz"\n'
            f'sha256 = "{SHA if pinned else ""}"\nrequires = [{requires}]\n\n')


def published(*idents: tuple[str, str, str]) -> Index:
    return Index(tuple(IndexEntry(c, v, s, f"{s}/{c}-{v}.tar.gz", "https://x/", SHA, 1, "t")
                       for c, v, s in idents))


def test_plan_builds_xsp_after_mono_per_stack(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("xsp", "4.7.1", requires='"mono"')
                                      + component("mono", "6.14.1")))
    plan = plan_run(config, Index())
    assert [s.stack for s in plan.stacks] == ["s1", "s2"]
    for run in plan.stacks:
        assert run.builds == (Target("mono", "6.14.1", run.stack),
                              Target("xsp", "4.7.1", run.stack))
        assert run.fetch == () and run.smoke and run.unchecked == ()


def test_plan_takes_published_requirements_from_the_store(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("mono", "6.14.1")
                                      + component("xsp", "4.7.2", requires='"mono"')))
    index = published(("mono", "6.14.1", "s1"), ("mono", "6.14.1", "s2"),
                      ("xsp", "4.7.1", "s1"), ("xsp", "4.7.2", "s2"))
    plan = plan_run(config, index)
    (run,) = plan.stacks
    assert run.stack == "s1"
    assert run.builds == (Target("xsp", "4.7.2", "s1"),)
    assert run.fetch == (Target("mono", "6.14.1", "s1"),)  # to build against and smoke on


def test_plan_is_empty_when_everything_is_published(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("mono", "6.14.1")
                                      + component("xsp", "4.7.1", pinned=False,
                                                  requires='"mono"')))
    plan = plan_run(config, published(("mono", "6.14.1", "s1"), ("mono", "6.14.1", "s2")))
    assert plan.empty
    assert plan.describe() == "nothing to build"
    assert [(e.component, e.stack) for e in plan.unpinned] == [("xsp", "s1"), ("xsp", "s2")]


def test_plan_filters_and_refuses_missing_requirements(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("mono", "6.14.1")
                                      + component("xsp", "4.7.1", requires='"mono"')))
    only = plan_run(config, Index(), components=["mono"], stacks=["s2"])
    assert only.builds == (Target("mono", "6.14.1", "s2"),)
    with pytest.raises(UsageError, match=r"mono 6\.14\.1 \(s1\) is needed .* neither "
                                         "published nor built"):
        plan_run(config, Index(), components=["xsp"])


def test_plan_carries_a_dispatched_version_and_its_pin_and_force(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("mono", "6.14.1")
                                      + component("xsp", "4.7.1", requires='"mono"')))
    index = published(("mono", "6.14.1", "s1"), ("xsp", "4.7.1", "s1"))
    pin = "b" * 64
    plan = plan_run(config, index, components=["xsp"], stacks=["s1"],
                    version=Version.parse("4.8.0"), sha256=pin)
    (run,) = plan.stacks
    assert run.builds == (Target("xsp", "4.8.0", "s1", pin),)
    assert run.fetch == (Target("mono", "6.14.1", "s1"),)
    assert plan_run(config, index, stacks=["s1"]).empty
    forced = plan_run(config, index, stacks=["s1"], force=True)
    assert forced.builds == (Target("mono", "6.14.1", "s1"), Target("xsp", "4.7.1", "s1"))


def test_plan_names_components_no_check_covers(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, component("hello", "1.0")))
    plan = plan_run(config, Index(), stacks=["s1"])
    (run,) = plan.stacks
    assert not run.smoke and run.fetch == ()
    assert run.unchecked == (Target("hello", "1.0", "s1"),)
    assert "no smoke checks for hello" in plan.describe()


def test_nothing_to_do_touches_neither_docker_nor_github(tmp_path: Path) -> None:
    write_config(tmp_path, component("hello", "1.0"))
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.json").write_text(json.dumps({"schema": 1, "updated": "t", "artifacts": [
        {"component": "hello", "version": "1.0", "stack": s, "key": f"{s}/hello-1.0.tar.gz",
         "url": "https://x/", "sha256": SHA, "size": 1, "published": "t"}
        for s in ("s1", "s2")]}))
    result = run_cli(["run", "--store", f"file://{store}"], cwd=tmp_path,
                     env={"DOCKER_HOST": UNREACHABLE_DOCKER, "GITHUB_TOKEN": "t",
                          "GITHUB_REPOSITORY": "acme/buildpack",
                          "GITHUB_API_URL": "http://127.0.0.1:9"})
    assert result.code == 0, result.output
    assert "nothing to do" in result.stderr
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--version", "2.0"], "exactly one --component"),
    (["--component", "hello", "--component", "addon", "--sha256", SHA],
     "exactly one --component"),
    (["--component", "hello", "--sha256", SHA], "pass --version too"),
    (["--component", "hello", "--version", "2.x"], "--version '2.x'"),
    (["--component", "hello", "--version", "2.0"], "hello 2.0 is not pinned"),
])
def test_a_bad_version_override_is_a_usage_error_before_the_store_is_read(
        tmp_path: Path, args: list[str], message: str) -> None:
    write_config(tmp_path, component("hello", "1.0") + component("addon", "1.0"))
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.json").write_text("damaged")  # reading it would exit 6, not 2
    result = run_cli(["run", "--store", f"file://{store}", *args], cwd=tmp_path,
                     env={"DOCKER_HOST": UNREACHABLE_DOCKER})
    assert result.code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "index" not in result.stderr
    assert (store / "index.json").read_text() == "damaged"
    assert not (tmp_path / "dist").exists()


# -- end to end (Docker) ------------------------------------------------------------------
class Checkout:
    """A buildpack checkout in tmp_path: versions.toml on the test stack, one generated
    component served by `upstream`, a file:// store and dist/ inside."""

    def __init__(self, root: Path, upstream: UpstreamServer, name: str,
                 addon: str | None = None) -> None:
        self.root = root
        self.upstream = upstream
        self.config = (f'[stacks.test]\nbuild-image = "{hdocker.TEST_BUILD_IMAGE}"\n'
                       f'run-image = "{hdocker.TEST_RUN_IMAGE}"\n\n')
        self.add(name, hello_project(greeting=f"hello from {name}"))
        if addon is not None:  # needs `name` at /app to build, as XSP needs Mono
            self.add(addon, addon_project(version="1.0"), requires=name)
        self.store = root / "store"

    def add(self, name: str, files: dict[str, bytes], requires: str = "") -> None:
        data = make_tarball(files, f"{name}-1.0")
        self.upstream.add(f"/{name}/{name}-1.0.tar.gz", data)
        self.config += (f'[components.{name}]\nversion = "1.0"\n'
                        f'source = "{self.upstream.url}/{name}/{name}-{{version}}.tar.gz"\n'
                        f'sha256 = "{hashlib.sha256(data).hexdigest()}"\n'
                        f'requires = [{json.dumps(requires) if requires else ""}]\n\n')
        (self.root / "versions.toml").write_text(self.config)

    def run(self, *args: str, docker: str | None = None, **env: str) -> CliResult:
        base = {"RELEASE_BOT_CACHE": str(self.root / "cache"),
                "DOCKER_HOST": docker or hdocker.docker_base_url()}
        return run_cli(["run", "--store", f"file://{self.store}", "--cpus", "2", *args],
                       env={**base, **env}, cwd=self.root)

    def index(self) -> dict[tuple[str, str, str], dict[str, object]]:
        return index_entries((self.store / "index.json").read_bytes())


def timed(call: object) -> tuple[CliResult, float]:
    assert callable(call)
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.docker
def test_run_end_to_end_then_nothing_to_do(tmp_path: Path, upstream: UpstreamServer,
                                           stack_images: tuple[str, str]) -> None:
    checkout = Checkout(tmp_path, upstream, "hello")
    outputs = tmp_path / "github-output"
    first = checkout.run(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(outputs))
    assert first.code == 0, first.output
    said = {name: value for name, _, value in re.findall(
        r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", outputs.read_text(), re.MULTILINE)}
    assert said == {"count": "1", "release-tag": "hello-1.0",
                    "notes-file": str(Path("dist") / "release-notes.md")}
    entry = checkout.index()[("hello", "1.0", "test")]
    stored = checkout.store / "test" / "hello-1.0.tar.gz"
    assert entry["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert entry["url"] == stored.as_uri() and entry["size"] == stored.stat().st_size
    with tarfile.open(stored) as tar:
        assert "bin/hello" in tar.getnames()
    notes = (tmp_path / "dist" / "release-notes.md").read_text()
    assert notes.startswith("## hello 1.0\n")
    row = next(line for line in notes.splitlines() if line.startswith("| hello | 1.0 |"))
    assert str(entry["url"]) in row and f"`{entry['sha256']}`" in row
    assert "No smoke checks for hello 1.0 (test): the sample apps need Mono." in notes
    assert "No smoke tests ran." in notes
    assert "no smoke checks for hello" in first.stderr

    index_before = (checkout.store / "index.json").read_bytes()
    second, seconds = timed(lambda: checkout.run(docker=UNREACHABLE_DOCKER))
    assert second.code == 0, second.output
    assert "nothing to do" in second.stderr
    assert seconds < 10
    assert (checkout.store / "index.json").read_bytes() == index_before
    assert (tmp_path / "dist" / "release-notes.md").read_text() == notes


@pytest.mark.docker
def test_run_creates_the_github_release(tmp_path: Path, upstream: UpstreamServer,
                                        stack_images: tuple[str, str],
                                        fake_github: FakeGitHub) -> None:
    fake_github.create_repo("acme", "buildpack", files={"versions.toml": b"# buildpack\n"})
    checkout = Checkout(tmp_path, upstream, "hello")
    github = {"GITHUB_TOKEN": "test-token", "GITHUB_REPOSITORY": "acme/buildpack",
              "GITHUB_API_URL": fake_github.url}
    first = checkout.run(**github)
    assert first.code == 0, first.output
    (release,) = fake_github.releases("acme", "buildpack")
    assert release["tag_name"] == "hello-1.0"
    entry = checkout.index()[("hello", "1.0", "test")]
    assert str(entry["url"]) in release["body"] and str(entry["sha256"]) in release["body"]
    manifest = checkout.store / "test" / "hello-1.0.json"
    assert release["assets"] == {"hello-1.0-test.json": manifest.read_bytes()}
    assert not (tmp_path / "dist" / "release-notes.md").exists()

    requests = len(fake_github.requests)
    second = checkout.run(docker=UNREACHABLE_DOCKER, **github)
    assert second.code == 0, second.output
    assert "nothing to do" in second.stderr
    assert len(fake_github.requests) == requests  # no GitHub call either


@pytest.mark.docker
def test_smoke_checks_gate_publishing(tmp_path: Path, upstream: UpstreamServer,
                                      stack_images: tuple[str, str], debian_runtime: str
                                      ) -> None:
    # The C project stands in for Mono's artifact; the checks run on a prepared runtime.
    checkout = Checkout(tmp_path, upstream, "mono")
    failing = checkout.run("--runtime-image", stack_images[1])  # the run image has no Mono
    assert failing.code == 5, failing.output
    assert "smoke checks failed" in failing.stderr
    assert not (checkout.store / "index.json").exists()
    assert not (checkout.store / "test").exists()
    assert not (tmp_path / "dist" / "release-notes.md").exists()
    results = json.loads((tmp_path / "dist" / "smoke-results.json").read_text())
    assert {r["name"] for r in results} == {"console", "web"}
    assert not any(r["passed"] for r in results)

    passing = checkout.run("--runtime-image", debian_runtime)
    assert passing.code == 0, passing.output
    assert ("mono", "1.0", "test") in checkout.index()
    notes = (tmp_path / "dist" / "release-notes.md").read_text()
    assert f"Checks ran on the prepared runtime image {debian_runtime}" in notes
    for check in ("console", "web"):
        row = rf"^\| test \| amd64 \| {check} \| ✅ passed \|"
        assert re.search(row, notes, re.MULTILINE), notes
    assert "No smoke checks for" not in notes


@pytest.mark.docker
def test_run_builds_against_the_published_requirement(tmp_path: Path, upstream: UpstreamServer,
                                                      stack_images: tuple[str, str]) -> None:
    checkout = Checkout(tmp_path, upstream, "hello", addon="addon")
    first = checkout.run("--component", "hello")
    assert first.code == 0, first.output
    assert set(checkout.index()) == {("hello", "1.0", "test")}
    hello = checkout.index()[("hello", "1.0", "test")]

    second = checkout.run()  # addon only: hello is taken from the store, not rebuilt
    assert second.code == 0, second.output
    assert "took hello 1.0 (test) from" in second.stderr
    index = checkout.index()
    assert set(index) == {("hello", "1.0", "test"), ("addon", "1.0", "test")}
    assert index[("hello", "1.0", "test")] == hello  # untouched
    manifest = json.loads((checkout.store / "test" / "addon-1.0.json").read_text())
    assert manifest["built_against"] == {"hello": {"version": "1.0",
                                                   "sha256": hello["sha256"]}}
    notes = (tmp_path / "dist" / "release-notes.md").read_text()
    assert notes.startswith("## hello 1.0, addon 1.0\n")
    assert "built against hello 1.0" in notes
    assert "No smoke checks for addon 1.0 (test)" in notes


# -- taking published artifacts from the store ----------------------------------------------
@pytest.mark.parametrize("change", [
    {"stack": "other"},  # a manifest of another artifact under this key
    {"component": "xsp", "artifact": "xsp-1.0-s1.tar.gz"},
    {"artifact": "../../elsewhere.tar.gz"},  # a path out of the run's directory
    {"size": "many"},
])
def test_a_store_manifest_that_is_not_the_artifacts_is_refused_with_exit_6(
        tmp_path: Path, change: dict[str, object]) -> None:
    store = LocalStore(tmp_path / "store")
    make_artifact(tmp_path / "out", "mono", "1.0", "s1")
    publish(store, collect_artifacts(tmp_path / "out"), force=False,
            reporter=RecordingReporter())
    stored = tmp_path / "store" / "s1" / "mono-1.0.json"
    good = json.loads(stored.read_text())
    here = tmp_path / "run"
    here.mkdir()
    assert take_from_store(store, Target("mono", "1.0", "s1"), here).sha256 == good["sha256"]

    stored.chmod(0o644)
    stored.write_text(json.dumps(good | change))
    with pytest.raises(PublishError) as caught:
        take_from_store(store, Target("mono", "1.0", "s1"), here)
    assert caught.value.exit_code == 6
    assert "s1/mono-1.0" in caught.value.message and "republish" in caught.value.message


def test_a_published_artifact_is_streamed_to_disk_not_read_into_memory(tmp_path: Path
                                                                       ) -> None:
    size = 32 << 20
    store = LocalStore(tmp_path / "store")
    built = make_artifact(tmp_path / "out", "mono", "1.0", "s1", size=size)
    publish(store, collect_artifacts(tmp_path / "out"), force=False,
            reporter=RecordingReporter())
    here = tmp_path / "run"
    here.mkdir()
    tracemalloc.start()
    try:
        manifest = take_from_store(store, Target("mono", "1.0", "s1"), here)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert manifest.sha256 == built.sha256
    assert hashlib.sha256((here / "mono-1.0-s1.tar.gz").read_bytes()).hexdigest() == built.sha256
    assert peak < size // 8, f"{peak} bytes traced while taking a {size}-byte tarball"


def test_taking_from_s3_streams_the_tarball_and_refuses_a_missing_one(
        tmp_path: Path, s3: MotoS3) -> None:
    store = S3Store(s3.client(), s3.make_bucket(f"run-{uuid.uuid4().hex[:12]}"), "p",
                    endpoint_url=s3.endpoint)
    built = make_artifact(tmp_path / "out", "mono", "1.0", "s1", size=(9 << 20) + 7)
    publish(store, collect_artifacts(tmp_path / "out"), force=False,
            reporter=RecordingReporter())
    here = tmp_path / "run"
    here.mkdir()
    assert take_from_store(store, Target("mono", "1.0", "s1"), here).sha256 == built.sha256
    assert (here / "mono-1.0-s1.tar.gz").read_bytes() == built.data

    s3.client().delete_object(Bucket=store.bucket, Key="p/s1/mono-1.0.tar.gz")
    with pytest.raises(PublishError) as caught:
        take_from_store(store, Target("mono", "1.0", "s1"), tmp_path)
    assert "does not publish it" in caught.value.message
