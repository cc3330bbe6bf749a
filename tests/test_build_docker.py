"""`release-bot build` through the real CLI, on the real Docker engine and the test stack.

Generated autotools projects (tests/projects.py) are served by the loopback `upstream`
fixture and built in the builder image made from release-bot-test/bookworm:build; the
artifacts are run in release-bot-test/bookworm:run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from bot.app import App
from bot.build.builder_image import ensure_builder_image
from bot.build.manifest import load_manifest
from bot.build.plan import plan_build
from bot.config import load_config
from bot.containers.docker import DockerEngine
from bot.containers.images import BuiltImage
from bot.settings import Settings
from tests.clirunner import CliResult, run_cli
from tests.harness import docker as hdocker
from tests.harness.upstream import UpstreamServer
from tests.projects import addon_project, hello_project, make_tarball, with_configure
from tests.recording import RecordingReporter

pytestmark = pytest.mark.docker

BUILD_LABEL = "org.release-bot.build"
AWS_MARKER = "AKIAMARKERsecret0123456789abcdefSECRET"
GH_MARKER = "ghp_MARKERtoken0123456789abcdefTOKEN"


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def builder_image(docker_client: docker.DockerClient, stack_images: tuple[str, str]
                  ) -> BuiltImage:
    """The builder image on the test stack (built once; reused across sessions by tag)."""
    return ensure_builder_image(DockerEngine(docker_client), stack_images[0],
                                lambda line: None)


@pytest.fixture(scope="session")
def configured_hello(docker_client: docker.DockerClient, builder_image: BuiltImage
                     ) -> dict[str, bytes]:
    """hello with a configure generated once by autoreconf in the builder image."""
    return with_configure(docker_client, builder_image.id, hello_project())


_CONTAINER_LINE = re.compile(r"^container \S+ \(([0-9a-f]{12})\), network none", re.MULTILINE)


def containers_of(log: str) -> list[str]:
    """The ids of the build containers a build log names (other builds may run meanwhile)."""
    return _CONTAINER_LINE.findall(log)


def existing(client: docker.DockerClient, ids: list[str]) -> list[str]:
    return [c.id for cid in ids for c in client.containers.list(
        all=True, filters={"id": cid, "label": BUILD_LABEL})]


@dataclass
class Recipe:
    """A versions.toml in tmp_path whose components are served by the upstream fixture."""

    root: Path
    upstream: UpstreamServer
    components: list[str] = field(default_factory=list)

    def serve(self, path: str, data: bytes) -> tuple[str, str]:
        self.upstream.add(path, data)
        return self.upstream.url + path, hashlib.sha256(data).hexdigest()

    def component(self, name: str, files: dict[str, bytes], version: str, *,
                  pin: bool = True, extra: str = "") -> str:
        url, sha = self.serve(f"/{name}/{name}-{version}.tar.gz",
                              make_tarball(files, f"{name}-{version}"))
        template = url.replace(version, "{version}")
        self.components.append(
            f'[components.{name}]\nversion = "{version}"\nsource = "{template}"\n'
            f'sha256 = "{sha if pin else ""}"\n{extra}\n')
        self.write()
        return sha

    def write(self) -> None:
        stacks = ('[stacks.test]\nbuild-image = "release-bot-test/bookworm:build"\n'
                  'run-image = "release-bot-test/bookworm:run"\n\n')
        (self.root / "versions.toml").write_text(stacks + "\n".join(self.components))

    @property
    def out(self) -> Path:
        return self.root / "out"

    def env(self, **extra: str) -> dict[str, str]:
        return {"RELEASE_BOT_CACHE": str(self.root / "cache"),
                "DOCKER_HOST": hdocker.docker_base_url(), **extra}

    def build(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        return run_cli(["build", *args, "--out", str(self.out), "--cpus", "2"],
                       env=env or self.env(), cwd=self.root)


@pytest.fixture
def recipe(tmp_path: Path, upstream: UpstreamServer) -> Recipe:
    return Recipe(tmp_path, upstream)


def run_in_run_image(client: docker.DockerClient, artifacts: list[Path], command: str
                     ) -> tuple[int, str]:
    """Extract the artifacts at /app in the stack's run image and run `command`."""
    mounts = [docker.types.Mount(f"/artifacts/{i}.tar.gz", str(a.resolve()), type="bind",
                                 read_only=True) for i, a in enumerate(artifacts)]
    script = ("mkdir -p /app && for a in /artifacts/*.tar.gz; do tar -xzf $a -C /app; done; "
              + command)
    container = client.containers.create(hdocker.TEST_RUN_IMAGE, ["sh", "-c", script],
                                         mounts=mounts, network_mode="none")
    try:
        container.start()
        code = container.wait(timeout=120)["StatusCode"]
        return int(code), container.logs().decode()
    finally:
        container.remove(force=True)


def artifact_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


# -- tests ------------------------------------------------------------------------------
def test_shipped_configure_builds_a_tarball_that_runs_in_the_run_image(
        recipe: Recipe, configured_hello: dict[str, bytes], builder_image: BuiltImage,
        docker_client: docker.DockerClient) -> None:
    assert "configure" in configured_hello and "autogen.sh" not in configured_hello
    source_sha = recipe.component("hello", configured_hello, "1.0",
                                  extra='bootstrap = "configure"')
    result = recipe.build("hello", "--json")
    assert result.code == 0, result.output
    used = containers_of((recipe.out / "hello-1.0-test.log").read_text())
    assert len(used) == 1 and existing(docker_client, used) == []  # removed on success

    stem = "hello-1.0-test"
    assert artifact_files(recipe.out) == [f"{stem}.json", f"{stem}.log", f"{stem}.tar.gz",
                                          f"{stem}.tar.gz.sha256"]
    tarball = recipe.out / f"{stem}.tar.gz"
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert (recipe.out / f"{stem}.tar.gz.sha256").read_text() == f"{digest}  {stem}.tar.gz\n"
    manifest = load_manifest(recipe.out / f"{stem}.json")
    assert (manifest.component, manifest.version, manifest.stack) == ("hello", "1.0", "test")
    assert (manifest.sha256, manifest.size) == (digest, tarball.stat().st_size)
    assert manifest.source.sha256 == source_sha
    assert manifest.source.url == recipe.upstream.url + "/hello/hello-1.0.tar.gz"
    assert manifest.builder_image == builder_image.id
    assert manifest.build_image == hdocker.TEST_BUILD_IMAGE
    assert manifest.built_against == {}
    assert json.loads(result.stdout)[0]["sha256"] == digest

    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=str.encode)
    assert {"bin/hello", "share/hello/greeting.txt", "lib/pkgconfig/hello.pc"} <= set(names)
    assert not any(n.startswith(("share/doc", "/", "app/")) for n in names)  # pruned, relative
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, manifest.source_date_epoch)}
    assert manifest.source_date_epoch == 1_700_000_000  # newest mtime in the source tarball
    assert manifest.files == tuple(n + "/" if m.isdir() else n for n, m in zip(names, members,
                                                                                 strict=True))
    raw = tarball.read_bytes()
    assert raw[3] & 0x08 == 0 and raw[4:8] == b"\0\0\0\0"  # gzip -n

    log = (recipe.out / f"{stem}.log").read_text()
    for marker in ("fetch", "builder image", "extract", "bootstrap", "configure", "make",
                   "install", "prune", "package"):
        assert f"==> {marker}\n" in log
    assert "configure is shipped; nothing to bootstrap" in log
    assert "make -j2" in log and "strip ./bin/hello" in log

    code, output = run_in_run_image(docker_client, [tarball], "/app/bin/hello")
    assert (code, output) == (0, "hello from release-bot\n")


def test_autogen_project_builds_byte_identical_twice_and_rebuilds_warm(
        recipe: Recipe, docker_client: docker.DockerClient) -> None:
    recipe.component("hello", hello_project(greeting="bootstrapped"), "1.0")
    first = recipe.build("hello", "--json")
    assert first.code == 0, first.output
    log = (recipe.out / "hello-1.0-test.log").read_text()
    assert "NOCONFIGURE=1 ./autogen.sh" in log
    one = (recipe.out / "hello-1.0-test.tar.gz").read_bytes()

    other = recipe.root / "again"
    second = run_cli(["build", "hello", "--out", str(other), "--json"], env=recipe.env(),
                     cwd=recipe.root)
    assert second.code == 0, second.output
    assert (other / "hello-1.0-test.tar.gz").read_bytes() == one
    assert json.loads(first.stdout)[0]["downloaded"] > 0
    warm = json.loads(second.stdout)[0]
    assert warm["downloaded"] == 0  # served from the verified cache
    assert warm["image_built"] is False
    code, output = run_in_run_image(docker_client, [other / "hello-1.0-test.tar.gz"],
                                    "/app/bin/hello")
    assert (code, output) == (0, "bootstrapped\n")


def test_tampered_source_exits_4_and_builds_nothing(
        recipe: Recipe, docker_client: docker.DockerClient) -> None:
    recipe.component("hello", hello_project(), "1.0")
    recipe.upstream.add("/hello/hello-1.0.tar.gz",
                        make_tarball(hello_project(greeting="evil"), "hello-1.0"))
    result = recipe.build("hello")
    assert result.code == 4, result.output
    assert "tampered" in result.stderr and "sha256" in result.stderr
    assert artifact_files(recipe.out) == ["hello-1.0-test.failed.log"]
    log = (recipe.out / "hello-1.0-test.failed.log").read_text()
    assert containers_of(log) == [] and "==> extract" not in log  # no container was made


def test_unpinned_source_exits_4_without_downloading(recipe: Recipe) -> None:
    recipe.component("hello", hello_project(), "1.0", pin=False)
    result = recipe.build("hello")
    assert result.code == 4, result.output
    assert "release-bot pin hello" in result.stderr
    assert recipe.upstream.requests_for("/hello/hello-1.0.tar.gz") == []
    assert artifact_files(recipe.out) == []


def test_failing_make_exits_4_with_the_log_tail_and_leaves_nothing(
        recipe: Recipe, docker_client: docker.DockerClient) -> None:
    hook = "echo TAIL-LINE-BEFORE-FAILURE; echo compiler says no >&2; exit 3"
    recipe.component("hello", hello_project(make_hook=hook), "1.0")
    result = recipe.build("hello")
    assert result.code == 4, result.output
    assert "step 'make' failed" in result.stderr
    assert "TAIL-LINE-BEFORE-FAILURE" in result.stderr.split("step 'make' failed")[1]
    assert "hello-1.0-test.failed.log" in result.stderr
    assert artifact_files(recipe.out) == ["hello-1.0-test.failed.log"]
    log = (recipe.out / "hello-1.0-test.failed.log").read_text()
    used = containers_of(log)
    assert len(used) == 1 and existing(docker_client, used) == []
    assert "compiler says no" in log and "==> install" not in log


def test_binaries_for_another_architecture_fail_the_build(recipe: Recipe) -> None:
    # an aarch64 ELF header (e_machine 183 = octal 267) among the amd64 stack's files
    header = r"\177ELF\002\001\001" + r"\000" * 9 + r"\002\000\267\000"
    command = f"mkdir -p /app/bin && printf '{header}' > /app/bin/foreign"
    recipe.component("hello", hello_project(), "1.0",
                     extra=f"pre-install = ['''{command}''']")
    result = recipe.build("hello")
    assert result.code == 4, result.output
    assert "installed 1 binaries for aarch64, not amd64 (first: bin/foreign)" in result.stderr
    assert not any(n.endswith(".tar.gz") for n in artifact_files(recipe.out))


def test_secrets_reach_neither_container_image_log_nor_artifact(
        recipe: Recipe, docker_client: docker.DockerClient, builder_image: BuiltImage
        ) -> None:
    # the build prints its whole environment: a leaked secret would land in the log
    recipe.component("hello", hello_project(make_hook="env | sort"), "1.0")
    env = recipe.env(AWS_SECRET_ACCESS_KEY=AWS_MARKER, GITHUB_TOKEN=GH_MARKER,
                     AWS_ACCESS_KEY_ID="AKIAMARKERID", HOME="/root/marker-home")
    result = recipe.build("hello", "--keep-container", env=env)
    kept = existing(docker_client, containers_of(result.stderr))
    try:
        assert result.code == 0, result.output
        assert len(kept) == 1
        inspect = docker_client.api.inspect_container(kept[0])
        text = json.dumps(inspect)
        for marker in (AWS_MARKER, GH_MARKER, "AKIAMARKERID", "marker-home"):
            assert marker not in text
        names = {e.split("=", 1)[0] for e in inspect["Config"]["Env"]}
        assert names == {"PATH", "HOME", "LANG", "SOURCE_DATE_EPOCH"}
        assert inspect["HostConfig"]["NetworkMode"] == "none"
        assert inspect["Config"]["User"] == "builder"
        assert inspect["HostConfig"]["CapDrop"] == ["ALL"]
        assert inspect["HostConfig"]["NanoCpus"] == 2_000_000_000
        assert inspect["Mounts"] and all(not m["RW"] for m in inspect["Mounts"])
    finally:
        for cid in kept:
            docker_client.containers.get(cid).remove(force=True)
    history = json.dumps(docker_client.api.history(builder_image.id))
    history += json.dumps(docker_client.api.inspect_image(builder_image.id))
    assert AWS_MARKER not in history and GH_MARKER not in history
    log = (recipe.out / "hello-1.0-test.log").read_text()
    assert "SOURCE_DATE_EPOCH=" in log  # the env dump ran
    assert AWS_MARKER not in log and GH_MARKER not in log
    assert AWS_MARKER not in result.output and GH_MARKER not in result.output
    unpacked = gzip.decompress((recipe.out / "hello-1.0-test.tar.gz").read_bytes())
    assert AWS_MARKER.encode() not in unpacked and GH_MARKER.encode() not in unpacked


def test_the_compile_step_has_no_network(
        recipe: Recipe, docker_client: docker.DockerClient, builder_image: BuiltImage
        ) -> None:
    probe = f"getent hosts {hdocker.apt_mirror_host()}"
    # control: the same probe resolves from a container with the default network
    assert docker_client.containers.run(builder_image.id, ["sh", "-c", probe], remove=True)
    recipe.component("hello", hello_project(make_hook=probe), "1.0")
    result = recipe.build("hello")
    assert result.code == 4, result.output
    assert "step 'make' failed" in result.stderr
    assert artifact_files(recipe.out) == ["hello-1.0-test.failed.log"]


def test_dependent_build_runs_against_the_required_artifact(
        recipe: Recipe, docker_client: docker.DockerClient) -> None:
    recipe.component("hello", hello_project(greeting="from the base"), "1.0")
    recipe.component("addon", addon_project(), "2.0", extra='requires = ["hello"]')
    missing = recipe.build("addon")
    assert missing.code == 4
    assert "build hello first" in missing.stderr and "--with-deps" in missing.stderr

    result = recipe.build("addon", "--with-deps")
    assert result.code == 0, result.output
    hello = load_manifest(recipe.out / "hello-1.0-test.json")
    addon = load_manifest(recipe.out / "addon-2.0-test.json")
    assert {k: (v.version, v.sha256) for k, v in addon.built_against.items()} == {
        "hello": ("1.0", hello.sha256)}
    with tarfile.open(recipe.out / "addon-2.0-test.tar.gz") as tar:
        names = sorted(m.name for m in tar.getmembers() if not m.isdir())
    assert names == ["bin/addon", "share/addon/banner.txt"]
    log = (recipe.out / "addon-2.0-test.log").read_text()
    assert "checking for hello's greeting file... /app/share/hello/greeting.txt" in log
    code, output = run_in_run_image(
        docker_client, [recipe.out / "hello-1.0-test.tar.gz",
                        recipe.out / "addon-2.0-test.tar.gz"], "/app/bin/addon")
    assert (code, output) == (0, "addon says:\nfrom the base\nfrom the base\n")


def test_recipe_features_extra_sources_patches_env_make_args_pre_install(
        recipe: Recipe) -> None:
    patch_set = make_tarball({"patches/greeting.patch": (
        b"--- a/greeting.txt\n+++ b/greeting.txt\n@@ -1 +1 @@\n-hello from release-bot\n"
        b"+patched by the extra source\n")}, "debian")
    patch_url, patch_sha = recipe.serve("/extra/debian.tar.gz", patch_set)
    note_url, note_sha = recipe.serve("/extra/NOTE", b"a plain extra file\n")
    local = recipe.root / "images" / "patches" / "hello" / "readme.patch"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"--- a/README\n+++ b/README\n@@ -1 +1 @@\n"
                      b"-generated by tests/projects.py\n+patched locally\n")
    hook = 'echo "MYVAR=$$MYVAR EXTRA=$(EXTRA)"; cat NOTE; cat README'
    recipe.component("hello", hello_project(make_hook=hook), "1.0", extra=f'''
bootstrap = "autoreconf"
configure-args = ["--program-suffix=-wrong"]
env = {{ MYVAR = "from-the-recipe" }}
make-args = ["EXTRA=from-make-args"]
patches = ["images/patches/hello/readme.patch", "debian/patches/greeting.patch"]
pre-install = ["test -x hello && test ! -e /app/bin/hello-s && echo PRE-INSTALL-RAN"]
prune = "none"

[[components.hello.extra-sources]]
name = "debian"
url = "{patch_url}"
sha256 = "{patch_sha}"

[[components.hello.extra-sources]]
name = "note"
url = "{note_url}"
sha256 = "{note_sha}"
dest = "NOTE"
extract = false

[components.hello.overrides.test]
configure-args = ["--program-suffix=-s"]
''')
    result = recipe.build("hello")
    assert result.code == 0, result.output
    log = (recipe.out / "hello-1.0-test.log").read_text()
    markers = [line[4:] for line in log.splitlines() if line.startswith("==> ")]
    assert markers == ["fetch", "builder image", "extract", "extra-sources", "patches",
                       "bootstrap", "configure", "make", "pre-install", "install", "prune",
                       "package"]
    assert "autoreconf -f -i" in log
    assert "MYVAR=from-the-recipe EXTRA=from-make-args" in log
    assert "a plain extra file" in log and "patched locally" in log
    pre = log.index("==> pre-install")
    assert log.index("PRE-INSTALL-RAN", pre) < log.index("==> install")
    with tarfile.open(recipe.out / "hello-1.0-test.tar.gz") as tar:
        names = set(tar.getnames())
        greeting = tar.extractfile("share/hello/greeting.txt").read()  # type: ignore[union-attr]
    assert "bin/hello-s" in names and "share/doc/hello/README" in names  # override, no prune
    assert greeting == b"patched by the extra source\n"
    manifest = load_manifest(recipe.out / "hello-1.0-test.json")
    assert [(s.name, s.sha256) for s in manifest.extra_sources] == [
        ("debian", patch_sha), ("note", note_sha)]


class _InterruptAt(RecordingReporter):
    """Presses Ctrl-C when the build log reaches a marker."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def log(self, line: str) -> None:
        super().log(line)
        if line == self.marker:
            raise KeyboardInterrupt


def test_ctrl_c_removes_the_container_and_leaves_no_artifact(
        recipe: Recipe, docker_client: docker.DockerClient) -> None:
    recipe.component("hello", hello_project(make_hook="echo PRESS-CTRL-C; sleep 60"), "1.0")
    reporter = _InterruptAt("PRESS-CTRL-C")  # raised while `make` runs in the container
    app = App(Settings.from_env(recipe.env(), config_path=recipe.root / "versions.toml"),
              reporter)
    builder = app.builder
    plan = plan_build(load_config(recipe.root / "versions.toml"), "hello", "test", cpus=1)
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:  # records the build container while it exists
        while not stop.wait(0.2):
            seen.extend(existing(docker_client, containers_of("\n".join(reporter.texts("log")))))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            builder.build(plan, recipe.out)
    finally:
        stop.set()
        watcher.join()
    used = containers_of("\n".join(reporter.texts("log")))
    assert len(used) == 1 and seen  # there was a container ...
    assert existing(docker_client, used) == []  # ... and it is gone
    assert artifact_files(recipe.out) == ["hello-1.0-test.failed.log"]

