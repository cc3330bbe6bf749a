"""Plan the main job purely: versions.toml + the store's index -> what `run` does, in order.

Per stack and architecture (in versions.toml order): the builds of what is not published
yet, requirements first (Mono before XSP); the published artifacts a build or the smoke
runtime needs, taken from the store; the smoke checks; then publish (only stacks whose
checks passed), notes and the release. Nothing here touches Docker, the network or the
store: an empty plan means `run` does nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.arch import DEFAULT_ARCH, describe_build, lane
from bot.config import Config
from bot.errors import UsageError
from bot.smoke.plan import CHECKS
from bot.store.layout import Index
from bot.store.unpublished import PlanEntry, plan_unpublished
from bot.versions import Version

# The components the smoke checks exercise (the samples need Mono; xsp serves a page).
SMOKED = frozenset(c.needs for c in CHECKS)


@dataclass(frozen=True, slots=True)
class Target:
    component: str
    version: str
    stack: str
    sha256: str | None = None  # the pin of a version override (`--version V --sha256 HEX`)
    arch: str = DEFAULT_ARCH

    def describe(self) -> str:
        return describe_build(self.component, self.version, self.stack, self.arch)


@dataclass(frozen=True, slots=True)
class StackRun:
    stack: str
    builds: tuple[Target, ...]  # requirements first
    fetch: tuple[Target, ...]  # published artifacts needed here (a requirement, the runtime)
    smoke: bool  # whether the sample checks run (something they exercise is built)
    unchecked: tuple[Target, ...]  # builds no check covers (said in the notes)
    arch: str = DEFAULT_ARCH

    @property
    def lane(self) -> str:
        """The stack and architecture as one name (`heroku-24`, `heroku-24-arm64`)."""
        return lane(self.stack, self.arch)

    def describe(self) -> str:
        arch = "" if self.arch == DEFAULT_ARCH else f" ({self.arch})"
        lines = [f"stack {self.stack}{arch}:"]
        lines += [f"  take {t.describe()} from the store" for t in self.fetch]
        lines += [f"  build {t.describe()}" for t in self.builds]
        lines.append("  smoke: the sample checks" if self.smoke else "  smoke: none")
        lines += [f"  no smoke checks for {t.component}" for t in self.unchecked]
        lines.append("  publish what passed")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RunPlan:
    stacks: tuple[StackRun, ...]
    unpinned: tuple[PlanEntry, ...]  # not published, cannot be built until pinned

    @property
    def empty(self) -> bool:
        return not self.stacks

    @property
    def builds(self) -> tuple[Target, ...]:
        return tuple(t for s in self.stacks for t in s.builds)

    def describe(self) -> str:
        if self.empty:
            return "nothing to build"
        return "\n".join(s.describe() for s in self.stacks)


def plan_run(config: Config, index: Index, components: Sequence[str] | None = None,
             stacks: Sequence[str] | None = None, *, version: Version | None = None,
             sha256: str | None = None, force: bool = False,
             arches: Sequence[str] | None = None) -> RunPlan:
    """What `run` does (pure): one `StackRun` per stack and architecture, in versions.toml
    order. Unpinned components are left out (and listed).

    `version` (with `sha256`, its pin when versions.toml does not pin it) replaces the
    version of the one component named; `force` plans published entries too; `arches`
    keeps only those architectures."""
    entries = plan_unpublished(config, index, components, stacks, version=version,
                               override_pinned=sha256 is not None, force=force)
    if arches is not None:
        chosen = [config.stack(s) for s in (stacks or config.stacks)]
        for arch in arches:
            if not any(arch in s.arches for s in chosen):
                raise UsageError(f"no stack chosen in {config.path} builds for {arch} (arches "
                                 f"of {', '.join(s.name for s in chosen)}: "
                                 f"{', '.join(sorted({a for s in chosen for a in s.arches}))});"
                                 f" add {arch} to a stack's arches or drop --arch {arch}")
        entries = [e for e in entries if e.arch in arches]
    unpinned = tuple(e for e in entries if not e.pinned)
    buildable = [e for e in entries if e.pinned]
    published = index.published()
    pin = sha256 if version is not None else None
    runs: list[StackRun] = []
    for stack, arch in ((s, a) for s in config.stacks for a in config.stack(s).arches):
        mine = [Target(e.component, e.version, stack, pin, arch) for e in buildable
                if (e.stack, e.arch) == (stack, arch)]
        if not mine:
            continue
        built = {t.component for t in mine}
        needed: list[str] = []
        for target in mine:
            needed += config.component(target.component).requires
        if built & SMOKED:
            needed.append("mono")  # the smoke runtime is Mono (and the XSP built here)
        fetch = tuple(Target(name, config.component(name).version.text, stack, arch=arch)
                      for name in config.build_order(dict.fromkeys(needed))
                      if name not in built)
        for target in fetch:
            if (target.component, target.version, stack, arch) not in published:
                raise UsageError(f"{target.describe()} is needed on stack {stack} but is "
                                 "neither published nor built in this run; drop --component "
                                 f"or pin {target.component} (`release-bot pin "
                                 f"{target.component}`)")
        runs.append(StackRun(
            stack=stack,
            builds=tuple(mine),
            fetch=fetch,
            smoke=bool(built & SMOKED),
            unchecked=tuple(t for t in mine if t.component not in SMOKED),
            arch=arch,
        ))
    return RunPlan(tuple(runs), unpinned)
