"""Pure planning of a smoke run: which artifacts make the runtime, which checks run on it.

Two ways to get a runtime:

* from build artifacts (`plan_from_artifacts`): the Mono tarball of the stack (and XSP's, when
  one was built) extracted at /app on the stack's run image, Mono first;
* a prepared image (`plan_for_image`), e.g. the default test tier's runtime made of the
  stack's Mono packages, laid out the same way (/app/bin/mono, mcs, xsp4).

The checks are fixed (`CHECKS`): `console` and `web` need Mono, `xsp` needs XSP as well.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.arch import DEFAULT_ARCH, platform
from bot.build.manifest import Manifest
from bot.config.model import did_you_mean
from bot.errors import UsageError
from bot.versions import InvalidVersion, Version

DEFAULT_READY_TIMEOUT = 60.0
EXTRACTION_ORDER = ("mono", "xsp")


@dataclass(frozen=True, slots=True)
class Check:
    """One sample app and what its run must show."""

    name: str  # also the sample's folder under the samples directory
    kind: str  # "console": exit 0 and marker on stdout; "http": GET answers 200 with marker
    marker: str
    needs: str = "mono"  # the component the runtime must hold
    port: int | None = None  # http: the container port the app listens on
    path: str = "/"  # http: what to GET
    compiled: bool = True  # the sample's *.cs are compiled with the runtime's compiler


CHECKS: tuple[Check, ...] = (
    Check("console", "console", marker="Hello World"),
    Check("web", "http", marker="Hello from Mono on port 5000", port=5000),
    # The page computes the number: the marker shows ASP.NET ran it (not served as text).
    Check("xsp", "http", marker="ASP.NET rendered 42", needs="xsp", port=8080,
          path="/index.aspx", compiled=False),
)


@dataclass(frozen=True, slots=True)
class RuntimeArtifact:
    component: str
    version: str
    stack: str
    path: Path  # the tarball
    sha256: str  # from its manifest


@dataclass(frozen=True, slots=True)
class SmokePlan:
    checks: tuple[Check, ...]
    ready_timeout: float
    # Exactly one of: a prepared image, or artifacts (in extraction order) on a base image.
    runtime_image: str | None = None
    stack: str | None = None
    base_image: str | None = None
    artifacts: tuple[RuntimeArtifact, ...] = ()
    arch: str = DEFAULT_ARCH  # the runtime's: every image and container is for it

    @property
    def platform(self) -> str | None:
        return platform(self.arch)

    def describe(self) -> str:
        if self.runtime_image is not None:
            runtime = f"prepared runtime image {self.runtime_image}"
        else:
            parts = ", ".join(f"{a.component} {a.version}" for a in self.artifacts)
            runtime = f"{parts} on {self.base_image} (stack {self.stack})"
        if self.arch != DEFAULT_ARCH:
            runtime += f" for {self.arch}"
        return f"{runtime}; checks: {', '.join(c.name for c in self.checks)}"


def select_checks(available: Collection[str], only: Sequence[str]) -> tuple[Check, ...]:
    """The checks to run: `only` (validated) or every check the runtime can serve."""
    by_name = {c.name: c for c in CHECKS}
    if not only:
        return tuple(c for c in CHECKS if c.needs in available)
    chosen: list[Check] = []
    for name in only:
        check = by_name.get(name)
        if check is None:
            hint = did_you_mean(name, by_name)
            raise UsageError(f"unknown smoke check {name!r}{'; ' + hint if hint else ''} "
                             f"(checks: {', '.join(by_name)})")
        if check.needs not in available:
            raise UsageError(f"check {name!r} needs {check.needs} in the runtime, which has "
                             f"only {', '.join(sorted(available))}; build {check.needs} first "
                             f"or drop --check {name}")
        if check not in chosen:
            chosen.append(check)
    return tuple(chosen)


def plan_for_image(image: str, *, has_xsp: bool, only: Sequence[str] = (),
                   ready_timeout: float = DEFAULT_READY_TIMEOUT,
                   arch: str = DEFAULT_ARCH) -> SmokePlan:
    available = {"mono", "xsp"} if has_xsp else {"mono"}
    return SmokePlan(checks=select_checks(available, only), ready_timeout=ready_timeout,
                     runtime_image=image, arch=arch)


def _newest(manifests: Sequence[Manifest]) -> Manifest:
    def key(m: Manifest) -> Version:
        try:
            return Version.parse(m.version)
        except InvalidVersion:
            raise UsageError(f"artifact {m.artifact} has version {m.version!r}, which is not "
                             "a version; rebuild it with `release-bot build`") from None

    return max(manifests, key=key)


def _only_arch(manifests: Sequence[Manifest], stack: str, arch: str | None,
               directory: Path) -> str:
    arches = sorted({m.arch for m in manifests if m.stack == stack})
    if arch is not None:
        return arch
    if len(arches) > 1:
        raise UsageError(f"{directory} holds artifacts of stack {stack} for several "
                         f"architectures ({', '.join(arches)}); choose one with --arch")
    return arches[0] if arches else DEFAULT_ARCH


def plan_from_artifacts(manifests: Sequence[Manifest], directory: Path, *,
                        stack: str | None, run_images: Callable[[str], Mapping[str, str]],
                        only: Sequence[str] = (), arch: str | None = None,
                        ready_timeout: float = DEFAULT_READY_TIMEOUT) -> SmokePlan:
    """Pick the stack's Mono (and XSP, with the Mono it was built against) from `manifests`.

    `run_images(arch)` maps stack names to their run image for that architecture
    (versions.toml: `Config.run_images`). `arch`: the artifacts' (default: the only one in
    `directory` for the stack). Several versions of a component: the newest XSP, and the Mono
    it names in `built_against` (else the newest).
    """
    stacks = sorted({m.stack for m in manifests})
    if not stacks:
        raise UsageError(f"no build artifacts (*.json manifests) in {directory}; run "
                         "`release-bot build mono` first or pass --artifacts DIR")
    if stack is None:
        if len(stacks) > 1:
            raise UsageError(f"{directory} holds artifacts for several stacks "
                             f"({', '.join(stacks)}); choose one with --stack")
        stack = stacks[0]
    arch = _only_arch(manifests, stack, arch, directory)
    images = run_images(arch)
    if stack not in images:
        hint = did_you_mean(stack, images)
        raise UsageError(f"unknown stack {stack!r}{'; ' + hint if hint else ''} (stacks in "
                         f"versions.toml: {', '.join(sorted(images)) or 'none'})")
    mine = [m for m in manifests if (m.stack, m.arch) == (stack, arch)]
    monos = [m for m in mine if m.component == "mono"]
    xsps = [m for m in mine if m.component == "xsp"]
    if not monos:
        where, flag = (stack, "") if arch == DEFAULT_ARCH else (f"{stack} ({arch})",
                                                                f" --arch {arch}")
        raise UsageError(f"no mono artifact for stack {where} in {directory}; build it with "
                         f"`release-bot build mono --stack {stack}{flag}`")
    chosen: list[Manifest] = []
    xsp = _newest(xsps) if xsps else None
    wanted = xsp.built_against.get("mono") if xsp is not None else None
    if wanted is not None:
        matching = [m for m in monos if m.version == wanted.version]
        if not matching:
            raise UsageError(f"xsp {xsp.version if xsp else ''} for stack {stack} was built "
                             f"against mono {wanted.version}, which is not in {directory}; "
                             "build that Mono or rebuild XSP")
        chosen.append(matching[0])
    else:
        chosen.append(_newest(monos))
    if xsp is not None:
        chosen.append(xsp)
    chosen.sort(key=lambda m: EXTRACTION_ORDER.index(m.component))
    artifacts = tuple(RuntimeArtifact(m.component, m.version, m.stack, directory / m.artifact,
                                      m.sha256) for m in chosen)
    return SmokePlan(
        checks=select_checks({a.component for a in artifacts}, only),
        ready_timeout=ready_timeout,
        stack=stack,
        base_image=images[stack],
        artifacts=artifacts,
        arch=arch,
    )
