"""Announcing a release: the port, the GitHub adapter (PyGithub) and a file adapter.

The GitHub Release is idempotent: its tag comes from the versions, a rerun finds the same
release and updates its body and assets instead of creating another.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
from github import Github, GithubException
from github.GitRelease import GitRelease
from github.Repository import Repository

from bot.errors import GitHubError, UsageError
from bot.files import atomic_write, sha256_file


@dataclass(frozen=True, slots=True)
class Announced:
    where: str  # URL of the release, or the notes file
    created: bool


class Announcer(Protocol):
    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced: ...


class FileAnnouncer:
    """Writes the notes to a file (no GitHub needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        atomic_write(self.path, body)
        return Announced(str(self.path), created)


class GitHubReleaseAnnouncer:
    def __init__(self, repo: Repository, *, target: str | None = None) -> None:
        self.repo = repo
        self.target = target

    def _find(self, tag: str) -> GitRelease | None:
        try:
            return self.repo.get_release(tag)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise

    def announce(self, tag: str, title: str, body: str, assets: Sequence[Path]) -> Announced:
        try:
            release = self._find(tag)
            created = release is None
            if release is None:
                release = self.repo.create_git_release(
                    tag, title, body,
                    target_commitish=self.target or self.repo.default_branch)
            elif release.name != title or release.body != body:
                release = release.update_release(name=title, message=body)
            existing = {a.name: a for a in release.get_assets()}
            for path in assets:
                old = existing.get(path.name)
                if old is not None:
                    # GitHub reports each asset's sha256; an asset without one is replaced
                    if old.digest == "sha256:" + sha256_file(path):
                        continue
                    old.delete_asset()
                release.upload_asset(str(path), name=path.name,
                                     content_type="application/json")
            return Announced(release.html_url, created)
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise GitHubError(f"GitHub refused the release {tag!r}: HTTP {exc.status} "
                              f"{message or ''}; check GITHUB_TOKEN has contents:write "
                              "on GITHUB_REPOSITORY") from None
        except requests.RequestException as exc:
            raise GitHubError(f"GitHub could not be reached for the release {tag!r} "
                              f"({type(exc).__name__}); rerun `release-bot release`") from None


def github_announcer(gh: Github, repository: str | None) -> GitHubReleaseAnnouncer:
    """The announcer for `repository` (owner/name, from GITHUB_REPOSITORY)."""
    if not repository or repository.count("/") != 1:
        raise UsageError(f"GITHUB_REPOSITORY is {repository!r}; set it to owner/name of the "
                         "repository that gets the release")
    try:
        return GitHubReleaseAnnouncer(gh.get_repo(repository))
    except GithubException as exc:
        raise GitHubError(f"cannot open {repository} on GitHub: HTTP {exc.status}; check "
                          "GITHUB_REPOSITORY and that GITHUB_TOKEN can read it") from None
    except requests.RequestException as exc:
        raise GitHubError(f"GitHub could not be reached to open {repository} "
                          f"({type(exc).__name__}); check GITHUB_API_URL and retry") from None


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
