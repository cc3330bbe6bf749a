"""A store that writes nothing: `release-bot publish --dry-run`.

Reads go to the real store; writes are reported through `echo` ("would upload ...") and kept
in an in-memory overlay, so the rest of a publish (reading `index.json` back after writing
it, a second artifact beside the first) sees what the real run would have seen. Every check
publishing makes (sizes, sha256s, write-once conflicts) runs against the real store; only
the bytes never leave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from bot.store.port import ArtifactStore, Staged, StoredObject, Versioned, check_file


class DryRunStore:
    def __init__(self, inner: ArtifactStore, echo: Callable[[str], None]) -> None:
        self.inner = inner
        self.echo = echo
        self._objects: dict[str, StoredObject] = {}  # what would have been uploaded
        self._small: dict[str, Versioned] = {}  # what would have been put
        self.writes: list[str] = []  # the keys it would have written, in order

    # reads: the real store, overlaid with what this run would have written
    @property
    def url(self) -> str:
        return self.inner.url

    def public_url(self, key: str) -> str:
        return self.inner.public_url(key)

    def stat(self, key: str) -> StoredObject | None:
        if key in self._objects:
            return self._objects[key]
        if key in self._small:
            data = self._small[key].data
            return StoredObject(key, len(data), hashlib.sha256(data).hexdigest())
        return self.inner.stat(key)

    def read(self, key: str) -> Versioned | None:
        if key in self._small:
            return self._small[key]
        return self.inner.read(key)

    def download(self, key: str, dest: Path) -> bool:
        if key in self._small:
            dest.write_bytes(self._small[key].data)
            return True
        return self.inner.download(key, dest)

    # writes: reported, never sent
    def _record(self, key: str, message: str) -> None:
        self.writes.append(key)
        self.echo(f"dry run: would {message}")

    def stage(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> Staged:
        check_file(path, sha256)

        def commit() -> None:
            size = path.stat().st_size
            self._objects[key] = StoredObject(key, size, sha256)
            verb = "replace" if overwrite else "upload"
            self._record(key, f"{verb} {self.public_url(key)} ({size} bytes, sha256 {sha256})")
        return Staged(commit)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._small[key] = Versioned(data, hashlib.sha256(data).hexdigest())
        self._record(key, f"write {self.public_url(key)} ({len(data)} bytes)")

    def put_if(self, key: str, data: bytes, *, expected: str | None, content_type: str
               ) -> bool:
        current = self.read(key)
        if (current.etag if current else None) != expected:
            return False
        self._small[key] = Versioned(data, hashlib.sha256(data).hexdigest())
        self._record(key, f"write {self.public_url(key)} ({len(data)} bytes, "
                     f"{'replacing' if expected else 'creating'} it)")
        return True
