"""Version model for Mono's 3- and 4-part versions and XSP's.

A version is 1 to 6 dot-separated runs of ASCII digits, at most 40 characters. Anything else
(shell metacharacters, slashes, whitespace, newlines, non-ASCII digits) is rejected, so a
version can safely reach a branch name, a file name, a shell or a PR text.

Ordering is numeric part by part; a shorter version that is a prefix of a longer one sorts
first (4.7 < 4.7.1). Equality is textual: 6.12.0 and 6.12.0.0 are different versions (the
"changed?" question), ordered by their text when numerically equal so the order stays total.

Update types use semver on the first three parts. A change only in the 4th (or later) part,
Mono's build counter (6.12.0.199 -> 6.12.0.206), counts as a **patch** update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

import semver

MAX_PARTS = 6
MAX_LENGTH = 40

UpdateType = Literal["major", "minor", "patch", "none", "downgrade"]


class InvalidVersion(ValueError):
    """Raised for text that is not a version."""


@total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class Version:
    text: str
    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Version:
        if not isinstance(text, str):
            raise InvalidVersion(f"version must be a string, got {type(text).__name__}")
        if len(text) > MAX_LENGTH:
            raise InvalidVersion(f"version is longer than {MAX_LENGTH} characters")
        # str methods instead of a regex: the poll parses every tag of every upstream. An
        # ASCII string's isdigit() is true for runs of 0-9 only (not empty, no sign, no `_`,
        # no space), i.e. what int() then reads exactly.
        parts = text.split(".")
        if len(parts) > MAX_PARTS or not text.isascii():
            raise InvalidVersion(_not_a_version(text))
        for part in parts:
            if not part.isdigit():
                raise InvalidVersion(_not_a_version(text))
        return cls(text, tuple(map(int, parts)))

    def _key(self) -> tuple[tuple[int, ...], str]:
        return (self.parts, self.text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    def semver(self) -> semver.Version:
        """The first three parts as a semver version (missing parts are 0)."""
        major, minor, patch = (*self.parts[:3], 0, 0, 0)[:3]
        return semver.Version(major, minor, patch)


def _not_a_version(text: str) -> str:
    return f"{text!r} is not a version (1 to {MAX_PARTS} dot-separated ASCII numbers)"


def classify_update(old: Version, new: Version) -> UpdateType:
    """major / minor / patch by semver on the first three parts; a 4th-part change is a patch."""
    if new == old:
        return "none"
    if new < old:
        return "downgrade"
    a, b = old.semver(), new.semver()
    if b.major != a.major:
        return "major"
    if b.minor != a.minor:
        return "minor"
    return "patch"


def version_from_tag(tag: str, pattern: re.Pattern[str]) -> Version | None:
    """Turn a tag or file name into a version with a source's pattern (named group `version`).

    The pattern must match the whole tag, so `mono-6.14.2;rm -rf /` yields nothing.
    Returns None when the pattern does not match or the captured text is not a valid version;
    the caller warns and skips. The tag itself never leaves this function.
    """
    if len(tag) > 255:
        return None
    match = pattern.fullmatch(tag)
    if match is None:
        return None
    try:
        captured = match.group("version")
    except IndexError:
        return None
    if captured is None:
        return None
    try:
        return Version.parse(captured)
    except InvalidVersion:
        return None
