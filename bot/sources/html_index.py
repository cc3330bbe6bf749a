"""`html-index`: versions from the `<a href>` links of a download page.

Works with autoindexes (WineHQ) and static pages (the legacy mono-project.com index).
Links are resolved against the index URL; only files in the index's own folder count, plus
files in the sub-folders listed in `folders` (`preview/`, `nightly/` are otherwise ignored).
Links elsewhere (parents, other hosts, sort links) are not candidates. The pattern is
matched against the file name, or against the path relative to the index for `folders`
(whose own index pages, `<index folder>/<folder>/`, are read too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape
from urllib.parse import unquote, urljoin, urlsplit

from bot.config import Upstream
from bot.errors import ConfigError
from bot.sources.base import FILTER_KEYS, Candidate, SourceDeps

# What an HTML parser would skip: comments, and the raw text of scripts and styles.
_SKIPPED = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# `<a ... href=...>`: the value double-quoted, single-quoted or bare, as HTML allows.
_ANCHOR_HREF = re.compile(
    r"""<a\s(?:[^>"']|"[^"]*"|'[^']*')*?(?<=[\s"'])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""",
    re.IGNORECASE)
# A link that is a plain file name: resolved by appending it to the page's folder.
_FILE_NAME = re.compile(r"[^:/?#\\]+")


def links(html: str) -> list[str]:
    """The `href` of every `<a>` element, entities decoded, outside comments and scripts.

    A scan with regular expressions: a page is read on every poll, and html.parser costs
    ten times as much for the same links."""
    text = _SKIPPED.sub("", html) if "<!--" in html or "<s" in html or "<S" in html else html
    found = []
    for match in _ANCHOR_HREF.finditer(text):
        value = match.group(1) if match.group(1) is not None else (
            match.group(2) if match.group(2) is not None else match.group(3))
        value = unescape(value).strip() if "&" in value else value.strip()
        if value:
            found.append(value)
    return found


def _below_folder(rel: str) -> str | None:
    """`rel` (a decoded path below the index's folder) when it names a file there."""
    parts = rel.split("/")
    if rel.endswith("/") or ".." in parts or "" in parts:
        return None
    return rel


def relative_path(index_url: str, link_url: str) -> str | None:
    """`link_url`'s path below the index's folder, or None when it is not below it."""
    index, link = urlsplit(index_url), urlsplit(link_url)
    if (link.scheme, link.netloc) != (index.scheme, index.netloc) or link.query:
        return None
    folder = index.path[: index.path.rfind("/") + 1]
    path = unquote(link.path)
    if not path.startswith(folder) or len(path) == len(folder):
        return None
    return _below_folder(path[len(folder):])


def files_on(deps: SourceDeps, index_url: str, page: str) -> list[tuple[str, str]]:
    """(path relative to the index's folder, absolute URL) of the page's links to files in
    the index's folder or below it. A plain file name on a page without query is resolved
    by concatenation, which is what `urljoin` would give (it is most links of an index)."""
    prefix = page[: page.rfind("/") + 1] if "?" not in page and "#" not in page else None
    folder = index_url[: index_url.rfind("/") + 1]
    rel_prefix = unquote(prefix[len(folder):]) if prefix and prefix.startswith(folder) else None
    found = []
    for href in links(deps.http.get_text(page)):
        if (prefix is not None and rel_prefix is not None and href not in (".", "..")
                and _FILE_NAME.fullmatch(href)):
            absolute, rel = prefix + href, _below_folder(rel_prefix + unquote(href))
        else:
            absolute = urljoin(page, href)
            rel = relative_path(index_url, absolute)
        if rel is not None:
            found.append((rel, absolute))
    return found


class HtmlIndexSource:
    keys = FILTER_KEYS | {"url", "folders"}
    required = frozenset({"url", "pattern"})

    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        if upstream.url is None:
            raise ConfigError(deps.config_path, "html-index upstream without url",
                              fix="add url = \"https://...\"")
        index_url = upstream.url
        folders = {f.strip("/") for f in upstream.folders}
        folder_of_index = urljoin(index_url, ".")
        pages = [index_url, *(urljoin(folder_of_index, f + "/") for f in sorted(folders))]
        found: list[Candidate] = []
        for rel, absolute in [file for page in pages for file in files_on(deps, index_url, page)]:
            folder, _, name = rel.rpartition("/")
            if folder and folder not in folders:
                continue
            subject = rel if folder else name
            if upstream.pattern.search(subject) is None:
                continue  # another file of the index (checksums, readmes), not a release
            found.append(Candidate(name=subject, url=index_url, tarball_url=absolute))
        return found
