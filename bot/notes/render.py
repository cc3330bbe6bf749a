"""Render release notes with jinja2. Strings from upstreams are escaped for Markdown and HTML."""

from __future__ import annotations

import re
from urllib.parse import quote

import jinja2

from bot.notes.model import ReleaseNotes

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
OUTPUT_CHARS = 120  # of a smoke check's output excerpt, in the table


def md_escape(value: object) -> str:
    """Text that renders as itself in GitHub Markdown: no markup, links, HTML, mentions,
    issue references or line breaks."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # GitHub links mentions and issue references in the decoded text, so an entity alone
    # is not enough: a zero-width space after `@` and `#` breaks them (as Renovate does).
    text = text.replace('"', "&quot;").replace("#", "&#35;&#8203;").replace("@", "&#64;&#8203;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # no autolinks either: break `scheme://` and `www.` apart with Markdown escapes
    return text.replace("://", ":\\/\\/").replace("www.", "www\\.")


def md_code(value: object) -> str:
    """Text inside an inline code span (checksums, ids): nothing can close the span or a
    table cell."""
    text = " ".join(str(value).split()).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def md_link(url: object, label: object = None) -> str:
    """A download link; anything that is not an http(s) URL is shown as code, not linked."""
    text = str(url)
    if not re.match(r"https?://", text):
        return md_code(text)
    safe = quote(text, safe=":/?#@!$&'*+,;=%")  # ( ) | [ ] too: they would end the link
    return f"[{md_escape(label if label is not None else text.rsplit('/', 1)[-1])}]({safe})"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=False,  # noqa: S701 - Markdown output; every value goes through md/code
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["code"] = md_code
    env.filters["size"] = human_size
    env.filters["link"] = md_link
    return env


def render_notes(notes: ReleaseNotes, env: jinja2.Environment | None = None) -> str:
    template = (env or make_environment()).get_template("release_notes.md.j2")
    stacks = sorted({a.stack for a in notes.artifacts} | {s.stack for s in notes.smoke})
    return template.render(notes=notes, stacks=stacks, excerpt_chars=OUTPUT_CHARS)
