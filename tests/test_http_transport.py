"""The poll's fast path: libcurl exchanges (redirects, headers, proxies from Settings only),
the regex link scan of html-index pages, and the worker threads of a poll."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from bot.app import App
from bot.curl import TransportError
from bot.errors import UpstreamError
from bot.http import HttpClient, Proxies, RetryPolicy
from bot.report import RecordingReporter
from bot.settings import Settings
from bot.sources.html_index import links
from bot.workers import run_all
from tests.harness.upstream import UpstreamServer

PAGE = '<a href="mono-6.14.1.tar.xz">mono-6.14.1.tar.xz</a>'


def dead_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quick(**kwargs: object) -> HttpClient:
    return HttpClient(policy=RetryPolicy(attempts=2, base_delay=0.01, timeout=5),
                      sleep=lambda s: None, **kwargs)  # type: ignore[arg-type]


# -- libcurl exchanges -----------------------------------------------------------------------

def test_redirects_are_followed_and_the_final_headers_kept(upstream: UpstreamServer) -> None:
    upstream.add("/old/", b"moved", status=302, headers={"Location": "/new/"})
    upstream.add("/new/", PAGE, content_type="text/html; charset=utf-8")
    reply = quick().fetch("GET", upstream.url + "/old/")
    assert reply.status_code == 200
    assert reply.content == PAGE.encode()
    # case-insensitive, and from the last answer only (not the 302's)
    assert reply.headers["content-type"] == reply.headers.get("Content-Type")
    assert reply.headers.get("location") is None
    assert [r.path for r in upstream.requests] == ["/old/", "/new/"]


def test_head_probe_and_the_requests_counted(upstream: UpstreamServer) -> None:
    upstream.add("/f.tar.xz", b"x" * 4096)
    http = quick()
    assert http.exists(upstream.url + "/f.tar.xz") is True
    assert http.exists(upstream.url + "/missing.tar.xz") is False
    assert [r.method for r in upstream.requests] == ["HEAD", "HEAD"]
    assert http.stats.requests == 2


def test_connection_refused_is_retried_then_an_upstream_error() -> None:
    http = quick()
    with pytest.raises(UpstreamError) as info:
        http.get_text(f"http://127.0.0.1:{dead_port()}/page/")
    assert "after 2 attempts (ConnectionError)" in info.value.message
    assert http.stats.retries == 1


def test_a_truncated_body_is_a_transport_error(upstream: UpstreamServer) -> None:
    upstream.add("/big", b"y" * 10000)
    upstream.fault("/big", "drop", drop_after=100)
    with pytest.raises(TransportError):
        quick().exchange("GET", upstream.url + "/big", {})


def test_proxies_come_from_settings_not_from_the_environment(
        upstream: UpstreamServer, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.add("/page/", PAGE, content_type="text/html")
    # libcurl and requests would both honour these by themselves: they must not.
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{dead_port()}")
    assert quick().get_text(upstream.url + "/page/", conditional=False) == PAGE
    with quick().stream(upstream.url + "/page/") as response:
        assert response.content == PAGE.encode()


def test_a_configured_proxy_is_used_and_no_proxy_bypasses_it(upstream: UpstreamServer) -> None:
    upstream.add("/page/", PAGE, content_type="text/html")
    # the loopback server answers absolute-form requests, so it can play the proxy
    via = quick(proxies=Proxies(http=upstream.url))
    assert via.get_text("http://upstream.invalid/page/", conditional=False) == PAGE
    assert via.request("GET", "http://upstream.invalid/page/").text == PAGE
    seen = [r.path for r in upstream.requests]
    assert seen == ["http://upstream.invalid/page/"] * 2

    dead = f"http://127.0.0.1:{dead_port()}"
    bypass = quick(proxies=Proxies(http=dead, no_proxy="localhost,127.0.0.1"))
    assert bypass.get_text(upstream.url + "/page/", conditional=False) == PAGE
    assert bypass.request("GET", upstream.url + "/page/").text == PAGE
    with pytest.raises(UpstreamError):
        quick(proxies=Proxies(http=dead, no_proxy="example.org")).get_text(
            upstream.url + "/page/", conditional=False)


def test_settings_read_proxies_lower_case_first_and_the_ca_bundle() -> None:
    s = Settings.from_env({"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1",
                           "ALL_PROXY": "http://all:1", "NO_PROXY": "internal,.corp",
                           "REQUESTS_CA_BUNDLE": "/etc/corp-ca.pem"})
    assert (s.http_proxy, s.https_proxy) == ("http://lower:1", "http://all:1")
    assert s.no_proxy == "internal,.corp"
    assert s.ca_bundle == "/etc/corp-ca.pem"
    assert Settings.from_env({}).http_proxy is None
    assert "s3cret" in Settings.from_env({"https_proxy": "http://me:s3cret@proxy:3128"}).secrets
    http = App(s, RecordingReporter()).http
    assert http.proxies.for_url("http://internal/x") is None
    assert http.proxies.for_url("https://a.corp/x") is None
    assert http.proxies.for_url("https://example.org/x") == "http://all:1"


def test_an_unchanged_state_file_is_not_rewritten(upstream: UpstreamServer,
                                                  tmp_path: Path) -> None:
    upstream.add("/page/", PAGE, content_type="text/html")
    settings = Settings.from_env({"RELEASE_BOT_CACHE": str(tmp_path)})
    first = App(settings, RecordingReporter()).http
    first.get_text(upstream.url + "/page/")
    first.cache.save()
    state = tmp_path / "http-state.json"
    written = state.stat().st_mtime_ns
    time.sleep(0.01)
    second = App(settings, RecordingReporter()).http
    assert second.get_text(upstream.url + "/page/") == PAGE  # a 304, the cached body
    second.cache.save()
    assert state.stat().st_mtime_ns == written
    assert [r.headers.get("If-None-Match") is not None for r in upstream.requests] == [
        False, True]


# -- html-index link scan ----------------------------------------------------------------------

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


# -- worker threads ------------------------------------------------------------------------------

class Sleeper:
    """Tasks that sleep a little and record how many ran at once (`peak`) and which ran."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.running = self.peak = 0
        self.done: list[int] = []

    def task(self, i: int) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.done.append(i)

    def tasks(self, count: int) -> list[Callable[[], None]]:
        return [partial(self.task, i) for i in range(count)]


def test_run_all_runs_every_task_within_the_bound_and_reraises() -> None:
    sleeper = Sleeper(0.005)
    run_all(sleeper.tasks(20), 4)
    assert sorted(sleeper.done) == list(range(20))
    assert 1 < sleeper.peak <= 4

    def boom() -> None:
        raise RuntimeError("a bug in a task")

    with pytest.raises(RuntimeError, match="a bug in a task"):
        run_all([boom, lambda: None], 2)


def test_run_all_starts_few_threads_while_tasks_keep_finishing() -> None:
    sleeper = Sleeper(0.002)
    run_all(sleeper.tasks(12), 16, start=2, patience=60.0)  # no task keeps it waiting 60 s
    assert sorted(sleeper.done) == list(range(12))
    assert 1 <= sleeper.peak <= 2


def test_run_all_starts_the_rest_when_every_thread_waits_on_slow_tasks() -> None:
    # 8 tasks that can only finish together: they pass only when all 8 run at once
    barrier = threading.Barrier(8, timeout=10)
    finished: list[int] = []

    def task(i: int) -> None:
        barrier.wait()
        finished.append(i)

    run_all([partial(task, i) for i in range(8)], 8, start=2, patience=0.01)
    assert sorted(finished) == list(range(8))
