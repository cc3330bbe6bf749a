"""tests/harness/debsource.py: reading apt's sources and a .dsc (the e2e's way to sources)."""

from __future__ import annotations

from pathlib import Path

from tests.harness.debsource import AptSource, dsc_files, parse_apt_sources

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src-only.example/debian
Suites: bookworm

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
"""


def test_deb822_sources_keep_order_keyring_and_skip_src_only_and_disabled() -> None:
    assert parse_apt_sources(DEB822) == [
        AptSource("http://mirror.example/debian",
                  "/usr/share/keyrings/debian-archive-keyring.gpg")]


def test_one_line_sources_with_options_and_comments() -> None:
    text = ("# deb http://commented.example/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] https://one.example/debian/ bookworm main\n"
            "deb-src http://src.example/debian bookworm main\n"
            "deb http://two.example/debian bookworm main\n")
    assert parse_apt_sources(text) == [AptSource("https://one.example/debian", "/k.gpg"),
                                       AptSource("http://two.example/debian", None)]


def test_dsc_lists_its_files_with_size_and_sha256(tmp_path: Path) -> None:
    dsc = tmp_path / "mono_6.14.1+ds2-3.dsc"
    dsc.write_text("Format: 3.0 (quilt)\nChecksums-Sha1:\n 06fc 10 a.tar.xz\n"
                   "Checksums-Sha256:\n " + "f" * 64 + " 119979512 mono_6.14.1+ds2.orig.tar.xz\n"
                   " " + "1" * 64 + " 90192 mono_6.14.1+ds2-3.debian.tar.xz\nFiles:\n x 1 y\n")
    assert dsc_files(dsc) == {"mono_6.14.1+ds2.orig.tar.xz": (119979512, "f" * 64),
                              "mono_6.14.1+ds2-3.debian.tar.xz": (90192, "1" * 64)}
