"""The file helpers every part of the bot shares: a file's sha256, an atomic write, the
sha256 pattern. One of each; nothing else in bot/ hashes a file or renames a temp file."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def is_sha256(text: str) -> bool:
    """True for exactly 64 lowercase hex digits."""
    return SHA256_HEX.fullmatch(text) is not None


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file's bytes, streamed (never read whole into memory)."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def atomic_write(path: str | Path, data: str | bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` atomically: a temp file in the same folder, renamed over it.

    Text is written as UTF-8 with newlines as given. An existing file keeps its mode.
    `durable=False` skips the fsync, for caches whose loss only costs a refetch."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if p.exists():
            Path(tmp).chmod(p.stat().st_mode & 0o777)
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
