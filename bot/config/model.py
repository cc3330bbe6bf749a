"""Frozen, typed model of versions.toml. Built only by `bot.config.load`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from bot.arch import DEFAULT_ARCH
from bot.errors import UsageError
from bot.versions import Version

DEFAULT_PATTERN = r"v?(?P<version>[0-9]+(?:\.[0-9]+)*)"
BOOTSTRAPS = ("auto", "configure", "autogen", "autoreconf")

T = TypeVar("T")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True, slots=True)
class Stack:
    name: str
    build_image: str
    run_image: str
    arches: tuple[str, ...] = (DEFAULT_ARCH,)  # bot.arch names

    def image(self, which: str, arch: str) -> str:
        """The build or run image reference for `arch` (`{arch}` in it is replaced)."""
        ref = self.build_image if which == "build" else self.run_image
        return ref.replace("{arch}", arch)


@dataclass(frozen=True, slots=True)
class Upstream:
    """One place new versions appear. Which fields matter depends on `type` (bot.sources)."""

    type: str
    pattern: re.Pattern[str]
    url: str | None = None
    repo: str | None = None
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    ignore: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    prereleases: bool = False
    drafts: bool = False


@dataclass(frozen=True, slots=True)
class ExtraSource:
    """A further download for a component (a patch set, a bootstrap compiler), pinned by sha256.

    `url` may contain `{version}`. With `extract`, the archive is unpacked into `dest` inside
    the source tree; otherwise the file is placed at `dest` (a path relative to the tree).
    """

    name: str
    url: str
    sha256: str | None
    dest: str
    extract: bool = True

    def url_for(self, version: Version) -> str:
        return self.url.replace("{version}", version.text)


@dataclass(frozen=True, slots=True)
class StackOverride:
    configure_args: tuple[str, ...] | None = None
    env: Mapping[str, str] | None = None
    make_args: tuple[str, ...] | None = None
    patches: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    version: Version
    source: str
    sha256: str | None
    requires: tuple[str, ...] = ()
    configure_args: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()
    bootstrap: str = "auto"
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    make_args: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()
    extra_sources: tuple[ExtraSource, ...] = ()
    pre_install: tuple[str, ...] = ()
    prune: str = "default"
    upstream: tuple[Upstream, ...] = ()
    overrides: Mapping[str, StackOverride] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None

    def source_url(self, version: Version | None = None) -> str:
        return self.source.replace("{version}", (version or self.version).text)

    def for_stack(self, stack: str) -> Component:
        """This component with the stack's overrides applied."""
        o = self.overrides.get(stack)
        if o is None:
            return self
        return replace(
            self,
            configure_args=self.configure_args if o.configure_args is None else o.configure_args,
            env=self.env if o.env is None else MappingProxyType({**self.env, **o.env}),
            make_args=self.make_args if o.make_args is None else o.make_args,
            patches=self.patches if o.patches is None else o.patches,
        )


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    stacks: Mapping[str, Stack]
    components: Mapping[str, Component]

    def component(self, name: str) -> Component:
        return self._lookup(self.components, "component", name)

    def stack(self, name: str) -> Stack:
        return self._lookup(self.stacks, "stack", name)

    def run_images(self, arch: str = DEFAULT_ARCH) -> dict[str, str]:
        """Each stack's run image for `arch` (`{arch}` replaced), by stack name."""
        return {s.name: s.image("run", arch) for s in self.stacks.values()}

    def _lookup(self, table: Mapping[str, T], kind: str, name: str) -> T:
        """table[name], else a UsageError with a did-you-mean (or the known names)."""
        try:
            return table[name]
        except KeyError:
            hint = did_you_mean(name, table)
            known = ", ".join(table)
            raise UsageError(
                f"unknown {kind} {name!r} in {self.path}"
                + (f"; {hint}" if hint else f"; known {kind}s: {known}")
            ) from None

    def build_order(self, names: Iterable[str] | None = None) -> list[str]:
        """Components (default: all) in dependency order, requirements first. Acyclic by load."""
        wanted = list(self.components) if names is None else [self.component(n).name for n in names]
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for req in self.components[name].requires:
                visit(req)
            order.append(name)

        for name in wanted:
            visit(name)
        wanted_set = set(wanted)
        return [n for n in order if n in wanted_set]
