"""`release-bot notes` and `release-bot release` through the real CLI.

Artifacts in the builder's shape (tests/builtartifacts.py) are published to a `file://` store
with `release-bot publish`; the notes must list what the store's index.json says a buildpack
downloads. Hostile upstream strings are rendered with a CommonMark parser (markdown-it-py,
raw HTML on, as GitHub allows some) to check that nothing but our own markup comes out.
The release goes to the fake GitHub through the real PyGithub.
"""

from __future__ import annotations

import json
import re
import socket
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from markdown_it import MarkdownIt

from tests.builtartifacts import Built, index_entries, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.fakegithub.server import FakeGitHub

HOSTILE = "[x](http://evil) <img src=x onerror=alert(1)> @someone #1"
# versions.toml refuses whitespace in URLs; the same attack without it
HOSTILE_LINK = "https://example.org/releases/[x](http://evil)<img/src=x/onerror=alert(1)>@someone#1"
STACK = "heroku-24"

CONFIG = """
[stacks.heroku-24]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[components.mono]
version = "6.14.1"
source = "https://dl.winehq.org/mono/sources/mono/mono-{{version}}.tar.xz"
sha256 = "3024c97c0bc8cbcd611c401d5f994528704108ceb31f31b28dea4783004d0820"

[[components.mono.upstream]]
type = "html-index"
url = "{mono_url}"
pattern = 'mono-(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})\\.tar\\.xz'

[components.xsp]
version = "4.7.1"
source = "https://github.com/mono/xsp/archive/refs/tags/{{version}}.tar.gz"
sha256 = ""
requires = ["mono"]

[[components.xsp.upstream]]
type = "github-tags"
repo = "mono/xsp"
pattern = '(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})'
"""


class Project:
    """A repository checkout in tmp_path: versions.toml, built artifacts, a file:// store."""

    def __init__(self, root: Path, mono_url: str = "https://dl.winehq.org/mono/sources/mono/"
                 ) -> None:
        self.root = root
        (root / "versions.toml").write_text(CONFIG.format(mono_url=mono_url))
        self.artifacts = root / "dist" / "artifacts"
        self.store = root / "dist" / "store"
        self.built: dict[str, Built] = {}

    def build(self, component: str, version: str, size: int) -> Built:
        self.built[component] = make_artifact(self.artifacts, component, version, STACK,
                                              size=size)
        return self.built[component]

    def cli(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        return run_cli(list(args), env=env or {}, cwd=self.root)

    def publish(self) -> None:
        result = self.cli("publish", str(self.artifacts), "--store", f"file://{self.store}")
        assert result.code == 0, result.output

    def index(self) -> dict[tuple[str, str, str], dict[str, object]]:
        return index_entries((self.store / "index.json").read_bytes())

    def smoke_file(self, results: list[dict[str, object]]) -> Path:
        path = self.root / "smoke.json"
        path.write_text(json.dumps(results))
        return path


def smoke_result(name: str, passed: bool, *, seconds: float = 1.25, status: int | None = None,
                 detail: str = "exit 0", output: str = "Hello World") -> dict[str, object]:
    """One object as `release-bot smoke --json` prints it."""
    return {"name": name, "passed": passed, "seconds": seconds, "http_status": status,
            "latency_ms": None if status is None else 12.0, "output_excerpt": output,
            "detail": detail}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.build("mono", "6.14.1", 5000)
    p.build("xsp", "4.7.1", 3000)
    p.publish()
    return p


class _Html(HTMLParser):
    """Tags, link targets and text of rendered Markdown."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def rendered(markdown: str) -> _Html:
    parser = _Html()
    parser.feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))
    return parser


def test_notes_list_what_the_store_publishes(project: Project) -> None:
    smoke = project.smoke_file([
        smoke_result("console", True),
        smoke_result("web", True, status=200, detail="GET /: 200 with marker",
                     output="Hello from Mono on port 5000"),
        smoke_result("xsp", False, seconds=60.0, detail="no HTTP answer within 60s",
                     output="xsp4 crashed"),
    ])
    result = project.cli("notes", "--artifacts", str(project.artifacts), "--store",
                         f"file://{project.store}", "--smoke-results", str(smoke))
    assert result.code == 0, result.output
    body = result.stdout
    index = project.index()
    for component, version in (("mono", "6.14.1"), ("xsp", "4.7.1")):
        entry = index[(component, version, STACK)]
        built = project.built[component]
        assert entry["sha256"] == built.sha256
        row = next(line for line in body.splitlines()
                   if line.startswith(f"| {component} | {version} |"))
        assert str(entry["url"]) in row  # what a buildpack downloads
        assert f"`{built.sha256}`" in row
        assert f"{built.size / 1024:.1f} KiB" in row
    assert "## mono 6.14.1, xsp 4.7.1" in body
    rows = {line.split(" | ")[2]: line for line in body.splitlines()
            if line.startswith(f"| {STACK} | ")}
    assert "✅ passed" in rows["console"] and "1.2 s" in rows["console"]
    assert "✅ passed" in rows["web"] and "HTTP 200" in rows["web"]
    assert "❌ failed" in rows["xsp"] and "60.0 s" in rows["xsp"]
    assert "no HTTP answer within 60s" in rows["xsp"] and "xsp4 crashed" in rows["xsp"]
    assert "https://github.com/mono/xsp/releases" in body  # upstream link
    assert "`sha256:" + "1" * 64 + "`" in body  # builder image id from the manifest
    assert "built against mono 6.14.1" not in body  # these manifests name no dependency


def test_notes_default_to_the_store_and_write_a_file(project: Project) -> None:
    out = project.root / "notes" / "release.md"
    from_store = project.cli("notes", "--store", f"file://{project.store}", "--output",
                             str(out))
    assert from_store.code == 0, from_store.output
    assert from_store.stdout == ""
    from_dir = project.cli("notes", "--artifacts", str(project.artifacts), "--store",
                           f"file://{project.store}")
    assert out.read_text() == from_dir.stdout
    assert "No smoke tests ran." in from_dir.stdout


def test_notes_mark_unpublished_artifacts(project: Project) -> None:
    project.build("mono", "6.14.2", 100)  # built, never published
    result = project.cli("notes", "--artifacts", str(project.artifacts), "--store",
                         f"file://{project.store}")
    assert result.code == 0, result.output
    row = next(line for line in result.stdout.splitlines()
               if line.startswith("| mono | 6.14.2 |"))
    assert "`not published`" in row
    assert "mono-6.14.2-heroku-24.tar.gz is not in the store's index" in result.stderr


def test_hostile_upstream_strings_cannot_inject_markup(tmp_path: Path) -> None:
    project = Project(tmp_path, mono_url=HOSTILE_LINK)
    built = project.build("mono", "6.14.1", 100)
    manifest = json.loads(built.manifest.read_text())
    manifest["source"]["url"] = HOSTILE  # what the build recorded from upstream
    built.manifest.write_text(json.dumps(manifest))
    project.publish()
    smoke = project.smoke_file([smoke_result(HOSTILE, False, detail=HOSTILE, output=HOSTILE)])
    result = project.cli("notes", "--smoke-results", str(smoke), "--store",
                         f"file://{project.store}")
    assert result.code == 0, result.output
    html = rendered(result.stdout)
    assert "img" not in html.tags
    assert set(html.tags) <= {"h2", "h3", "h4", "ul", "li", "strong", "code", "a", "p",
                              "table", "thead", "tbody", "tr", "th", "td", "sub"}
    # the only link is the upstream page, still pointing at example.org
    assert len(html.hrefs) == 1
    target = urlsplit(html.hrefs[0])
    assert (target.scheme, target.netloc) == ("https", "example.org")
    assert "<" not in html.hrefs[0] and ">" not in html.hrefs[0]
    text = "".join(html.text)
    # GitHub links @name and #number in the rendered text (outside code): none may survive
    prose = re.sub(r"`[^`]*`", "", result.stdout)
    prose_text = "".join(rendered(prose).text)
    assert not re.search(r"(?<![\w])@someone", prose_text)
    assert not re.search(r"#1\b", prose_text)
    # the hostile text is shown as text (smoke name, detail, output; the source URL in
    # code), so a reader sees what upstream sent
    assert text.count("[x](http://evil) <img src=x onerror=alert(1)> @\u200bsomeone "
                      "#\u200b1") == 3
    assert f"source {HOSTILE}" in text


def test_smoke_results_file_must_be_results(project: Project) -> None:
    bad = project.root / "smoke.json"
    bad.write_text('{"name": "console"}')
    result = project.cli("notes", "--smoke-results", str(bad), "--store",
                         f"file://{project.store}")
    assert result.code == 2
    assert "is not a list of smoke results" in result.stderr


def test_smoke_results_of_several_stacks_are_merged(project: Project) -> None:
    """One file per stack and architecture (the build workflow's jobs), each result with its
    stack (and arch, but for amd64)."""
    files = []
    for stack, arch, passed in (("heroku-22", None, False), ("heroku-24", None, True),
                                ("heroku-24", "arm64", True)):
        path = project.root / f"{stack}-{arch}.json"
        where = {"stack": stack, **({"arch": arch} if arch else {})}
        path.write_text(json.dumps([{**where, **smoke_result("console", passed)},
                                    {**where, **smoke_result("web", True, status=200,
                                                             detail="GET /")}]))
        files += ["--smoke-results", str(path)]
    result = project.cli("notes", "--store", f"file://{project.store}", *files)
    assert result.code == 0, result.output
    rows = [line for line in result.stdout.splitlines()
            if line.startswith("| heroku-2") and ("passed" in line or "failed" in line)]
    assert [row.split(" | ")[:4] for row in rows] == [
        ["| heroku-22", "amd64", "console", "❌ failed"],
        ["| heroku-22", "amd64", "web", "✅ passed"],
        ["| heroku-24", "amd64", "console", "✅ passed"],
        ["| heroku-24", "amd64", "web", "✅ passed"],
        ["| heroku-24", "arm64", "console", "✅ passed"],
        ["| heroku-24", "arm64", "web", "✅ passed"]]
    bad = project.root / "bad-arch.json"
    bad.write_text(json.dumps([{"stack": "heroku-24", "arch": "arm46",
                                **smoke_result("console", True)}]))
    refused = project.cli("notes", "--store", f"file://{project.store}", "--smoke-results",
                          str(bad))
    assert refused.code == 2 and "has arch 'arm46', not one of amd64, arm64" in refused.stderr

    # results without a stack take the artifacts' only stack; the same file twice is refused
    plain = project.smoke_file([smoke_result("console", True)])
    one = project.cli("notes", "--store", f"file://{project.store}", "--smoke-results",
                      str(plain))
    assert "| heroku-24 | amd64 | console | ✅ passed |" in one.stdout
    twice = project.cli("notes", "--store", f"file://{project.store}", "--smoke-results",
                        str(plain), "--smoke-results", str(plain))
    assert twice.code == 2
    assert "'console' on stack heroku-24 is in both" in twice.stderr


# -- release ------------------------------------------------------------------------------
def release(project: Project, fake: FakeGitHub, smoke: Path) -> CliResult:
    return project.cli("release", "--artifacts", str(project.artifacts), "--store",
                       f"file://{project.store}", "--smoke-results", str(smoke),
                       env={"GITHUB_TOKEN": "test-token", "GITHUB_API_URL": fake.url,
                            "GITHUB_REPOSITORY": "acme/buildpack"})


def test_release_is_created_then_updated_in_place(project: Project, fake_github: FakeGitHub
                                                  ) -> None:
    fake_github.create_repo("acme", "buildpack", files={"README.md": b"buildpack\n"})
    first = release(project, fake_github, project.smoke_file([smoke_result("console", False)]))
    assert first.code == 0, first.output
    (release_one,) = fake_github.releases("acme", "buildpack")
    assert release_one["tag_name"] == "mono-6.14.1+xsp-4.7.1"
    assert re.fullmatch(r"https://\S+/acme/buildpack/releases/tag/mono-6\.14\.1(\+|%2B)"
                        r"xsp-4\.7\.1\n", first.stdout)
    assert "❌ failed" in release_one["body"]
    manifests = {p.name: p.read_bytes() for p in project.artifacts.glob("*.json")}
    assert release_one["assets"] == manifests

    uploads = len(fake_github.requests_matching("POST", r"/releases/\d+/assets"))
    second = release(project, fake_github, project.smoke_file([smoke_result("console", True)]))
    assert second.code == 0, second.output
    (release_two,) = fake_github.releases("acme", "buildpack")
    assert release_two["id"] == release_one["id"]
    assert second.stdout == first.stdout
    assert "✅ passed" in release_two["body"] and "❌ failed" not in release_two["body"]
    assert release_two["assets"] == manifests
    # unchanged manifests are not uploaded again
    assert len(fake_github.requests_matching("POST", r"/releases/\d+/assets")) == uploads

    rebuilt = project.build("xsp", "4.7.1", 3000)  # other bytes, same manifest name
    third = project.cli("publish", str(project.artifacts), "--store",
                        f"file://{project.store}", "--force")
    assert third.code == 0, third.output
    assert release(project, fake_github, project.smoke_file([])).code == 0
    (release_three,) = fake_github.releases("acme", "buildpack")
    assert release_three["assets"][rebuilt.manifest.name] == rebuilt.manifest.read_bytes()
    assert sorted(release_three["assets"]) == sorted(manifests)
    assert rebuilt.sha256 in release_three["body"]


def test_release_needs_the_repository(project: Project) -> None:
    result = project.cli("release", "--store", f"file://{project.store}",
                         env={"GITHUB_TOKEN": "test-token"})
    assert result.code == 2
    assert "GITHUB_REPOSITORY" in result.stderr


def test_release_with_github_unreachable_is_a_github_error(project: Project) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = project.cli("release", "--artifacts", str(project.artifacts), "--store",
                         f"file://{project.store}",
                         env={"GITHUB_TOKEN": "test-token", "GITHUB_REPOSITORY": "acme/buildpack",
                              "GITHUB_API_URL": f"http://127.0.0.1:{port}"})
    assert result.code == 7, result.output
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "could not be reached" in error
    assert "test-token" not in result.output
