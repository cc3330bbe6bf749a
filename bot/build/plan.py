"""Plan a build, purely: a versions.toml component becomes a frozen, ordered `BuildPlan`.

Nothing here touches the network, Docker or the file system; `bot.build.runner` executes
the plan. Steps run either on the host (`fetch`, `package`) or as a shell script inside the
build container (everything in between), in this order:

    fetch       download the source and extra sources on the host, verified by sha256
    deps        (dependent builds) unpack each required artifact at /app
    extract     unpack the source at /build/src (a single top-level directory is dropped)
    extra-sources  unpack (or copy) each extra source to its `dest` inside the tree
    patches     `patch -p1` each patch: `images/...` files from this repository, any other
                path is relative to the source tree (e.g. shipped by an extra source)
    bootstrap   auto: `./autogen.sh` (NOCONFIGURE=1) when there is no `configure`;
                autogen / autoreconf on request; configure: nothing
    configure   ./configure --prefix=/app <configure-args>
    make        make -j<cpus> <make-args>
    pre-install each recipe command, in the source tree, after make and before install
    install     make install <make-args>   (serial)
    prune       the component's prune hook (bot.build.prune)
    package     on the host: the reproducible tarball of /app, its .sha256 and manifest

Inside the container: sources are mounted read-only under /sources, required artifacts
under /deps, the tree is built in /build/src and installed to /app.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.arch import DEFAULT_ARCH
from bot.build.manifest import Recipe, artifact_stem
from bot.build.prune import prune_script
from bot.config import Component, Config
from bot.errors import BuildError
from bot.versions import Version

PREFIX = "/app"
SRC = "/build/src"
SOURCES = "/sources"
DEPS = "/deps"
PATCHES = f"{SOURCES}/patches"
LOCAL_PATCH_ROOT = "images/"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOME = "/home/builder"
BUILD_USER = "builder"

# A shell function every container step may use: unpack ARCHIVE into DEST (merged into what
# is there), dropping the archive's single top-level directory when it has exactly one.
UNPACK = r"""unpack() {
  _t=$(mktemp -d /build/.unpack.XXXXXX)
  tar -xf "$1" -C "$_t" --no-same-owner
  _d=$_t
  if [ "$(ls -A "$_t" | wc -l)" -eq 1 ]; then
    _one=$(ls -A "$_t")
    if [ -d "$_t/$_one" ] && [ ! -L "$_t/$_one" ]; then _d=$_t/$_one; fi
  fi
  if [ ! -e "$2" ]; then mkdir -p "$(dirname "$2")"; mv "$_d" "$2"
  else (cd "$_d" && tar -cf - .) | tar -xf - -C "$2"; fi
  rm -rf "$_t"
}"""


@dataclass(frozen=True, slots=True)
class Fetch:
    """A file the host downloads (verified) and mounts read-only at `mount`."""

    name: str
    url: str
    sha256: str | None
    mount: str


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file of this repository (a local patch) mounted read-only at `mount`."""

    path: str
    mount: str


@dataclass(frozen=True, slots=True)
class Requirement:
    """An artifact built earlier that this build unpacks at /app first."""

    component: str
    version: str
    stem: str
    mount: str


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    where: str  # "host" | "container"
    script: str = ""
    workdir: str = SRC


@dataclass(frozen=True, slots=True)
class BuildPlan:
    component: str
    version: str
    stack: str
    build_image: str
    cpus: int
    memory: str | None
    source: Fetch
    extra_sources: tuple[Fetch, ...]
    local_files: tuple[LocalFile, ...]
    requires: tuple[Requirement, ...]
    env: Mapping[str, str]
    steps: tuple[Step, ...]
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # what the manifest's provenance records: the recipe as run, the patches as listed
    recipe: Recipe = field(default_factory=Recipe)
    patches: tuple[str, ...] = ()
    arch: str = DEFAULT_ARCH  # every ELF file the build installs must be for it

    @property
    def stem(self) -> str:
        return artifact_stem(self.component, self.version, self.stack, arch=self.arch)

    @property
    def fetches(self) -> tuple[Fetch, ...]:
        return (self.source, *self.extra_sources)

    def container_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.where == "container")

    def describe(self) -> str:
        """The plan as text (for --plan and the log)."""
        lines = [f"build {self.stem} on {self.build_image} (cpus {self.cpus}, "
                 f"memory {self.memory or 'unlimited'})"]
        for f in self.fetches:
            lines.append(f"  fetch {f.name}: {f.url} sha256={f.sha256 or 'UNPINNED'}")
        for r in self.requires:
            lines.append(f"  requires {r.component} {r.version} ({r.stem})")
        for s in self.steps:
            lines.append(f"  step {s.name} ({s.where})")
            lines.extend(f"      {line}" for line in s.script.splitlines())
        return "\n".join(lines)


def _q(words: tuple[str, ...] | list[str]) -> str:
    return " ".join(shlex.quote(w) for w in words)


def _script(*lines: str) -> str:
    return "\n".join(("set -e", *lines))


def _bootstrap(mode: str) -> str:
    autogen = 'echo "+ NOCONFIGURE=1 ./autogen.sh"; NOCONFIGURE=1 ./autogen.sh'
    if mode == "configure":
        return _script('[ -x ./configure ] || { echo "bootstrap = \\"configure\\" but the '
                       'source has no ./configure; use bootstrap = \\"auto\\"" >&2; exit 1; }',
                       'echo "configure is shipped; nothing to bootstrap"')
    if mode == "autogen":
        return _script(autogen)
    if mode == "autoreconf":
        return _script("set -x", "autoreconf -f -i")
    # auto
    return _script(
        "if [ -x ./configure ]; then echo 'configure is shipped; nothing to bootstrap'",
        f"elif [ -f ./autogen.sh ]; then {autogen}",
        "else set -x; autoreconf -f -i; fi",
    )


def plan_build(
    config: Config,
    component: str,
    stack: str,
    version: Version | None = None,
    *,
    cpus: int = 2,
    memory: str | None = None,
    sha256: str | None = None,
    arch: str = DEFAULT_ARCH,
) -> BuildPlan:
    """The ordered steps that build `component` (at `version`, default the configured one)
    for `stack`, on the artifact of each required component's configured version (unpacked
    at /app). `sha256` pins the source of `version` when versions.toml does not (`build
    --version V --sha256 HEX`). `arch` must be one of the stack's `arches`; every ELF file
    the build installs must be for it."""
    comp: Component = config.component(component)
    st = config.stack(stack)
    if stack not in comp.stacks:
        raise BuildError(f"{comp.name} is not built for stack {stack!r} (its stacks: "
                         f"{', '.join(comp.stacks)}); pick one of those with --stack")
    if arch not in st.arches:
        raise BuildError(f"stack {stack} is not built for {arch} (its arches: "
                         f"{', '.join(st.arches)}); add {arch!r} to the arches of "
                         f"[stacks.{stack}] in {config.path}, or pick one of those with --arch")
    comp = comp.for_stack(stack)
    ver = version or comp.version
    # A pin only holds for the version it was recorded for.
    sha = sha256 or (comp.sha256 if ver == comp.version else None)
    cpus = max(1, int(cpus))

    source = Fetch("source", comp.source_url(ver), sha, f"{SOURCES}/source")
    extras = tuple(Fetch(e.name, e.url_for(ver), e.sha256 if ver == comp.version else None,
                         f"{SOURCES}/extra/{e.name}") for e in comp.extra_sources)
    extra_by_name = {e.name: e for e in comp.extra_sources}

    requires: list[Requirement] = []
    for name in comp.requires:
        dep_version = config.component(name).version.text
        requires.append(Requirement(name, dep_version,
                                    artifact_stem(name, dep_version, stack, arch=arch),
                                    f"{DEPS}/{name}.tar.gz"))

    local: list[LocalFile] = []
    patch_paths: list[str] = []
    for i, patch in enumerate(comp.patches):
        if patch.startswith(LOCAL_PATCH_ROOT):
            mount = f"{PATCHES}/{i:02d}-{patch.rsplit('/', 1)[-1]}"
            local.append(LocalFile(patch, mount))
            patch_paths.append(mount)
        else:
            patch_paths.append(patch)

    env: dict[str, str] = {"HOME": HOME, "LANG": "C.UTF-8", "PATH": BASE_PATH}
    if requires:
        env["PATH"] = f"{PREFIX}/bin:{BASE_PATH}"
        env["PKG_CONFIG_PATH"] = f"{PREFIX}/lib/pkgconfig"
    env.update(comp.env)

    steps: list[Step] = [Step("fetch", "host")]
    if requires:
        steps.append(Step("deps", "container", _script(
            "set -x", *(f"tar -xzf {r.mount} -C {PREFIX}" for r in requires)), workdir=PREFIX))
    steps.append(Step("extract", "container", _script(
        UNPACK, f"unpack {SOURCES}/source {SRC}", f"ls -A {SRC}"), workdir="/build"))
    if extras:
        lines = [UNPACK]
        for e in extras:
            dest = f"{SRC}/{extra_by_name[e.name].dest}".rstrip("/")
            if extra_by_name[e.name].extract:
                lines.append(f"echo '+ unpack {e.name} -> {dest}'; unpack {e.mount} {dest}")
            else:
                lines.append(f'mkdir -p "$(dirname {dest})"; cp -v {e.mount} {dest}')
        steps.append(Step("extra-sources", "container", _script(*lines)))
    if patch_paths:
        steps.append(Step("patches", "container", _script(
            "set -x", *(f"patch -p1 --forward --batch -i {shlex.quote(p)}"
                        for p in patch_paths))))
    steps.append(Step("bootstrap", "container", _bootstrap(comp.bootstrap)))
    steps.append(Step("configure", "container", _script(
        "set -x", f"./configure --prefix={PREFIX} {_q(comp.configure_args)}".rstrip())))
    steps.append(Step("make", "container", _script(
        "set -x", f"make -j{cpus} {_q(comp.make_args)}".rstrip())))
    if comp.pre_install:
        steps.append(Step("pre-install", "container", _script(
            "set -x", *comp.pre_install)))
    steps.append(Step("install", "container", _script(
        "set -x", f"make -j1 install {_q(comp.make_args)}".rstrip())))
    steps.append(Step("prune", "container", prune_script(comp.prune), workdir=PREFIX))
    steps.append(Step("package", "host"))

    return BuildPlan(
        component=comp.name,
        version=ver.text,
        stack=stack,
        build_image=st.image("build", arch),
        cpus=cpus,
        memory=memory,
        source=source,
        extra_sources=extras,
        local_files=tuple(local),
        requires=tuple(requires),
        env=MappingProxyType(env),
        steps=tuple(steps),
        labels=MappingProxyType({
            "org.release-bot.build": "1",
            "org.release-bot.component": comp.name,
            "org.release-bot.version": ver.text,
            "org.release-bot.stack": stack,
            "org.release-bot.arch": arch,
        }),
        recipe=Recipe(configure_args=comp.configure_args, make_args=comp.make_args,
                      env=dict(env), prune=comp.prune, bootstrap=comp.bootstrap,
                      pre_install=comp.pre_install),
        patches=comp.patches,
        arch=arch,
    )
