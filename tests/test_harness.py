"""Tests for the test harness itself (tests/harness/)."""

from __future__ import annotations

import email.utils
import http.client
import re
import socket
import time
import uuid
from pathlib import Path

import boto3
import docker
import docker.errors
import pytest
import requests

from tests.harness import docker as hdocker
from tests.harness.faultproxy import FaultProxy
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer

BODY = bytes(range(256)) * 40  # 10240 bytes


def _conn(up: UpstreamServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(up.host, up.port, timeout=10)


# --------------------------------------------------------------------------- upstream


def test_upstream_get_head_and_log(upstream: UpstreamServer) -> None:
    url = upstream.add("/mono/index.html", b"<a href='mono-6.12.0.199.tar.xz'>x</a>")
    assert url == upstream.url + "/mono/index.html"
    assert upstream.url.startswith("http://127.0.0.1:")

    r = requests.get(url, timeout=10, headers={"X-Probe": "1"})
    assert r.status_code == 200
    assert r.content == b"<a href='mono-6.12.0.199.tar.xz'>x</a>"
    assert r.headers["Content-Type"] == "text/html"
    assert r.headers["ETag"].startswith('"')
    assert email.utils.parsedate_to_datetime(r.headers["Last-Modified"])

    h = requests.head(url, timeout=10)
    assert h.status_code == 200
    assert h.content == b""
    assert h.headers["Content-Length"] == str(len(r.content))
    assert h.headers["ETag"] == r.headers["ETag"]

    assert requests.get(upstream.url + "/nope", timeout=10).status_code == 404

    log = upstream.requests
    assert [(m, p) for m, p, _ in log] == [
        ("GET", "/mono/index.html"),
        ("HEAD", "/mono/index.html"),
        ("GET", "/nope"),
    ]
    assert log[0].headers["X-Probe"] == "1"
    assert len(upstream.requests_for("/mono/index.html", "GET")) == 1


def test_upstream_custom_status_headers_remove_and_file(
    upstream: UpstreamServer, tmp_path: Path
) -> None:
    upstream.add("/gone", b"bye", status=410, headers={"X-Extra": "yes"}, content_type="text/plain")
    r = requests.get(upstream.url + "/gone", timeout=10)
    assert (r.status_code, r.text, r.headers["X-Extra"]) == (410, "bye", "yes")

    f = tmp_path / "mono-6.12.0.199.tar.xz"
    f.write_bytes(BODY)
    url = upstream.add_file("/src/mono-6.12.0.199.tar.xz", f)
    r = requests.get(url, timeout=10)
    assert r.content == BODY
    assert r.headers["Content-Type"] == "application/x-tar"

    upstream.remove("/src/mono-6.12.0.199.tar.xz")
    assert requests.get(url, timeout=10).status_code == 404


def test_upstream_ranges(upstream: UpstreamServer) -> None:
    url = upstream.add("/t.tar.xz", BODY)

    r = requests.get(url, headers={"Range": "bytes=10000-"}, timeout=10)
    assert r.status_code == 206
    assert r.content == BODY[10000:]
    assert r.headers["Content-Range"] == f"bytes 10000-{len(BODY) - 1}/{len(BODY)}"

    r = requests.get(url, headers={"Range": "bytes=5-9"}, timeout=10)
    assert (r.status_code, r.content) == (206, BODY[5:10])
    assert r.headers["Content-Range"] == f"bytes 5-9/{len(BODY)}"
    assert r.headers["Content-Length"] == "5"

    r = requests.get(url, headers={"Range": "bytes=-4"}, timeout=10)
    assert (r.status_code, r.content) == (206, BODY[-4:])

    r = requests.get(url, headers={"Range": f"bytes={len(BODY)}-"}, timeout=10)
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(BODY)}"

    # If-Range with a stale validator: full body
    r = requests.get(url, headers={"Range": "bytes=5-9", "If-Range": '"stale"'}, timeout=10)
    assert (r.status_code, len(r.content)) == (200, len(BODY))


def test_upstream_conditional_304(upstream: UpstreamServer) -> None:
    url = upstream.add("/page", b"v1", last_modified=1_700_000_000)
    first = requests.get(url, timeout=10)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]

    r = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == etag

    assert requests.get(url, headers={"If-Modified-Since": lm}, timeout=10).status_code == 304
    older = email.utils.formatdate(1_600_000_000, usegmt=True)
    assert requests.get(url, headers={"If-Modified-Since": older}, timeout=10).status_code == 200

    # content changes -> new ETag -> the old one no longer matches
    upstream.add("/page", b"v2")
    r = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert (r.status_code, r.content) == (200, b"v2")
    assert r.headers["ETag"] != etag


def test_upstream_fault_500_then_ok(upstream: UpstreamServer) -> None:
    url = upstream.add("/f", b"ok")
    upstream.fault("/f", "500", times=2)
    assert upstream.pending_faults("/f") == 2
    assert [requests.get(url, timeout=10).status_code for _ in range(3)] == [500, 500, 200]
    assert upstream.pending_faults("/f") == 0


def test_upstream_fault_429_retry_after(upstream: UpstreamServer) -> None:
    url = upstream.add("/f", b"ok")
    upstream.fault("/f", "429")
    r = requests.get(url, timeout=10)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert requests.get(url, timeout=10).status_code == 200


def test_upstream_fault_slow(upstream: UpstreamServer) -> None:
    url = upstream.add("/f", b"ok")
    upstream.fault("/f", "slow", delay=0.6)
    t0 = time.monotonic()
    r = requests.get(url, timeout=10)
    assert r.content == b"ok"
    assert time.monotonic() - t0 >= 0.6

    upstream.fault("/f", "slow", delay=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, timeout=0.3)


def test_upstream_fault_drop_mid_body(upstream: UpstreamServer) -> None:
    url = upstream.add("/big", BODY)
    upstream.fault("/big", "drop", drop_after=100)
    c = _conn(upstream)
    try:
        c.request("GET", "/big")
        resp = c.getresponse()
        assert resp.status == 200
        assert resp.headers["Content-Length"] == str(len(BODY))
        with pytest.raises(http.client.IncompleteRead) as ei:
            resp.read()
        assert ei.value.partial == BODY[:100]
    finally:
        c.close()

    upstream.fault("/big", "drop")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10)
    assert requests.get(url, timeout=10).content == BODY


def test_upstream_fault_reset(upstream: UpstreamServer) -> None:
    url = upstream.add("/f", b"ok")
    upstream.fault("/f", "reset")
    c = _conn(upstream)
    try:
        c.request("GET", "/f")
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            c.getresponse()
    finally:
        c.close()
    assert requests.get(url, timeout=10).content == b"ok"
    with pytest.raises(ValueError, match="unknown fault kind"):
        upstream.fault("/f", "teapot")


def test_upstream_keepalive_and_threads(upstream: UpstreamServer) -> None:
    upstream.add("/a", b"A")
    with requests.Session() as s:
        assert [s.get(upstream.url + "/a", timeout=10).content for _ in range(5)] == [b"A"] * 5
    # a slow request does not block others
    upstream.add("/slow", b"S")
    upstream.fault("/slow", "slow", delay=1.5)
    sock = socket.create_connection((upstream.host, upstream.port))
    try:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        assert requests.get(upstream.url + "/a", timeout=10).content == b"A"
        assert time.monotonic() - t0 < 1.0
    finally:
        sock.close()


def test_upstream_close_is_idempotent() -> None:
    up = UpstreamServer()
    up.add("/x", b"1")
    up.close()
    up.close()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(up.url + "/x", timeout=2)


# --------------------------------------------------------------------------- s3 / moto


def test_moto_roundtrip_via_env(s3: MotoS3, s3_env: dict[str, str]) -> None:
    assert s3_env["AWS_ENDPOINT_URL"] == s3.endpoint
    assert s3.endpoint.startswith("http://127.0.0.1:")
    bucket = s3.make_bucket(f"rt-{uuid.uuid4().hex[:8]}")
    assert s3.make_bucket(bucket) == bucket  # idempotent

    client = boto3.client("s3")  # endpoint + credentials from the environment only
    assert client.meta.endpoint_url == s3.endpoint
    client.put_object(Bucket=bucket, Key="mono/x.tar.gz", Body=b"payload")
    got = client.get_object(Bucket=bucket, Key="mono/x.tar.gz")["Body"].read()
    assert got == b"payload"
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert bucket in names


def test_faultproxy_500_is_retried(s3: MotoS3, s3_proxy: FaultProxy) -> None:
    bucket = s3.make_bucket(f"fp-{uuid.uuid4().hex[:8]}")
    client = s3.client(s3_proxy.url, retries={"mode": "standard", "total_max_attempts": 3})
    rule = s3_proxy.fail(500, method="PUT", path=f"/{bucket}/obj", times=1)

    client.put_object(Bucket=bucket, Key="obj", Body=b"x" * 1000)

    assert rule.fired == 1
    assert s3_proxy.injected_count == 1
    assert s3_proxy.injected[0][0] == "status"
    puts = [r for r in s3_proxy.requests if r.method == "PUT" and r.path == f"/{bucket}/obj"]
    assert len(puts) == 2  # the injected failure + botocore's retry
    # it really reached moto the second time
    direct = s3.client()
    assert direct.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"x" * 1000
    assert not s3_proxy.errors


def test_faultproxy_500_exhausts_retries(s3: MotoS3, s3_proxy: FaultProxy) -> None:
    bucket = s3.make_bucket(f"fp-{uuid.uuid4().hex[:8]}")
    client = s3.client(s3_proxy.url, retries={"mode": "standard", "total_max_attempts": 2})
    rule = s3_proxy.fail(503, method="GET", path=re.compile(r"list-type=2"), times=5)
    with pytest.raises(client.exceptions.ClientError) as ei:
        client.list_objects_v2(Bucket=bucket)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert rule.fired == 2
    assert rule.remaining == 3


def test_faultproxy_drop_mid_multipart_upload(s3: MotoS3, s3_proxy: FaultProxy) -> None:
    bucket = s3.make_bucket(f"mp-{uuid.uuid4().hex[:8]}")
    client = s3.client(s3_proxy.url, retries={"mode": "standard", "total_max_attempts": 3})
    part1 = b"a" * (5 * 1024 * 1024)
    part2 = b"b" * 4096
    rule = s3_proxy.drop(method="PUT", path=re.compile(r"partNumber=2"), after_bytes=1024)

    up = client.create_multipart_upload(Bucket=bucket, Key="big")
    uid = up["UploadId"]
    e1 = client.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=part1)
    e2 = client.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=part2)
    client.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=uid,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": e1["ETag"]},
                {"PartNumber": 2, "ETag": e2["ETag"]},
            ]
        },
    )
    assert rule.fired == 1
    assert s3_proxy.injected[0][0] == "drop"
    body = s3.client().get_object(Bucket=bucket, Key="big")["Body"].read()
    assert body == part1 + part2
    assert not s3_proxy.errors


def test_faultproxy_drop_without_retries_surfaces(s3: MotoS3, s3_proxy: FaultProxy) -> None:
    bucket = s3.make_bucket(f"dr-{uuid.uuid4().hex[:8]}")
    client = s3.client(s3_proxy.url, retries={"mode": "standard", "total_max_attempts": 1})
    s3_proxy.drop(method="PUT", after_bytes=10)
    with pytest.raises(Exception, match=r"(?i)connection|reset|closed|aborted"):
        client.put_object(Bucket=bucket, Key="k", Body=b"z" * 100_000)
    # the proxy recovers for the next request
    client.put_object(Bucket=bucket, Key="k", Body=b"ok")
    assert s3.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"ok"


# --------------------------------------------------------------------------- docker


@pytest.mark.docker
def test_stack_images_run_bookworm(
    docker_client: docker.DockerClient, stack_images: tuple[str, str]
) -> None:
    assert stack_images == (hdocker.TEST_BUILD_IMAGE, hdocker.TEST_RUN_IMAGE)
    for tag in stack_images:
        docker_client.images.get(tag)  # raises ImageNotFound if missing
    assert hdocker.missing_stack_images(docker_client) == []

    name = f"release-bot-harness-{uuid.uuid4().hex[:8]}"
    out = docker_client.containers.run(
        hdocker.TEST_RUN_IMAGE, ["cat", "/etc/debian_version"], name=name, remove=True
    )
    assert isinstance(out, bytes)
    assert re.fullmatch(r"12\.\d+\n?", out.decode()), out
    assert docker_client.containers.list(all=True, filters={"name": name}) == []


@pytest.mark.docker
@pytest.mark.network
def test_bridge_container_reaches_debian_mirror(
    docker_client: docker.DockerClient, stack_images: tuple[str, str]
) -> None:
    """Builder images run apt-get on the default bridge network; make sure that works."""
    container = docker_client.containers.run(
        hdocker.TEST_BUILD_IMAGE,
        ["sh", "-c", "apt-get update 2>&1"],
        network_mode="bridge",
        detach=True,
    )
    try:
        result = container.wait(timeout=300)
        logs = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    print(f"apt-get update on bridge: exit {result['StatusCode']}\n{logs[-2000:]}")
    assert result["StatusCode"] == 0, logs[-2000:]
    assert hdocker.apt_mirror_host() in logs  # the image's sources are this machine's
    assert "Err:" not in logs, logs[-2000:]
