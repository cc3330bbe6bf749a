"""What versions.toml describes that the store's index does not list yet: the build matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.arch import DEFAULT_ARCH
from bot.config import Config
from bot.store.layout import Index
from bot.versions import Version


@dataclass(frozen=True, slots=True)
class PlanEntry:
    component: str
    version: str
    stack: str
    pinned: bool
    published: bool = False  # listed anyway (`force`): rebuilt and replaced
    arch: str = DEFAULT_ARCH

    @property
    def note(self) -> str:
        if not self.pinned:
            return f"unpinned: run `release-bot pin {self.component}` before it can be built"
        if self.published:
            return "published: rebuilt and replaced (--force)"
        return ""

    def matrix_row(self) -> dict[str, str]:
        return {"component": self.component, "version": self.version, "stack": self.stack,
                "arch": self.arch}


def plan_unpublished(config: Config, index: Index, components: Sequence[str] | None = None,
                     stacks: Sequence[str] | None = None, *, version: Version | None = None,
                     override_pinned: bool = False, force: bool = False) -> list[PlanEntry]:
    """Every (component, version, stack, arch) of versions.toml missing from `index` (pure).

    Components come in dependency order (Mono before XSP), stacks in versions.toml order,
    each stack's architectures in the order its `arches` lists them.
    Unpinned components are listed with `pinned=False`: the caller keeps them out of the
    build matrix and says why. `version` replaces the version of the one component named
    (`override_pinned`: a sha256 for it was given); with `force`, published entries are
    listed too (`published=True`).
    """
    if version is not None and (components is None or len(set(components)) != 1):
        raise ValueError("a version override needs exactly one component")
    wanted = None if stacks is None else {config.stack(s).name for s in stacks}
    published = index.published()
    entries: list[PlanEntry] = []
    for name in config.build_order(components):
        component = config.components[name]
        ver = version or component.version
        pinned = override_pinned or (ver == component.version and component.pinned)
        for stack in component.stacks:
            if wanted is not None and stack not in wanted:
                continue
            for arch in config.stack(stack).arches:
                done = (name, ver.text, stack, arch) in published
                if force or not done:
                    entries.append(PlanEntry(name, ver.text, stack, pinned, done, arch))
    return entries
