"""The PR text: title, jinja2 body and the hidden machine-readable metadata.

The metadata is an HTML comment at the end of the body,
`<!-- release-bot: {"component": "mono", "from": "6.14.0", "version": "6.14.1", ...} -->`.
It is how a later run knows what an open PR proposes (nothing new: no writes) and what a
person refused (a closed, unmerged PR: that version and older are never proposed again).
Upstream strings reach the body only through the Markdown-escaping filters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import jinja2

from bot.files import is_sha256
from bot.versions import InvalidVersion, UpdateType, Version

TEMPLATE = "pr_body.md.j2"
_METADATA_RE = re.compile(r"<!--\s*release-bot:\s*(\{.*?\})\s*-->", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Metadata:
    component: str
    old: Version
    version: Version
    sha256: str

    def comment(self) -> str:
        data = {"component": self.component, "from": self.old.text,
                "version": self.version.text, "sha256": self.sha256}
        text = json.dumps(data, sort_keys=True, ensure_ascii=True)
        # nothing inside may close the comment or open markup
        for char, escape in (("-", "\\u002d"), ("<", "\\u003c"), (">", "\\u003e")):
            text = text.replace(char, escape)
        return f"<!-- release-bot: {text} -->"


def parse_metadata(body: str | None) -> Metadata | None:
    """The metadata of a PR body, or None when there is none (or it is not ours / damaged)."""
    match = _METADATA_RE.search(body or "")
    if match is None:
        return None
    try:
        data = json.loads(match.group(1))
        if not isinstance(data, dict):
            return None
        component, sha256 = data.get("component"), data.get("sha256")
        old, version = data.get("from"), data.get("version")
        if not (isinstance(component, str) and isinstance(sha256, str) and is_sha256(sha256)
                and isinstance(old, str) and isinstance(version, str)):
            return None
        return Metadata(component, Version.parse(old), Version.parse(version), sha256)
    except (ValueError, InvalidVersion):
        return None


@dataclass(frozen=True, slots=True)
class BodyContext:
    component: str
    old: Version
    new: Version
    update_type: UpdateType
    sha256: str
    tarball_url: str
    release_url: str | None
    tag: str | None
    path: str  # versions.toml, as a path in the repository


def title(component: str, old: Version, new: Version) -> str:
    return f"Bump {component} from {old} to {new}"


def render_body(env: jinja2.Environment, ctx: BodyContext) -> str:
    meta = Metadata(ctx.component, ctx.old, ctx.new, ctx.sha256)
    text = env.get_template(TEMPLATE).render(c=ctx, metadata=meta.comment())
    return text.rstrip("\n") + "\n"
