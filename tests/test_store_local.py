"""The `file://DIR` store and `release-bot publish` on it: the same write-once semantics as S3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import PublishError
from bot.store import LocalStore
from bot.store.dryrun import DryRunStore
from bot.store.layout import INDEX_KEY
from bot.store.publish import Action, collect_artifacts, publish
from tests.builtartifacts import index_entries, make_artifact
from tests.clirunner import CliResult, run_cli
from tests.recording import RecordingReporter
from tests.storecontract import check_conditional_writes, publish_concurrently

REPO = Path(__file__).resolve().parents[1]


def _publish(out: Path, store: Path, cwd: Path, *extra: str) -> CliResult:
    return run_cli(["publish", str(out), "--store", f"file://{store}", *extra], env={}, cwd=cwd)


def _errors(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_publish_then_skip(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    built = make_artifact(out, "mono", "6.14.1", "heroku-24", size=70_000)

    result = _publish(out, store, tmp_path)
    assert result.code == 0, result.output
    assert _files(store) == {"index.json", ".index.json.lock", "heroku-24/mono-6.14.1.tar.gz",
                             "heroku-24/mono-6.14.1.sha256", "heroku-24/mono-6.14.1.json"}
    tarball = store / "heroku-24/mono-6.14.1.tar.gz"
    assert tarball.read_bytes() == built.data
    assert (store / "heroku-24/mono-6.14.1.sha256").read_text() == \
        f"{built.sha256}  mono-6.14.1.tar.gz\n"
    assert (store / "heroku-24/mono-6.14.1.json").read_bytes() == built.manifest.read_bytes()
    # sha256sum -c works in the store directory, as a buildpack would use it
    check = subprocess.run(["sha256sum", "-c", "mono-6.14.1.sha256"], cwd=store / "heroku-24",
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    entry = index_entries((store / "index.json").read_bytes())[("mono", "6.14.1", "heroku-24")]
    assert entry["url"] == tarball.as_uri()
    assert (entry["sha256"], entry["size"]) == (built.sha256, built.size)

    index_before = (store / "index.json").read_bytes()
    mtime = tarball.stat().st_mtime_ns
    again = _publish(out, store, tmp_path)
    assert again.code == 0, again.output
    assert "heroku-24/mono-6.14.1.tar.gz: already published" in again.stderr
    assert (store / "index.json").read_bytes() == index_before
    assert tarball.stat().st_mtime_ns == mtime


def test_default_store_is_dist_store(tmp_path: Path) -> None:
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24")
    result = run_cli(["publish", "out"], env={}, cwd=tmp_path)
    assert result.code == 0, result.output
    assert (tmp_path / "dist/store/heroku-24/mono-6.14.1.tar.gz").read_bytes() == built.data
    via_env = run_cli(["publish", "out"], env={"RELEASE_BOT_STORE": "file://elsewhere"},
                      cwd=tmp_path)
    assert via_env.code == 0, via_env.output
    assert (tmp_path / "elsewhere/heroku-24/mono-6.14.1.tar.gz").is_file()


def test_different_bytes_refused_then_forced(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = make_artifact(tmp_path / "one", "mono", "6.14.1", "heroku-24")
    assert _publish(first.tarball.parent, store, tmp_path).code == 0
    index_before = (store / "index.json").read_bytes()

    out = tmp_path / "two"
    second = make_artifact(out, "mono", "6.14.1", "heroku-24")
    make_artifact(out, "xsp", "4.7.1", "heroku-24")
    result = _publish(out, store, tmp_path)
    assert result.code == 6
    [line] = _errors(result)
    assert "refusing to replace 1 published artifact(s)" in line and "--force" in line
    assert not (store / "heroku-24/xsp-4.7.1.tar.gz").exists()
    assert (store / "heroku-24/mono-6.14.1.tar.gz").read_bytes() == first.data
    assert (store / "index.json").read_bytes() == index_before

    forced = _publish(out, store, tmp_path, "--force")
    assert forced.code == 0, forced.output
    assert (store / "heroku-24/mono-6.14.1.tar.gz").read_bytes() == second.data
    entries = index_entries((store / "index.json").read_bytes())
    assert entries[("mono", "6.14.1", "heroku-24")]["sha256"] == second.sha256
    assert ("xsp", "4.7.1", "heroku-24") in entries
    assert not list(store.rglob("*.tmp"))


def test_tampered_artifact_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    make_artifact(out, "mono", "6.14.1", "heroku-22")
    bad = make_artifact(out, "mono", "6.14.1", "heroku-24", size=1000)
    bad.tarball.write_bytes(b"\0" * 1000)
    result = _publish(out, store, tmp_path)
    assert result.code == 6
    [line] = _errors(result)
    assert "does not match its manifest" in line and "rebuild" in line
    assert not store.exists()


def test_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = _publish(tmp_path / "out", tmp_path / "store", tmp_path)
    assert result.code == 2
    assert "no built artifacts" in result.stderr


def test_corrupt_index_is_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.json").write_text("{not json")
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24")
    result = _publish(built.tarball.parent, store, tmp_path)
    assert result.code == 6
    [line] = _errors(result)
    assert "index.json is not a release-bot index" in line
    assert (store / "index.json").read_text() == "{not json"


def test_upload_is_all_or_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24")
    key = "heroku-24/mono-6.14.1.tar.gz"
    with pytest.raises(PublishError, match="does not match its manifest"):
        store.stage(key, built.tarball, "0" * 64, overwrite=False)
    original = built.data
    staged = store.stage(key, built.tarball, built.sha256, overwrite=False)
    built.tarball.write_bytes(b"x" * len(original))  # after staging, before the commit
    with pytest.raises(PublishError, match="changed while publishing"):
        staged.commit()
    assert _files(tmp_path / "store") == set()

    built.tarball.write_bytes(original)
    store.stage(key, built.tarball, built.sha256, overwrite=False).commit()
    staged = store.stage(key, built.tarball, built.sha256, overwrite=False)
    with pytest.raises(PublishError, match="appeared while publishing"):
        staged.commit()
    assert _files(tmp_path / "store") == {"heroku-24/mono-6.14.1.tar.gz"}


def test_conditional_write_detects_a_stale_tag(tmp_path: Path) -> None:
    check_conditional_writes(LocalStore(tmp_path / "store"))


def test_concurrent_threads_keep_every_index_entry(tmp_path: Path) -> None:
    publish_concurrently(lambda: LocalStore(tmp_path / "store"), tmp_path, 8)


def test_concurrent_processes_keep_both_index_entries(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for version in ("6.14.1", "6.14.2"):
        make_artifact(tmp_path / version, "mono", version, "heroku-24", size=200_000)
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "publish", str(tmp_path / v),
                               "--store", f"file://{store}"],
                              cwd=tmp_path, env={"PYTHONPATH": str(REPO)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for v in ("6.14.1", "6.14.2")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert set(index_entries((store / "index.json").read_bytes())) == {
        ("mono", "6.14.1", "heroku-24"), ("mono", "6.14.2", "heroku-24")}


# -- publish --dry-run: the dry-run store --------------------------------------------------
def test_dry_run_store_keeps_the_contract_and_writes_nothing(tmp_path: Path) -> None:
    said: list[str] = []
    store = DryRunStore(LocalStore(tmp_path / "store"), said.append)
    check_conditional_writes(store)  # a publish reads back what it would have written
    assert not (tmp_path / "store").exists()
    assert store.writes == [INDEX_KEY, INDEX_KEY]
    assert [line.split(" ", 4)[:4] for line in said] == [["dry", "run:", "would", "write"]] * 2


def test_dry_run_publish_plans_in_write_order_against_the_real_store(tmp_path: Path) -> None:
    out, root = tmp_path / "out", tmp_path / "store"
    published = make_artifact(out / "one", "mono", "6.14.1", "heroku-22")
    assert _publish(published.tarball.parent, root, tmp_path).code == 0
    files_before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    make_artifact(out / "one", "xsp", "4.7.1", "heroku-22")

    said: list[str] = []
    store = DryRunStore(LocalStore(root), said.append)
    reporter = RecordingReporter()
    result = publish(store, collect_artifacts(out / "one"), force=False, reporter=reporter)
    assert [(s.artifact.key, s.action) for s in result.plan.steps] == [
        ("heroku-22/mono-6.14.1.tar.gz", Action.SKIP),
        ("heroku-22/xsp-4.7.1.tar.gz", Action.UPLOAD)]
    assert result.index_written
    assert store.writes == ["heroku-22/xsp-4.7.1.tar.gz", "heroku-22/xsp-4.7.1.sha256",
                            "heroku-22/xsp-4.7.1.json", INDEX_KEY]
    assert said[0].startswith(f"dry run: would upload {(root / store.writes[0]).as_uri()} ")
    # the real store is untouched, and what the dry run would have indexed is complete
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == files_before
    index = store.read(INDEX_KEY)
    assert index is not None
    assert set(index_entries(index.data)) == {("mono", "6.14.1", "heroku-22"),
                                              ("xsp", "4.7.1", "heroku-22")}


def test_dry_run_cli_reports_and_refuses_like_the_real_run(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    make_artifact(out, "mono", "6.14.1", "heroku-24")
    result = _publish(out, store, tmp_path, "--dry-run")
    assert result.code == 0, result.output
    assert "dry run: would upload" in result.stderr
    assert "dry run: index.json would be updated" in result.stderr
    assert not store.exists()

    assert _publish(out, store, tmp_path).code == 0
    files = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    again = _publish(out, store, tmp_path, "--dry-run")
    assert again.code == 0, again.output
    assert "dry run: index.json already lists every artifact" in again.stderr
    assert "would upload" not in again.stderr

    make_artifact(out, "mono", "6.14.1", "heroku-24")  # other bytes under a published key
    refused = _publish(out, store, tmp_path, "--dry-run")
    assert refused.code == 6, refused.output
    [line] = _errors(refused)
    assert "write-once" in line and "nothing was uploaded" in line
    bad = make_artifact(out, "mono", "6.14.1", "heroku-22", size=1000)
    bad.tarball.write_bytes(b"\0" * 1000)  # the size and sha256 checks run too
    tampered = _publish(out, store, tmp_path, "--dry-run", "--force")
    assert tampered.code == 6
    assert "does not match its manifest" in _errors(tampered)[0]
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == files


@pytest.mark.parametrize("index", [
    '{"schema": 1, "artifacts": [{"component": "mono", "version": "1", "stack": "s", '
    '"key": "k", "url": "u", "sha256": "x", "size": Infinity, "published": "t"}]}',
    '{"schema": 1, "artifacts": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
def test_hostile_index_is_one_line_exit_6_and_left_alone(tmp_path: Path, index: str) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.json").write_text(index)
    built = make_artifact(tmp_path / "out", "mono", "6.14.1", "heroku-24")
    result = _publish(built.tarball.parent, store, tmp_path)
    assert result.code == 6, result.output[-2000:]
    [line] = _errors(result)
    assert "index.json is not a release-bot index" in line
    assert (store / "index.json").read_text() == index


def test_undecodable_checksum_file_is_one_line_exit_6(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    built = make_artifact(out, "mono", "6.14.1", "heroku-24")
    (out / (built.tarball.name + ".sha256")).write_bytes(b"\xff\xfe not a checksum\n")
    result = _publish(out, store, tmp_path)
    assert result.code == 6, result.output[-2000:]
    [line] = _errors(result)
    assert "does not match mono-6.14.1-heroku-24.tar.gz" in line and "rebuild" in line
    assert not store.exists()
