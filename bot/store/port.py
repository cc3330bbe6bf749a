"""The artifact store port: the few operations publishing needs, over S3 or a directory.

Keys are relative to the store's prefix and use `/`. Adapters raise `PublishError` (one line,
naming the fix) for anything that goes wrong; they never leave a partial object under a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.errors import PublishError
from bot.files import sha256_file


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str | None  # as recorded when it was stored; None: unknown (not ours)


@dataclass(frozen=True, slots=True)
class Versioned:
    """An object's bytes and the tag a conditional write compares against."""

    data: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class Staged:
    """A file checked (and, by a store that can, already sent) but not yet visible under its
    key: `commit` makes it so (all or nothing), `discard` drops what was sent."""

    commit: Callable[[], None]
    discard: Callable[[], None] = lambda: None


def mismatch(path: Path, actual: str, expected: str) -> PublishError:
    """The one error for a file whose bytes are not the ones its manifest describes."""
    return PublishError(f"{path} does not match its manifest (sha256 {actual}; manifest says "
                        f"{expected}); it was changed or truncated: rebuild it")


def check_file(path: Path, sha256: str) -> None:
    """Hash the file at `path`; `mismatch` unless it is `sha256`."""
    if (actual := sha256_file(path)) != sha256:
        raise mismatch(path, actual, sha256)


class ArtifactStore(Protocol):
    @property
    def url(self) -> str:
        """The store as the user wrote it (s3://bucket/prefix, file:///abs/dir)."""

    def public_url(self, key: str) -> str:
        """Where a buildpack downloads `key` from."""

    def stat(self, key: str) -> StoredObject | None:
        """What is stored under `key`, or None."""

    def read(self, key: str) -> Versioned | None:
        """A small object's bytes and tag, or None."""

    def download(self, key: str, dest: Path) -> bool:
        """Stream the object under `key` into the file `dest`, never whole in memory; False
        when there is none."""

    def stage(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> Staged:
        """Send the file at `path` toward `key`, its bytes checked against `sha256` as they
        are read (`mismatch`), without making them visible under `key`.

        Without `overwrite`, the commit does not replace an object that appeared under `key`
        meanwhile (PublishError).
        """

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store a small object (a checksum or manifest beside an artifact)."""

    def put_if(self, key: str, data: bytes, *, expected: str | None, content_type: str
               ) -> bool:
        """Store `data` only if `key` still has tag `expected` (None: only if absent).

        False when someone else changed it first (re-read, merge, try again).
        """
