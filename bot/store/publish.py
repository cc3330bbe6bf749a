"""Publishing built artifacts: collect them, plan purely, then run the plan thinly.

The order is what makes it safe:

1. `collect_artifacts(DIR)`: every manifest in DIR with its tarball, sizes checked.
2. `plan_publish(...)` (pure): per artifact upload / skip (already published) / complete (the
   bytes are stored but an earlier run died before the index, or `--force` rewrites the
   checksum, manifest and index entry beside them) / overwrite (`--force`, other bytes) /
   refuse (different bytes under a published key). Any refusal stops the run before a single
   byte is uploaded.
3. `publish(...)`: every artifact's bytes are checked against its manifest's sha256 before
   anything is visible: an upload is staged (sent, hashed as it is read, not yet visible),
   the others hashed; only when all match are the uploads committed (each all-or-nothing),
   then the `.sha256` and `.json` beside each, and only then `index.json`, with a
   conditional write that re-reads and merges on a conflict
   (`update_index`), so concurrent publishers lose no entry. A failure before the index
   leaves it untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from bot.arch import DEFAULT_ARCH
from bot.build.manifest import load_manifest, utc_iso
from bot.errors import BuildError, PublishError, UsageError
from bot.report import Reporter
from bot.store.layout import (
    INDEX_KEY,
    Index,
    IndexEntry,
    artifact_key,
    check_sha256,
    checksum_key,
    checksum_line,
    manifest_key,
    merge_index,
    read_index,
    render_index,
)
from bot.store.port import ArtifactStore, Staged, StoredObject, check_file

INDEX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class LocalArtifact:
    component: str
    version: str
    stack: str
    key: str
    tarball: Path
    manifest: Path
    sha256: str
    size: int
    arch: str = DEFAULT_ARCH


class Action(StrEnum):
    UPLOAD = "upload"
    SKIP = "skip"
    COMPLETE = "complete"
    OVERWRITE = "overwrite"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Step:
    artifact: LocalArtifact
    action: Action
    reason: str


@dataclass(frozen=True, slots=True)
class PublishPlan:
    steps: tuple[Step, ...]

    def with_action(self, *actions: Action) -> list[Step]:
        return [s for s in self.steps if s.action in actions]


@dataclass(frozen=True, slots=True)
class CheckedPublish:
    """The plan against the store, with the index it was planned on (and its tag)."""

    plan: PublishPlan
    index: Index
    etag: str | None


@dataclass(frozen=True, slots=True)
class PublishResult:
    plan: PublishPlan
    entries: tuple[IndexEntry, ...]
    index_written: bool


def _collect_one(manifest_path: Path) -> LocalArtifact:
    try:
        m = load_manifest(manifest_path)
    except BuildError as exc:
        raise PublishError(exc.message) from None
    key = artifact_key(m.component, m.version, m.stack, m.arch)
    check_sha256(m.sha256, str(manifest_path))
    tarball = manifest_path.with_name(m.artifact)  # load_manifest checked the name
    try:
        size = tarball.stat().st_size
    except FileNotFoundError:
        raise PublishError(f"{tarball} is missing (named by {manifest_path.name}); rebuild "
                           "it with `release-bot build`") from None
    if size != m.size:
        raise PublishError(f"{tarball} does not match its manifest (size {size}; manifest "
                           f"says {m.size}); it was changed or truncated: rebuild it")
    sidecar = tarball.with_name(tarball.name + ".sha256")
    if sidecar.is_file():
        try:
            recorded = sidecar.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError):
            recorded = []
        if not recorded or recorded[0] != m.sha256:
            raise PublishError(f"{sidecar} does not match {tarball.name} (its manifest says "
                               f"sha256 {m.sha256}); rebuild it")
    return LocalArtifact(m.component, m.version, m.stack, key, tarball, manifest_path,
                         m.sha256, size, m.arch)


def collect_artifacts(directory: Path) -> list[LocalArtifact]:
    """Every built artifact in `directory` (a manifest `*.json` beside its `*.tar.gz`)."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory; pass the build output directory")
    manifests = sorted(p for p in directory.glob("*.json")
                       if p.with_suffix(".tar.gz").is_file())
    if not manifests:
        raise UsageError(f"no built artifacts in {directory} (a <name>.json manifest beside "
                         "<name>.tar.gz); run `release-bot build` first")
    artifacts = [_collect_one(p) for p in manifests]
    seen: dict[str, Path] = {}
    for a in artifacts:
        if a.key in seen:
            raise PublishError(f"{seen[a.key].name} and {a.manifest.name} both describe "
                               f"{a.key}; remove one")
        seen[a.key] = a.manifest
    return artifacts


def plan_publish(artifacts: Sequence[LocalArtifact], stored: Mapping[str, StoredObject | None],
                 index: Index, *, force: bool) -> PublishPlan:
    """What to do with each artifact, given what the store holds (pure)."""
    steps: list[Step] = []
    for a in artifacts:
        have = stored.get(a.key)
        if have is None:
            steps.append(Step(a, Action.UPLOAD, f"new, uploading {a.size} bytes"))
        elif have.sha256 == a.sha256 and have.size == a.size:
            entry = index.find(a.component, a.version, a.stack, a.arch)
            if entry is None or entry.sha256 != a.sha256 or entry.key != a.key:
                steps.append(Step(a, Action.COMPLETE, "stored by an interrupted publish, "
                                  "not yet in index.json: completing it"))
            elif force:  # what `verify` asks for when a checksum, manifest or URL is damaged
                steps.append(Step(a, Action.COMPLETE, "already stored: rewriting its .sha256, "
                                  ".json and index entry (--force)"))
            else:
                steps.append(Step(a, Action.SKIP, "already published"))
        else:
            was = (have.sha256 or "unknown")[:12]
            if force:
                steps.append(Step(a, Action.OVERWRITE,
                                  f"replacing stored sha256 {was}… (--force)"))
            else:
                steps.append(Step(a, Action.REFUSE, f"stored sha256 {was}…, built "
                                  f"{a.sha256[:12]}…"))
    return PublishPlan(tuple(steps))


def refusal(plan: PublishPlan) -> PublishError:
    refused = plan.with_action(Action.REFUSE)
    listed = "; ".join(f"{s.artifact.key} ({s.reason})" for s in refused)
    return PublishError(
        f"refusing to replace {len(refused)} published artifact(s) with different bytes: "
        f"{listed}; published artifacts are write-once: bump the version, or pass --force "
        "to replace them; nothing was uploaded")


def update_index(store: ArtifactStore, entries: Sequence[IndexEntry], updated: str, *,
                 known: tuple[Index, str | None] | None = None) -> bool:
    """Add `entries` to index.json with a conditional write; re-read and merge on a conflict.

    A compare-and-swap, not a retry: a refused conditional write means another publisher's
    write landed, so the next round merges into the index it wrote (with N publishers at
    once, each loses at most N-1 rounds). Transport failures are the store client's own
    retries (botocore's standard mode for S3). After a write it is read back and checked to
    hold every entry, so a store whose conditional writes are weaker than S3's (a racing
    check-then-write) still loses nothing. `known` is an index already read with its tag (a
    stale one only costs a refused write). Returns whether the index was written.
    """
    wrote = False
    conflicts = 0
    for _ in range(2 * INDEX_ATTEMPTS):  # writes that are read back, plus conflicts
        index, etag = known if known is not None else read_index(store)
        known = None
        merged = merge_index(index, entries, updated)
        if merged is None:
            return wrote
        if store.put_if(INDEX_KEY, render_index(merged), expected=etag,
                        content_type="application/json"):
            wrote = True  # read back: the loop returns once the index holds every entry
        else:
            conflicts += 1
            if conflicts == INDEX_ATTEMPTS:
                break
    raise PublishError(f"{store.public_url(INDEX_KEY)} kept changing while adding "
                       f"{len(entries)} entries ({INDEX_ATTEMPTS} attempts); the artifacts are "
                       "stored: rerun `release-bot publish` to list them")


def check_publish(store: ArtifactStore, artifacts: Sequence[LocalArtifact], *, force: bool
                  ) -> CheckedPublish:
    """What publishing `artifacts` would do, given what the store holds (reads only)."""
    index, etag = read_index(store)
    stored = {a.key: store.stat(a.key) for a in artifacts}
    return CheckedPublish(plan_publish(artifacts, stored, index, force=force), index, etag)


def _prepare(store: ArtifactStore, step: Step) -> Staged | None:
    """An upload staged, or another tarball hashed: checked against its manifest."""
    a = step.artifact
    if step.action in (Action.UPLOAD, Action.OVERWRITE):
        return store.stage(a.key, a.tarball, a.sha256, overwrite=step.action is Action.OVERWRITE)
    check_file(a.tarball, a.sha256)
    return None


def _commit(store: ArtifactStore, plan: PublishPlan, reporter: Reporter) -> None:
    """Every artifact checked before any upload is made visible; what was staged but not
    committed is discarded on a failure."""
    staged: list[Staged] = []
    try:
        for step in plan.steps:
            reporter.info(f"{step.artifact.key}: {step.reason}")
            if (one := _prepare(store, step)) is not None:
                staged.append(one)
        while staged:
            staged[0].commit()
            staged.pop(0)
    except BaseException:
        for one in staged:
            one.discard()
        raise


def publish(store: ArtifactStore, artifacts: Sequence[LocalArtifact], *, force: bool,
            reporter: Reporter, checked: CheckedPublish | None = None) -> PublishResult:
    """Plan against the store (unless `checked` already did), refuse or upload, then update
    index.json last."""
    checked = checked or check_publish(store, artifacts, force=force)
    plan, index, etag = checked.plan, checked.index, checked.etag
    if plan.with_action(Action.REFUSE):
        raise refusal(plan)
    published = utc_iso(datetime.now(UTC))
    _commit(store, plan, reporter)
    for step in plan.steps:
        a = step.artifact
        if step.action is not Action.SKIP:
            store.put(checksum_key(a.key), checksum_line(a.key, a.sha256),
                      content_type="text/plain")
            store.put(manifest_key(a.key), a.manifest.read_bytes(),
                      content_type="application/json")
    entries = tuple(IndexEntry(a.component, a.version, a.stack, a.key, store.public_url(a.key),
                               a.sha256, a.size, published, a.arch)
                    for a in (s.artifact for s in plan.steps))
    written = update_index(store, entries, published, known=(index, etag))
    return PublishResult(plan, entries, written)
