"""bot.http, the one HTTP client, against the loopback upstream server: urllib3's retries
(5xx, 429 and Retry-After, resets, refused connections), redirects, HEAD probes, proxies from
Settings only, and the conditional requests (304 reuse, persisted across clients, never a
credential stored, never served without revalidation, streams never stored)."""

from __future__ import annotations

import base64
import gzip
import socket
from pathlib import Path

import msgpack  # type: ignore[import-untyped]
import pytest

from bot.app import App
from bot.errors import UpstreamError
from bot.http import HttpClient, Proxies, RetryPolicy
from bot.http_cache import StateCache
from bot.settings import Settings
from tests.harness.upstream import UpstreamServer
from tests.recording import RecordingReporter

PAGE = "/sources/mono/"
HTML = '<html><a href="mono-6.14.1.tar.xz">mono-6.14.1.tar.xz</a></html>'
TARBALL = "/sources/mono/mono-6.14.1.tar.xz"


def dead_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(waits: list[float] | None = None, *, attempts: int = 4,
           cache: StateCache | None = None, proxies: Proxies | None = None) -> HttpClient:
    """A real HttpClient whose waits between attempts are recorded instead of slept."""
    return HttpClient(policy=RetryPolicy(attempts=attempts, base_delay=0.5, timeout=10),
                      cache=cache, proxies=proxies,
                      pause=(lambda s: None) if waits is None else waits.append)


# -- retries (urllib3's Retry on the adapters) --------------------------------------------

def test_5xx_is_retried_with_a_bounded_backoff(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, HTML, content_type="text/html")
    upstream.fault(PAGE, "500", times=2)
    waits: list[float] = []
    http = client(waits)
    assert http.get_text(upstream.url + PAGE) == HTML
    assert len(upstream.requests_for(PAGE)) == 3
    assert (http.stats.requests, http.stats.retries) == (3, 2)
    assert all(0 < w <= http.policy.max_delay for w in waits)


def test_429_waits_what_retry_after_says(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, HTML)
    upstream.fault(PAGE, "429", times=1)  # answers Retry-After: 1
    waits: list[float] = []
    assert client(waits).get_text(upstream.url + PAGE) == HTML
    assert waits == [1.0]
    assert len(upstream.requests_for(PAGE)) == 2


def test_a_persistent_503_gives_up_with_one_line_error(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, "busy", status=503, headers={"Retry-After": "7"})
    waits: list[float] = []
    with pytest.raises(UpstreamError) as info:
        client(waits, attempts=3).get_text(upstream.url + PAGE)
    assert waits == [7.0, 7.0]  # no wait after the last attempt
    assert len(upstream.requests_for(PAGE)) == 3
    message = info.value.message
    assert upstream.url + PAGE in message and "after 3 attempts (HTTP 503)" in message
    assert "\n" not in message and info.value.exit_code == 3


def test_a_hostile_retry_after_is_capped(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, "slow down", status=429, headers={"Retry-After": "86400"})
    waits: list[float] = []
    with pytest.raises(UpstreamError):
        client(waits, attempts=2).get_text(upstream.url + PAGE)
    assert waits == [RetryPolicy().max_delay]


def test_a_404_is_final(upstream: UpstreamServer) -> None:
    waits: list[float] = []
    with pytest.raises(UpstreamError) as info:
        client(waits).get_text(upstream.url + "/nope")
    assert waits == []
    assert len(upstream.requests_for("/nope")) == 1
    assert "HTTP 404" in info.value.message and upstream.url + "/nope" in info.value.message


def test_connection_resets_are_retried(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, HTML)
    upstream.fault(PAGE, "reset", times=2)
    http = client()
    assert http.get_text(upstream.url + PAGE) == HTML
    assert len(upstream.requests_for(PAGE)) == 3
    assert http.stats.retries == 2


def test_a_refused_connection_is_retried_then_an_upstream_error() -> None:
    http = client(attempts=2)
    with pytest.raises(UpstreamError) as info:
        http.get_text(f"http://127.0.0.1:{dead_port()}/page/")
    assert "(connection refused)" in info.value.message
    assert http.stats.retries == 1


# -- redirects, probes, proxies -------------------------------------------------------------

def test_redirects_are_followed(upstream: UpstreamServer) -> None:
    upstream.add("/old/", b"moved", status=302, headers={"Location": "/new/"})
    upstream.add("/new/", HTML, content_type="text/html; charset=utf-8")
    assert client().get_text(upstream.url + "/old/") == HTML
    assert [r.path for r in upstream.requests] == ["/old/", "/new/"]


def test_a_redirect_loop_is_one_line_error(upstream: UpstreamServer) -> None:
    upstream.add("/loop/", b"", status=302, headers={"Location": "/loop/"})
    with pytest.raises(UpstreamError) as info:
        client().get_text(upstream.url + "/loop/")
    assert "redirected more than 10 times" in info.value.message
    assert len(upstream.requests_for("/loop/")) == 11


def test_pages_are_asked_compressed_and_read_decoded(upstream: UpstreamServer) -> None:
    url = upstream.add(PAGE, gzip.compress(HTML.encode()), content_type="text/html",
                       headers={"Content-Encoding": "gzip"})
    http = client()
    assert http.get_text(url) == HTML
    assert http.get_text(url) == HTML  # the stored body (a 304) is the decoded one
    first, second = upstream.requests_for(PAGE)
    assert "gzip" in first.headers["Accept-Encoding"] and "If-None-Match" in second.headers
    assert http.stats.not_modified == 1


@pytest.mark.parametrize(("content_type", "body", "text"), [
    ("text/html; charset=ISO-8859-1", "caf\u00e9".encode("latin-1"), "caf\u00e9"),
    ('text/html; CHARSET="windows-1252"', b"\x93q\x94", "\u201cq\u201d"),
    ("text/html", "caf\u00e9".encode(), "caf\u00e9"),  # no charset: UTF-8
    ("text/html; charset=no-such-codec", "caf\u00e9".encode(), "caf\u00e9"),
    ("text/html; charset=utf-8", b"caf\xff", "caf\ufffd"),  # undecodable: replaced
])
def test_a_page_is_decoded_by_its_content_type_charset(
        upstream: UpstreamServer, content_type: str, body: bytes, text: str) -> None:
    url = upstream.add(PAGE, body, content_type=content_type)
    assert client().get_text(url) == text


def test_exists_is_a_head_probe(upstream: UpstreamServer) -> None:
    upstream.add(TARBALL, b"x" * 4096)
    http = client()
    assert http.exists(upstream.url + TARBALL) is True
    assert http.exists(upstream.url + "/sources/mono/mono-9.9.9.tar.xz") is False
    assert [r.method for r in upstream.requests] == ["HEAD", "HEAD"]
    assert http.stats.requests == 2


def test_proxies_come_from_settings_not_from_the_environment(
        upstream: UpstreamServer, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.add(PAGE, HTML, content_type="text/html")
    # requests would honour these by itself: it must not
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{dead_port()}")
    http = client(attempts=1)
    assert http.get_text(upstream.url + PAGE) == HTML
    with http.stream(upstream.url + PAGE) as response:
        assert response.content == HTML.encode()


def test_a_configured_proxy_is_used_and_no_proxy_bypasses_it(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, HTML, content_type="text/html")
    # the loopback server answers absolute-form requests, so it can play the proxy
    via = client(proxies=Proxies(http=upstream.url))
    assert via.get_text("http://upstream.invalid" + PAGE) == HTML
    with via.stream("http://upstream.invalid" + PAGE) as response:
        assert response.content == HTML.encode()
    assert [r.path for r in upstream.requests] == ["http://upstream.invalid" + PAGE] * 2

    dead = f"http://127.0.0.1:{dead_port()}"
    bypass = client(proxies=Proxies(http=dead, no_proxy="localhost,127.0.0.1"))
    assert bypass.get_text(upstream.url + PAGE) == HTML
    with pytest.raises(UpstreamError):
        client(attempts=1, proxies=Proxies(http=dead, no_proxy="example.org")).get_text(
            upstream.url + PAGE)


def test_a_proxy_url_with_credentials_sends_them_to_the_proxy(upstream: UpstreamServer) -> None:
    upstream.add(PAGE, HTML, content_type="text/html")
    proxy = upstream.url.replace("http://", "http://me:s%3Acret@")
    assert client(proxies=Proxies(http=proxy)).get_text("http://upstream.invalid" + PAGE) == HTML
    (seen,) = upstream.requests
    assert seen.path == "http://upstream.invalid" + PAGE
    sent = {k.lower(): v for k, v in seen.headers.items()}
    assert sent["proxy-authorization"] == "Basic " + base64.b64encode(b"me:s:cret").decode()


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
    assert http.ca_bundle == "/etc/corp-ca.pem"


# -- conditional requests ------------------------------------------------------------------

def test_a_304_reuses_the_stored_body(upstream: UpstreamServer) -> None:
    url = upstream.add(PAGE, HTML, content_type="text/html")
    http = client()
    assert http.get_text(url) == HTML
    assert http.get_text(url) == HTML
    first, second = upstream.requests_for(PAGE)
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"] == upstream.resource(PAGE).etag  # type: ignore[union-attr]
    assert http.stats.not_modified == 1


def test_a_changed_page_is_read_again(upstream: UpstreamServer) -> None:
    url = upstream.add(PAGE, HTML)
    http = client()
    assert http.get_text(url) == HTML
    upstream.add(PAGE, HTML + "<a href='mono-6.14.2.tar.xz'>")
    assert http.get_text(url).endswith("mono-6.14.2.tar.xz'>")
    assert http.stats.not_modified == 0
    assert http.get_text(url).endswith("mono-6.14.2.tar.xz'>")
    assert http.stats.not_modified == 1


def test_a_long_max_age_is_still_revalidated(upstream: UpstreamServer) -> None:
    url = upstream.add(PAGE, HTML, headers={"Cache-Control": "max-age=86400"})
    http = client()
    assert http.get_text(url) == HTML
    upstream.add(PAGE, "new release", headers={"Cache-Control": "max-age=86400"})
    assert http.get_text(url) == "new release"  # asked again, not served from the cache
    assert len(upstream.requests_for(PAGE)) == 2


def test_the_cache_persists_across_clients(upstream: UpstreamServer, tmp_path: Path) -> None:
    url = upstream.add(PAGE, HTML)
    state = tmp_path / "state" / "http-cache.msgpack"
    first = client(cache=StateCache(state))
    assert first.get_text(url) == HTML
    first.cache.save()
    assert [p.name for p in state.parent.iterdir()] == [state.name]  # atomic, no temps

    second = client(cache=StateCache(state))
    assert second.get_text(url) == HTML
    assert second.stats.not_modified == 1
    assert upstream.requests_for(PAGE)[-1].headers.get("If-None-Match")


def test_an_unchanged_cache_file_is_not_rewritten(upstream: UpstreamServer,
                                                  tmp_path: Path) -> None:
    upstream.add(PAGE, HTML, content_type="text/html")
    settings = Settings.from_env({"RELEASE_BOT_CACHE": str(tmp_path)})
    first = App(settings, RecordingReporter()).http
    first.get_text(upstream.url + PAGE)
    first.close()  # saves
    state = tmp_path / "http-cache.msgpack"
    written = state.stat().st_ino  # a write renames a new file over it
    second = App(settings, RecordingReporter()).http
    assert second.get_text(upstream.url + PAGE) == HTML  # a 304, the stored body
    second.close()
    assert state.stat().st_ino == written
    assert [r.headers.get("If-None-Match") is not None for r in upstream.requests] == [
        False, True]


def test_a_damaged_cache_file_costs_only_a_full_request(upstream: UpstreamServer,
                                                        tmp_path: Path) -> None:
    url = upstream.add(PAGE, HTML)
    state = tmp_path / "http-cache.msgpack"
    state.write_bytes(b"\xc1 not msgpack")
    http = client(cache=StateCache(state))
    assert http.get_text(url) == HTML
    assert http.stats.not_modified == 0


def test_no_credential_is_stored_and_a_new_token_still_gets_a_304(
        upstream: UpstreamServer, tmp_path: Path) -> None:
    url = upstream.add("/api/tags", "[]", content_type="application/json",
                       headers={"Vary": "Authorization, Accept-Encoding"})
    state = tmp_path / "http-cache.msgpack"
    first = client(cache=StateCache(state))
    assert first.request("GET", url, headers={"Authorization": "Bearer s3cret-one"}).json() == []
    first.cache.save()
    assert b"s3cret" not in state.read_bytes()
    second = client(cache=StateCache(state))
    assert second.request("GET", url, headers={"Authorization": "Bearer s3cret-two"}).json() == []
    assert second.stats.not_modified == 1


def test_streamed_downloads_are_never_stored(upstream: UpstreamServer) -> None:
    url = upstream.add(TARBALL, b"x" * 100_000)
    http = client()
    with http.stream(url) as response:
        assert sum(len(c) for c in response.iter_content(8192)) == 100_000
    assert http.cache.get(url) is None
    with http.stream(url) as response:
        response.close()
    assert all("If-None-Match" not in r.headers for r in upstream.requests_for(TARBALL))


def test_a_304_hands_back_the_stored_headers_and_text(upstream: UpstreamServer) -> None:
    page = "<html>Añadido: 6.14.1</html>"
    url = upstream.add(PAGE, page, content_type="text/html; charset=utf-8",
                       headers={"Link": '<https://example.org/?page=2>; rel="next"'})
    http = client()
    first = http.request("GET", url)
    second = http.request("GET", url)
    assert getattr(second, "from_cache", False) and not getattr(first, "from_cache", False)
    assert (second.status_code, second.text) == (200, page)
    assert second.headers["content-type"] == "text/html; charset=utf-8"
    assert second.links["next"]["url"] == "https://example.org/?page=2"


def test_a_cache_file_of_another_format_costs_only_a_full_request(
        upstream: UpstreamServer, tmp_path: Path) -> None:
    url = upstream.add(PAGE, HTML)
    state = tmp_path / "http-cache.msgpack"
    state.write_bytes(msgpack.packb({url: b"cc=4,\x81\xa4body"}))  # an older cache's entry
    first = client(cache=StateCache(state))
    assert first.get_text(url) == HTML
    assert first.stats.not_modified == 0
    first.close()
    second = client(cache=StateCache(state))
    assert second.get_text(url) == HTML
    assert second.stats.not_modified == 1
