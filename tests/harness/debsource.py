"""Debian source packages for the e2e tier, fetched by apt itself.

    files = fetch_source("mono", "6.14.1+ds2-3", "unstable", dest)

apt gets them through a temporary sources list (`deb-src URI SUITE main`) whose URI and
keyring are those of this machine's own first apt source, read from apt's configuration, so
no package registry's host is written in this repository; only the suite is ours to name.
The lists and cache live in a temporary folder; the machine's apt state is not touched.
The files land in `dest` (reused when the .dsc and every file it lists are there and match
its sha256s), ready to be served over loopback to the bot.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.files import sha256_file

APT_SOURCE_FILES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d")


@dataclass(frozen=True)
class AptSource:
    uri: str
    signed_by: str | None = None


def parse_apt_sources(text: str) -> list[AptSource]:
    """The http(s) `deb` sources in a one-line `.list` or deb822 `.sources` text, in order."""
    found: list[AptSource] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for raw in stanza.splitlines():
            line = raw.split("#", 1)[0].rstrip()
            one = re.match(r"\s*deb\s+(?:\[([^]]*)\]\s+)?(https?://\S+)", line)
            if one:
                opts = dict(o.split("=", 1) for o in (one.group(1) or "").split() if "=" in o)
                found.append(AptSource(one.group(2).rstrip("/"), opts.get("signed-by")))
                continue
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "\t")):
                fields[key.strip().lower()] = value.strip()
        types = fields.get("types", "").split()
        uris = [u for u in fields.get("uris", "").split() if re.match(r"https?://", u)]
        if "deb" in types and uris and fields.get("enabled", "yes").lower() != "no":
            found.extend(AptSource(u.rstrip("/"), fields.get("signed-by")) for u in uris)
    return found


def machine_apt_source() -> AptSource:
    """This machine's first http(s) apt source."""
    paths: list[Path] = []
    for name in APT_SOURCE_FILES:
        p = Path(name)
        if p.is_dir():
            paths += sorted([*p.glob("*.list"), *p.glob("*.sources")])
        elif p.is_file():
            paths.append(p)
    for path in paths:
        sources = parse_apt_sources(path.read_text(errors="replace"))
        if sources:
            return sources[0]
    raise RuntimeError("no http(s) apt source on this machine: add one to "
                       "/etc/apt/sources.list.d/ (Debian's archive) and rerun")


def apt_mirror_host() -> str:
    """The host of this machine's first apt source (for probes of the network)."""
    host = re.sub(r"^https?://", "", machine_apt_source().uri).split("/", 1)[0]
    return host.rsplit("@", 1)[-1].split(":", 1)[0]


def dsc_files(dsc: Path) -> dict[str, tuple[int, str]]:
    """name -> (size, sha256) of the files a .dsc lists under Checksums-Sha256."""
    files: dict[str, tuple[int, str]] = {}
    block = re.search(r"^Checksums-Sha256:\n((?:[ \t].*\n?)+)", dsc.read_text(), re.M)
    for line in (block.group(1) if block else "").splitlines():
        sha, size, name = line.split()
        files[name] = (int(size), sha)
    return files


def _complete(dest: Path, dsc_name: str) -> bool:
    dsc = dest / dsc_name
    if not dsc.is_file():
        return False
    for name, (size, sha) in dsc_files(dsc).items():
        f = dest / name
        if not f.is_file() or f.stat().st_size != size:
            return False
        if sha256_file(f) != sha:
            return False
    return True


def fetch_source(package: str, version: str, suite: str, dest: Path) -> list[Path]:
    """Download source package PACKAGE=VERSION from SUITE into `dest` with apt-get; returns
    the .dsc followed by the files it lists."""
    upstream_version = version.split(":", 1)[-1]
    dsc_name = f"{package}_{upstream_version}.dsc"
    dest.mkdir(parents=True, exist_ok=True)
    if not _complete(dest, dsc_name):
        source = machine_apt_source()
        with tempfile.TemporaryDirectory(prefix="release-bot-apt-") as tmp:
            root = Path(tmp)
            for d in ("lists/partial", "cache/archives/partial", "parts"):
                (root / d).mkdir(parents=True)
            signed = f"[signed-by={source.signed_by}] " if source.signed_by else ""
            (root / "sources.list").write_text(f"deb-src {signed}{source.uri} {suite} main\n")
            opts = [f"-oDir::Etc::SourceList={root / 'sources.list'}",
                    f"-oDir::Etc::SourceParts={root / 'parts'}",
                    f"-oDir::State::Lists={root / 'lists'}",
                    f"-oDir::Cache={root / 'cache'}", "-qq"]
            if os.geteuid() == 0:
                opts.append("-oAPT::Sandbox::User=root")  # _apt cannot write into tmp
            for args, cwd in ((["update"], None),
                              (["source", "--download-only", f"{package}={version}"], dest)):
                proc = subprocess.run(["apt-get", *opts, *args], cwd=cwd, text=True,
                                      capture_output=True, timeout=1800, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f"apt-get {' '.join(args)} ({suite}) failed: "
                                       f"{(proc.stderr or proc.stdout).strip()[-600:]}")
        if not _complete(dest, dsc_name):
            raise RuntimeError(f"apt-get source left {dsc_name} incomplete in {dest}")
    return [dest / dsc_name, *(dest / n for n in dsc_files(dest / dsc_name))]
