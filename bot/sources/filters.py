"""From raw candidates to releases: pattern, include/exclude, ignore list, drafts, prereleases.

`include` and `exclude` are searched in the raw name (tag or file name); `pattern` must match
the whole name and capture a valid version (`bot.versions.version_from_tag`); `ignore` lists
versions. A name that gives no version is skipped and reported only through `escape_name`:
repr-escaped (non-ASCII and control characters as escapes) and truncated. Plain odd names
(`XSP_1_0_4`) are summed up in one warning; names with any other character (`;`, `/`,
spaces, newlines, non-ASCII digits) get one warning each, as they may be hostile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import Upstream
from bot.sources.base import Candidate, Release
from bot.versions import version_from_tag

SHOWN_NAME_CHARS = 40
SHOWN_EXAMPLES = 3
SHOWN_UNSAFE = 10
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._+-]{1,100}", re.ASCII)
_DISPLAY_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}", re.ASCII)


def escape_name(name: str) -> str:
    """An untrusted name made safe for a one-line warning: ascii() of at most 40 chars."""
    shown = ascii(name[:SHOWN_NAME_CHARS])
    if len(name) > SHOWN_NAME_CHARS:
        shown += f"...(+{len(name) - SHOWN_NAME_CHARS} chars)"
    return shown


def display_tag(name: str, fallback: str) -> str:
    """The tag as shown in PR texts: the name's last path part when it is plain ASCII
    (letters, digits, `._+-`), else the version text."""
    base = name.rsplit("/", 1)[-1]
    return base if _DISPLAY_TAG.fullmatch(base) else fallback


@dataclass(frozen=True, slots=True)
class Selection:
    releases: tuple[Release, ...]  # newest first, one per version
    skipped: int  # plain names (letters, digits, `._+-`) that gave no valid version
    examples: tuple[str, ...]  # a few of those, escaped with `escape_name`
    unsafe: int = 0  # names with other characters (`;`, `/`, spaces, control, non-ASCII)
    unsafe_examples: tuple[str, ...] = ()  # escaped, at most SHOWN_UNSAFE

    def warnings(self, where: str) -> list[str]:
        notes = [f"{where}: skipped a name that is not a version: {name}"
                 for name in self.unsafe_examples]
        if self.unsafe > len(self.unsafe_examples):
            notes.append(f"{where}: skipped {self.unsafe - len(self.unsafe_examples)} more "
                         "names that are not versions")
        if self.skipped:
            more = self.skipped - len(self.examples)
            shown = ", ".join(self.examples) + (f" (+{more} more)" if more > 0 else "")
            notes.append(f"{where}: skipped {self.skipped} name(s) that give no version with "
                         f"the upstream's pattern: {shown}")
        return notes


def release_order(release: Release) -> tuple[tuple[int, ...], str]:
    """The sort key of `Version`'s ordering (newest last), without a Python call per pair."""
    return release.version.parts, release.version.text


def select(upstream: Upstream, candidates: Iterable[Candidate]) -> Selection:
    by_version: dict[str, Release] = {}
    plain: list[str] = []
    unsafe: list[str] = []
    # the upstream's settings read once: this loop runs for every tag of every upstream
    drafts, prereleases, ignore = upstream.drafts, upstream.prereleases, upstream.ignore
    include, exclude, pattern = upstream.include, upstream.exclude, upstream.pattern
    for c in candidates:
        name = c.name
        if (c.draft and not drafts) or (c.prerelease and not prereleases):
            continue
        if include is not None and include.search(name) is None:
            continue
        if exclude is not None and exclude.search(name) is not None:
            continue
        version = version_from_tag(name, pattern)
        if version is None:
            (plain if _PLAIN_NAME.fullmatch(name) else unsafe).append(name)
            continue
        text = version.text
        if text in by_version or text in ignore:
            continue
        by_version[text] = Release(version=version, tag=display_tag(name, text), url=c.url,
                                   tarball_url=c.tarball_url)
    releases = sorted(by_version.values(), key=release_order, reverse=True)
    return Selection(tuple(releases), len(plain),
                     tuple(escape_name(n) for n in plain[:SHOWN_EXAMPLES]),
                     len(unsafe), tuple(escape_name(n) for n in unsafe[:SHOWN_UNSAFE]))
