"""Sources against loopback upstreams shaped like the real ones (tests/data/upstream/)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Upstream, load_config, parse_config
from bot.errors import ConfigError, UpstreamError
from bot.http import HttpClient, RetryPolicy
from bot.sources import SOURCES, Candidate, SourceDeps, escape_name, releases
from bot.sources.filters import select
from bot.sources.github import GitHubApi, GitHubStats
from bot.sources.html_index import links
from tests.fakegithub import FakeGitHub
from tests.harness.upstream import UpstreamServer

DATA = Path(__file__).parent / "data" / "upstream"
REPO_CONFIG = Path(__file__).parents[1] / "versions.toml"
MONO_PATTERN = re.compile(r"(?:.*/)?mono-(?P<version>[0-9]+(?:\.[0-9]+){1,3})\.tar\.(?:xz|bz2)")
TAG_PATTERN = re.compile(r"mono-(?P<version>[0-9]+(?:\.[0-9]+){1,3})")
PLAIN_PATTERN = re.compile(r"(?P<version>[0-9]+(?:\.[0-9]+){1,3})")
HOSTILE = ("6.14.2;rm -rf /", "../6.14.2", "6.14.2\n", "6" + ".1" * 150, "٦.١٤.٢")
WINEHQ = "/mono/sources/mono/"
LEGACY = "/sources/mono/index.html"
GITLAB_TAGS = "/api/v4/projects/mono%2Fmono/repository/tags"


# -- fixture helpers (also used by test_poll.py) ------------------------------------------

def tarball(version: str) -> bytes:
    return f"mono-{version} source tarball stand-in\n".encode() * 64


def serve_winehq(up: UpstreamServer, tarballs: tuple[str, ...] = ("6.14.0", "6.14.1")) -> str:
    for v in tarballs:
        up.add(f"{WINEHQ}mono-{v}.tar.xz", tarball(v), content_type="application/x-xz")
    return up.add(WINEHQ, (DATA / "winehq-mono-index.html").read_text(), content_type="text/html")


def serve_legacy(up: UpstreamServer) -> str:
    page = (DATA / "mono-project-index.html").read_text().replace("HOST", up.url)
    up.add("/sources/mono/preview/", (DATA / "mono-project-preview-index.html").read_text(),
           content_type="text/html")
    return up.add(LEGACY, page, content_type="text/html")


def serve_gitlab(up: UpstreamServer) -> str:
    up.add(GITLAB_TAGS, (DATA / "gitlab-mono-tags.json").read_text(),
           content_type="application/json")
    return up.url


def xsp_tags() -> list[str]:
    lines = (DATA / "xsp-tags.tsv").read_text().splitlines()
    return [line.split("\t")[0] for line in lines if line and not line.startswith("#")]


def mono_github_tags() -> list[str]:
    lines = (DATA / "mono-github-tags.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def seed_github(fake: FakeGitHub, repo: str, tags: list[str] | tuple[str, ...]) -> None:
    owner, name = repo.split("/")
    if f"{owner}/{name}".lower() not in fake.repos:
        fake.create_repo(owner, name)
    for tag in tags:
        fake.add_tag(owner, name, tag)


def make_deps(fake: FakeGitHub | None = None, *, sleeps: list[float] | None = None,
              gitlab_token: str | None = None, http: HttpClient | None = None) -> SourceDeps:
    """Sources' dependencies: a real HttpClient (its waits recorded in `sleeps`, not slept)
    and, with `fake`, the fake GitHub's API with a token it accepts."""
    recorded = sleeps if sleeps is not None else []
    return SourceDeps(
        http=http or HttpClient(policy=RetryPolicy(base_delay=0.01, timeout=5),
                                pause=recorded.append),
        github=None if fake is None else GitHubApi(fake.url, "test-token"),
        gitlab_token=gitlab_token,
        github_stats=GitHubStats(),
    )


def versions(upstream: Upstream, deps: SourceDeps) -> list[str]:
    return [r.version.text for r in releases(upstream, deps).releases]


# -- html-index ---------------------------------------------------------------------------

def test_winehq_autoindex_gives_its_tarballs_newest_first(upstream: UpstreamServer) -> None:
    url = serve_winehq(upstream)
    sel = releases(Upstream("html-index", MONO_PATTERN, url=url), make_deps())
    assert [r.version.text for r in sel.releases] == ["6.14.1", "6.14.0"]
    newest = sel.releases[0]
    assert newest.tarball_url == f"{upstream.url}{WINEHQ}mono-6.14.1.tar.xz"
    assert newest.url == url
    assert newest.tag == "mono-6.14.1.tar.xz"
    assert sel.warnings("mono") == []  # sort links, the parent folder: not candidates


def test_legacy_index_reads_relative_and_absolute_links_and_ignores_channels(
        upstream: UpstreamServer) -> None:
    url = serve_legacy(upstream)
    found = versions(Upstream("html-index", MONO_PATTERN, url=url), make_deps())
    assert found[0] == "6.12.0.199"
    assert {"6.12.0.182", "6.12.0.107"} <= set(found)  # absolute URL and absolute path links
    assert {"5.20.1.34", "4.0.1"} <= set(found)  # .tar.bz2 of the 5.x era, 3-part versions
    assert "6.13.0.125" not in found  # preview/ is another channel
    assert "6.13.0.1700" not in found  # nightly/ too
    assert "6.12.0.206" not in found  # a tag only: no file on the index
    assert found == sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")),
                           reverse=True)
    assert [r.path for r in upstream.requests] == [LEGACY]


def test_a_configured_folder_is_read_too(upstream: UpstreamServer) -> None:
    url = serve_legacy(upstream)
    sel = releases(Upstream("html-index", MONO_PATTERN, url=url, folders=("preview",)),
                   make_deps())
    found = [r.version.text for r in sel.releases]
    assert found[0] == "6.13.0.125"
    assert "6.13.0.1700" not in found
    preview = f"{upstream.url}/sources/mono/preview/mono-6.13.0.125.tar.xz"
    assert sel.releases[0].tarball_url == preview
    assert "/sources/mono/preview/" in [r.path for r in upstream.requests]


def test_links_leaving_the_index_folder_are_not_candidates(upstream: UpstreamServer) -> None:
    page = ('<a href="../mono-7.0.0.tar.xz">up</a> <a href="http://elsewhere.invalid/'
            'mono/sources/mono/mono-7.1.0.tar.xz">other host</a> <a href="mono-6.14.1.tar.xz'
            '?download=1">query</a> <a href="mono-6.14.0.tar.xz">ok</a>')
    url = upstream.add(WINEHQ, page, content_type="text/html")
    assert versions(Upstream("html-index", MONO_PATTERN, url=url), make_deps()) == ["6.14.0"]


def test_the_patterns_in_versions_toml_work_on_realistic_fixtures(
        upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    config = load_config(REPO_CONFIG)
    winehq, legacy, gitlab = serve_winehq(upstream), serve_legacy(upstream), serve_gitlab(upstream)
    seed_github(fake_github, "mono/xsp", xsp_tags())
    loopback = {"https://dl.winehq.org/mono/sources/mono/": winehq,
                "https://download.mono-project.com/sources/mono/index.html": legacy,
                "https://gitlab.winehq.org": gitlab}
    deps = make_deps(fake_github)
    newest = {}
    for component in config.components.values():
        for u in component.upstream:
            local = replace(u, url=loopback[u.url]) if u.url else u
            newest[(component.name, u.type, u.url)] = versions(local, deps)[0]
    assert newest == {
        ("mono", "html-index", "https://dl.winehq.org/mono/sources/mono/"): "6.14.1",
        ("mono", "gitlab-tags", "https://gitlab.winehq.org"): "6.14.1",
        ("mono", "html-index", "https://download.mono-project.com/sources/mono/index.html"):
            "6.12.0.199",
        ("xsp", "github-tags", None): "4.7.1",
    }


# -- github-tags / github-releases ---------------------------------------------------------

def test_github_tags_reads_every_page_and_skips_odd_names(fake_github: FakeGitHub) -> None:
    tags = xsp_tags()
    seed_github(fake_github, "mono/xsp", [*tags, *HOSTILE])  # 99 + 5 tags: two pages
    sel = releases(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), make_deps(fake_github))
    found = [r.version.text for r in sel.releases]
    assert found[:3] == ["4.7.1", "4.7", "4.6"]
    assert found[-1] == "2.8"  # every older tag is an odd name (XSP_1_0_4, mono-2-4-2-rc1, ...)
    assert "6.14.2" not in found
    assert len(fake_github.requests_matching("GET", r"/repos/mono/xsp/tags$")) == 2
    assert sel.releases[0].url == "https://github.com/mono/xsp/releases/tag/4.7.1"
    odd = len(tags) - len(found)
    assert sel.skipped == odd and sel.unsafe == len(HOSTILE)


def test_hostile_tag_names_are_skipped_and_only_shown_escaped(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/mono", ["mono-6.14.1", *(f"mono-{h}" for h in HOSTILE)])
    sel = releases(Upstream("github-tags", TAG_PATTERN, repo="mono/mono"), make_deps(fake_github))
    assert [r.version.text for r in sel.releases] == ["6.14.1"]
    notes = sel.warnings("mono")
    assert len(notes) == len(HOSTILE)
    text = "\n".join(notes)
    assert "\n" not in "".join(notes) and "٦" not in text  # escaped, one line each
    assert "'mono-6.14.2;rm -rf /'" in text and "'mono-6.14.2\\n'" in text
    assert "mono-" + "6" + ".1" * 150 not in text  # the long name is truncated
    assert max(len(n) for n in notes) < 160


def test_mono_tags_on_github_include_the_tag_only_release(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/mono", mono_github_tags())
    found = versions(Upstream("github-tags", TAG_PATTERN, repo="mono/mono"),
                     make_deps(fake_github))
    assert found[0] == "6.12.0.206" and found[-1] == "4.0.1"


@pytest.mark.parametrize(("prereleases", "drafts", "newest"),
                         [(False, False, "4.7.1"), (True, False, "4.8.0"), (True, True, "4.9.0")])
def test_github_releases_skip_drafts_and_prereleases_unless_configured(
        fake_github: FakeGitHub, prereleases: bool, drafts: bool, newest: str) -> None:
    fake_github.create_repo("mono", "xsp")
    fake_github.add_release("mono", "xsp", "4.7.1")
    fake_github.add_release("mono", "xsp", "4.8.0", prerelease=True)
    fake_github.add_release("mono", "xsp", "4.9.0", draft=True)
    upstream = Upstream("github-releases", PLAIN_PATTERN, repo="mono/xsp",
                        prereleases=prereleases, drafts=drafts)
    sel = releases(upstream, make_deps(fake_github))
    assert sel.releases[0].version.text == newest
    assert sel.releases[-1].url is not None and "/releases/tag/4.7.1" in sel.releases[-1].url


def test_github_5xx_is_retried(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/xsp", ["4.7", "4.7.1"])
    fake_github.inject("GET", r"/repos/mono/xsp/tags", "502", times=2)
    deps = make_deps(fake_github)
    assert versions(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), deps)[0] == "4.7.1"
    assert deps.http.stats.retries == 2


def test_github_is_asked_as_its_rest_api_documents(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/xsp", ["4.7.1"])
    versions(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), make_deps(fake_github))
    [sent] = fake_github.requests_matching("GET", r"/repos/mono/xsp/tags$")
    assert sent.token == "test-token"
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert sent.query["per_page"] == ["100"]


def test_a_secondary_rate_limit_is_waited_out(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/xsp", ["4.7.1"])
    fake_github.inject("GET", r"/repos/mono/xsp/tags", "secondary-rate-limit", times=1,
                       seconds=7)
    sleeps: list[float] = []
    deps = make_deps(fake_github, sleeps=sleeps)
    assert versions(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), deps) == ["4.7.1"]
    assert sleeps == [7.0]  # Retry-After


def test_a_spent_primary_rate_limit_is_an_error_naming_the_reset(
        fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/xsp", ["4.7.1"])
    fake_github.inject("GET", r"/repos/mono/xsp/tags", "rate-limit", times=1, seconds=600)
    sleeps: list[float] = []
    with pytest.raises(UpstreamError) as info:
        releases(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"),
                 make_deps(fake_github, sleeps=sleeps))
    assert "rate limit is spent" in info.value.message and "resets in" in info.value.message
    assert "GITHUB_TOKEN" in info.value.message
    assert sleeps == []  # not waited for: the reset is minutes away


def test_github_lists_unchanged_cost_a_304_and_no_quota(fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/xsp", [*xsp_tags(), *HOSTILE])
    upstream = Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp")
    http = HttpClient()
    cold = versions(upstream, make_deps(fake_github, http=http))
    spent = fake_github.quota_used
    deps = make_deps(fake_github, http=http)
    assert versions(upstream, deps) == cold
    assert fake_github.quota_used == spent
    assert deps.github_stats is not None
    assert (deps.github_stats.requests, deps.github_stats.not_modified) == (2, 2)
    fake_github.add_tag("mono", "xsp", "4.8")
    assert versions(upstream, make_deps(fake_github, http=http))[0] == "4.8"


def test_a_missing_github_repo_is_an_upstream_error(fake_github: FakeGitHub) -> None:
    fake_github.allow_unimplemented = True
    with pytest.raises(UpstreamError, match="HTTP 404"):
        releases(Upstream("github-tags", PLAIN_PATTERN, repo="mono/nope"), make_deps(fake_github))


def test_a_github_page_that_is_not_json_is_an_upstream_error(upstream: UpstreamServer) -> None:
    # an SSO or proxy page answering 200 in place of the API: exit 3, not a traceback
    upstream.add("/repos/mono/xsp/tags", "<html>sign in</html>", content_type="text/html")
    deps = replace(make_deps(), github=GitHubApi(upstream.url))
    with pytest.raises(UpstreamError, match="unexpected answer"):
        releases(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), deps)


def test_the_github_token_goes_to_the_api_host_only(upstream: UpstreamServer) -> None:
    # a `next` link naming another host is asked of the API's own host (its path and query)
    other = upstream.url.replace("127.0.0.1", "localhost")
    upstream.add("/repos/mono/xsp/tags", '[{"name": "4.7.1"}]', content_type="application/json",
                 headers={"Link": f'<{other}/repos/mono/xsp/tags/page-2>; rel="next"'})
    upstream.add("/repos/mono/xsp/tags/page-2", '[{"name": "4.7"}]',
                 content_type="application/json")
    deps = replace(make_deps(), github=GitHubApi(upstream.url, "gh-secret"))
    assert versions(Upstream("github-tags", PLAIN_PATTERN, repo="mono/xsp"), deps) == [
        "4.7.1", "4.7"]
    assert [r.headers.get("Authorization") for r in upstream.requests] == [
        "Bearer gh-secret"] * 2
    assert "localhost" not in upstream.requests[1].headers.get("Host", "")

# -- gitlab-tags ---------------------------------------------------------------------------

def test_gitlab_tags_through_the_v4_api(upstream: UpstreamServer) -> None:
    base = serve_gitlab(upstream)
    deps = make_deps(gitlab_token="glpat-secret")
    sel = releases(Upstream("gitlab-tags", TAG_PATTERN, url=base, repo="mono/mono"), deps)
    assert [r.version.text for r in sel.releases] == ["6.14.1", "6.14.0"]
    assert sel.releases[0].url == f"{base}/mono/mono/-/tags/mono-6.14.1"
    sent = upstream.requests_for(GITLAB_TAGS)
    assert sent[0].headers.get("PRIVATE-TOKEN") == "glpat-secret"
    assert "per_page=100" in sent[0].path


def test_gitlab_tags_follow_the_next_page_and_reuse_304s(upstream: UpstreamServer) -> None:
    items = json.loads((DATA / "gitlab-mono-tags.json").read_text())
    page2 = f"{GITLAB_TAGS}/page-2"  # the loopback server routes by path, not query
    upstream.add(GITLAB_TAGS, json.dumps(items[:1]), content_type="application/json",
                 headers={"Link": f'<{upstream.url}{page2}>; rel="next"'})
    upstream.add(page2, json.dumps(items[1:]), content_type="application/json")
    upstream_cfg = Upstream("gitlab-tags", TAG_PATTERN, url=upstream.url, repo="mono/mono")
    http = HttpClient()
    assert versions(upstream_cfg, make_deps(http=http)) == ["6.14.1", "6.14.0"]
    assert versions(upstream_cfg, make_deps(http=http)) == ["6.14.1", "6.14.0"]
    assert http.stats.not_modified == 2
    assert all("If-None-Match" in r.headers for r in upstream.requests[2:])


def test_a_gitlab_project_that_is_not_json_is_an_upstream_error(upstream: UpstreamServer) -> None:
    upstream.add(GITLAB_TAGS, "<html>sign in</html>", content_type="text/html")
    with pytest.raises(UpstreamError, match="unexpected answer"):
        releases(Upstream("gitlab-tags", TAG_PATTERN, url=upstream.url, repo="mono/mono"),
                 make_deps())


def test_the_gitlab_token_never_leaves_the_gitlab_host(upstream: UpstreamServer) -> None:
    # the same loopback server under another host name stands for another host
    items = json.loads((DATA / "gitlab-mono-tags.json").read_text())
    other = upstream.url.replace("127.0.0.1", "localhost")
    upstream.add(GITLAB_TAGS, json.dumps(items[:1]), content_type="application/json",
                 headers={"Link": f'<{other}/elsewhere/page-2>; rel="next"'})
    upstream.add("/elsewhere/page-2", "", status=302,
                 headers={"Location": f"{upstream.url}/elsewhere/page-3"})
    upstream.add("/elsewhere/page-3", "", status=302,
                 headers={"Location": f"{other}/elsewhere/page-4"})
    upstream.add("/elsewhere/page-4", json.dumps(items[1:]), content_type="application/json")
    deps = make_deps(gitlab_token="glpat-secret")
    upstream_cfg = Upstream("gitlab-tags", TAG_PATTERN, url=upstream.url, repo="mono/mono")
    assert versions(upstream_cfg, deps) == ["6.14.1", "6.14.0"]
    sent = {r.path.split("?")[0]: r.headers.get("PRIVATE-TOKEN") for r in upstream.requests}
    assert sent[GITLAB_TAGS] == "glpat-secret"
    # a redirect chain that left the GitLab host carries no token, even when it comes back
    assert sent["/elsewhere/page-3"] is None
    assert sent["/elsewhere/page-2"] is None
    assert sent["/elsewhere/page-4"] is None

# -- the registry: the one list of upstream types and their keys -------------------------

def _config_with(upstream: str) -> str:
    return ('[stacks.s]\nbuild-image = "b"\nrun-image = "r"\n\n[components.mono]\n'
            'version = "6.14.1"\nsource = "https://example.test/mono-{version}.tar.xz"\n'
            f'sha256 = ""\n\n[[components.mono.upstream]]\n{upstream}\n')


VALUES = {"url": '"https://example.test/"', "repo": '"mono/mono"',
          "pattern": "'mono-(?P<version>[0-9.]+)'", "include": "'mono'", "exclude": "'rc'",
          "ignore": '["6.0"]', "folders": '["preview"]', "prereleases": "true", "drafts": "true"}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_the_loader_takes_each_sources_keys_and_no_other(kind: str) -> None:
    source = SOURCES[kind]
    lines = [f'type = "{kind}"', *(f"{k} = {VALUES[k]}" for k in sorted(source.keys))]
    [upstream] = parse_config(_config_with("\n".join(lines)), "x.toml").component(
        "mono").upstream
    assert upstream.type == kind
    for other in sorted(set(VALUES) - source.keys):
        with pytest.raises(ConfigError, match="unknown key"):
            parse_config(_config_with("\n".join([*lines, f"{other} = {VALUES[other]}"])),
                         "x.toml")
    for needed in sorted(source.required):
        with pytest.raises(ConfigError, match=f"missing required key '{needed}'"):
            parse_config(_config_with("\n".join(
                line for line in lines if not line.startswith(f"{needed} ="))), "x.toml")


def test_config_errors_of_sources_name_the_file_that_was_loaded() -> None:
    deps = replace(make_deps(), config_path="ci/other-versions.toml")
    for upstream in (Upstream("html-index", MONO_PATTERN), Upstream("github-tags", TAG_PATTERN),
                     Upstream("gitlab-tags", TAG_PATTERN), Upstream("nope", TAG_PATTERN)):
        with pytest.raises(ConfigError) as info:
            releases(upstream, deps)
        assert info.value.message.startswith("ci/other-versions.toml:"), info.value.message


# -- html-index link scan --------------------------------------------------------------------

def test_links_are_read_like_an_html_parser_reads_them() -> None:
    html = """<HTML><body>
    <!-- <a href="commented-out.tar.xz"> -->
    <script>document.write('<a href="scripted.tar.xz">')</script>
    <style>a[href="styled.tar.xz"] {}</style>
    <A HREF="upper.tar.xz">x</A> <a href=bare.tar.xz>y</a>
    <a class='q' title="a > b" href = 'single.tar.xz'>z</a>
    <a data-href="not-this" href="a&amp;b.tar.xz">&amp;</a>
    <a name="anchor">no href</a><a href="">empty</a><a href="  padded.tar.xz ">p</a>
    <abbr href="not-a-link.tar.xz">abbr</abbr>
    <a
      href="next-line.tar.xz">n</a>
    </body></HTML>"""
    assert links(html) == ["upper.tar.xz", "bare.tar.xz", "single.tar.xz", "a&b.tar.xz",
                           "padded.tar.xz", "next-line.tar.xz"]


# -- filters -------------------------------------------------------------------------------

def _names(*names: str) -> list[Candidate]:
    return [Candidate(name=n) for n in names]


def test_include_exclude_and_ignore() -> None:
    names = _names("mono-6.14.1", "mono-6.14.0", "mono-6.13.0", "mono-6.12.0.206", "mono-5.20.1")
    base = Upstream("github-tags", TAG_PATTERN)
    got = select(replace(base, include=re.compile(r"^mono-6\."),
                         exclude=re.compile(r"^mono-6\.13\."), ignore=("6.14.1",)), names)
    assert [r.version.text for r in got.releases] == ["6.14.0", "6.12.0.206"]
    assert got.skipped == 0  # filtered out on purpose: no warning


def test_duplicate_versions_keep_the_first_listing() -> None:
    got = select(Upstream("html-index", MONO_PATTERN),
                 [Candidate("mono-6.14.1.tar.xz", tarball_url="a"),
                  Candidate("mono-6.14.1.tar.bz2", tarball_url="b")])
    assert [(r.version.text, r.tarball_url) for r in got.releases] == [("6.14.1", "a")]


def test_escape_name_is_ascii_one_line_and_truncated() -> None:
    assert escape_name("6.14.2\n") == "'6.14.2\\n'"
    assert escape_name("٦") == "'\\u0666'"
    long = escape_name("x" * 300)
    assert long.endswith("...(+260 chars)") and len(long) < 70
