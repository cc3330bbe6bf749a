"""`release-bot verify` on real stores (file:// and moto S3) that the publish code filled.

Every case corrupts the store out of band (as an operator or an attacker would), snapshots a
listing (sizes and mtimes / ETags and LastModified), runs the real CLI, and checks the exit
code, the one error line per bad entry, and that the listing did not change. Each kind of
store is published once per module; after each test, what it changed is put back as it was
published (`restore`). The test side shares one boto3 client (each costs tenths of a second).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from bot.build.manifest import BaseImage
from bot.http import HttpClient, RetryPolicy
from bot.store import open_store
from bot.store.layout import INDEX_KEY, Index, IndexEntry, render_index
from bot.store.publish import collect_artifacts, publish
from bot.verify.reader import PublicReader
from bot.verify.runner import verify_store
from tests.builtartifacts import Built, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.harness.s3 import MotoS3
from tests.harness.upstream import UpstreamServer
from tests.recording import RecordingReporter
from tests.test_publish_s3 import make_public

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MONO24 = "heroku-24/mono-6.14.1.tar.gz"
MONO22 = "heroku-22/mono-6.14.1.tar.gz"
XSP24 = "heroku-24/xsp-4.7.1.tar.gz"
BASE_DIGEST = "sha256:" + "ab" * 32


class Store(Protocol):
    url: str
    env: dict[str, str]

    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def listing(self) -> dict[str, tuple[object, ...]]: ...
    def restore(self) -> None: ...


@dataclass
class FileStore:
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[bytes, int] | None] = field(default_factory=dict)  # as published

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    def _keep(self, key: str) -> None:
        path = self.root / key
        if key not in self.changed:
            self.changed[key] = (path.read_bytes(), path.stat().st_mode) if path.exists() \
                else None

    def write(self, key: str, data: bytes) -> None:
        self._keep(key)
        path = self.root / key
        path.unlink(missing_ok=True)  # published files are read-only
        path.write_bytes(data)

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete(self, key: str) -> None:
        self._keep(key)
        (self.root / key).unlink()

    def restore(self) -> None:
        for key, published in self.changed.items():
            path = self.root / key
            path.unlink(missing_ok=True)
            if published is not None:
                path.write_bytes(published[0])
                path.chmod(published[1])
        self.changed.clear()

    def listing(self) -> dict[str, tuple[object, ...]]:
        return {p.relative_to(self.root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns,
                                                      p.stat().st_mode)
                for p in self.root.rglob("*")}


@dataclass
class S3Bucket:
    s3: MotoS3
    client: S3Client
    bucket: str
    prefix: str = "p"
    # as published: the bytes and the metadata (publish's sha256 of a tarball)
    changed: dict[str, tuple[bytes, dict[str, str]] | None] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def env(self) -> dict[str, str]:
        return self.s3.env  # credentials present: verify must still read anonymously

    def _keep(self, key: str) -> None:
        if key not in self.changed:
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
                self.changed[key] = (got["Body"].read(), got["Metadata"])
            except self.client.exceptions.NoSuchKey:
                self.changed[key] = None

    def write(self, key: str, data: bytes) -> None:
        self._keep(key)
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def read(self, key: str) -> bytes:
        got = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
        return got["Body"].read()

    def delete(self, key: str) -> None:
        self._keep(key)
        self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")

    def restore(self) -> None:
        for key, published in self.changed.items():
            if published is None:
                self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
            else:
                self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}",
                                       Body=published[0], Metadata=published[1])
        self.changed.clear()

    def listing(self) -> dict[str, tuple[object, ...]]:
        listed = self.client.list_objects_v2(Bucket=self.bucket)
        return {o["Key"]: (o["ETag"], o["LastModified"], o["Size"])
                for o in listed.get("Contents", [])}


@dataclass
class Published:
    store: Store
    built: dict[str, Built]
    cwd: Path

    def verify(self, *extra: str) -> CliResult:
        before = self.store.listing()
        result = run_cli(["verify", "--store", self.store.url, *extra], env=self.store.env,
                         cwd=self.cwd)
        assert self.store.listing() == before, "verify changed the store"
        return result

    def verify_json(self) -> tuple[int, dict[str, dict[str, Any]], list[str]]:
        result = self.verify("--json")
        rows = {r["key"]: r for r in json.loads(result.stdout)}
        return result.code, rows, errors(result)


def errors(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _build(out: Path) -> dict[str, Built]:
    # the xsp build records its builder's base image (older manifests do not)
    return {MONO24: make_artifact(out, "mono", "6.14.1", "heroku-24", size=40_000),
            MONO22: make_artifact(out, "mono", "6.14.1", "heroku-22", size=40_000),
            XSP24: make_artifact(out, "xsp", "4.7.1", "heroku-24", size=5000,
                                 base_image=BaseImage(BASE_DIGEST))}


@pytest.fixture(scope="module")
def s3_client(s3: MotoS3) -> S3Client:
    return s3.client()


def s3_bucket(s3: MotoS3, client: S3Client, *, public: bool = True) -> S3Bucket:
    """A new bucket (public-read, as buildpacks read it, unless not `public`)."""
    bucket = f"ver-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    if public:
        make_public(SimpleNamespace(client=lambda: client), bucket)  # type: ignore[arg-type]
    return S3Bucket(s3, client, bucket)


@pytest.fixture(scope="module", params=["file", "s3"])
def pristine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Store, dict[str, Built]]:
    """A store the publish code filled, once per module and kind of store."""
    tmp = tmp_path_factory.mktemp(f"published-{request.param}")
    store: Store
    client = None
    if request.param == "file":
        store = FileStore(tmp / "store")
    else:
        client = request.getfixturevalue("s3_client")
        store = s3_bucket(request.getfixturevalue("s3"), client)
    built = _build(tmp / "out")
    real = open_store(store.url, s3_client=lambda: client,  # type: ignore[arg-type,return-value]
                      endpoint_url=store.env.get("AWS_ENDPOINT_URL"))
    publish(real, collect_artifacts(tmp / "out"), force=False, reporter=RecordingReporter())
    return store, built


@pytest.fixture
def published(pristine: tuple[Store, dict[str, Built]], tmp_path: Path) -> Iterator[Published]:
    """The published store; what the test changes in it is put back afterwards."""
    store, built = pristine
    before = store.listing()
    yield Published(store, built, tmp_path)
    store.restore()
    assert {k: v[0] for k, v in store.listing().items()} == {
        k: v[0] for k, v in before.items()}, "restore left the store changed"


def _only_bad(rows: dict[str, dict[str, Any]], key: str, kind: str) -> dict[str, Any]:
    assert {k for k, r in rows.items() if not r["ok"]} == {key}, rows
    assert rows[key]["result"] == kind
    return rows[key]


def _one_error_for(lines: list[str], key: str, *words: str) -> None:
    """One line naming the entry (with `words`), then the one-line summary."""
    [line, summary] = lines
    assert line.startswith(f"error: {key}: "), line
    for word in words:
        assert word in line, line
    assert summary.startswith("error: 1 of 3 published artifact(s) in ")
    assert key in summary and "index.json" in summary


# -- the intact store ------------------------------------------------------------------------

def test_an_intact_store_passes(published: Published) -> None:
    result = published.verify()
    assert result.code == 0, result.output
    assert errors(result) == []
    assert "verified 3 artifact(s)" in result.stderr and "all good" in result.stderr
    table = [line for line in result.stdout.splitlines() if "heroku-" in line]
    assert len(table) == 3 and all(" ok " in line for line in table), result.stdout

    # the table as the step summary gets it in Actions: every column whole
    summary = published.cwd / "summary.md"
    actions = {**published.store.env, "GITHUB_ACTIONS": "true",
               "GITHUB_STEP_SUMMARY": str(summary)}
    assert run_cli(["verify", "--store", published.store.url], env=actions,
                   cwd=published.cwd).code == 0
    rows = [line for line in summary.read_text().splitlines() if "heroku-" in line]
    short = {key: built.sha256[:12] + "…" for key, built in published.built.items()}
    assert sorted(rows) == sorted([
        f"| mono | 6.14.1 | heroku-22 | amd64 | 40000 | {short[MONO22]} | - | ok |",
        f"| mono | 6.14.1 | heroku-24 | amd64 | 40000 | {short[MONO24]} | - | ok |",
        f"| xsp | 4.7.1 | heroku-24 | amd64 | 5000 | {short[XSP24]} | sha256:abababababab… | ok |"])

    code, rows, lines = published.verify_json()
    assert (code, lines) == (0, [])
    assert set(rows) == {MONO24, MONO22, XSP24}
    for key, row in rows.items():
        built = published.built[key]
        assert row["ok"] and row["result"] == "ok" and row["problems"] == []
        assert (row["size"], row["sha256"]) == (built.size, built.sha256)
        assert row["downloaded"]["sha256"] == built.sha256
        assert row["downloaded"]["size"] == built.size
    assert rows[XSP24]["base_image_digest"] == BASE_DIGEST
    assert rows[MONO24]["base_image_digest"] is None


# -- each corruption is caught, named on one line, exit 6, the store untouched ------------

def test_a_truncated_object(published: Published) -> None:
    published.store.write(MONO24, published.built[MONO24].data[:1000])
    code, rows, lines = published.verify_json()
    assert code == 6
    row = _only_bad(rows, MONO24, "truncated")
    assert row["downloaded"]["size"] == 1000
    _one_error_for(lines, MONO24, "truncated", "1000 of the 40000 bytes")


def test_a_swapped_object(published: Published) -> None:
    other = published.built[MONO22]  # another artifact's bytes, of the same size
    published.store.write(MONO24, other.data)
    code, rows, lines = published.verify_json()
    assert code == 6
    row = _only_bad(rows, MONO24, "different bytes")
    assert row["downloaded"]["sha256"] == other.sha256
    _one_error_for(lines, MONO24, "different bytes", f"sha256 {other.sha256[:12]}",
                   published.built[MONO24].sha256[:12])


def test_a_deleted_object(published: Published) -> None:
    published.store.delete(XSP24)
    code, rows, lines = published.verify_json()
    assert code == 6
    _only_bad(rows, XSP24, "missing")
    detail = "HTTP 404" if isinstance(published.store, S3Bucket) else "no such file"
    _one_error_for(lines, XSP24, "missing", detail)


@pytest.mark.parametrize("case", ["sha256", "file name", "garbage", "deleted"])
def test_a_wrong_sidecar(published: Published, case: str) -> None:
    key = MONO24.removesuffix(".tar.gz") + ".sha256"
    other = published.built[MONO22].sha256
    mine = published.built[MONO24].sha256
    if case == "deleted":
        published.store.delete(key)
    else:
        published.store.write(key, {"sha256": f"{other}  mono-6.14.1.tar.gz\n",
                                    "file name": f"{mine}  xsp-4.7.1.tar.gz\n",
                                    "garbage": b"\xff\xfe not a checksum".decode("latin-1")
                                    }[case].encode("latin-1"))
    code, rows, lines = published.verify_json()
    assert code == 6
    kind = "sidecar missing" if case == "deleted" else "sidecar disagrees"
    _only_bad(rows, MONO24, kind)
    words = {"sha256": ["sha256 " + other[:12]], "file name": ["'xsp-4.7.1.tar.gz'"],
             "garbage": ["is not one"], "deleted": ["is missing"]}[case]
    _one_error_for(lines, MONO24, kind, *words)


@pytest.mark.parametrize("field_name", ["component", "version", "stack", "sha256"])
def test_a_wrong_manifest(published: Published, field_name: str) -> None:
    key = MONO24.removesuffix(".tar.gz") + ".json"
    manifest = json.loads(published.store.read(key))
    manifest[field_name] = {"component": "xsp", "version": "6.14.0", "stack": "heroku-22",
                            "sha256": published.built[MONO22].sha256}[field_name]
    if field_name != "sha256":  # the manifest stays self-consistent: only the names differ
        manifest["artifact"] = f"{manifest['component']}-{manifest['version']}-" \
                               f"{manifest['stack']}.tar.gz"
    published.store.write(key, json.dumps(manifest).encode())
    code, rows, lines = published.verify_json()
    assert code == 6
    _only_bad(rows, MONO24, "manifest disagrees")
    _one_error_for(lines, MONO24, "manifest disagrees", f"names {field_name} ")


def test_publish_force_repairs_what_verify_names(published: Published, tmp_path: Path) -> None:
    """The issue's fix works: a damaged checksum and a lost manifest beside intact bytes are
    rewritten by `publish --force`; the tarballs and the index are left as they were."""
    stem = MONO24.removesuffix(".tar.gz")
    published.store.write(stem + ".sha256", f"{published.built[MONO22].sha256}  x\n".encode())
    published.store.delete(stem + ".json")
    assert published.verify().code == 6
    plain = run_cli(["publish", str(published.built[MONO24].manifest.parent), "--store",
                     published.store.url], env=published.store.env, cwd=tmp_path)
    assert plain.code == 0 and published.verify().code == 6  # without --force: skipped
    tarballs = {k: published.store.read(k) for k in (MONO24, XSP24, INDEX_KEY)}
    forced = run_cli(["publish", str(published.built[MONO24].manifest.parent), "--store",
                      published.store.url, "--force"], env=published.store.env, cwd=tmp_path)
    assert forced.code == 0, forced.output
    assert f"{MONO24}: already stored: rewriting" in forced.stderr
    assert published.verify().code == 0
    assert {k: published.store.read(k) for k in tarballs} == tarballs
    assert published.store.read(stem + ".json") == published.built[MONO24].manifest.read_bytes()


def test_a_manifest_that_is_not_one(published: Published) -> None:
    published.store.write(XSP24.removesuffix(".tar.gz") + ".json", b'{"component": "xsp"}')
    code, rows, lines = published.verify_json()
    assert code == 6
    _only_bad(rows, XSP24, "manifest disagrees")
    _one_error_for(lines, XSP24, "is not a build manifest (KeyError)")


@pytest.mark.parametrize("data", [b"{not json", b'{"schema": 1, "artifacts": [{"key": 1}]}',
                                  b'{"schema": 2, "artifacts": []}', b"\xff" * 10])
def test_a_malformed_index(published: Published, data: bytes) -> None:
    published.store.write(INDEX_KEY, data)
    result = published.verify()
    assert result.code == 6, result.output
    [line] = errors(result)
    assert "index.json is not a release-bot index" in line
    assert result.stdout == ""


def test_no_index(published: Published) -> None:
    published.store.delete(INDEX_KEY)
    result = published.verify()
    assert result.code == 6, result.output
    [line] = errors(result)
    assert line.startswith("error: no index.json at ") and "nothing is published" in line


def _rewrite_index(published: Published, edit: dict[str, dict[str, str]]) -> None:
    doc = json.loads(published.store.read(INDEX_KEY))
    for entry in doc["artifacts"]:
        entry.update(edit.get(entry["key"], {}))
    published.store.write(INDEX_KEY, json.dumps(doc).encode())


def test_entries_outside_the_prefix(published: Published, tmp_path: Path) -> None:
    doc = json.loads(published.store.read(INDEX_KEY))
    urls = {e["key"]: e["url"] for e in doc["artifacts"]}
    # the same bytes elsewhere: a copy outside the store is still not what it publishes
    elsewhere = tmp_path / "elsewhere.tar.gz"
    elsewhere.write_bytes(published.built[MONO22].data)
    _rewrite_index(published, {
        MONO24: {"key": "../q/heroku-24/mono-6.14.1.tar.gz"},
        MONO22: {"url": elsewhere.as_uri()},
        XSP24: {"url": urls[XSP24].replace("/xsp-4.7.1.tar.gz", "/../xsp-4.7.1.tar.gz")}})
    code, rows, lines = published.verify_json()
    assert code == 6
    assert all(r["result"] == "outside the prefix" for r in rows.values()), rows
    assert all(r["downloaded"] is None for r in rows.values())  # never fetched
    assert len(lines) == 4 and lines[-1].startswith("error: 3 of 3 ")
    assert any("key '../q/heroku-24/mono-6.14.1.tar.gz' is outside" in line for line in lines)
    assert any(f"url {elsewhere.as_uri()} is outside the store's prefix" in line
               for line in lines)


def test_a_url_of_another_entry(published: Published) -> None:
    doc = json.loads(published.store.read(INDEX_KEY))
    urls = {e["key"]: e["url"] for e in doc["artifacts"]}
    _rewrite_index(published, {MONO24: {"url": urls[MONO22]}})
    code, rows, lines = published.verify_json()
    assert code == 6
    row = _only_bad(rows, MONO24, "wrong url")
    assert row["downloaded"] is None
    _one_error_for(lines, MONO24, f"url {urls[MONO22]} is not where key {MONO24} is published")


def test_a_key_that_is_not_the_entrys(published: Published) -> None:
    doc = json.loads(published.store.read(INDEX_KEY))
    xsp = next(e for e in doc["artifacts"] if e["key"] == XSP24)
    xsp["version"] = "4.8"  # the entry says 4.8 but points at 4.7.1's key
    published.store.write(INDEX_KEY, json.dumps(doc).encode())
    code, rows, lines = published.verify_json()
    assert code == 6
    assert rows[XSP24]["result"] == "wrong key, manifest disagrees"
    _one_error_for(lines, XSP24, "expected heroku-24/xsp-4.8.tar.gz", "version '4.7.1'")


def test_several_bad_entries_one_line_each(published: Published) -> None:
    published.store.delete(MONO22)
    published.store.write(MONO24, b"")
    code, rows, lines = published.verify_json()
    assert code == 6
    assert {k for k, r in rows.items() if not r["ok"]} == {MONO22, MONO24}
    assert [line.split(": ", 2)[1] for line in lines[:2]] == [MONO22, MONO24]
    assert lines[2].startswith("error: 2 of 3 published artifact(s)")


# -- anonymous: a private bucket is unreadable, even with credentials in the environment ----

def test_a_private_bucket_fails_anonymously(s3: MotoS3, s3_client: S3Client,
                                            tmp_path: Path) -> None:
    store = s3_bucket(s3, s3_client, public=False)
    make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=1000)
    assert run_cli(["publish", str(tmp_path / "out"), "--store", store.url], env=s3.env,
                   cwd=tmp_path).code == 0
    before = store.listing()
    result = run_cli(["verify", "--store", store.url], env=s3.env, cwd=tmp_path)
    assert result.code == 6, result.output
    [line] = errors(result)
    assert "cannot read" in line and "anonymously (HTTP 403)" in line
    assert "public-read" in line
    assert store.listing() == before


# -- HTTP faults, against a loopback server standing in for a public store -----------------

@dataclass
class HttpStore:
    """A store's naming over a loopback HTTP server (what verify asks of a store)."""

    base: str

    @property
    def url(self) -> str:
        return self.base

    def public_url(self, key: str) -> str:
        return f"{self.base}/{key}"


@pytest.fixture
def http_store(upstream: UpstreamServer, tmp_path: Path) -> Iterator[tuple[HttpStore, Built]]:
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=300_000)
    store = HttpStore(upstream.url + "/p")
    entry = IndexEntry("mono", "6.14.1", "heroku-24", MONO24, store.public_url(MONO24),
                       built.sha256, built.size, "2026-01-02T03:04:05Z")
    upstream.add("/p/" + INDEX_KEY, render_index(Index((entry,), entry.published)))
    upstream.add("/p/" + MONO24, built.data)
    upstream.add("/p/heroku-24/mono-6.14.1.sha256",
                 f"{built.sha256}  mono-6.14.1.tar.gz\n".encode())
    upstream.add("/p/heroku-24/mono-6.14.1.json", built.manifest.read_bytes())
    yield store, built


def _reader() -> PublicReader:
    """The shared client, as `verify` gets it, without waits between attempts."""
    return PublicReader(HttpClient(policy=RetryPolicy(timeout=10), pause=lambda s: None))


def test_server_errors_are_retried_by_the_adapter(http_store: tuple[HttpStore, Built],
                                                   upstream: UpstreamServer) -> None:
    store, built = http_store
    upstream.fault("/p/" + MONO24, "500", times=2)
    upstream.fault("/p/" + INDEX_KEY, "reset", times=1)
    verification = verify_store(store, _reader())
    assert [r.result for r in verification.results] == ["ok"]
    assert len(upstream.requests_for("/p/" + MONO24)) == 3
    # anonymous, undecoded, streamed
    [sent, *_] = upstream.requests_for("/p/" + MONO24)
    assert "authorization" not in {k.lower() for k in sent.headers}
    assert {k.lower(): v for k, v in sent.headers.items()}["accept-encoding"] == "identity"
    assert hashlib.sha256(built.data).hexdigest() == verification.results[0].entry.sha256


def test_a_connection_dropped_mid_body_is_truncated(http_store: tuple[HttpStore, Built],
                                                     upstream: UpstreamServer) -> None:
    store, _ = http_store
    upstream.fault("/p/" + MONO24, "drop", times=10, drop_after=100_000)
    [result] = verify_store(store, _reader()).results
    assert result.result == "truncated"
    assert "ended after" in result.line() and "of 300000 bytes" in result.line()


def test_a_server_failing_for_good_is_unreadable(http_store: tuple[HttpStore, Built],
                                                 upstream: UpstreamServer) -> None:
    store, _ = http_store
    upstream.fault("/p/heroku-24/mono-6.14.1.json", "500", times=10)
    [result] = verify_store(store, _reader()).results
    assert result.result == "manifest disagrees"
    assert "could not be read" in result.line()
    assert len(upstream.requests_for("/p/heroku-24/mono-6.14.1.json")) == 4  # bounded


def test_a_body_larger_than_listed_stops_early(http_store: tuple[HttpStore, Built],
                                               upstream: UpstreamServer) -> None:
    store, built = http_store
    upstream.add("/p/" + MONO24, built.data * 20)
    [result] = verify_store(store, _reader()).results
    assert result.result == "different bytes"
    assert result.downloaded is not None and result.downloaded.size <= built.size + (1 << 20)
