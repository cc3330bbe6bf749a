"""`make e2e-repro`: build the 6.14.1 recipe twice from cold caches and compare the tarballs.

    python -m tests.e2e.repro [--keep DIR] [--against OUT]

Each build is the bot's own `build mono --stack test --out DIR` (a fresh container per
build) with its own empty RELEASE_BOT_CACHE, from the Debian source package served over
loopback (the same path as `make e2e`). The report says "identical" with the sha256, or how
many files differ and the first few by name and kind: ordering, metadata (mode, mtime,
owner), the gzip header, or content, with content classed as an assembly (a PE file: its
MVID and timestamp differ per compile), a timestamp (a date or time text in the differing
bytes) or plain data, each with the differing bytes shown. Exit 0 when identical, 1 when
not; the build logs and a JSON report stay in --keep DIR (default: a temp folder, printed).
`--against OUT` builds once and compares with the tarball an earlier cold build left in OUT
(its `--out` folder), for when one build is already at hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.files import sha256_file

CONTEXT = 24
_TIMEY = re.compile(rb"(\d{1,2}:\d{2}:\d{2})|((Mon|Tue|Wed|Thu|Fri|Sat|Sun) )|"
                    rb"((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d)|(20\d\d-\d\d-\d\d)")


@dataclass(frozen=True)
class Difference:
    path: str
    kind: str  # only-in-a, only-in-b, ordering, metadata, gzip-header, assembly, timestamp, data
    detail: str


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "." for b in data)


def _first_difference(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def classify(a: bytes, b: bytes) -> tuple[str, str]:
    """The kind of a content difference and the differing bytes in context."""
    at = _first_difference(a, b)
    lo = max(0, at - CONTEXT)
    sa, sb = a[lo:at + CONTEXT], b[lo:at + CONTEXT]
    detail = f"at byte {at} of {len(a)}/{len(b)}: {_printable(sa)!r} vs {_printable(sb)!r}"
    if a[:2] == b"MZ" and b[:2] == b"MZ":
        return "assembly", detail
    if _TIMEY.search(sa) and _TIMEY.search(sb):
        return "timestamp", detail
    return "data", detail


def _members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return tar.getmembers()


def _meta(m: tarfile.TarInfo) -> tuple[object, ...]:
    return (m.type, oct(m.mode), int(m.mtime), m.uid, m.gid, m.uname, m.gname, m.linkname)


def compare_tarballs(a: Path, b: Path) -> list[Difference]:
    """Every difference between two artifacts, outer gzip header first, then by path."""
    diffs: list[Difference] = []
    with a.open("rb") as fa, b.open("rb") as fb:
        ha, hb = fa.read(10), fb.read(10)
    if ha != hb:
        diffs.append(Difference("(gzip header)", "gzip-header", f"{ha.hex()} vs {hb.hex()}"))
    ma, mb = _members(a), _members(b)
    by_a, by_b = {m.name: m for m in ma}, {m.name: m for m in mb}
    diffs += [Difference(n, "only-in-a", "") for n in sorted(by_a.keys() - by_b.keys())]
    diffs += [Difference(n, "only-in-b", "") for n in sorted(by_b.keys() - by_a.keys())]
    common = [m.name for m in ma if m.name in by_b]
    if common != [m.name for m in mb if m.name in by_a]:
        diffs.append(Difference("(member order)", "ordering", "same names, another order"))
    with tarfile.open(a, "r:gz") as ta, tarfile.open(b, "r:gz") as tb:
        for name in sorted(common):
            xa, xb = by_a[name], by_b[name]
            if _meta(xa) != _meta(xb):
                diffs.append(Difference(name, "metadata", f"{_meta(xa)} vs {_meta(xb)}"))
            if xa.isfile() and xb.isfile():
                fa2, fb2 = ta.extractfile(xa), tb.extractfile(xb)
                da = fa2.read() if fa2 else b""
                db = fb2.read() if fb2 else b""
                if da != db:
                    kind, detail = classify(da, db)
                    diffs.append(Difference(name, kind, detail))
    return diffs


def report(a: Path, b: Path, diffs: list[Difference], first: int = 12) -> str:
    if not diffs:
        return f"identical: {a.name} sha256 {sha256_file(a)} in both builds"
    files = {d.path for d in diffs if not d.path.startswith("(")}
    kinds: dict[str, int] = {}
    for d in diffs:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    total = len({m.name for m in _members(a)} | {m.name for m in _members(b)})
    lines = [f"different: {len(files)} of {total} entries differ "
             f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})"]
    lines += [f"  {d.path}  [{d.kind}]  {d.detail}" for d in diffs[:first]]
    if len(diffs) > first:
        lines.append(f"  ... and {len(diffs) - first} more (see the JSON report)")
    return "\n".join(lines)


def _build(config: Path, root: Path, label: str) -> Path:
    """One cold build through the CLI, timing each step from its `==> STEP` line; returns
    the tarball."""
    out, cache, log = root / f"out-{label}", root / f"cache-{label}", root / f"build-{label}.log"
    env = {**os.environ, "RELEASE_BOT_CACHE": str(cache)}
    start = last = time.monotonic()
    step, times = "start", dict[str, float]()
    print(f"==> build {label} (log: {log})", flush=True)
    with log.open("w") as fh, subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "build", "mono",
             "--stack", "test", "--out", str(out)], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            if line.startswith("==> "):
                now = time.monotonic()
                times[step] = times.get(step, 0.0) + now - last
                step, last = line[4:].strip(), now
    times[step] = times.get(step, 0.0) + time.monotonic() - last
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in times.items() if v >= 1)
    print(f"    build {label}: exit {proc.returncode} in {time.monotonic() - start:.0f} s "
          f"({steps})", flush=True)
    (root / f"steps-{label}.json").write_text(json.dumps(times, indent=2) + "\n")
    if proc.returncode != 0:
        sys.exit(f"build {label} failed (exit {proc.returncode}); see {log}")
    return _tarball(out, label)


def _tarball(out: Path, label: str) -> Path:
    found = sorted(out.glob("mono-*-test.tar.gz"))
    if not found:
        sys.exit(f"build {label} left no mono tarball in {out}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    from tests.e2e.test_mono_e2e import DEBIAN_PACKAGE, serve_recipe
    from tests.harness.debsource import fetch_source
    from tests.harness.upstream import UpstreamServer

    parser = argparse.ArgumentParser(prog="python -m tests.e2e.repro")
    parser.add_argument("--keep", type=Path, help="folder for logs, outputs and the report")
    parser.add_argument("--against", type=Path,
                        help="an earlier cold build's --out folder, in place of build a")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="release-bot-repro-"))
    root.mkdir(parents=True, exist_ok=True)
    sources = Path(os.environ.get("RELEASE_BOT_E2E_SOURCES")
                   or ".cache/release-bot/debian-sources")
    files = fetch_source(*DEBIAN_PACKAGE, sources)
    with UpstreamServer() as up:
        config = serve_recipe(up, files, root)
        a = None if args.against else _build(config, root, "a")
        b = _build(config, root, "b")
    a = a or _tarball(args.against, "a")  # an earlier build's, looked for once b is built
    diffs = compare_tarballs(a, b)
    (root / "repro.json").write_text(json.dumps([asdict(d) for d in diffs], indent=2) + "\n")
    print(report(a, b, diffs))
    print(f"(logs, outputs and repro.json in {root})")
    return 0 if not diffs else 1


if __name__ == "__main__":
    sys.exit(main())
