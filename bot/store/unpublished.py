"""What versions.toml describes that the store's index does not list yet: the build matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Config
from bot.store.layout import Index


@dataclass(frozen=True, slots=True)
class PlanEntry:
    component: str
    version: str
    stack: str
    pinned: bool

    @property
    def note(self) -> str:
        if self.pinned:
            return ""
        return f"unpinned: run `release-bot pin {self.component}` before it can be built"

    def matrix_row(self) -> dict[str, str]:
        return {"component": self.component, "version": self.version, "stack": self.stack}


def plan_unpublished(config: Config, index: Index, components: Sequence[str] | None = None,
                     stacks: Sequence[str] | None = None) -> list[PlanEntry]:
    """Every (component, version, stack) of versions.toml missing from `index` (pure).

    Components come in dependency order (Mono before XSP), stacks in versions.toml order.
    Unpinned components are listed with `pinned=False`: the caller keeps them out of the
    build matrix and says why.
    """
    wanted = None if stacks is None else {config.stack(s).name for s in stacks}
    published = index.published()
    entries: list[PlanEntry] = []
    for name in config.build_order(components):
        component = config.components[name]
        for stack in component.stacks:
            if wanted is not None and stack not in wanted:
                continue
            if (name, component.version.text, stack) not in published:
                entries.append(PlanEntry(name, component.version.text, stack,
                                         component.pinned))
    return entries
