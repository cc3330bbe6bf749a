"""The `file://DIR` store (the embedded default, `./dist/store`): same semantics as S3.

Staging an artifact checks its sha256 (and writes nothing); committing copies it to a
temporary file in the target directory, checks the copy against the sha256, fsyncs, then links
it into place with `os.link`: an atomic create-if-absent (or moved
over the old one with `os.replace` to overwrite). Small objects are `bot.files.atomic_write`s.
Every object is read-only (0444). Conditional writes hold an exclusive `flock` on
`<key>.lock` across read-compare-replace, so concurrent publishers (threads or processes)
serialize; the tag is the sha256 of the bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from bot.errors import PublishError
from bot.files import atomic_write, sha256_file
from bot.store.port import Staged, StoredObject, Versioned, check_file

READ_ONLY = 0o444


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).absolute()
        if self.root not in path.parents or ".." in key.split("/"):
            raise PublishError(f"store key {key!r} escapes {self.root}")
        return path

    def public_url(self, key: str) -> str:
        return self._path(key).as_uri()

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return StoredObject(key, size, sha256_file(path))

    def read(self, key: str) -> Versioned | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        return Versioned(data, hashlib.sha256(data).hexdigest())

    def download(self, key: str, dest: Path) -> bool:
        try:
            shutil.copyfile(self._path(key), dest)
        except FileNotFoundError:
            return False
        return True

    @contextlib.contextmanager
    def _writing(self, final: Path) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise PublishError(f"cannot write to {final.parent} ({exc.strerror}); check the "
                               "directory and its permissions") from None

    def stage(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> Staged:
        check_file(path, sha256)  # the copy is checked again when it is committed
        return Staged(partial(self._store, key, path, sha256, overwrite=overwrite))

    def _store(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> None:
        final = self._path(key)
        with self._writing(final):
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
            os.close(fd)
        tmp = Path(name)
        try:
            shutil.copyfile(path, tmp)
            copied = sha256_file(tmp)  # what is stored, not only what was read
            if copied != sha256:
                raise PublishError(f"{path} changed while publishing (sha256 {copied}, "
                                   f"expected {sha256}); nothing was stored under {key}; "
                                   "rebuild it")
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            tmp.chmod(READ_ONLY)
            if overwrite:
                tmp.replace(final)
                return
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise PublishError(f"{self.public_url(key)} appeared while publishing (another "
                                   "publisher?); rerun to compare it") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _write(self, key: str, data: bytes) -> None:
        final = self._path(key)
        with self._writing(final):
            atomic_write(final, data)
            final.chmod(READ_ONLY)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._write(key, data)

    def put_if(self, key: str, data: bytes, *, expected: str | None, content_type: str
               ) -> bool:
        target = self._path(key)
        lock = target.with_name(f".{target.name}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                current = self.read(key)
                if (current.etag if current else None) != expected:
                    return False
                self._write(key, data)
                return True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
