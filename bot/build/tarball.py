"""Reproducible tarballs of /app, and the timestamp they carry.

The artifact holds paths relative to /app (``bin/mono``, ``lib/...``; extract it with
``tar -xzf ARTIFACT -C /app``), in byte order of their names, every entry with uid/gid 0,
owner names ``root``, mtime SOURCE_DATE_EPOCH and a normalised mode (directories and
executables 0755, other files 0644; setuid/setgid bits dropped). Hard links are stored as
regular files (their order would otherwise depend on the sort). The gzip stream has mtime 0
and no file name (what ``gzip -n`` writes), so equal trees give byte-identical tarballs.

SOURCE_DATE_EPOCH is the newest member mtime inside the version's source tarball: a property
of the pinned bytes, the same on every rebuild, and a meaningful date (the release). When
the source has no usable mtimes it falls back to a value derived from its sha256 (stable,
though not a real date).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bot.errors import BuildError

# 2000-01-01: hash-derived epochs land between this and ~2033 (never before any real release)
_FALLBACK_BASE = 946684800
_FALLBACK_SPAN = 1 << 30


def source_date_epoch(source: Path, sha256: str) -> int:
    """The newest member mtime of the source archive (fallback: derived from its sha256)."""
    newest = 0
    try:
        with tarfile.open(source, "r:*") as tar:
            for member in tar:
                newest = max(newest, int(member.mtime))
    except (tarfile.TarError, OSError, EOFError):
        newest = 0
    if newest > 0:
        return newest
    return _FALLBACK_BASE + int(sha256[:16], 16) % _FALLBACK_SPAN


@dataclass(frozen=True, slots=True)
class PackResult:
    files: tuple[str, ...]  # every entry, sorted; directories end in "/"
    skipped: tuple[str, ...]  # entries left out by the filter
    changed: tuple[str, ...]  # kept although in the filter: their content differs


def _relative(name: str, root: str) -> str | None:
    """`name` relative to the archive's root directory (None for the root itself)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if parts and parts[0] == root:
        parts = parts[1:]
    return "/".join(parts) or None


def _mode(member: tarfile.TarInfo) -> int:
    if member.isdir() or member.mode & 0o111:
        return 0o755
    return 0o644


def member_digests(artifact: Path) -> dict[str, str]:
    """{path: "sha256:<hex>" | "link:<target>" | "dir"} for an artifact made by `pack`."""
    out: dict[str, str] = {}
    with tarfile.open(artifact, "r:gz") as tar:
        for m in tar:
            if m.isdir():
                out[m.name.rstrip("/") + "/"] = "dir"
            elif m.issym() or m.isfile():
                out[m.name] = _identity(tar, m)
    return out


def pack(
    stream: Iterable[bytes] | Path,
    root: str,
    dest: Path,
    epoch: int,
    *,
    exclude: dict[str, str] | None = None,
) -> PackResult:
    """Repack the tar `stream` of a directory named `root` (docker's get_archive of /app)
    as a reproducible tar.gz at `dest`. Entries whose path and content match `exclude`
    (from `member_digests` of a required artifact) are left out."""
    spool = dest.with_name(dest.name + ".spool")
    try:
        if isinstance(stream, Path):
            src_path = stream
        else:
            with spool.open("wb") as fh:
                fh.writelines(stream)
            src_path = spool
        return _repack(src_path, root, dest, epoch, exclude or {})
    finally:
        spool.unlink(missing_ok=True)


def _repack(src_path: Path, root: str, dest: Path, epoch: int,
            exclude: dict[str, str]) -> PackResult:
    files: list[str] = []
    skipped: list[str] = []
    changed: list[str] = []
    with _open_archive(src_path) as src, dest.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as out:
        members: dict[str, tarfile.TarInfo] = {}
        for m in src.getmembers():
            rel = _relative(m.name, root)
            if rel is not None:
                members[rel] = m
        for rel in sorted(members, key=lambda r: r.encode()):
            m = members[rel]
            if not (m.isdir() or m.issym() or m.isfile() or m.islnk()):
                continue  # devices, fifos: never part of an install tree
            key = rel + "/" if m.isdir() else rel
            if key in exclude:
                if m.isdir() or exclude[key] == _identity(src, m):
                    skipped.append(key)
                    continue
                changed.append(key)
            _add(out, src, rel, m, epoch)
            files.append(key)
    return PackResult(tuple(files), tuple(skipped), tuple(changed))


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:")
    except tarfile.TarError as exc:
        raise BuildError(f"the container's /app archive is unreadable ({exc}); "
                         "rerun the build") from None


def _identity(src: tarfile.TarFile, m: tarfile.TarInfo) -> str:
    """`link:<target>` for a symlink, else `sha256:<hex>` of the member's bytes."""
    if m.issym():
        return "link:" + m.linkname
    fh = src.extractfile(m)
    if fh is None:
        return "sha256:" + hashlib.sha256().hexdigest()
    with fh:  # an io.BufferedReader (tarfile.ExFileObject), typed as IO[bytes]
        return "sha256:" + hashlib.file_digest(cast("io.BufferedReader", fh), "sha256").hexdigest()


def _add(out: tarfile.TarFile, src: tarfile.TarFile, rel: str, m: tarfile.TarInfo,
         epoch: int) -> None:
    info = tarfile.TarInfo(rel)
    info.mtime = epoch
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = _mode(m)
    if m.isdir():
        info.type = tarfile.DIRTYPE
        out.addfile(info)
    elif m.issym():
        info.type = tarfile.SYMTYPE
        info.linkname = m.linkname
        info.mode = 0o777
        out.addfile(info)
    elif m.isfile():
        info.size = m.size
        out.addfile(info, src.extractfile(m))
    else:
        # a hard link becomes a regular file with its target's bytes (extractfile follows it)
        fh = src.extractfile(m)
        data = fh.read() if fh is not None else b""
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))

