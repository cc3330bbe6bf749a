"""`release-bot publish` to S3 (moto server on loopback), with faults injected in between."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
import zlib
from pathlib import Path

import pytest

from bot.app import App
from bot.errors import PublishError
from bot.settings import Settings
from bot.store import S3Store
from bot.store.publish import Action, check_publish, collect_artifacts, publish
from bot.store.s3 import composite_crc32
from tests.builtartifacts import Built, index_entries, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.harness.faultproxy import FaultProxy
from tests.harness.s3 import MotoS3
from tests.recording import RecordingReporter
from tests.storecontract import check_conditional_writes, publish_concurrently

MIB = 1 << 20
BIG = 20 * MIB  # three 8 MiB parts: a multipart upload


def _bucket(s3: MotoS3) -> str:
    return s3.make_bucket(f"rel-{uuid.uuid4().hex[:12]}")


def _publish(out: Path, store: str, env: dict[str, str], cwd: Path, *extra: str) -> CliResult:
    return run_cli(["publish", str(out), "--store", store, *extra], env=env, cwd=cwd)


def _errors(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _keys(s3: MotoS3, bucket: str) -> set[str]:
    listed = s3.client().list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listed.get("Contents", [])}


def _get(s3: MotoS3, bucket: str, key: str) -> bytes:
    return s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def _etag(s3: MotoS3, bucket: str, key: str) -> str:
    return s3.client().head_object(Bucket=bucket, Key=key)["ETag"]


def _uploads(s3: MotoS3, bucket: str) -> list[object]:
    return list(s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def _store_with_one_artifact(s3: MotoS3, tmp_path: Path) -> tuple[str, str, bytes]:
    """(bucket, store URL, index.json bytes) of a store where mono 6.12.0 is published."""
    bucket = _bucket(s3)
    store = f"s3://{bucket}/p"
    earlier = make_artifact(tmp_path / "earlier", "mono", "6.12.0", "heroku-24", size=1000)
    assert _publish(earlier.tarball.parent, store, s3.env, tmp_path).code == 0
    return bucket, store, _get(s3, bucket, "p/index.json")


def test_publish_small_and_multipart_then_skip(s3: MotoS3, tmp_path: Path) -> None:
    bucket = _bucket(s3)
    out = tmp_path / "out"
    small = make_artifact(out, "mono", "6.14.1", "heroku-22", size=3000)
    big = make_artifact(out, "mono", "6.14.1", "heroku-24", size=BIG)

    result = _publish(out, f"s3://{bucket}/buildpack", s3.env, tmp_path)
    assert result.code == 0, result.output

    prefix = "buildpack/"
    assert _keys(s3, bucket) == {prefix + k for k in (
        "index.json",
        "heroku-22/mono-6.14.1.tar.gz", "heroku-22/mono-6.14.1.sha256",
        "heroku-22/mono-6.14.1.json",
        "heroku-24/mono-6.14.1.tar.gz", "heroku-24/mono-6.14.1.sha256",
        "heroku-24/mono-6.14.1.json")}
    for built, stack in ((small, "heroku-22"), (big, "heroku-24")):
        key = f"{prefix}{stack}/mono-6.14.1"
        assert _get(s3, bucket, key + ".tar.gz") == built.data
        assert _get(s3, bucket, key + ".sha256").decode() == \
            f"{built.sha256}  mono-6.14.1.tar.gz\n"
        assert _get(s3, bucket, key + ".json") == built.manifest.read_bytes()
        head = s3.client().head_object(Bucket=bucket, Key=key + ".tar.gz")
        assert head["Metadata"]["sha256"] == built.sha256
    # the big one went up in parts, with CRC32 checksums the server recorded
    head = s3.client().head_object(Bucket=bucket, Key=prefix + "heroku-24/mono-6.14.1.tar.gz",
                                   ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')
    crcs = [zlib.crc32(big.data[i:i + 8 * MIB]) for i in range(0, BIG, 8 * MIB)]
    assert head["ChecksumCRC32"].split("-")[0] == composite_crc32(crcs)

    entries = index_entries(_get(s3, bucket, prefix + "index.json"))
    assert set(entries) == {("mono", "6.14.1", "heroku-22"), ("mono", "6.14.1", "heroku-24")}
    entry = entries[("mono", "6.14.1", "heroku-24")]
    assert entry["sha256"] == big.sha256
    assert entry["size"] == BIG
    assert entry["key"] == "heroku-24/mono-6.14.1.tar.gz"
    assert entry["url"] == f"{s3.endpoint}/{bucket}/buildpack/heroku-24/mono-6.14.1.tar.gz"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(entry["published"]))
    assert _uploads(s3, bucket) == []

    index_etag = _etag(s3, bucket, prefix + "index.json")
    tar_etag = _etag(s3, bucket, prefix + "heroku-24/mono-6.14.1.tar.gz")
    again = _publish(out, f"s3://{bucket}/buildpack", s3.env, tmp_path)
    assert again.code == 0, again.output
    assert again.stderr.count("already published") == 2
    assert "index.json already lists every artifact" in again.stderr
    assert _etag(s3, bucket, prefix + "index.json") == index_etag
    assert _etag(s3, bucket, prefix + "heroku-24/mono-6.14.1.tar.gz") == tar_etag


def test_different_bytes_are_refused_and_nothing_is_uploaded(s3: MotoS3, tmp_path: Path
                                                             ) -> None:
    bucket = _bucket(s3)
    store = f"s3://{bucket}/p"
    first = make_artifact(tmp_path / "one", "mono", "6.14.1", "heroku-24", size=5000)
    assert _publish(first.tarball.parent, store, s3.env, tmp_path).code == 0
    index_before = _get(s3, bucket, "p/index.json")

    out = tmp_path / "two"
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=5000)  # same key, other bytes
    make_artifact(out, "mono", "6.14.1", "heroku-22", size=5000)  # new: must not go up either
    result = _publish(out, store, s3.env, tmp_path)
    assert result.code == 6, result.output
    [line] = _errors(result)
    assert "heroku-24/mono-6.14.1.tar.gz" in line
    assert "write-once" in line and "--force" in line and "nothing was uploaded" in line
    assert not any(k.startswith("p/heroku-22/") for k in _keys(s3, bucket))
    assert _get(s3, bucket, "p/heroku-24/mono-6.14.1.tar.gz") == first.data
    assert _get(s3, bucket, "p/index.json") == index_before

    forced = _publish(out, store, s3.env, tmp_path, "--force")
    assert forced.code == 0, forced.output
    assert "heroku-24/mono-6.14.1.tar.gz: replacing stored sha256" in forced.stderr
    replaced = (out / "mono-6.14.1-heroku-24.tar.gz").read_bytes()
    assert _get(s3, bucket, "p/heroku-24/mono-6.14.1.tar.gz") == replaced
    entries = index_entries(_get(s3, bucket, "p/index.json"))
    assert entries[("mono", "6.14.1", "heroku-24")]["sha256"] == \
        hashlib.sha256(replaced).hexdigest()
    assert ("mono", "6.14.1", "heroku-22") in entries


def test_missing_bucket_is_one_line_exit_6(s3: MotoS3, tmp_path: Path) -> None:
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24")
    result = _publish(built.tarball.parent, "s3://no-such-bucket-here/p", s3.env, tmp_path)
    assert result.code == 6
    [line] = _errors(result)
    assert "no-such-bucket-here" in line and "does not exist" in line


def test_server_errors_are_retried(s3: MotoS3, s3_proxy: FaultProxy, tmp_path: Path) -> None:
    bucket = _bucket(s3)
    out = tmp_path / "out"
    big = make_artifact(out, "mono", "6.14.1", "heroku-24", size=BIG)
    small = make_artifact(out, "xsp", "4.7.1", "heroku-24", size=2000)
    parts = s3_proxy.fail(500, method="PUT", path=re.compile(r"partNumber=2"), times=2)
    single = s3_proxy.fail(503, method="PUT", path=f"/{bucket}/p/heroku-24/xsp-", times=1)
    index = s3_proxy.fail(500, method="PUT", path=f"/{bucket}/p/index.json", times=1)
    env = {**s3.env, "AWS_ENDPOINT_URL": s3_proxy.url}

    result = _publish(out, f"s3://{bucket}/p", env, tmp_path)
    assert result.code == 0, result.output
    assert (parts.fired, single.fired, index.fired) == (2, 1, 1)
    assert _get(s3, bucket, "p/heroku-24/mono-6.14.1.tar.gz") == big.data
    assert _get(s3, bucket, "p/heroku-24/xsp-4.7.1.tar.gz") == small.data
    assert set(index_entries(_get(s3, bucket, "p/index.json"))) == {
        ("mono", "6.14.1", "heroku-24"), ("xsp", "4.7.1", "heroku-24")}
    assert _uploads(s3, bucket) == []


def test_dropped_connection_mid_part_is_retried(s3: MotoS3, s3_proxy: FaultProxy,
                                                tmp_path: Path) -> None:
    bucket = _bucket(s3)
    big = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=BIG)
    drop = s3_proxy.drop(method="PUT", path=re.compile(r"partNumber=2"), after_bytes=MIB)
    env = {**s3.env, "AWS_ENDPOINT_URL": s3_proxy.url}

    result = _publish(big.tarball.parent, f"s3://{bucket}/p", env, tmp_path)
    assert result.code == 0, result.output
    assert drop.fired == 1
    assert _get(s3, bucket, "p/heroku-24/mono-6.14.1.tar.gz") == big.data
    assert _uploads(s3, bucket) == []


def test_upload_failing_for_good_publishes_nothing(s3: MotoS3, s3_proxy: FaultProxy,
                                                   tmp_path: Path) -> None:
    bucket, store, index_before = _store_with_one_artifact(s3, tmp_path)

    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=BIG)
    make_artifact(out, "mono", "6.14.1", "heroku-22", size=1000)
    drop = s3_proxy.drop(method="PUT", path=re.compile(r"partNumber=2"), after_bytes=MIB,
                         times=1000)
    env = {**s3.env, "AWS_ENDPOINT_URL": s3_proxy.url, "AWS_MAX_ATTEMPTS": "2"}

    result = _publish(out, store, env, tmp_path)
    assert result.code == 6, result.output
    [line] = _errors(result)
    assert "UploadPart 2" in line and "heroku-24/mono-6.14.1.tar.gz" in line
    assert drop.fired == 2  # botocore's 2 attempts (AWS_MAX_ATTEMPTS), no loop on top
    keys = _keys(s3, bucket)
    assert "p/heroku-24/mono-6.14.1.tar.gz" not in keys
    assert not any(k.startswith("p/heroku-24/mono-6.14.1.") for k in keys)
    assert _uploads(s3, bucket) == []  # aborted: no dangling multipart upload
    assert _get(s3, bucket, "p/index.json") == index_before


def test_index_write_failing_for_good_leaves_it_untouched(s3: MotoS3, s3_proxy: FaultProxy,
                                                          tmp_path: Path) -> None:
    bucket, store, index_before = _store_with_one_artifact(s3, tmp_path)

    new = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=1000)
    rule = s3_proxy.fail(500, method="PUT", path=f"/{bucket}/p/index.json", times=1000)
    env = {**s3.env, "AWS_ENDPOINT_URL": s3_proxy.url, "AWS_MAX_ATTEMPTS": "2"}
    result = _publish(new.tarball.parent, store, env, tmp_path)
    assert result.code == 6, result.output
    assert len(_errors(result)) == 1
    assert rule.fired == 2
    assert _get(s3, bucket, "p/index.json") == index_before

    # the next run finds the bytes stored and completes the publish
    s3_proxy.clear()
    again = _publish(new.tarball.parent, store, env, tmp_path)
    assert again.code == 0, again.output
    assert "heroku-24/mono-6.14.1.tar.gz: stored by an interrupted publish" in again.stderr
    assert ("mono", "6.14.1", "heroku-24") in index_entries(_get(s3, bucket, "p/index.json"))


def test_concurrent_publishers_keep_every_index_entry(s3: MotoS3, tmp_path: Path) -> None:
    bucket = _bucket(s3)
    app = App(Settings.from_env(s3.env))
    publish_concurrently(lambda: app.store(f"s3://{bucket}/p"), tmp_path, 8)


def test_conditional_write_detects_a_stale_tag(s3: MotoS3) -> None:
    check_conditional_writes(S3Store(s3.client(), _bucket(s3), "p", endpoint_url=s3.endpoint))


CHANGES = {"rewritten": lambda data: b"x" * len(data), "grown": lambda data: data + b"x",
           "cut": lambda data: data[:-1]}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("size", [1000, BIG])
def test_a_file_unlike_its_manifest_is_not_staged(s3: MotoS3, tmp_path: Path, size: int,
                                                  change: str) -> None:
    bucket = _bucket(s3)
    built: Built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=size)
    store = S3Store(s3.client(), bucket, "p", endpoint_url=s3.endpoint)
    built.tarball.write_bytes(CHANGES[change](built.data))
    with pytest.raises(PublishError, match="does not match its manifest"):
        store.stage("heroku-24/mono-6.14.1.tar.gz", built.tarball, built.sha256,
                    overwrite=False)
    assert _keys(s3, bucket) == set()
    assert _uploads(s3, bucket) == []


def test_one_tampered_artifact_leaves_the_store_as_it_was(s3: MotoS3, tmp_path: Path
                                                         ) -> None:
    """The big one is staged (its parts sent) before the tampered one is read: the run ends
    with its upload aborted, nothing stored and no upload pending."""
    bucket = _bucket(s3)
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-22", size=BIG)
    bad = make_artifact(out, "mono", "6.14.1", "heroku-24", size=1000)
    bad.tarball.write_bytes(b"\0" * 1000)
    result = _publish(out, f"s3://{bucket}/p", s3.env, tmp_path)
    assert result.code == 6, result.output
    [line] = _errors(result)
    assert "mono-6.14.1-heroku-24.tar.gz does not match its manifest" in line
    assert "rebuild it" in line
    assert _keys(s3, bucket) == set()
    assert _uploads(s3, bucket) == []


def test_a_failed_commit_discards_the_uploads_staged_after_it(s3: MotoS3, tmp_path: Path
                                                              ) -> None:
    """Both uploads are staged; another publisher's object appears under the first key
    before its commit: the run fails naming it, the second upload is aborted, not left."""
    bucket = _bucket(s3)
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-22", size=BIG)
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=BIG)
    store = S3Store(s3.client(), bucket, "p", endpoint_url=s3.endpoint)
    artifacts = collect_artifacts(out)
    checked = check_publish(store, artifacts, force=False)
    assert [s.action for s in checked.plan.steps] == [Action.UPLOAD, Action.UPLOAD]
    s3.client().put_object(Bucket=bucket, Key="p/heroku-22/mono-6.14.1.tar.gz", Body=b"theirs")
    with pytest.raises(PublishError, match="appeared while publishing"):
        publish(store, artifacts, force=False, reporter=RecordingReporter(), checked=checked)
    assert _keys(s3, bucket) == {"p/heroku-22/mono-6.14.1.tar.gz"}
    assert _get(s3, bucket, "p/heroku-22/mono-6.14.1.tar.gz") == b"theirs"
    assert _uploads(s3, bucket) == []


def test_a_staged_upload_is_invisible_until_committed(s3: MotoS3, tmp_path: Path) -> None:
    bucket = _bucket(s3)
    built: Built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24", size=BIG)
    store = S3Store(s3.client(), bucket, "p", endpoint_url=s3.endpoint)
    key = "heroku-24/mono-6.14.1.tar.gz"
    dropped = store.stage(key, built.tarball, built.sha256, overwrite=False)
    kept = store.stage(key, built.tarball, built.sha256, overwrite=False)
    assert _keys(s3, bucket) == set()
    assert len(_uploads(s3, bucket)) == 2
    dropped.discard()
    assert len(_uploads(s3, bucket)) == 1
    kept.commit()
    assert _keys(s3, bucket) == {"p/" + key}
    assert _get(s3, bucket, "p/" + key) == built.data
    assert _uploads(s3, bucket) == []


# -- no credentials: reads are anonymous, writes are refused ------------------------------
def make_public(s3: MotoS3, bucket: str) -> str:
    """A bucket as buildpacks read it: anyone may get objects and list (so a missing key is
    a 404, not a 403). moto enforces this for unsigned requests, like S3; it authorizes a
    HEAD as `s3:HeadObject` (S3 itself: `s3:GetObject`), so the policy names both."""
    s3.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:HeadObject"],
             "Resource": f"arn:aws:s3:::{bucket}/*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": f"arn:aws:s3:::{bucket}"}]}))
    return bucket


def _without_credentials(env: dict[str, str]) -> dict[str, str]:
    """What a job without AWS credentials has: where S3 is, not how to sign for it."""
    return {k: v for k, v in env.items()
            if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}


def _mono_config(tmp_path: Path) -> Path:
    """versions.toml naming mono 6.12.0 (what `_store_with_one_artifact` publishes)."""
    config = tmp_path / "versions.toml"
    config.write_text('[stacks.heroku-24]\nbuild-image = "b"\nrun-image = "r"\n\n'
                      '[components.mono]\nversion = "6.12.0"\n'
                      'source = "https://example.test/mono-{version}.tar.xz"\n'
                      f'sha256 = "{"0" * 64}"\n')
    return config


def test_the_composition_root_signs_only_with_credentials(s3: MotoS3) -> None:
    from botocore import UNSIGNED

    bucket = _bucket(s3)
    signed = App(Settings.from_env(s3.env))
    anonymous = App(Settings.from_env(_without_credentials(s3.env)))
    assert getattr(signed.s3.meta.config, "signature_version", None) is not UNSIGNED
    assert anonymous.s3.meta.config.signature_version is UNSIGNED
    signed_store = signed.store(f"s3://{bucket}/p")
    anonymous_store = anonymous.store(f"s3://{bucket}/p")
    assert isinstance(signed_store, S3Store) and isinstance(anonymous_store, S3Store)
    assert (signed_store.anonymous, anonymous_store.anonymous) == (False, True)


def test_plan_and_notes_read_s3_unsigned_without_credentials(
        s3: MotoS3, s3_proxy: FaultProxy, tmp_path: Path) -> None:
    bucket, store, _ = _store_with_one_artifact(s3, tmp_path)
    make_public(s3, bucket)
    config = _mono_config(tmp_path)
    env = {**_without_credentials(s3.env), "AWS_ENDPOINT_URL": s3_proxy.url}

    plan = run_cli(["--config", str(config), "plan", "--json", "--store", store], env=env,
                   cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert json.loads(plan.stdout) == {"include": []}  # it read the published index
    notes = run_cli(["--config", str(config), "notes", "--store", store], env=env,
                    cwd=tmp_path)
    assert notes.code == 0, notes.output
    assert f"{s3.endpoint}/{bucket}/p/heroku-24/mono-6.12.0.tar.gz" in notes.stdout

    reads = [r for r in s3_proxy.requests if r.method == "GET"]
    assert {r.path for r in reads} >= {f"/{bucket}/p/index.json",
                                       f"/{bucket}/p/heroku-24/mono-6.12.0.json"}
    assert not [r for r in s3_proxy.requests if "authorization" in r.headers]


def test_a_private_bucket_without_credentials_is_one_line_exit_6(s3: MotoS3, tmp_path: Path
                                                                 ) -> None:
    bucket, store, _ = _store_with_one_artifact(s3, tmp_path)  # not public
    config = _mono_config(tmp_path)
    plan = run_cli(["--config", str(config), "plan", "--store", store],
                   env=_without_credentials(s3.env), cwd=tmp_path)
    assert plan.code == 6, plan.output
    [line] = _errors(plan)
    assert line.startswith("error: no AWS credentials: anonymous S3 GetObject of "
                           f"s3://{bucket}/p/index.json was denied")
    assert "public-read" in line and "AWS_ACCESS_KEY_ID" in line


def test_publish_without_credentials_is_one_line_exit_6(s3: MotoS3, tmp_path: Path) -> None:
    bucket, store, index_before = _store_with_one_artifact(s3, tmp_path)
    make_public(s3, bucket)  # reads work; the first write is refused before it is sent
    keys_before = _keys(s3, bucket)
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-24")
    result = _publish(out, store, _without_credentials(s3.env), tmp_path)
    assert result.code == 6, result.output
    [line] = _errors(result)
    assert line.startswith("error: no AWS credentials: ")
    assert "AWS_ACCESS_KEY_ID" in line and "heroku-24/mono-6.14.1.tar.gz" in line
    assert _keys(s3, bucket) == keys_before
    assert _get(s3, bucket, "p/index.json") == index_before


# -- publish --dry-run --------------------------------------------------------------------
def _in_actions(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """`env` as in a GitHub Actions step, and the step summary file it appends to."""
    summary = tmp_path / f"summary-{uuid.uuid4().hex[:8]}.md"
    summary.touch()
    return {**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, summary


def _results(summary: Path) -> dict[str, str]:
    """{artifact key: result} from the markdown table publish writes to the step summary."""
    rows = [line.split(" | ") for line in summary.read_text().splitlines()
            if line.startswith("| ") and "/" in line]
    return {row[0].removeprefix("| "): row[1] for row in rows}


def test_dry_run_checks_everything_and_uploads_nothing(s3: MotoS3, tmp_path: Path) -> None:
    bucket, store, index_before = _store_with_one_artifact(s3, tmp_path)
    make_public(s3, bucket)
    keys_before = _keys(s3, bucket)
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=BIG)
    shutil.copy2(next((tmp_path / "earlier").glob("*.tar.gz")), out)  # published: skipped
    for sidecar in (tmp_path / "earlier").glob("*.json"):
        shutil.copy2(sidecar, out)

    # no credentials needed: the checks only read
    env, summary = _in_actions(_without_credentials(s3.env), tmp_path)
    result = _publish(out, store, env, tmp_path, "--dry-run")
    assert result.code == 0, result.output
    assert _results(summary) == {"heroku-24/mono-6.14.1.tar.gz": "would publish",
                                 "heroku-24/mono-6.12.0.tar.gz": "already published"}
    assert f"dry run, nothing uploaded to {store}" in summary.read_text()
    assert f"would upload {s3.endpoint}/{bucket}/p/heroku-24/mono-6.14.1.tar.gz " \
        f"({BIG} bytes" in result.stderr
    assert "dry run: index.json would be updated" in result.stderr
    assert _keys(s3, bucket) == keys_before
    assert _get(s3, bucket, "p/index.json") == index_before
    assert _uploads(s3, bucket) == []


def test_dry_run_reports_a_refusal_with_exit_6(s3: MotoS3, tmp_path: Path) -> None:
    bucket, store, index_before = _store_with_one_artifact(s3, tmp_path)
    out = tmp_path / "out"
    make_artifact(out, "mono", "6.12.0", "heroku-24", size=1000)  # other bytes, same key
    make_artifact(out, "mono", "6.14.1", "heroku-24", size=1000)
    env, summary = _in_actions(s3.env, tmp_path)
    result = _publish(out, store, env, tmp_path, "--dry-run")
    assert result.code == 6, result.output
    assert _results(summary) == {
        "heroku-24/mono-6.12.0.tar.gz": "would be REFUSED: different bytes published",
        "heroku-24/mono-6.14.1.tar.gz": "would publish"}
    [line] = [x for x in result.stderr.splitlines() if x.startswith("::error")]
    assert "write-once" in line and "nothing was uploaded" in line
    assert "would upload" not in result.stderr

    env, summary = _in_actions(s3.env, tmp_path)
    forced = _publish(out, store, env, tmp_path, "--dry-run", "--force")
    assert forced.code == 0, forced.output
    assert _results(summary)["heroku-24/mono-6.12.0.tar.gz"] == "would replace (--force)"
    assert "would replace " in forced.stderr
    assert _get(s3, bucket, "p/index.json") == index_before
    assert not any(k.startswith("p/heroku-24/mono-6.14.1") for k in _keys(s3, bucket))
