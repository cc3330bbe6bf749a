"""Announcing a release through the `Announcer` port (bot.forge.port): to GitHub through the
forge's adapter (`github_announcer`), or to a file when there is no GitHub.

The GitHub Release is idempotent: its tag comes from the versions, a rerun finds the same
release and updates its body and assets instead of creating another.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UsageError
from bot.files import atomic_write
from bot.forge.github import GitHubForge
from bot.forge.port import Announced, Announcer

if TYPE_CHECKING:
    from github import Github

__all__ = ["Announced", "Announcer", "FileAnnouncer", "announce_with_assets",
           "github_announcer"]


class FileAnnouncer:
    """Writes the notes to a file (no GitHub needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced:
        created = not self.path.exists()
        atomic_write(self.path, body)
        return Announced(str(self.path), created)


def github_announcer(gh: Github, repository: str | None) -> Announcer:
    """The announcer for `repository` (owner/name, from GITHUB_REPOSITORY)."""
    if not repository or repository.count("/") != 1:
        raise UsageError(f"GITHUB_REPOSITORY is {repository!r}; set it to owner/name of the "
                         "repository that gets the release")
    return GitHubForge(gh, repository)


def announce_with_assets(announcer: Announcer, tag: str, title: str, body: str,
                         assets: Mapping[str, bytes]) -> Announced:
    """Announce, attaching `assets` ({file name: bytes}) written to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="release-bot-assets-") as tmp:
        paths = []
        for name, data in assets.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        return announcer.announce(tag, title, body, paths)
