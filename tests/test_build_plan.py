"""Pure tests of the build package: the plan, prune hooks, tarballs and the manifest.

No Docker here: the plan is data, the prune scripts run with bash on a tree in tmp_path,
tarballs are packed from tar streams made in the test.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from bot.build.manifest import Dependency, Manifest, SourceRef, load_manifest, write_manifest
from bot.build.plan import BuildPlan, plan_build
from bot.build.prune import PRUNE_HOOKS, prune_script
from bot.build.tarball import member_digests, pack, source_date_epoch
from bot.config import parse_config
from bot.errors import BuildError, ConfigError
from bot.versions import Version

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64

CONFIG = f"""
[stacks.s1]
build-image = "example/s1:build"
run-image = "example/s1:run"

[stacks.s2]
build-image = "example/s2:build"
run-image = "example/s2:run"

[components.base]
version = "6.8.0.105"
source = "https://example.org/base-{{version}}.tar.xz"
sha256 = "{SHA_A}"
configure-args = ["--disable-nls", "--with-x=it's quoted"]
bootstrap = "autoreconf"
env = {{ FOO = "bar" }}
make-args = ["EXTERNAL_MCS=false"]
patches = ["images/patches/base/fix.patch", "debian/patches/debian-changes"]
pre-install = ["echo before install", "make -C sub"]
prune = "mono"

[[components.base.extra-sources]]
name = "debian"
url = "https://example.org/base_{{version}}.debian.tar.xz"
sha256 = "{SHA_B}"
dest = "debian"

[[components.base.extra-sources]]
name = "note"
url = "https://example.org/note.txt"
sha256 = "{SHA_C}"
dest = "docs/note.txt"
extract = false

[components.base.overrides.s2]
configure-args = ["--only-on-s2"]

[components.addon]
version = "4.7.1"
source = "https://example.org/addon-{{version}}.tar.gz"
sha256 = ""
requires = ["base"]
stacks = ["s1"]
prune = "xsp"
"""


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    return parse_config(CONFIG)


def names(plan: BuildPlan) -> list[str]:
    return [s.name for s in plan.steps]


def step(plan: BuildPlan, name: str) -> str:
    return next(s.script for s in plan.steps if s.name == name)


def test_steps_come_in_recipe_order(config) -> None:  # type: ignore[no-untyped-def]
    plan = plan_build(config, "base", "s1", cpus=3)
    assert names(plan) == ["fetch", "extract", "extra-sources", "patches", "bootstrap",
                           "configure", "make", "pre-install", "install", "prune", "package"]
    assert [s.where for s in plan.steps if s.name in ("fetch", "package")] == ["host", "host"]
    assert plan.stem == "base-6.8.0.105-s1"
    assert plan.build_image == "example/s1:build"


def test_configure_make_install_use_the_recipe(config) -> None:  # type: ignore[no-untyped-def]
    plan = plan_build(config, "base", "s1", cpus=3)
    assert "./configure --prefix=/app --disable-nls '--with-x=it'\"'\"'s quoted'" in step(
        plan, "configure")
    assert "make -j3 EXTERNAL_MCS=false" in step(plan, "make")
    assert "make -j1 install EXTERNAL_MCS=false" in step(plan, "install")
    assert step(plan, "pre-install").splitlines()[-2:] == ["echo before install", "make -C sub"]
    assert "autoreconf -f -i" in step(plan, "bootstrap")
    assert plan.cpus == 3


def test_env_is_explicit_and_minimal(config) -> None:  # type: ignore[no-untyped-def]
    env = plan_build(config, "base", "s1").env
    assert set(env) == {"HOME", "LANG", "PATH", "FOO"}
    assert env["FOO"] == "bar"
    assert env["PATH"].startswith("/usr/local/sbin")
    dep_env = plan_build(config, "addon", "s1").env
    assert dep_env["PATH"].startswith("/app/bin:")
    assert dep_env["PKG_CONFIG_PATH"] == "/app/lib/pkgconfig"


def test_extra_sources_and_patches(config) -> None:  # type: ignore[no-untyped-def]
    plan = plan_build(config, "base", "s1")
    assert [(f.name, f.url, f.sha256) for f in plan.fetches] == [
        ("source", "https://example.org/base-6.8.0.105.tar.xz", SHA_A),
        ("debian", "https://example.org/base_6.8.0.105.debian.tar.xz", SHA_B),
        ("note", "https://example.org/note.txt", SHA_C),
    ]
    extra = step(plan, "extra-sources")
    assert "unpack /sources/extra/debian /build/src/debian" in extra
    assert "cp -v /sources/extra/note /build/src/docs/note.txt" in extra
    # the repository's patch is mounted; the tree's patch is applied where it lies
    assert [(lf.path, lf.mount) for lf in plan.local_files] == [
        ("images/patches/base/fix.patch", "/sources/patches/00-fix.patch")]
    patches = step(plan, "patches").splitlines()
    assert patches[-2:] == ["patch -p1 --forward --batch -i /sources/patches/00-fix.patch",
                            "patch -p1 --forward --batch -i debian/patches/debian-changes"]


def test_stack_override_applies_only_to_its_stack(config) -> None:  # type: ignore[no-untyped-def]
    assert "--only-on-s2" in step(plan_build(config, "base", "s2"), "configure")
    assert "--only-on-s2" not in step(plan_build(config, "base", "s1"), "configure")
    assert "--disable-nls" not in step(plan_build(config, "base", "s2"), "configure")


def test_dependent_build_unpacks_requirements_first(config) -> None:  # type: ignore[no-untyped-def]
    plan = plan_build(config, "addon", "s1")
    assert names(plan)[:3] == ["fetch", "deps", "extract"]
    assert [(r.component, r.version, r.stem) for r in plan.requires] == [
        ("base", "6.8.0.105", "base-6.8.0.105-s1")]
    assert "tar -xzf /deps/base.tar.gz -C /app" in step(plan, "deps")


def test_unpinned_and_other_versions_have_no_sha(config) -> None:  # type: ignore[no-untyped-def]
    assert plan_build(config, "addon", "s1").source.sha256 is None
    other = plan_build(config, "base", "s1", Version.parse("6.9"))
    assert other.version == "6.9"
    assert [f.sha256 for f in other.fetches] == [None, None, None]  # a pin is per version
    assert other.source.url == "https://example.org/base-6.9.tar.xz"


def test_stack_not_in_component_is_a_build_error(config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BuildError, match="not built for stack 's2'"):
        plan_build(config, "addon", "s2")


@pytest.mark.parametrize(("mode", "expect"), [
    ("auto", "elif [ -f ./autogen.sh ]"),
    ("autogen", "NOCONFIGURE=1 ./autogen.sh"),
    ("configure", "has no ./configure"),
])
def test_bootstrap_modes(mode: str, expect: str) -> None:
    text = CONFIG.replace('bootstrap = "autoreconf"', f'bootstrap = "{mode}"')
    assert expect in step(plan_build(parse_config(text), "base", "s1"), "bootstrap")


def test_describe_lists_every_step(config) -> None:  # type: ignore[no-untyped-def]
    text = plan_build(config, "base", "s1").describe()
    for name in names(plan_build(config, "base", "s1")):
        assert f"  step {name} (" in text


# -- prune hooks ------------------------------------------------------------------------
def test_versions_toml_accepts_exactly_the_prune_hooks_the_builder_runs() -> None:
    # one registry: every hook the builder has is valid in versions.toml, nothing else is
    for hook in PRUNE_HOOKS:
        parse_config(CONFIG.replace('prune = "mono"', f'prune = "{hook}"'))
        assert prune_script(hook)
    with pytest.raises(ConfigError, match="unknown prune hook 'everything'") as caught:
        parse_config(CONFIG.replace('prune = "mono"', 'prune = "everything"'))
    assert all(hook in caught.value.message for hook in PRUNE_HOOKS)
    with pytest.raises(BuildError, match="unknown prune hook"):
        prune_script("everything")


MONO_TREE = [
    "bin/mono", "bin/mcs", "bin/mono-boehm", "bin/xsp4",
    "lib/mono/4.5/mcs.exe", "lib/mono/4.5/System.Web.dll", "lib/mono/4.5/mcs.pdb",
    "lib/mono/4.5/Facades/System.Runtime.dll", "lib/mono/4.5-api/System.dll",
    "lib/mono/4.7.1-api/System.dll", "lib/mono/gac/System.Web/4.0.0.0__b03f/System.Web.dll",
    "lib/mono/gac/System.Web/4.0.0.0__b03f/System.Web.dll.mdb", "lib/libmonosgen-2.0.a",
    "lib/libmonosgen-2.0.la", "lib/libmonoboehm-2.0.so.1", "lib/pkgconfig/mono.pc",
    "lib/mono/4.5/mscorlib.dll.so", "share/man/man1/mono.1", "share/doc/mono/README",
    "etc/mono/4.5/machine.config", "lib/xsp/test/index.aspx",
]


def _tree(root: Path) -> None:
    for rel in MONO_TREE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    # a real ELF executable with a symbol table, for strip to remove
    elf = root / "bin" / "tool"
    subprocess.run(["objcopy", "--add-symbol", "probe_symbol=.text:0,local", "/bin/true",
                    str(elf)], check=True)
    elf.chmod(0o755)


def _prune(root: Path, hook: str) -> set[str]:
    subprocess.run(["bash", "-c", prune_script(hook)], cwd=root, check=True,
                   capture_output=True)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_mono_prune_keeps_what_smoke_and_xsp_need(tmp_path: Path) -> None:
    _tree(tmp_path)
    left = _prune(tmp_path, "mono")
    for kept in ("bin/mono", "bin/mcs", "lib/mono/4.5/mcs.exe", "lib/mono/4.5/System.Web.dll",
                 "lib/mono/4.5/Facades/System.Runtime.dll", "lib/pkgconfig/mono.pc",
                 "lib/mono/gac/System.Web/4.0.0.0__b03f/System.Web.dll",
                 "etc/mono/4.5/machine.config", "lib/mono/4.5/mscorlib.dll.so", "bin/tool"):
        assert kept in left, kept
    for gone in ("bin/mono-boehm", "lib/mono/4.5/mcs.pdb", "lib/mono/4.5-api/System.dll",
                 "lib/mono/4.7.1-api/System.dll", "lib/libmonosgen-2.0.a",
                 "lib/libmonosgen-2.0.la", "lib/libmonoboehm-2.0.so.1",
                 "share/man/man1/mono.1", "share/doc/mono/README",
                 "lib/mono/gac/System.Web/4.0.0.0__b03f/System.Web.dll.mdb"):
        assert gone not in left, gone


def test_default_prune_strips_elf_and_none_keeps_all(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _tree(a)
    _tree(b)
    before = (a / "bin/tool").stat().st_size
    left = _prune(a, "default")
    assert (a / "bin/tool").stat().st_size < before
    assert b"probe_symbol" not in (a / "bin/tool").read_bytes()
    assert "lib/mono/4.5/mcs.pdb" in left  # debug symbols are the mono/xsp hooks' business
    assert "share/doc/mono/README" not in left
    assert _prune(b, "none") == {*MONO_TREE, "bin/tool"}
    assert "lib/xsp/test/index.aspx" not in _prune(tmp_path / "a", "xsp")


# -- tarballs ---------------------------------------------------------------------------
def _app_stream(entries: list[tuple[str, bytes | None, int]], *, mtime: int) -> bytes:
    """A tar of a directory `app/` like docker's get_archive (unsorted, odd owners)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        root = tarfile.TarInfo("app")
        root.type, root.mode, root.mtime, root.uid = tarfile.DIRTYPE, 0o775, mtime, 1500
        tar.addfile(root)
        for name, data, mode in entries:
            info = tarfile.TarInfo(f"app/{name}")
            info.mtime, info.uid, info.gid, info.uname = mtime, 1500, 1500, "builder"
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif name.endswith("@link"):
                info.name = f"app/{name[:-5]}"
                info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        hard = tarfile.TarInfo("app/bin/hard")
        hard.type, hard.linkname, hard.mtime = tarfile.LNKTYPE, "app/bin/tool", mtime
        hard.mode = 0o4775  # a hard link shares its target's inode, so its mode
        tar.addfile(hard)
    return raw.getvalue()


ENTRIES: list[tuple[str, bytes | None, int]] = [
    ("share", None, 0o775), ("bin", None, 0o700), ("share/z.txt", b"zz", 0o664),
    ("bin/tool", b"\x7fELF...", 0o4775), ("share/a.txt", b"aa", 0o600),
    ("bin/mcs@link", b"tool", 0o777),
]


def test_pack_is_reproducible_and_normalised(tmp_path: Path) -> None:
    one, two = tmp_path / "one.tar.gz", tmp_path / "two.tar.gz"
    r1 = pack([_app_stream(ENTRIES, mtime=111)], "app", one, 1_600_000_000)
    pack(iter([_app_stream(list(reversed(ENTRIES)), mtime=999)]), "app", two, 1_600_000_000)
    assert one.read_bytes() == two.read_bytes()
    raw = one.read_bytes()
    assert raw[3] & 0x08 == 0  # gzip FNAME flag: no file name
    assert raw[4:8] == b"\0\0\0\0"  # gzip MTIME 0
    with tarfile.open(one) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=str.encode)
    assert names == ["bin", "bin/hard", "bin/mcs", "bin/tool", "share", "share/a.txt",
                     "share/z.txt"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "root", "root", 1_600_000_000)}
    modes = {m.name: m.mode for m in members if not m.issym()}
    assert modes == {"bin": 0o755, "bin/hard": 0o755, "bin/tool": 0o755, "share": 0o755,
                     "share/a.txt": 0o644, "share/z.txt": 0o644}
    hard = next(m for m in members if m.name == "bin/hard")
    assert hard.isfile() and hard.size == len(b"\x7fELF...")
    assert r1.files == ("bin/", "bin/hard", "bin/mcs", "bin/tool", "share/", "share/a.txt",
                        "share/z.txt")


def test_pack_leaves_out_what_a_requirement_ships(tmp_path: Path) -> None:
    base = tmp_path / "base.tar.gz"
    pack([_app_stream(ENTRIES, mtime=1)], "app", base, 5)
    extended = [*ENTRIES, ("share/own.txt", b"mine", 0o644), ("share/own", None, 0o755)]
    changed = [(n, b"rewritten" if n == "share/z.txt" else d, m) for n, d, m in extended]
    out = tmp_path / "own.tar.gz"
    result = pack([_app_stream(changed, mtime=1)], "app", out, 5,
                  exclude=member_digests(base))
    with tarfile.open(out) as tar:
        assert sorted(tar.getnames()) == ["share/own", "share/own.txt", "share/z.txt"]
    assert result.changed == ("share/z.txt",)
    assert "bin/tool" in result.skipped


def test_source_date_epoch_is_the_newest_member_mtime(tmp_path: Path) -> None:
    src = tmp_path / "src.tar.xz"
    with tarfile.open(src, "w:xz") as tar:
        for name, mtime in (("p/a", 1_500_000_000), ("p/b", 1_600_000_123), ("p/c", 7)):
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            tar.addfile(info, io.BytesIO(b""))
    assert source_date_epoch(src, SHA_A) == 1_600_000_123
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a tarball")
    one, two = source_date_epoch(junk, SHA_A), source_date_epoch(junk, SHA_B)
    assert one != two
    assert one == source_date_epoch(junk, SHA_A)
    assert 946_684_800 <= one < 946_684_800 + (1 << 30)


def test_gzip_stream_matches_gzip_n(tmp_path: Path) -> None:
    out = tmp_path / "x.tar.gz"
    pack([_app_stream(ENTRIES, mtime=3)], "app", out, 42)
    assert gzip.decompress(out.read_bytes())[:3] == b"bin"


# -- manifest ---------------------------------------------------------------------------
def test_manifest_round_trips_and_rejects_garbage(tmp_path: Path) -> None:
    m = Manifest(component="xsp", version="4.7.1", stack="s1", artifact="xsp-4.7.1-s1.tar.gz",
                 sha256=SHA_A, size=10, source=SourceRef("https://e/x.tgz", SHA_B),
                 builder_image="sha256:" + "1" * 64, build_image="b", source_date_epoch=9,
                 duration=1.25, extra_sources=(SourceRef("https://e/p", SHA_C, "p"),),
                 built_against={"mono": Dependency("6.8", SHA_C)}, files=("bin/", "bin/xsp4"))
    path = tmp_path / "xsp-4.7.1-s1.json"
    write_manifest(path, m)
    assert load_manifest(path) == m
    data = json.loads(path.read_text())
    assert data["built_against"] == {"mono": {"version": "6.8", "sha256": SHA_C}}
    assert data["source"] == {"url": "https://e/x.tgz", "sha256": SHA_B}
    del data["sha256"]
    path.write_text(json.dumps(data))
    with pytest.raises(BuildError, match="sha256"):
        load_manifest(path)
    path.write_text("[1, 2]")
    with pytest.raises(BuildError, match="not a JSON object"):
        load_manifest(path)
    with pytest.raises(BuildError, match="run `release-bot build` first"):
        load_manifest(tmp_path / "missing.json")
    assert hashlib.sha256(b"").hexdigest() not in m.to_json()


@pytest.mark.parametrize("change", [
    {"artifact": "../../elsewhere/xsp-4.7.1-s1.tar.gz"},  # a path out of the directory
    {"artifact": "/etc/passwd"},
    {"version": "../../../etc/x", "artifact": "xsp-../../../etc/x-s1.tar.gz"},
    {"artifact": "mono-6.8-s1.tar.gz"},  # another component's tarball
    {"size": 1e999},  # JSON allows numbers no int holds
])
def test_hostile_manifest_is_a_one_line_build_error(tmp_path: Path,
                                                    change: dict[str, object]) -> None:
    data = {"component": "xsp", "version": "4.7.1", "stack": "s1",
            "artifact": "xsp-4.7.1-s1.tar.gz", "sha256": SHA_A, "size": 1,
            "source": {"url": "https://e/x.tgz", "sha256": SHA_B}, "builder_image": "i",
            "source_date_epoch": 1, "duration": 1.0} | change
    path = tmp_path / "xsp-4.7.1-s1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BuildError) as caught:
        load_manifest(path)
    assert "\n" not in caught.value.message and "rebuild" in caught.value.message


def test_deeply_nested_manifest_is_a_one_line_build_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BuildError, match="cannot read build manifest"):
        load_manifest(path)
