"""The generic field checks of versions.toml, and where in the text a key is.

Every check returns the value typed or raises a `ConfigError` naming the file, the line (found
by `Locator` in the raw text, only when there is an error), the dotted key and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from bot.config.model import did_you_mean
from bot.errors import ConfigError
from bot.files import is_sha256

_TYPE_NAMES = {
    str: "a string",
    list: "an array",
    dict: "a table",
    bool: "true or false",
    int: "an integer",
    float: "a number",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class Locator:
    """Finds the line of a key path in the raw text (best effort; None when not found)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    @staticmethod
    def _split(dotted: str) -> tuple[str, ...]:
        parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', dotted)
        return tuple(a or b or c for a, b, c in parts)

    def _blocks(self) -> list[tuple[int, str, tuple[str, ...]]]:
        """(line, bracket kind, table path) of every table header."""
        out = []
        for i, line in enumerate(self.lines, start=1):
            m = self._HEADER.match(line)
            if m:
                out.append((i, m.group(1), self._split(m.group(2))))
        return out

    def _key_after(self, start: int, key: str) -> int | None:
        """The line of `key = ...` in the block that starts after line `start` (0: top)."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for j in range(start, len(self.lines)):
            if self._HEADER.match(self.lines[j]):
                return None
            if pattern.match(self.lines[j]):
                return j + 1
        return None

    def find(self, path: tuple[str | int, ...]) -> int | None:
        names: list[str] = []
        for n, part in enumerate(path):
            if isinstance(part, int):
                headers = [i for i, kind, p in self._blocks() if kind == "[[" and list(p) == names]
                if part < len(headers):
                    rest = path[n + 1:]
                    if rest and isinstance(rest[0], str):
                        return self._key_after(headers[part], rest[0]) or headers[part]
                    return headers[part]
                break
            names.append(part)
        blocks = self._blocks()
        for cut in range(len(names) - 1, -1, -1):
            table, key = tuple(names[:cut]), names[cut]
            starts = [i for i, _, p in blocks if p == table] if table else [0]
            for start in starts:
                found = self._key_after(start, key)
                if found:
                    return found
        for i, _, p in blocks:
            if p[: len(names)] == tuple(names):
                return i
        return None


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


class FieldChecker:
    """Checks of single values; `fail` makes the error for a key path."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text  # read by a Locator only for an error

    def fail(self, key: tuple[str | int, ...], message: str, fix: str) -> ConfigError:
        return ConfigError(
            self.path, message, line=Locator(self.text).find(key) if key else None,
            key=dotted(key) or None, fix=fix,
        )

    def table(self, value: object, key: tuple[str | int, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {type_name(value)}",
                            f"write it as [{dotted(key)}]")
        return value

    def check_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...] | frozenset[str],
                   key: tuple[str | int, ...]) -> None:
        for name in data:
            if name not in allowed:
                hint = did_you_mean(name, allowed)
                raise self.fail(
                    (*key, name), "unknown key",
                    hint or f"remove it; allowed keys: {', '.join(sorted(allowed))}",
                )

    def one_of(self, value: str, choices: Collection[str], key: tuple[str | int, ...],
               message: str, fix: str = "") -> None:
        """A ConfigError unless `value` is one of `choices`; the fix is a did-you-mean, else
        `fix`, else the list of choices."""
        if value not in choices:
            raise self.fail(key, message, did_you_mean(value, choices) or fix
                            or f"use one of: {', '.join(choices)}")

    def required(self, data: Mapping[str, Any], name: str, key: tuple[str | int, ...]) -> Any:
        if name not in data:
            raise self.fail(key, f"missing required key {name!r}", f"add {name} = ...")
        return data[name]

    def string(self, value: object, key: tuple[str | int, ...], example: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type_name(value)}",
                            f"write {key[-1]} = {example}")
        return value

    def strings(self, value: object, key: tuple[str | int, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected an array of strings, got {type_name(value)}",
                            f'write {key[-1]} = ["..."]')
        return tuple(value)

    def boolean(self, value: object, key: tuple[str | int, ...]) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {type_name(value)}",
                            f"write {key[-1]} = true")
        return value

    def regex(self, value: object, key: tuple[str | int, ...], *, version_group: bool
              ) -> re.Pattern[str]:
        text = self.string(value, key, "'(?P<version>[0-9.]+)'")
        try:
            compiled = re.compile(text)
        except re.error as exc:
            raise self.fail(key, f"regular expression does not compile: {exc}",
                            "fix the pattern (TOML literal strings '...' avoid escaping)"
                            ) from None
        if version_group and "version" not in compiled.groupindex:
            raise self.fail(key, "pattern lacks the named group 'version'",
                            "capture the version as (?P<version>...)")
        return compiled

    def sha256(self, value: object, key: tuple[str | int, ...]) -> str | None:
        text = self.string(value, key, '"<64 hex digits>"')
        if text == "":
            return None
        if not is_sha256(text):
            raise self.fail(key, "sha256 is not 64 lowercase hex digits",
                            "run `release-bot pin COMPONENT` to record the right one")
        return text
