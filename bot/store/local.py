"""The `file://DIR` store (the embedded default, `./dist/store`): same semantics as S3.

Objects are written to a temporary file in the target directory, fsynced, then moved into
place: `os.link` when the key must not exist yet (atomic create-if-absent), `os.replace` to
overwrite. Conditional writes hold an exclusive `flock` on `<key>.lock` across
read-compare-replace, so concurrent publishers (threads or processes) serialize; the tag is
the sha256 of the bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.errors import PublishError
from bot.files import sha256_file
from bot.store.port import StoredObject, Versioned

CHUNK = 1 << 20


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
    def _staged(self, key: str) -> Iterator[tuple[Path, Path]]:
        """(final path, temporary path in the same directory); the temporary is always removed."""
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        except OSError as exc:
            raise PublishError(f"cannot write to {final.parent} ({exc.strerror}); check the "
                               "directory and its permissions") from None
        os.close(fd)
        tmp = Path(name)
        try:
            yield final, tmp
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, final: Path, *, overwrite: bool) -> None:
        tmp.chmod(0o444)
        if overwrite:
            tmp.replace(final)
            return
        try:
            os.link(tmp, final)
        except FileExistsError:
            raise PublishError(f"{self.public_url(final.relative_to(self.root).as_posix())} "
                               "appeared while publishing (another publisher?); rerun to "
                               "compare it") from None

    def upload(self, key: str, path: Path, sha256: str, *, overwrite: bool) -> None:
        with self._staged(key) as (final, tmp):
            digest = hashlib.sha256()
            with path.open("rb") as src, tmp.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if digest.hexdigest() != sha256:
                raise PublishError(f"{path} changed while publishing (sha256 "
                                   f"{digest.hexdigest()}, expected {sha256}); nothing was stored "
                                   f"under {key}; rebuild it")
            self._commit(tmp, final, overwrite=overwrite)

    def _write(self, key: str, data: bytes) -> None:
        with self._staged(key) as (final, tmp):
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self._commit(tmp, final, overwrite=True)

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
