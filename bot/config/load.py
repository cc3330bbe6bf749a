"""Strict loader for versions.toml.

Every problem is a `ConfigError` (exit 2) naming the file, the line where it can be found,
the key path and the fix. The file is only read, never written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli

from bot.build.prune import PRUNE_HOOKS
from bot.config.fields import FieldChecker
from bot.config.model import (
    BOOTSTRAPS,
    DEFAULT_PATTERN,
    Component,
    Config,
    ExtraSource,
    Stack,
    StackOverride,
    Upstream,
)
from bot.errors import ConfigError
from bot.versions import InvalidVersion, Version

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s")  # str.isspace() characters (both use Py_UNICODE_ISSPACE)

STACK_KEYS = ("build-image", "run-image", "arches")
COMPONENT_KEYS = (
    "version",
    "source",
    "sha256",
    "requires",
    "configure-args",
    "stacks",
    "bootstrap",
    "env",
    "make-args",
    "patches",
    "extra-sources",
    "pre-install",
    "prune",
    "upstream",
    "overrides",
)
OVERRIDE_KEYS = ("configure-args", "env", "make-args", "patches")
EXTRA_SOURCE_KEYS = ("name", "url", "sha256", "dest", "extract")

class _Loader(FieldChecker):
    """The structure of versions.toml: stacks, upstreams, components, requirements."""

    # -- checks of this file's own kinds of value ---------------------------------------
    def env(self, value: object, key: tuple[str | int, ...]) -> Mapping[str, str]:
        data = self.table(value, key)
        for k, v in data.items():
            if not _ENV_NAME.fullmatch(k):
                raise self.fail((*key, k), "not a valid environment variable name",
                                "use letters, digits and _")
            self.string(v, (*key, k), '"value"')
        return MappingProxyType(dict(data))

    def url_template(self, value: object, key: tuple[str | int, ...], *,
                     need_version: bool) -> str:
        text = self.string(value, key, '"https://host/name-{version}.tar.xz"')
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme not in ("https", "http"):
            raise self.fail(key, f"URL must start with https:// or http:// (got {text!r})",
                            "use an https:// URL")
        if _SPACE.search(text):
            raise self.fail(key, "URL contains whitespace", "remove the whitespace")
        if need_version and "{version}" not in text:
            raise self.fail(key, "source URL has no {version} placeholder",
                            'write it like "https://host/mono-{version}.tar.xz"')
        return text

    def name(self, value: str, key: tuple[str | int, ...], what: str) -> str:
        if not _NAME.fullmatch(value):
            raise self.fail(key, f"{what} name {value!r} is not allowed",
                            "use lowercase letters, digits, '.', '_' and '-'")
        return value

    # -- tables -----------------------------------------------------------------------------
    def stacks(self, raw: object) -> dict[str, Stack]:
        data = self.table(raw, ("stacks",))
        if not data:
            raise self.fail(("stacks",), "no stacks defined",
                            'add [stacks.NAME] with build-image and run-image')
        out: dict[str, Stack] = {}
        for name, value in data.items():
            key: tuple[str | int, ...] = ("stacks", name)
            self.name(name, key, "stack")
            st = self.table(value, key)
            self.check_keys(st, STACK_KEYS, key)
            build = self.string(self.required(st, "build-image", key), (*key, "build-image"),
                                '"heroku/heroku:24-build"')
            run = self.string(self.required(st, "run-image", key), (*key, "run-image"),
                              '"heroku/heroku:24"')
            out[name] = Stack(name, build, run, self.arches(st, key))
        return out

    def arches(self, st: dict[str, object], key: tuple[str | int, ...]) -> tuple[str, ...]:
        from bot.arch import ARCHES, DEFAULT_ARCH  # the one list of architectures

        if "arches" not in st:
            return (DEFAULT_ARCH,)
        arches = self.strings(st["arches"], (*key, "arches"))
        if not arches:
            raise self.fail((*key, "arches"), "no architectures listed",
                            f'write arches = ["{DEFAULT_ARCH}"] or drop the key')
        for i, arch in enumerate(arches):
            self.one_of(arch, ARCHES, (*key, "arches", i), f"unknown architecture {arch!r}")
            if arch in arches[:i]:
                raise self.fail((*key, "arches", i), f"architecture {arch!r} is listed twice",
                                "list each architecture once")
        return arches

    def upstream(self, raw: object, key: tuple[str | int, ...]) -> Upstream:
        data = self.table(raw, key)
        from bot.sources import SOURCES  # the one list of upstream types and their keys

        utype = self.string(self.required(data, "type", key), (*key, "type"), '"html-index"')
        self.one_of(utype, SOURCES, (*key, "type"), f"unknown upstream type {utype!r}")
        source = SOURCES[utype]
        self.check_keys(data, source.keys | {"type"}, key)
        for req in sorted(source.required):
            self.required(data, req, key)
        url = data.get("url")
        repo = data.get("repo")
        if repo is not None:
            repo = self.string(repo, (*key, "repo"), '"owner/name"')
            if not _REPO.fullmatch(repo):
                raise self.fail((*key, "repo"), f"repo {repo!r} is not owner/name",
                                'write repo = "mono/xsp"')
        return Upstream(
            type=utype,
            url=None if url is None else self.url_template(url, (*key, "url"),
                                                             need_version=False),
            repo=repo,
            pattern=self.regex(data.get("pattern", DEFAULT_PATTERN), (*key, "pattern"),
                               version_group=True),
            include=None if "include" not in data else self.regex(
                data["include"], (*key, "include"), version_group=False),
            exclude=None if "exclude" not in data else self.regex(
                data["exclude"], (*key, "exclude"), version_group=False),
            ignore=self.versions(data.get("ignore", []), (*key, "ignore")),
            folders=self.strings(data.get("folders", []), (*key, "folders")),
            prereleases=self.boolean(data.get("prereleases", False), (*key, "prereleases")),
            drafts=self.boolean(data.get("drafts", False), (*key, "drafts")),
        )

    def version(self, value: object, key: tuple[str | int, ...]) -> Version:
        text = self.string(value, key, '"6.14.1"')
        try:
            return Version.parse(text)
        except InvalidVersion as exc:
            raise self.fail(key, str(exc), 'write a version like "6.14.1"') from None

    def versions(self, value: object, key: tuple[str | int, ...]) -> tuple[str, ...]:
        items = self.strings(value, key)
        for i, item in enumerate(items):
            self.version(item, (*key, i))
        return items

    def extra_source(self, raw: object, key: tuple[str | int, ...]) -> ExtraSource:
        data = self.table(raw, key)
        self.check_keys(data, EXTRA_SOURCE_KEYS, key)
        name = self.name(self.string(self.required(data, "name", key), (*key, "name"),
                                     '"patches"'), (*key, "name"), "extra source")
        dest = self.string(data.get("dest", name), (*key, "dest"), '"external/foo"')
        if dest.startswith("/") or ".." in dest.split("/"):
            raise self.fail((*key, "dest"), "dest must stay inside the source tree",
                            'use a relative path like "external/foo"')
        return ExtraSource(
            name=name,
            url=self.url_template(self.required(data, "url", key), (*key, "url"),
                                  need_version=False),
            sha256=self.sha256(data.get("sha256", ""), (*key, "sha256")),
            dest=dest,
            extract=self.boolean(data.get("extract", True), (*key, "extract")),
        )

    def override(self, raw: object, key: tuple[str | int, ...]) -> StackOverride:
        data = self.table(raw, key)
        self.check_keys(data, OVERRIDE_KEYS, key)

        def opt(name: str, conv: Callable[[object, tuple[str | int, ...]], Any]) -> Any:
            return None if name not in data else conv(data[name], (*key, name))

        return StackOverride(
            configure_args=opt("configure-args", self.strings),
            env=opt("env", self.env),
            make_args=opt("make-args", self.strings),
            patches=opt("patches", self.strings),
        )

    def component(self, name: str, raw: object, stacks: Mapping[str, Stack]) -> Component:
        key: tuple[str | int, ...] = ("components", name)
        self.name(name, key, "component")
        data = self.table(raw, key)
        self.check_keys(data, COMPONENT_KEYS, key)
        version = self.version(self.required(data, "version", key), (*key, "version"))
        source = self.url_template(self.required(data, "source", key), (*key, "source"),
                                   need_version=True)
        sha = self.sha256(data.get("sha256", ""), (*key, "sha256"))
        comp_stacks = self.strings(data.get("stacks", list(stacks)), (*key, "stacks"))
        for i, st in enumerate(comp_stacks):
            self.one_of(st, stacks, (*key, "stacks", i), f"unknown stack {st!r}",
                        f"define [stacks.{st}] or use one of {', '.join(stacks)}")
        bootstrap = self.string(data.get("bootstrap", "auto"), (*key, "bootstrap"), '"auto"')
        self.one_of(bootstrap, BOOTSTRAPS, (*key, "bootstrap"), f"unknown bootstrap {bootstrap!r}")
        prune = self.string(data.get("prune", "default"), (*key, "prune"), '"default"')
        self.one_of(prune, PRUNE_HOOKS, (*key, "prune"), f"unknown prune hook {prune!r}")
        upstream_raw = data.get("upstream", [])
        if not isinstance(upstream_raw, list):
            raise self.fail((*key, "upstream"), "expected an array of tables",
                            f"write [[components.{name}.upstream]]")
        extra_raw = data.get("extra-sources", [])
        if not isinstance(extra_raw, list):
            raise self.fail((*key, "extra-sources"), "expected an array of tables",
                            f"write [[components.{name}.extra-sources]]")
        overrides_raw = self.table(data.get("overrides", {}), (*key, "overrides"))
        for st in overrides_raw:
            self.one_of(st, stacks, (*key, "overrides", st), f"override for unknown stack {st!r}")
        return Component(
            name=name,
            version=version,
            source=source,
            sha256=sha,
            requires=self.strings(data.get("requires", []), (*key, "requires")),
            configure_args=self.strings(data.get("configure-args", []),
                                        (*key, "configure-args")),
            stacks=comp_stacks,
            bootstrap=bootstrap,
            env=self.env(data.get("env", {}), (*key, "env")),
            make_args=self.strings(data.get("make-args", []), (*key, "make-args")),
            patches=self.strings(data.get("patches", []), (*key, "patches")),
            extra_sources=tuple(self.extra_source(v, (*key, "extra-sources", i))
                                for i, v in enumerate(extra_raw)),
            pre_install=self.strings(data.get("pre-install", []), (*key, "pre-install")),
            prune=prune,
            upstream=tuple(self.upstream(v, (*key, "upstream", i))
                           for i, v in enumerate(upstream_raw)),
            overrides=MappingProxyType({st: self.override(v, (*key, "overrides", st))
                                        for st, v in overrides_raw.items()}),
        )

    def check_requires(self, components: Mapping[str, Component]) -> None:
        for comp in components.values():
            for i, req in enumerate(comp.requires):
                self.one_of(req, components, ("components", comp.name, "requires", i),
                            f"requires unknown component {req!r}")
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name):], name])
                raise self.fail(("components", name, "requires"),
                                f"requires form a cycle: {cycle}",
                                "remove one of the requirements")
            state[name] = 1
            for req in components[name].requires:
                visit(req, [*trail, name])
            state[name] = 2

        for name in components:
            visit(name, [])

    def config(self, data: Mapping[str, Any]) -> Config:
        if not data:
            raise ConfigError(self.path, "file is empty",
                              fix="add [stacks.NAME] and [components.NAME] tables; see README")
        self.check_keys(data, ("stacks", "components"), ())
        stacks = self.stacks(self.required(data, "stacks", ()))
        comps_raw = self.table(self.required(data, "components", ()), ("components",))
        if not comps_raw:
            raise self.fail(("components",), "no components defined",
                            "add [components.NAME] with version and source")
        components = {name: self.component(name, raw, stacks) for name, raw in comps_raw.items()}
        self.check_requires(components)
        return Config(self.path, MappingProxyType(stacks), MappingProxyType(components))


def parse_config(text: str, path: str = "versions.toml") -> Config:
    """Parse and validate the text of a versions.toml."""
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        # an error at the end of the document is on its last line
        line = max(1, len(text.splitlines())) if exc.pos >= len(text) else exc.lineno
        raise ConfigError(path, f"TOML syntax error: {exc.msg}", line=line,
                          fix="fix the TOML syntax at that line") from None
    return _Loader(path, text).config(data)


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), "file not found",
                          fix="run from the repository root or pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), f"cannot read the file: {exc}", fix="check the file") from None
    return parse_config(text, str(p))
