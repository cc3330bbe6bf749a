"""Polling: the source-exists condition, per-component failures, `release-bot poll`."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import UsageError
from bot.http import HttpClient, RetryPolicy
from bot.poll import PROBES, WORKERS, _share, poll_components
from bot.versions import Version
from tests.clirunner import run_cli
from tests.fakegithub import FakeGitHub
from tests.harness.upstream import UpstreamServer
from tests.recording import RecordingReporter
from tests.test_sources import (
    WINEHQ,
    make_deps,
    mono_github_tags,
    seed_github,
    serve_winehq,
    xsp_tags,
)

XSP_SOURCE = "/sources/xsp/xsp-{version}.tar.gz"


def write_config(tmp_path: Path, up: UpstreamServer, *, mono: str = "6.12.0.199",
                 xsp: str = "4.7", mono_upstreams: str = "winehq,github") -> Path:
    blocks = {
        "winehq": f"""
[[components.mono.upstream]]
type = "html-index"
url = "{up.url}{WINEHQ}"
pattern = '(?:.*/)?mono-(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})\\.tar\\.xz'
""",
        "github": """
[[components.mono.upstream]]
type = "github-tags"
repo = "mono/mono"
pattern = 'mono-(?P<version>[0-9]+(?:\\.[0-9]+){1,3})'
""",
    }
    text = f"""# poll test config (loopback upstreams)
[stacks.test]
build-image = "release-bot-test/bookworm:build"
run-image = "release-bot-test/bookworm:run"

[components.mono]
version = "{mono}"
source = "{up.url}{WINEHQ}mono-{{version}}.tar.xz"
sha256 = ""
{"".join(blocks[b] for b in mono_upstreams.split(",") if b)}
[components.xsp]
version = "{xsp}"
source = "{up.url}{XSP_SOURCE}"
sha256 = ""
requires = ["mono"]

[[components.xsp.upstream]]
type = "github-tags"
repo = "mono/xsp"
pattern = '(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})'
"""
    path = tmp_path / "versions.toml"
    path.write_text(text)
    return path


def seed_all(up: UpstreamServer, fake: FakeGitHub, winehq: tuple[str, ...] = ("6.14.0", "6.14.1")
             ) -> None:
    serve_winehq(up, winehq)
    seed_github(fake, "mono/mono", mono_github_tags())
    seed_github(fake, "mono/xsp", xsp_tags())
    up.add(XSP_SOURCE.format(version="4.7.1"), b"xsp 4.7.1\n" * 100)


def env_for(tmp_path: Path, fake: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": "test-token",
            "RELEASE_BOT_CACHE": str(tmp_path / "cache")}


def by_name(results: list) -> dict:  # type: ignore[type-arg]
    return {r.component: r for r in results}


# -- the planner ---------------------------------------------------------------------------

def test_the_newest_version_with_a_tarball_is_proposed(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    config = load_config(write_config(tmp_path, upstream))
    results = by_name(poll_components(config, make_deps(fake_github), RecordingReporter()))
    mono, xsp = results["mono"], results["xsp"]
    assert (mono.status, mono.latest) == ("update-available", Version.parse("6.14.1"))
    assert mono.release.tarball_url == config.component("mono").source_url(mono.latest)
    assert mono.release.url == f"{upstream.url}{WINEHQ}"  # the first upstream listing it
    assert (xsp.status, xsp.latest.text, xsp.release.tag) == ("update-available", "4.7.1", "4.7.1")
    assert xsp.release.url == "https://github.com/mono/xsp/releases/tag/4.7.1"


def test_the_results_do_not_depend_on_the_worker_count(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    config = load_config(write_config(tmp_path, upstream))
    polls = [poll_components(config, make_deps(fake_github), RecordingReporter(), workers=n)
             for n in (1, 2, 8)]
    assert [r.component for r in polls[0]] == ["mono", "xsp"]  # config order
    assert polls[0] == polls[1] == polls[2]
    assert polls[0][0].status == "update-available"


def test_the_pool_grows_to_every_worker_when_the_tasks_wait() -> None:
    # each task waits for all the others: they can only finish if WORKERS threads run them,
    # i.e. if the pool grew past its two fast-answer threads
    barrier = threading.Barrier(WORKERS, timeout=20)
    ran: set[str] = set()

    def task() -> None:
        ran.add(threading.current_thread().name)
        barrier.wait()

    _share([task] * WORKERS, WORKERS)
    assert len(ran) == WORKERS
    barrier.reset()
    with pytest.raises(threading.BrokenBarrierError):  # one thread too few: never all there
        _share([lambda: barrier.wait(timeout=0.5)] * WORKERS, WORKERS - 1)


def test_a_task_that_raises_fails_the_share() -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        _share([lambda: None, boom, lambda: None], WORKERS)


def test_a_tag_without_a_tarball_is_not_proposed(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    config = load_config(write_config(tmp_path, upstream, mono_upstreams="github"))
    reporter = RecordingReporter()
    mono = by_name(poll_components(config, make_deps(fake_github), reporter))["mono"]
    assert (mono.status, mono.latest, mono.release) == ("up-to-date", Version.parse("6.12.0.199"),
                                                        None)
    assert any("6.12.0.206" in w and "not proposed" in w for w in reporter.texts("warning"))
    heads = upstream.requests_for(f"{WINEHQ}mono-6.12.0.206.tar.xz", "HEAD")
    assert len(heads) == 1


def test_when_the_newest_has_no_tarball_the_next_one_is_proposed(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github, winehq=("6.14.0",))
    config = load_config(write_config(tmp_path, upstream))
    mono = by_name(poll_components(config, make_deps(fake_github), RecordingReporter()))["mono"]
    assert (mono.status, mono.latest.text) == ("update-available", "6.14.0")
    assert any("6.14.1" in w and "not proposed" in w for w in mono.warnings)


def test_tarball_probes_are_bounded(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_github(fake_github, "mono/mono", mono_github_tags())  # no tarball anywhere
    seed_github(fake_github, "mono/xsp", ["4.7"])
    config = load_config(write_config(tmp_path, upstream, mono="6.0.0.313",
                                      mono_upstreams="github"))
    mono = by_name(poll_components(config, make_deps(fake_github), RecordingReporter()))["mono"]
    assert mono.status == "up-to-date"
    assert len([w for w in mono.warnings if "not proposed" in w]) == PROBES
    assert len([r for r in upstream.requests if r.method == "HEAD"]) == PROBES


def test_one_upstream_down_is_an_error_for_its_component_only(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    upstream.fault(WINEHQ, "500", times=1000)
    config = load_config(write_config(tmp_path, upstream))
    http = HttpClient(policy=RetryPolicy(base_delay=0.01, timeout=5), pause=lambda s: None)
    results = by_name(poll_components(config, make_deps(fake_github, http=http),
                                      RecordingReporter()))
    mono, xsp = results["mono"], results["xsp"]
    assert mono.status == "error" and mono.release is None
    assert WINEHQ in mono.error and "HTTP 500" in mono.error and "\n" not in mono.error
    assert (xsp.status, xsp.latest.text) == ("update-available", "4.7.1")
    assert len(upstream.requests_for(WINEHQ)) == http.policy.attempts


def test_only_the_named_components_are_polled_and_unknown_names_are_usage_errors(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    config = load_config(write_config(tmp_path, upstream))
    results = poll_components(config, make_deps(fake_github), RecordingReporter(), ["xsp"])
    assert [r.component for r in results] == ["xsp"]
    assert upstream.requests_for(WINEHQ) == []
    with pytest.raises(UsageError, match="did you mean 'mono'"):
        poll_components(config, make_deps(fake_github), RecordingReporter(), ["mnoo"])


# -- release-bot poll ----------------------------------------------------------------------

def test_poll_json(tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    cfg = write_config(tmp_path, upstream, xsp="4.7.1")
    result = run_cli(["--config", str(cfg), "poll", "--json"], env=env_for(tmp_path, fake_github),
                     cwd=tmp_path)
    assert result.code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {"component": "mono", "current": "6.12.0.199", "latest": "6.14.1",
         "status": "update-available", "error": None},
        {"component": "xsp", "current": "4.7.1", "latest": "4.7.1", "status": "up-to-date",
         "error": None},
    ]
    assert "HTTP requests" in result.stderr and "quota spent" in result.stderr
    assert (tmp_path / "cache" / "http-cache.msgpack").is_file()


def test_poll_table(tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    cfg = write_config(tmp_path, upstream)
    result = run_cli(["--config", str(cfg), "poll"], env=env_for(tmp_path, fake_github),
                     cwd=tmp_path)
    assert result.code == 0, result.output
    assert "update-available" in result.output and "6.14.1" in result.output
    assert "skipped" in result.stderr  # xsp's odd old tag names, summed up in a warning


def test_poll_exits_3_when_an_upstream_is_down(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    upstream.fault(WINEHQ, "500", times=1000)
    cfg = write_config(tmp_path, upstream)
    result = run_cli(["--config", str(cfg), "poll", "--json"], env=env_for(tmp_path, fake_github),
                     cwd=tmp_path)
    assert result.code == 3, result.output
    rows = {r["component"]: r for r in json.loads(result.stdout)}
    assert rows["mono"]["status"] == "error" and "HTTP 500" in rows["mono"]["error"]
    assert rows["xsp"] == {"component": "xsp", "current": "4.7", "latest": "4.7.1",
                           "status": "update-available", "error": None}
    assert "could not be polled (mono)" in result.stderr


def test_a_warm_poll_with_nothing_new_costs_304s_and_no_github_quota(
        tmp_path: Path, upstream: UpstreamServer, fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    cfg = write_config(tmp_path, upstream)
    env = env_for(tmp_path, fake_github)
    cold = run_cli(["--config", str(cfg), "poll", "--json"], env=env, cwd=tmp_path)
    assert cold.code == 0, cold.output
    spent, seen = fake_github.quota_used, len(fake_github.requests)
    upstream.clear_requests()
    warm = run_cli(["--config", str(cfg), "poll", "--json"], env=env, cwd=tmp_path)
    assert warm.code == 0, warm.output
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    assert fake_github.quota_used == spent
    github_pages = fake_github.requests[seen:]
    assert github_pages and all(r.status == 304 for r in github_pages)
    index_gets = upstream.requests_for(WINEHQ, "GET")
    assert len(index_gets) == 1 and "If-None-Match" in index_gets[0].headers
    assert "quota spent 0" in warm.stderr


def test_github_5xx_then_success(tmp_path: Path, upstream: UpstreamServer,
                                 fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    fake_github.inject("GET", r"/repos/mono/xsp/tags", "500", times=1)
    cfg = write_config(tmp_path, upstream)
    result = run_cli(["--config", str(cfg), "poll", "--json", "xsp"],
                     env=env_for(tmp_path, fake_github), cwd=tmp_path)
    assert result.code == 0, result.output
    assert json.loads(result.stdout)[0]["latest"] == "4.7.1"
    assert [r.status for r in fake_github.requests_matching("GET", "/repos/mono/xsp/tags")][:2] \
        == [500, 200]


def test_a_secondary_rate_limit_is_waited_out(tmp_path: Path, upstream: UpstreamServer,
                                              fake_github: FakeGitHub) -> None:
    seed_all(upstream, fake_github)
    fake_github.inject("GET", r"/repos/mono/xsp/tags", "secondary-rate-limit", times=1,
                       seconds=1)
    cfg = write_config(tmp_path, upstream)
    result = run_cli(["--config", str(cfg), "poll", "--json", "xsp"],
                     env=env_for(tmp_path, fake_github), cwd=tmp_path)
    assert result.code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "update-available"
    statuses = [r.status for r in fake_github.requests_matching("GET", "/repos/mono/xsp/tags")]
    assert statuses[:2] == [403, 200]
