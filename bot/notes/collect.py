"""Gather the facts of release notes: build manifests, the store's index, smoke results.

What the notes list is what a buildpack downloads: every artifact's URL, sha256 and size come
from the store's `index.json` (`artifact_rows`); one that the store does not hold with the
same bytes is listed as not published, with a warning. Manifests come from a build output
directory (`local_manifests`) or from beside the artifacts in the store (`store_manifests`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.arch import ARCHES, DEFAULT_ARCH
from bot.build.manifest import Manifest, load_manifest
from bot.config import Config
from bot.config.model import Upstream
from bot.errors import PublishError, UsageError
from bot.notes.model import NoteArtifact, NoteComponent, NoteSmoke, ReleaseNotes
from bot.store.layout import Index, IndexEntry, manifest_key
from bot.store.port import ArtifactStore

NOT_PUBLISHED = "not published"
# owner/name as GitHub allows them (GITHUB_REPOSITORY)
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """A build manifest and its bytes as published (attached to the GitHub Release)."""

    manifest: Manifest
    data: bytes

    @property
    def name(self) -> str:
        return f"{self.manifest.stem}.json"


def local_manifests(directory: Path) -> list[ManifestFile]:
    """Every build manifest (`*.json` beside its `*.tar.gz`) in a build output directory."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory; pass the build output directory "
                         "with --artifacts")
    paths = sorted(p for p in directory.glob("*.json") if p.with_suffix(".tar.gz").is_file())
    return [ManifestFile(load_manifest(p), p.read_bytes()) for p in paths]


def current_entries(config: Config, index: Index) -> list[IndexEntry]:
    """The index entries of the versions versions.toml names now (older ones are history)."""
    wanted = {(c.name, c.version.text) for c in config.components.values()}
    return [e for e in index.entries if (e.component, e.version) in wanted]


def store_manifests(store: ArtifactStore, entries: Iterable[IndexEntry]) -> list[ManifestFile]:
    """The manifests published beside `entries` (`<stack>/<component>-<version>.json`)."""
    manifests = []
    for entry in entries:
        key = manifest_key(entry.key)
        stored = store.read(key)
        if stored is None:
            raise PublishError(f"{store.public_url(key)} is missing (the manifest of "
                               f"{entry.key}); republish it with `release-bot publish`")
        try:
            manifest = Manifest.from_dict(json.loads(stored.data.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError,
                AttributeError, OverflowError, RecursionError) as exc:
            raise PublishError(f"{store.public_url(key)} is not a build manifest "
                               f"({type(exc).__name__}); republish it with "
                               "`release-bot publish`") from None
        manifests.append(ManifestFile(manifest, stored.data))
    return manifests


def upstream_link(upstream: Upstream) -> str | None:
    """A page where people see the upstream's releases."""
    if upstream.type.startswith("github") and upstream.repo:
        return f"https://github.com/{upstream.repo}/releases"
    if upstream.type == "gitlab-tags" and upstream.url and upstream.repo:
        return f"{upstream.url.rstrip('/')}/{upstream.repo}/-/tags"
    return upstream.url


def components(manifests: Sequence[Manifest], config: Config | None) -> tuple[NoteComponent, ...]:
    """One entry per (component, version) built, in build order (requirements first)."""
    seen: dict[tuple[str, str], Manifest] = {}
    for m in manifests:
        seen.setdefault((m.component, m.version), m)
    order = config.build_order([c for c in dict.fromkeys(k[0] for k in seen)
                                if c in config.components]) if config else []

    def rank(key: tuple[str, str]) -> tuple[int, str, str]:
        name, version = key
        return (order.index(name) if name in order else len(order), name, version)

    notes: list[NoteComponent] = []
    for key in sorted(seen, key=rank):
        m = seen[key]
        links: tuple[str, ...] = ()
        if config is not None and m.component in config.components:
            found = (upstream_link(u) for u in config.components[m.component].upstream)
            links = tuple(dict.fromkeys(link for link in found if link))
        notes.append(NoteComponent(m.component, m.version, m.source.url, m.source.sha256,
                                   links))
    return tuple(notes)


def attestation_command(manifest: Manifest, repository: str) -> str:
    """The command that checks the artifact's attestation (it names the tarball as built:
    the attestation's subject; `gh` matches by sha256, so any saved name works)."""
    name = manifest.artifact
    return f"gh attestation verify {shlex.quote(name)} --repo {repository}"


def artifact_rows(manifests: Sequence[Manifest], index: Index, repository: str = ""
                  ) -> tuple[tuple[NoteArtifact, ...], list[str]]:
    """The artifacts with their download URL from the index; warnings for the unpublished.
    With `repository` (owner/name), each published one names its attestation check."""
    rows: list[NoteArtifact] = []
    warnings: list[str] = []
    for m in sorted(manifests, key=lambda m: (m.stack, m.arch, m.component, m.version)):
        entry = index.find(m.component, m.version, m.stack, m.arch)
        url = NOT_PUBLISHED
        if entry is None:
            warnings.append(f"{m.artifact} is not in the store's index; the notes list it as "
                            "not published (run `release-bot publish` first)")
        elif entry.sha256 != m.sha256:
            warnings.append(f"the store holds other bytes for {m.artifact} (sha256 "
                            f"{entry.sha256[:12]}…, built {m.sha256[:12]}…); the notes list "
                            "it as not published")
        else:
            url = entry.url
        against = ", ".join(f"{name} {dep.version}" for name, dep in
                            sorted(m.built_against.items()))
        rows.append(NoteArtifact(
            m.component, m.version, m.stack, url, m.sha256, m.size, m.builder_image, against,
            base_image=m.base_image_digest or "",
            attestation_command=attestation_command(m, repository)
            if repository and url != NOT_PUBLISHED else "", arch=m.arch))
    return tuple(rows), warnings


def _smoke(item: Any, default_stack: str, where: Path) -> NoteSmoke:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or \
            not isinstance(item.get("passed"), bool):
        raise UsageError(f"{where}: each smoke result needs a name and passed (true/false); "
                         "pass the output of `release-bot smoke --json`")
    try:
        seconds = float(item.get("seconds") or 0.0)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: smoke result {item['name']!r} has seconds "
                         f"{item.get('seconds')!r}, which is not a number") from None
    detail = str(item.get("detail") or "")
    if item.get("http_status") is not None:
        detail = f"{detail} (HTTP {item['http_status']}".rstrip() + (
            f", {float(item['latency_ms']):.0f} ms)" if item.get("latency_ms") is not None
            else ")")
    arch = item.get("arch") or DEFAULT_ARCH
    if arch not in ARCHES:
        raise UsageError(f"{where}: smoke result {item['name']!r} has arch {arch!r}, not one "
                         f"of {', '.join(ARCHES)}; pass the output of `release-bot smoke --json`")
    return NoteSmoke(item["name"], str(item.get("stack") or default_stack), item["passed"],
                     seconds, detail.strip(), str(item.get("output_excerpt") or ""), arch)


def load_smoke_results(path: Path, default_stack: str = "") -> tuple[NoteSmoke, ...]:
    """Smoke results as `release-bot smoke --json` prints them or `release-bot run` saves
    them (a list of results, each with its `stack`; `default_stack` when one has none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no smoke results at {path}; write them with `release-bot smoke "
                         f"--json > {path}`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read smoke results {path} ({type(exc).__name__}); pass "
                         "the output of `release-bot smoke --json`") from None
    if not isinstance(data, list):
        raise UsageError(f"{path} is not a list of smoke results; pass the output of "
                         "`release-bot smoke --json`")
    return tuple(_smoke(item, default_stack, path) for item in data)


def merge_smoke_results(paths: Sequence[Path], default_stack: str = ""
                        ) -> tuple[NoteSmoke, ...]:
    """The results of several files (one per stack, say), in order; a check of a stack
    found in two files is refused (the same results passed twice, or two runs mixed)."""
    seen: dict[tuple[str, str, str], Path] = {}
    merged: list[NoteSmoke] = []
    for path in paths:
        for result in load_smoke_results(path, default_stack):
            key = (result.stack, result.arch, result.name)
            if key in seen:
                arch = "" if result.arch == DEFAULT_ARCH else f" ({result.arch})"
                where = f" on stack {result.stack}{arch}" if result.stack else ""
                raise UsageError(f"smoke check {result.name!r}{where} is in both {seen[key]} "
                                 f"and {path}; pass each stack's results once")
            seen[key] = path
            merged.append(result)
    return tuple(merged)


def smoke_to_json(stack: str, results: Iterable[Any], arch: str = DEFAULT_ARCH
                  ) -> list[dict[str, Any]]:
    """SmokeResults of one stack and architecture as `load_smoke_results` reads them back
    (`arch` left out for amd64, as before architectures existed)."""
    return [r.to_json(stack, None if arch == DEFAULT_ARCH else arch) for r in results]


def build_notes(manifests: Sequence[Manifest], index: Index, config: Config | None, *,
                smoke: Sequence[NoteSmoke] = (), unchecked: Sequence[str] = (),
                smoke_runtime: str = "", repository: str | None = None,
                attestation_url: str | None = None) -> tuple[ReleaseNotes, list[str]]:
    """The notes of `manifests` (pure): URLs from `index`; warnings for what is missing.

    With `attestation_url` (`--attestation-url`: this run's publish job attested what it
    uploaded) the notes link it, and `repository` (GITHUB_REPOSITORY, owner/name) gives
    each published artifact its `gh attestation verify` command; without an attestation
    the notes name no command that could not succeed."""
    if not manifests:
        raise UsageError("no artifacts to write notes about; build them (`release-bot "
                         "build`) or publish them first")
    url = (attestation_url or "").strip()
    if url and not re.fullmatch(r"https?://\S+", url):
        raise UsageError(f"--attestation-url {url[:80]!r} is not an http(s) URL; pass the "
                         "attestation-url output of actions/attest-build-provenance")
    warnings: list[str] = []
    repo = (repository or "").strip()
    if repo and not REPOSITORY.fullmatch(repo):
        warnings.append(f"GITHUB_REPOSITORY {repo[:80]!r} is not owner/name; the notes "
                        "leave out the `gh attestation verify` commands")
        repo = ""
    artifacts, missing = artifact_rows(manifests, index, repo if url else "")
    notes = ReleaseNotes(components(manifests, config), artifacts, tuple(smoke),
                         tuple(unchecked), smoke_runtime, attestation_url=url)
    return notes, warnings + missing
