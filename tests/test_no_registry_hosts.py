"""No package registry's host name is written in the repository (issue 15).

The hosts are read, never written here: this machine's apt sources, debootstrap's default
mirror, pip's default index and file host, and npm's configured registry. Every file git
tracks is searched for each of them (case-insensitively)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.harness.debsource import APT_SOURCE_FILES, parse_apt_sources

REPO = Path(__file__).resolve().parents[1]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def registry_hosts() -> set[str]:
    hosts: set[str] = set()
    for name in APT_SOURCE_FILES:
        p = Path(name)
        files = sorted(p.iterdir()) if p.is_dir() else [p] if p.is_file() else []
        for f in files:
            hosts |= {_host(s.uri) for s in parse_apt_sources(f.read_text(errors="replace"))}
    debootstrap = Path("/usr/sbin/debootstrap")
    if debootstrap.is_file():
        m = re.search(r'^DEF_MIRROR="([^"]+)"', debootstrap.read_text(errors="replace"), re.M)
        if m:
            hosts.add(_host(m.group(1)))
    try:
        from pip._internal.models.index import PyPI  # pip's own default index
        hosts |= {PyPI.netloc, PyPI.file_storage_domain}
    except ImportError:
        pass
    npm = shutil.which("npm")
    if npm:
        out = subprocess.run([npm, "config", "get", "registry"], capture_output=True,
                             text=True, timeout=60, check=False).stdout.strip()
        if out.startswith("http"):
            hosts.add(_host(out))
    return {h for h in hosts if h and h not in {"localhost", "127.0.0.1"}}


def tracked_files() -> list[Path]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                         check=True, timeout=60).stdout
    return [REPO / n for n in out.decode().split("\0") if n and (REPO / n).is_file()]


def test_no_tracked_file_names_a_package_registry_host() -> None:
    hosts = registry_hosts()
    assert hosts, "no registry host could be read on this machine"
    found = []
    for f in tracked_files():
        text = f.read_bytes().decode("utf-8", errors="replace").lower()
        found += [f"{f.relative_to(REPO)}: {h}" for h in sorted(hosts) if h in text]
    assert not found, "registry hosts written in the repository:\n" + "\n".join(found)
