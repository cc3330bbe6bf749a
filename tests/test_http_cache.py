"""bot.cache: verified, resumed source downloads (through bot.http) against the loopback
upstream server."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from bot.cache import SourceCache
from bot.errors import ChecksumMismatchError, UpstreamError
from bot.http import HttpClient, RetryPolicy
from tests.harness.upstream import UpstreamServer
from tests.recording import RecordingReporter

TARBALL = "/sources/mono/mono-6.14.1.tar.xz"


def client() -> HttpClient:
    """A real HttpClient that does not wait between attempts."""
    return HttpClient(policy=RetryPolicy(timeout=10), pause=lambda s: None)


def payload(size: int = 3 * (1 << 20) + 12345) -> bytes:
    # incompressible, deterministic, several chunks long
    out = bytearray()
    seed = b"release-bot"
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed * 64
    return bytes(out[:size])


# -- source cache ----------------------------------------------------------------------------

def make_cache(tmp_path: Path) -> tuple[SourceCache, RecordingReporter]:
    reporter = RecordingReporter()
    return SourceCache(tmp_path / "sources", client(), reporter), reporter


def leave_partial(cache: SourceCache, url: str, data: bytes) -> None:
    """What an interrupted earlier run leaves behind for `url` (the cache's own layout)."""
    partial = cache.root / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    (partial / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".part")).write_bytes(data)


def test_fetch_downloads_verifies_and_reuses(upstream: UpstreamServer, tmp_path: Path) -> None:
    body = payload()
    sha = hashlib.sha256(body).hexdigest()
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)

    got = cache.fetch(url, sha)
    assert got.path == tmp_path / "sources" / "sha256" / sha
    assert got.path.read_bytes() == body
    assert (got.sha256, got.size, got.downloaded) == (sha, len(body), len(body))
    assert stat.S_IMODE(got.path.stat().st_mode) == 0o444
    assert list((tmp_path / "sources" / "partial").iterdir()) == []

    again = cache.fetch(url, sha)
    assert again.downloaded == 0
    assert again.path == got.path
    assert len(upstream.requests_for(TARBALL)) == 1  # nothing was even asked


def test_dropped_download_is_resumed_with_range(upstream: UpstreamServer,
                                                tmp_path: Path) -> None:
    body = payload()
    sha = hashlib.sha256(body).hexdigest()
    url = upstream.add(TARBALL, body)
    upstream.fault(TARBALL, "drop", drop_after=(1 << 20) + 4096)
    cache, reporter = make_cache(tmp_path)

    got = cache.fetch(url, sha)
    assert got.path.read_bytes() == body
    assert got.downloaded == len(body)  # nothing fetched twice
    first, second = upstream.requests_for(TARBALL, "GET")
    assert "Range" not in first.headers
    start = int(second.headers["Range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= (1 << 20) + 4096
    assert any("interrupted; resuming" in w for w in reporter.texts("warning"))


def test_complete_partial_file_is_not_refetched_forever(upstream: UpstreamServer,
                                                        tmp_path: Path) -> None:
    """A run killed after the last byte but before the rename leaves a full .part file."""
    body = payload(50_000)
    sha = hashlib.sha256(body).hexdigest()
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)
    leave_partial(cache, url, body)
    got = cache.fetch(url, sha)
    assert got.path.read_bytes() == body


def test_stale_partial_from_an_older_file_is_not_trusted(upstream: UpstreamServer,
                                                         tmp_path: Path) -> None:
    """The upstream replaced the file since an earlier, interrupted run: the resumed bytes
    do not hash to the pin, so the cache starts over once instead of crying tampering."""
    body = payload(200_000)
    sha = hashlib.sha256(body).hexdigest()
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)
    leave_partial(cache, url, b"older file" * 100)
    got = cache.fetch(url, sha)
    assert got.path.read_bytes() == body
    ranges = [r.headers.get("Range") for r in upstream.requests_for(TARBALL, "GET")]
    assert ranges == ["bytes=1000-", None]


def test_partial_longer_than_the_file_starts_over(upstream: UpstreamServer,
                                                  tmp_path: Path) -> None:
    body = payload(5_000)
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)
    leave_partial(cache, url, b"x" * 9_000)
    got = cache.fetch(url, hashlib.sha256(body).hexdigest())
    assert got.path.read_bytes() == body
    ranges = [r.headers.get("Range") for r in upstream.requests_for(TARBALL, "GET")]
    assert ranges == ["bytes=9000-", None]  # 416, then from the start


def test_unpinned_fetch_ignores_partials_of_earlier_runs(upstream: UpstreamServer,
                                                         tmp_path: Path) -> None:
    """Without a pin nothing could catch a stale partial: its hash would become the pin."""
    body = payload(20_000)
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)
    leave_partial(cache, url, b"older file" * 100)
    got = cache.fetch(url, None)
    assert got.sha256 == hashlib.sha256(body).hexdigest()
    assert [r.headers.get("Range") for r in upstream.requests_for(TARBALL, "GET")] == [None]


def test_unpinned_fetch_still_resumes_within_the_call(upstream: UpstreamServer,
                                                      tmp_path: Path) -> None:
    body = payload()
    url = upstream.add(TARBALL, body)
    upstream.fault(TARBALL, "drop", drop_after=(1 << 20) + 1)
    cache, _ = make_cache(tmp_path)
    got = cache.fetch(url, None)
    assert got.sha256 == hashlib.sha256(body).hexdigest()
    first, second = upstream.requests_for(TARBALL, "GET")
    assert "Range" not in first.headers
    start = int(second.headers["Range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= (1 << 20) + 1


def test_tampered_file_raises_and_stores_nothing(upstream: UpstreamServer,
                                                 tmp_path: Path) -> None:
    body = payload(100_000)
    pinned = hashlib.sha256(body).hexdigest()
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    url = upstream.add(TARBALL, tampered)
    cache, _ = make_cache(tmp_path)
    with pytest.raises(ChecksumMismatchError) as info:
        cache.fetch(url, pinned)
    assert info.value.exit_code == 4
    assert pinned in info.value.message
    assert hashlib.sha256(tampered).hexdigest() in info.value.message
    sha_dir = tmp_path / "sources" / "sha256"
    assert not sha_dir.exists() or list(sha_dir.iterdir()) == []
    assert list((tmp_path / "sources" / "partial").iterdir()) == []


def test_unpinned_fetch_records_the_sha(upstream: UpstreamServer, tmp_path: Path) -> None:
    body = payload(70_000)
    url = upstream.add(TARBALL, body)
    cache, _ = make_cache(tmp_path)
    got = cache.fetch(url, None)
    assert got.sha256 == hashlib.sha256(body).hexdigest()
    assert got.path == cache.path_for(got.sha256)
    assert got.path.read_bytes() == body
    # now pinned: served from the cache
    assert cache.fetch(url, got.sha256).downloaded == 0


def test_missing_file_is_an_upstream_error(upstream: UpstreamServer, tmp_path: Path) -> None:
    cache, _ = make_cache(tmp_path)
    with pytest.raises(UpstreamError, match="HTTP 404"):
        cache.fetch(upstream.url + "/sources/mono/mono-0.0.tar.xz", "0" * 64)
    assert not (tmp_path / "sources" / "sha256").exists()


def test_downloads_do_not_depend_on_the_umask(upstream: UpstreamServer, tmp_path: Path) -> None:
    body = payload(10_000)
    url = upstream.add(TARBALL, body)
    old = os.umask(0o077)
    try:
        got = make_cache(tmp_path)[0].fetch(url, None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(got.path.stat().st_mode) == 0o444
