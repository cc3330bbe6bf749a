"""Provenance: what a build manifest records to rebuild and judge an artifact, what `verify`
shows of it, and the attestation check the release notes give per artifact.

Pure tests of the manifest (round trip, the recipe hash, manifests from before provenance),
of the builder on a fake container runtime (times go into the manifest, never the tarball),
of `release-bot verify` on a file:// store, and of the notes; one docker test builds for real.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docker
import pytest

from bot import __version__
from bot.app import App
from bot.build.builder_image import base_image, ensure_builder_image
from bot.build.manifest import (
    BaseImage,
    Manifest,
    PatchRef,
    Recipe,
    SourceRef,
    load_manifest,
    recipe_hash,
    write_manifest,
)
from bot.build.plan import plan_build
from bot.build.runner import Builder
from bot.cache import SourceCache
from bot.config import load_config, parse_config
from bot.containers.docker import DockerEngine
from bot.containers.images import BuiltImage
from bot.containers.port import ContainerSpec
from bot.errors import BuildError, UsageError
from bot.notes.collect import build_notes
from bot.notes.render import render_notes
from bot.settings import Settings
from bot.store.layout import Index, IndexEntry
from bot.store.publish import collect_artifacts, publish
from tests import test_build_docker
from tests.builtartifacts import make_artifact, sample_provenance
from tests.clirunner import run_cli
from tests.harness import docker as hdocker
from tests.projects import TARBALL_MTIME, make_tarball
from tests.recording import RecordingReporter
from tests.test_notes import rendered

SHA_A = "a" * 64
SHA_B = "b" * 64
BASE_ID = "sha256:" + "9" * 64
REPO_DIGEST = "heroku/heroku@sha256:" + "d" * 64

# the fixtures of the real builds (tests/test_build_docker.py), shared
recipe = test_build_docker.recipe
builder_image = test_build_docker.builder_image
configured_hello = test_build_docker.configured_hello

CONFIG = f"""
[stacks.s1]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[stacks.s2]
build-image = "heroku/heroku:22-build"
run-image = "heroku/heroku:22"

[components.base]
version = "6.8.0.105"
source = "https://example.org/base-{{version}}.tar.xz"
sha256 = "{SHA_A}"
configure-args = ["--disable-nls", "--with-x=it's quoted"]
bootstrap = "autoreconf"
env = {{ FOO = "bar" }}
make-args = ["EXTERNAL_MCS=false"]
patches = ["images/patches/base/fix.patch", "debian/patches/debian-changes"]
pre-install = ["echo before install"]
prune = "mono"

[components.base.overrides.s2]
configure-args = ["--only-on-s2"]
"""


def _manifest(**change: Any) -> Manifest:
    m = Manifest(component="mono", version="6.8.0.105", stack="s1",
                 artifact="mono-6.8.0.105-s1.tar.gz", sha256=SHA_A, size=10,
                 source=SourceRef("https://example.org/base.tar.xz", SHA_B),
                 builder_image="sha256:" + "1" * 64, build_image="heroku/heroku:24-build",
                 source_date_epoch=1_700_000_000, duration=12.5,
                 provenance=replace(sample_provenance(BaseImage(BASE_ID, (REPO_DIGEST,))),
                                    patches=(PatchRef("images/fix.patch", SHA_B),
                                             PatchRef("debian/patches/x", None))))
    return replace(m, **change)


# -- the manifest -----------------------------------------------------------------------------

def test_manifest_with_provenance_round_trips(tmp_path: Path) -> None:
    m = _manifest()
    path = tmp_path / "mono-6.8.0.105-s1.json"
    write_manifest(path, m)
    assert load_manifest(path) == m
    data = json.loads(path.read_text())
    assert data["schema"] == 1  # an added optional object: older readers still read it
    p = data["provenance"]
    assert set(p) == {"bot_version", "base_image", "patches", "recipe", "recipe_sha256",
                      "started", "finished"}
    assert p["base_image"] == {"id": BASE_ID, "repo_digests": [REPO_DIGEST]}
    assert p["patches"] == [{"path": "images/fix.patch", "sha256": SHA_B},
                            {"path": "debian/patches/x", "sha256": None}]
    assert p["recipe"] == {"configure_args": ["--disable-nls"], "make_args": [],
                           "env": {"LANG": "C.UTF-8"}, "prune": "default",
                           "bootstrap": "auto", "pre_install": []}
    assert p["recipe_sha256"] == recipe_hash(m.provenance.recipe)  # type: ignore[union-attr]
    # what the manifest already had is not repeated inside provenance
    assert data["source"]["sha256"] == SHA_B and data["source_date_epoch"] == 1_700_000_000
    assert data["builder_image"] == m.builder_image
    assert SHA_B not in json.dumps({k: v for k, v in p.items() if k != "patches"})
    assert m.base_image_digest == REPO_DIGEST


# A manifest exactly as the builder wrote it before provenance existed.
OLD_MANIFEST = """{
  "build_image": "heroku/heroku:24-build",
  "builder_image": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  "built_against": {},
  "artifact": "mono-6.14.1-heroku-24.tar.gz",
  "component": "mono",
  "duration": 1563.2,
  "extra_sources": [],
  "files": ["bin/", "bin/mono"],
  "schema": 1,
  "sha256": "SHA_A",
  "size": 31457280,
  "source": {"sha256": "SHA_B", "url": "https://dl.winehq.org/mono/sources/mono/mono-6.14.1.tar.xz"},
  "source_date_epoch": 1700000000,
  "stack": "heroku-24",
  "version": "6.14.1"
}
""".replace("SHA_A", SHA_A).replace("SHA_B", SHA_B)


def test_a_manifest_from_before_provenance_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "mono-6.14.1-heroku-24.json"
    path.write_text(OLD_MANIFEST)
    m = load_manifest(path)
    assert (m.component, m.version, m.stack, m.sha256) == ("mono", "6.14.1", "heroku-24", SHA_A)
    assert m.provenance is None and m.base_image_digest is None
    assert "provenance" not in json.loads(m.to_json())  # rewritten, still the old layout
    assert json.loads(m.to_json()) == json.loads(OLD_MANIFEST)


def test_recipe_hash_is_stable_and_follows_the_recipe() -> None:
    config = parse_config(CONFIG)
    one = plan_build(config, "base", "s1", cpus=2).recipe
    again = plan_build(parse_config(CONFIG), "base", "s1", cpus=8).recipe
    assert one == again and recipe_hash(one) == recipe_hash(again)
    assert recipe_hash(one) == recipe_hash(replace(one, env=dict(reversed(one.env.items()))))
    assert len(recipe_hash(one)) == 64
    changed = replace(one, configure_args=(*one.configure_args[:-1], "--with-x=other"))
    assert recipe_hash(changed) != recipe_hash(one)
    reordered = replace(one, configure_args=tuple(reversed(one.configure_args)))
    assert recipe_hash(reordered) != recipe_hash(one)  # argument order matters
    assert recipe_hash(plan_build(config, "base", "s2").recipe) != recipe_hash(one)
    # the canonical JSON, spelled out: a consumer can recompute it
    canonical = json.dumps(one.to_dict(), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()
    assert recipe_hash(one) == hashlib.sha256(canonical).hexdigest()


def test_the_plan_carries_the_recipe_of_its_stack() -> None:
    config = parse_config(CONFIG)
    s1, s2 = plan_build(config, "base", "s1"), plan_build(config, "base", "s2")
    assert s1.recipe == Recipe(
        configure_args=("--disable-nls", "--with-x=it's quoted"),
        make_args=("EXTERNAL_MCS=false",), env=dict(s1.env), prune="mono",
        bootstrap="autoreconf", pre_install=("echo before install",))
    assert s1.recipe.env["FOO"] == "bar" and "SOURCE_DATE_EPOCH" not in s1.recipe.env
    assert s2.recipe.configure_args == ("--only-on-s2",)
    assert s1.patches == ("images/patches/base/fix.patch", "debian/patches/debian-changes")


def test_the_base_digest_is_the_build_images_repo_digest_else_its_id() -> None:
    other = "mirror.example/heroku@sha256:" + "e" * 64
    both = BaseImage(BASE_ID, (other, REPO_DIGEST))
    assert both.digest("heroku/heroku:24-build") == REPO_DIGEST
    assert both.digest("elsewhere/x:1") == other
    assert BaseImage(BASE_ID).digest("release-bot-test/bookworm:build") == BASE_ID


@pytest.mark.parametrize("provenance", [
    "a string", {"bot_version": "1"}, {**sample_provenance().to_dict(), "recipe": []},
    {**sample_provenance().to_dict(), "base_image": {"repo_digests": []}},
])
def test_a_mangled_provenance_is_a_one_line_build_error(tmp_path: Path,
                                                         provenance: object) -> None:
    data = json.loads(_manifest().to_json())
    data["provenance"] = provenance
    path = tmp_path / "mono-6.8.0.105-s1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BuildError, match="rebuild") as caught:
        load_manifest(path)
    assert "\n" not in caught.value.message


# -- the builder, on a fake container runtime -----------------------------------------------

class _Container:
    id = "c" * 64
    name = "fake-build"

    def run(self, script: str, *, workdir: str, on_line: Callable[[str], None]) -> int:
        return 0

    def export(self, path: str) -> Iterator[bytes]:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            for name, data in (("app", None), ("app/bin", None), ("app/bin/hello", b"hi\n")):
                info = tarfile.TarInfo(name)
                info.mtime = 1_999_999_999  # what the container left: the pack normalises it
                if data is None:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(data), 0o755
                    tar.addfile(info, io.BytesIO(data))
        yield raw.getvalue()


class _Runtime:
    def __init__(self) -> None:
        self.specs: list[ContainerSpec] = []

    @contextmanager
    def session(self, spec: ContainerSpec) -> Iterator[_Container]:
        self.specs.append(spec)
        yield _Container()


class _Clock:
    """Each call one minute later than the last, from `start`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _fake_builder(tmp_path: Path, clock: _Clock, base: BaseImage | None) -> Builder:
    source = make_tarball({"configure": b"#!/bin/sh\n"}, "hello-1.0")
    sha = hashlib.sha256(source).hexdigest()
    # every source is in the cache already: no HTTP client needed
    cache = SourceCache(tmp_path / "cache", http=None,  # type: ignore[arg-type]
                        reporter=RecordingReporter())
    cache.path_for(sha).parent.mkdir(parents=True, exist_ok=True)
    cache.path_for(sha).write_bytes(source)
    patch = tmp_path / "images" / "patches" / "fix.patch"
    patch.parent.mkdir(parents=True, exist_ok=True)
    patch.write_bytes(b"--- a/x\n+++ b/x\n")
    (tmp_path / "versions.toml").write_text(f"""
[stacks.s1]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[components.hello]
version = "1.0"
source = "https://example.org/hello-{{version}}.tar.gz"
sha256 = "{sha}"
configure-args = ["--disable-nls"]
patches = ["images/patches/fix.patch", "debian/patches/in-tree"]
""")
    return Builder(cache=cache, runtime=_Runtime(), reporter=RecordingReporter(),
                   images=lambda ref, on_line, arch: BuiltImage("release-bot/builder:x", "sha256:b",
                                                          built=False),
                   base_images=lambda ref: base, recipe_root=tmp_path, clock=clock)


def test_times_go_into_the_manifest_never_into_the_tarball(tmp_path: Path) -> None:
    base = BaseImage(BASE_ID, (REPO_DIGEST,))
    early = _fake_builder(tmp_path, _Clock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)), base)
    late = _fake_builder(tmp_path, _Clock(datetime(2031, 1, 1, tzinfo=UTC)), base)
    plan = plan_build(load_config(tmp_path / "versions.toml"), "hello", "s1")
    one = early.build(plan, tmp_path / "one")
    two = late.build(plan, tmp_path / "two")
    assert one.artifact.read_bytes() == two.artifact.read_bytes()
    with tarfile.open(one.artifact) as tar:
        assert {m.mtime for m in tar.getmembers()} == {TARBALL_MTIME}  # SOURCE_DATE_EPOCH

    p = one.manifest.provenance
    assert p is not None
    assert (p.started, p.finished) == ("2024-05-01T12:01:00Z", "2024-05-01T12:02:00Z")
    assert two.manifest.provenance is not None
    assert two.manifest.provenance.started == "2031-01-01T00:01:00Z"
    assert p.bot_version == __version__
    assert p.base_image == base and one.manifest.base_image_digest == REPO_DIGEST
    assert p.recipe == plan.recipe and p.recipe_sha256 == recipe_hash(plan.recipe)
    patch_sha = hashlib.sha256(b"--- a/x\n+++ b/x\n").hexdigest()
    assert p.patches == (PatchRef("images/patches/fix.patch", patch_sha),
                         PatchRef("debian/patches/in-tree", None))
    assert load_manifest(one.manifest_path).to_json() == one.manifest.to_json()
    log = (tmp_path / "one" / "hello-1.0-s1.log").read_text()
    assert f"base image heroku/heroku:24-build {BASE_ID} ({REPO_DIGEST})" in log


def test_without_a_base_image_port_the_manifest_says_so(tmp_path: Path) -> None:
    builder = _fake_builder(tmp_path, _Clock(datetime(2024, 5, 1, tzinfo=UTC)), None)
    builder.base_images = None
    plan = plan_build(load_config(tmp_path / "versions.toml"), "hello", "s1")
    manifest = builder.build(plan, tmp_path / "out").manifest
    assert manifest.provenance is not None and manifest.provenance.base_image is None
    assert json.loads(manifest.to_json())["provenance"]["base_image"] is None
    assert manifest.base_image_digest is None


# -- release-bot verify ------------------------------------------------------------------------

def test_verify_shows_the_base_digest_a_manifest_records(tmp_path: Path) -> None:
    out, store = tmp_path / "out", f"file://{tmp_path / 'store'}"
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=1000,
                  base_image=BaseImage(BASE_ID, (REPO_DIGEST,)))
    make_artifact(out, "mono", "6.14.1", "heroku-22", size=1000,
                  base_image=BaseImage(BASE_ID))  # a local-only base: its id
    make_artifact(out, "xsp", "4.7.1", "heroku-24", size=500)  # no provenance (older build)
    publish(App(Settings.from_env({}), RecordingReporter()).store(store),
            collect_artifacts(out), force=False, reporter=RecordingReporter())
    raw = json.loads((tmp_path / "store" / "heroku-24" / "mono-6.14.1.json").read_text())
    where: Any = raw
    for part in ("provenance", "base_image"):  # the field verify reads
        where = where[part]
    assert where == {"id": BASE_ID, "repo_digests": [REPO_DIGEST]}

    result = run_cli(["verify", "--store", store, "--json"], env={}, cwd=tmp_path)
    assert result.code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert rows["heroku-24/mono-6.14.1.tar.gz"]["base_image_digest"] == REPO_DIGEST
    assert rows["heroku-22/mono-6.14.1.tar.gz"]["base_image_digest"] == BASE_ID
    assert rows["heroku-24/xsp-4.7.1.tar.gz"]["base_image_digest"] is None

    # the table as the step summary has it (every column whole)
    summary = tmp_path / "summary.md"
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    assert run_cli(["verify", "--store", store], env=actions, cwd=tmp_path).code == 0
    line = {row.split(" | ")[2]: row for row in summary.read_text().splitlines()
            if row.startswith("| mono |")}
    assert line["heroku-24"].endswith("| heroku/heroku@sha256:dddddddddddd… | ok |")
    assert line["heroku-22"].endswith("| sha256:999999999999… | ok |")


# -- release notes -----------------------------------------------------------------------------

def _published(*manifests: Manifest) -> Index:
    return Index(tuple(IndexEntry(m.component, m.version, m.stack,
                                  f"{m.stack}/{m.component}-{m.version}.tar.gz",
                                  f"https://cdn.example/{m.stack}/{m.component}-{m.version}"
                                  ".tar.gz", m.sha256, m.size, "2024-05-01T12:00:00Z")
                       for m in manifests))


def test_notes_give_each_artifact_its_attestation_check(tmp_path: Path) -> None:
    mono, xsp = _manifest(), _manifest(component="xsp", version="4.7.1",
                                       artifact="xsp-4.7.1-s1.tar.gz", provenance=None)
    unpublished = _manifest(version="6.8.0.106", artifact="mono-6.8.0.106-s1.tar.gz")
    url = "https://github.com/owner/repo/attestations/4242"
    notes, warnings = build_notes([mono, xsp, unpublished], _published(mono, xsp), None,
                                  repository="owner/repo", attestation_url=url)
    body = render_notes(notes)
    assert "gh attestation verify mono-6.8.0.105-s1.tar.gz --repo owner/repo" in body
    assert "gh attestation verify xsp-4.7.1-s1.tar.gz --repo owner/repo" in body
    assert "mono-6.8.0.106-s1.tar.gz --repo" not in body  # not published: nothing attested
    assert f"[attestation]({url})" in body
    assert f"on base image `{REPO_DIGEST}`" in body  # the builder's base, when recorded
    assert len(warnings) == 1 and "not in the store's index" in warnings[0]
    html = rendered(body)
    assert url in html.hrefs
    assert "gh attestation verify mono-6.8.0.105-s1.tar.gz --repo owner/repo" in "".join(
        html.text)


def test_notes_without_repository_or_url_leave_the_attestation_out() -> None:
    m = _manifest()
    body = render_notes(build_notes([m], _published(m), None)[0])
    assert "gh attestation" not in body and "### Attestations" not in body
    only_url = render_notes(build_notes([m], _published(m), None,
                                        attestation_url="https://gh.example/a/1")[0])
    assert "### Attestations" in only_url and "gh attestation" not in only_url
    # no attestation made (attest: false, or nothing uploaded): no command that would fail
    only_repo = render_notes(build_notes([m], _published(m), None, repository="o/r")[0])
    assert "gh attestation" not in only_repo and "### Attestations" not in only_repo


HOSTILE = "x](http://evil) <img src=x onerror=alert(1)> @someone #1 `"


def test_hostile_repository_and_attestation_url_cannot_inject_markup() -> None:
    m = _manifest()
    _, warnings = build_notes([m], _published(m), None, repository=HOSTILE)
    assert any("is not owner/name" in w for w in warnings)
    hostile_url = "https://gh.example/a/1)[x](http://evil)<img/src=x/onerror=alert(1)>@someone#1"
    notes, _ = build_notes([m], _published(m), None, repository=f"o/r{HOSTILE}",
                           attestation_url=hostile_url)
    body = render_notes(notes)
    assert "gh attestation" not in body  # not owner/name: left out
    html = rendered(body)
    assert "img" not in html.tags
    attestation = [h for h in html.hrefs if "gh.example" in h]
    assert len(attestation) == 1 and not any("evil" in h and "gh.example" not in h
                                             for h in html.hrefs)
    assert all(c not in attestation[0] for c in "<>()[] ")
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "https://a b"):
        with pytest.raises(UsageError, match="--attestation-url"):
            build_notes([m], _published(m), None, attestation_url=bad)


# -- a real build --------------------------------------------------------------------------

@pytest.mark.docker
def test_a_real_build_records_provenance_and_stays_byte_identical(
        recipe: test_build_docker.Recipe, configured_hello: dict[str, bytes],
        builder_image: BuiltImage, docker_client: docker.DockerClient) -> None:
    local = recipe.root / "images" / "patches" / "hello" / "readme.patch"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"--- a/README\n+++ b/README\n@@ -1 +1 @@\n"
                      b"-generated by tests/projects.py\n+patched locally\n")
    source_sha = recipe.component("hello", configured_hello, "1.0", extra='''
bootstrap = "configure"
configure-args = ["--disable-silent-rules"]
patches = ["images/patches/hello/readme.patch"]
''')
    config = recipe.root / "versions.toml"
    app = App(Settings.from_env(recipe.env(), config_path=config), RecordingReporter())
    engine = DockerEngine(docker_client)
    builder = Builder(
        cache=app.source_cache, runtime=engine,
        images=lambda ref, on_line, arch: ensure_builder_image(engine, ref, on_line, arch=arch),
        base_images=lambda ref: base_image(engine, ref),
        reporter=app.reporter, recipe_root=recipe.root)
    plan = plan_build(load_config(config), "hello", "test", cpus=2)
    first = builder.build(plan, recipe.out)
    m = load_manifest(first.manifest_path)
    assert m.to_json() == first.manifest.to_json()

    p = m.provenance
    assert p is not None and p.base_image is not None
    base = docker_client.images.get(hdocker.TEST_BUILD_IMAGE)
    assert p.base_image.id == base.id
    assert p.base_image.repo_digests == tuple(sorted(base.attrs.get("RepoDigests") or []))
    assert m.base_image_digest == (p.base_image.repo_digests[0] if p.base_image.repo_digests
                                   else base.id)
    assert m.builder_image == builder_image.id
    assert m.source.sha256 == source_sha
    assert m.source_date_epoch == TARBALL_MTIME
    started, finished = (datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ") for t in
                         (p.started, p.finished))
    assert started <= finished
    assert p.bot_version == __version__
    assert p.recipe.configure_args == ("--disable-silent-rules",)
    assert p.recipe.bootstrap == "configure" and p.recipe_sha256 == recipe_hash(p.recipe)
    assert p.patches == (PatchRef("images/patches/hello/readme.patch",
                                  hashlib.sha256(local.read_bytes()).hexdigest()),)

    # the same build through the CLI: the same bytes, the same recipe, other times
    again = recipe.root / "again"
    result = run_cli(["build", "hello", "--out", str(again), "--cpus", "2"],
                     env=recipe.env(), cwd=recipe.root)
    assert result.code == 0, result.output
    assert (again / first.artifact.name).read_bytes() == first.artifact.read_bytes()
    other = load_manifest(again / first.manifest_path.name)
    assert other.sha256 == m.sha256 and other.provenance is not None
    assert other.provenance.recipe_sha256 == p.recipe_sha256
    assert other.provenance.started >= p.finished
    with tarfile.open(first.artifact) as tar:
        assert {member.mtime for member in tar.getmembers()} == {m.source_date_epoch}
