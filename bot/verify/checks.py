"""What an index entry claims against what its URLs give (pure functions, no I/O).

Each check returns `Problem`s: a short `kind` (the table's result column) and a one-line
`detail`. An entry is good when no check finds a problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.build.manifest import Manifest
from bot.errors import PublishError
from bot.store.layout import IndexEntry, artifact_key
from bot.verify.reader import Fetched

MISSING = "missing"
TRUNCATED = "truncated"
DIFFERENT = "different bytes"
UNREADABLE = "unreadable"
SIDECAR = "sidecar disagrees"
SIDECAR_MISSING = "sidecar missing"
MANIFEST = "manifest disagrees"
MANIFEST_MISSING = "manifest missing"
OUTSIDE = "outside the prefix"
MISPLACED = "wrong key"
WRONG_URL = "wrong url"
DUPLICATE = "listed twice"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    detail: str


def _short(sha256: str) -> str:
    return sha256[:12] + "…"


def _unreachable(what: str, got: Fetched, *, missing: str = MISSING,
                 unreadable: str = UNREADABLE) -> Problem:
    """A read that did not give the whole body: missing (404/410/no file) or unreadable."""
    if got.status in (404, 410) or got.error == "no such file":
        return Problem(missing, f"{what} {got.url} is missing ({got.error})")
    return Problem(unreadable, f"{what} {got.url} could not be read ({got.error})")


def placement(entry: IndexEntry, expected_url: str | None, base_url: str) -> list[Problem]:
    """The entry's key and url must name its own place under the store's prefix.

    `expected_url` is where the store publishes `entry.key` (None: the key cannot be a key
    of this store, e.g. it climbs out with `..`); `base_url` is the prefix's public URL.
    """
    parts = entry.key.split("/")
    if expected_url is None or entry.key.startswith("/") or "\\" in entry.key or \
            any(p in ("", ".", "..") for p in parts):
        return [Problem(OUTSIDE, f"key {entry.key[:120]!r} is outside the store's prefix")]
    if entry.url != expected_url:
        path = urlsplit(entry.url).path
        if not entry.url.startswith(base_url) or any(
                p in (".", "..") for p in unquote(path).split("/")):
            return [Problem(OUTSIDE, f"url {entry.url[:200]} is outside the store's prefix "
                                     f"{base_url}")]
        return [Problem(WRONG_URL, f"url {entry.url[:200]} is not where key {entry.key} is "
                                   f"published ({expected_url})")]
    try:
        wanted = artifact_key(entry.component, entry.version, entry.stack, entry.arch)
    except PublishError as exc:
        return [Problem(MISPLACED, exc.message)]
    if entry.key != wanted:
        return [Problem(MISPLACED, f"key {entry.key} does not belong to {entry.component} "
                                   f"{entry.version} ({entry.stack}); expected {wanted}")]
    return []


def artifact(entry: IndexEntry, got: Fetched) -> list[Problem]:
    """The tarball: the whole body read, with the index's size and sha256."""
    if got.over_limit:
        return [Problem(DIFFERENT, f"{got.url} has more than the {entry.size} bytes the index "
                                   "lists")]
    if got.error:
        if got.status in (None, 200) and 0 < got.size < entry.size:
            return [Problem(TRUNCATED, f"{got.url} ended after {got.size} of {entry.size} "
                                       f"bytes ({got.error})")]
        return [_unreachable("tarball", got)]
    if got.size < entry.size:
        return [Problem(TRUNCATED, f"{got.url} has {got.size} of the {entry.size} bytes the "
                                   "index lists")]
    if got.sha256 != entry.sha256:
        return [Problem(DIFFERENT, f"{got.url} has sha256 {_short(got.sha256)}, the index "
                                   f"lists {_short(entry.sha256)}")]
    return []


def sidecar(entry: IndexEntry, got: Fetched) -> list[Problem]:
    """The `.sha256` beside it: exactly one `<hex>  <file name>` line for these bytes."""
    if not got.ok or got.data is None:
        if got.over_limit:
            return [Problem(SIDECAR, f"{got.url} is not a checksum line (too large)")]
        return [_unreachable("sidecar", got, missing=SIDECAR_MISSING, unreadable=SIDECAR)]
    name = entry.key.rsplit("/", 1)[-1]
    try:
        lines = got.data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        lines = []
    fields = lines[0].split() if len(lines) == 1 else []
    if len(fields) != 2:
        return [Problem(SIDECAR, f"{got.url} is not one '<sha256>  {name}' line")]
    said_sha, said_name = fields[0], fields[1].removeprefix("*")  # `*`: sha256sum -b
    wrong = []
    if said_sha != entry.sha256:
        wrong.append(f"sha256 {_short(said_sha)}, the index lists {_short(entry.sha256)}")
    if said_name != name:
        wrong.append(f"file {said_name[:80]!r}, expected {name!r}")
    return [Problem(SIDECAR, f"{got.url} says {'; '.join(wrong)}")] if wrong else []


def _load(data: bytes) -> Manifest:
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise TypeError("not a JSON object")
    return Manifest.from_dict(raw)


def manifest(entry: IndexEntry, got: Fetched) -> tuple[list[Problem], str | None]:
    """The `.json` beside it names the same artifact; also its base image digest, if any."""
    if not got.ok or got.data is None:
        if got.over_limit:
            return [Problem(MANIFEST, f"{got.url} is too large for a build manifest")], None
        return [_unreachable("manifest", got, missing=MANIFEST_MISSING,
                             unreadable=MANIFEST)], None
    try:
        m = _load(got.data)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError,
            AttributeError, OverflowError, RecursionError) as exc:
        return [Problem(MANIFEST, f"{got.url} is not a build manifest "
                                  f"({type(exc).__name__})")], None
    base = m.base_image_digest
    said = {"component": m.component, "version": m.version, "stack": m.stack,
            "arch": m.arch, "sha256": m.sha256, "size": str(m.size)}
    listed = {"component": entry.component, "version": entry.version, "stack": entry.stack,
              "arch": entry.arch, "sha256": entry.sha256, "size": str(entry.size)}
    differ = [k for k in said if said[k] != listed[k]]
    for values in (said, listed):
        values["sha256"] = _short(values["sha256"][:64])
    wrong = [f"{k} {said[k][:80]!r}, the index lists {listed[k]!r}" for k in differ]
    if wrong:
        return [Problem(MANIFEST, f"{got.url} names {'; '.join(wrong)}")], base
    return [], base
