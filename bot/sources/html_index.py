"""`html-index`: versions from the `<a href>` links of a download page.

Works with autoindexes (WineHQ) and static pages (the legacy mono-project.com index).
Links are resolved against the index URL; only files in the index's own folder count, plus
files in the sub-folders listed in `folders` (`preview/`, `nightly/` are otherwise ignored).
Links elsewhere (parents, other hosts, sort links) are not candidates. The pattern is
matched against the file name, or against the path relative to the index for `folders`
(whose own index pages, `<index folder>/<folder>/`, are read too).
"""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from bot.config import Upstream
from bot.errors import ConfigError
from bot.sources.base import Candidate, SourceDeps


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value.strip())


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.hrefs


def relative_path(index_url: str, link_url: str) -> str | None:
    """`link_url`'s path below the index's folder, or None when it is not below it."""
    index, link = urlsplit(index_url), urlsplit(link_url)
    if (link.scheme, link.netloc) != (index.scheme, index.netloc) or link.query:
        return None
    folder = index.path[: index.path.rfind("/") + 1]
    path = unquote(link.path)
    if not path.startswith(folder) or len(path) == len(folder):
        return None
    rel = path[len(folder):]
    if rel.endswith("/") or ".." in rel.split("/") or "" in rel.split("/"):
        return None
    return rel


def links_on(deps: SourceDeps, page: str) -> list[str]:
    """The page's links, made absolute."""
    return [urljoin(page, href) for href in links(deps.http.get_text(page))]


class HtmlIndexSource:
    def candidates(self, upstream: Upstream, deps: SourceDeps) -> Sequence[Candidate]:
        if upstream.url is None:
            raise ConfigError("versions.toml", "html-index upstream without url",
                              fix="add url = \"https://...\"")
        index_url = upstream.url
        folders = {f.strip("/") for f in upstream.folders}
        folder_of_index = urljoin(index_url, ".")
        pages = [index_url, *(urljoin(folder_of_index, f + "/") for f in sorted(folders))]
        found: list[Candidate] = []
        for absolute in [link for page in pages for link in links_on(deps, page)]:
            rel = relative_path(index_url, absolute)
            if rel is None:
                continue
            folder, _, name = rel.rpartition("/")
            if folder and folder not in folders:
                continue
            subject = rel if folder else name
            if upstream.pattern.search(subject) is None:
                continue  # another file of the index (checksums, readmes), not a release
            found.append(Candidate(name=subject, url=index_url, tarball_url=absolute))
        return found
