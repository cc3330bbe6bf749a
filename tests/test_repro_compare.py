"""tests/e2e/repro.py's comparison of two artifacts (what `make e2e-repro` reports)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from tests.e2e.repro import compare_tarballs, report

PE = b"MZ\x90\x00" + b"\x00" * 60


def make(path: Path, members: list[tuple[str, bytes, int]], gzip_mtime: int = 0) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data, mtime in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tar.addfile(info, io.BytesIO(data))
    with path.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=gzip_mtime) as gz:
        gz.write(raw.getvalue())
    return path


def test_identical_builds_report_identical(tmp_path: Path) -> None:
    members = [("bin/mono", b"\x7fELF same", 1), ("lib/a.dll", PE + b"guid-1", 1)]
    a, b = make(tmp_path / "a.tgz", members), make(tmp_path / "b.tgz", members)
    diffs = compare_tarballs(a, b)
    assert diffs == []
    assert report(a, b, diffs).startswith("identical: a.tgz sha256 ")


def test_each_kind_of_difference_is_named(tmp_path: Path) -> None:
    a = make(tmp_path / "a.tgz", [("lib/a.dll", PE + b"guid-1111", 1),
                                  ("bin/mono", b"\x7fELF built Tue Dec  3 18:01:02 UTC", 1),
                                  ("share/x", b"abc", 1), ("share/y", b"same", 5),
                                  ("share/gone", b"", 1)], gzip_mtime=0)
    b = make(tmp_path / "b.tgz", [("bin/mono", b"\x7fELF built Tue Dec  3 19:44:10 UTC", 1),
                                  ("lib/a.dll", PE + b"guid-2222", 1),
                                  ("share/x", b"abd", 1), ("share/y", b"same", 6),
                                  ("share/new", b"", 1)], gzip_mtime=12345)
    kinds = {d.path: d.kind for d in compare_tarballs(a, b)}
    assert kinds == {"(gzip header)": "gzip-header", "share/gone": "only-in-a",
                     "share/new": "only-in-b", "(member order)": "ordering",
                     "lib/a.dll": "assembly", "bin/mono": "timestamp", "share/x": "data",
                     "share/y": "metadata"}
    text = report(a, b, compare_tarballs(a, b))
    assert text.splitlines()[0].startswith("different: 6 of 6 entries differ")
    assert "18:01:02" in text and "19:44:10" in text
