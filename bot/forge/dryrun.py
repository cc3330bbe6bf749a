"""The dry-run forge: reads through a real forge, prints every write instead of doing it.

`--dry-run` swaps this adapter in; nothing else in the bot knows about dry runs. A commit is
shown as the unified diff of the file against the version that was read (found by its blob
sha), so the output is exactly the change the PR would carry.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from bot.forge.port import Branch, FileAtRef, Forge, PullRequest

DRY_SHA = "0" * 40


class DryRunForge:
    def __init__(self, inner: Forge, echo: Callable[[str], None]) -> None:
        self.inner = inner
        self.echo = echo
        self._read: dict[str, FileAtRef] = {}  # blob sha -> what was read

    # reads: the real forge
    def default_branch(self) -> Branch:
        return self.inner.default_branch()

    def read_file(self, path: str, ref: str) -> FileAtRef:
        file = self.inner.read_file(path, ref)
        self._read[file.sha] = file
        return file

    def list_pulls(self, head_branch: str) -> list[PullRequest]:
        return self.inner.list_pulls(head_branch)

    # writes: printed
    def create_branch(self, name: str, sha: str) -> None:
        self.echo(f"would create branch {name} at {sha[:12]}")

    def reset_branch(self, name: str, sha: str) -> None:
        self.echo(f"would reset branch {name} to {sha[:12]}")

    def commit_file(self, branch: str, path: str, text: str, blob_sha: str,
                    message: str) -> str:
        first_line = message.splitlines()[0] if message else ""
        self.echo(f"would commit to {branch}: {first_line}")
        old = self._read.get(blob_sha)
        before = old.text if old is not None else ""
        diff = difflib.unified_diff(before.splitlines(keepends=True),
                                    text.splitlines(keepends=True),
                                    fromfile=f"a/{path}", tofile=f"b/{path}")
        for line in diff:
            self.echo(line.rstrip("\n"))
        return DRY_SHA

    def create_pull(self, head_branch: str, base_branch: str, title: str,
                    body: str) -> PullRequest:
        self.echo(f"would open a pull request {head_branch} -> {base_branch}: {title}")
        return PullRequest(0, "open", False, title, body, "(dry run)")

    def update_pull(self, number: int, title: str, body: str) -> PullRequest:
        self.echo(f"would rewrite pull request #{number}: {title}")
        return PullRequest(number, "open", False, title, body, "(dry run)")

    def add_label(self, number: int, label: str) -> None:
        self.echo(f"would label pull request #{number or '(new)'} {label!r}")

    def comment(self, number: int, body: str) -> None:
        self.echo(f"would comment on pull request #{number}: {body.splitlines()[0]}")
