"""The one typed error hierarchy. Each error carries its exit code; `cli.main` converts them.

Exit codes (documented in README.md):
0 ok, 1 internal error, 2 usage or configuration error, 3 upstream error, 4 build failed,
5 smoke test failed, 6 publish failed, 7 GitHub error.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    UPSTREAM = 3
    BUILD = 4
    SMOKE = 5
    PUBLISH = 6
    GITHUB = 7


class BotError(Exception):
    """Base of every error the bot expects. The message is one line and names the fix."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        # One line, always: hostile upstream strings must not forge extra log lines.
        super().__init__(" ".join(message.split("\n")).strip())

    @property
    def message(self) -> str:
        return str(self)


class UsageError(BotError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A problem in versions.toml; the message names the file, line, key path and fix."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
        fix: str | None = None,
    ) -> None:
        where = f"{path}:{line}" if line else path
        parts = [where + ":"]
        if key:
            parts.append(f"{key}:")
        parts.append(message)
        text = " ".join(parts)
        if fix:
            text += f" ({fix})"
        super().__init__(text)
        self.path = path
        self.line = line


class UpstreamError(BotError):
    exit_code = ExitCode.UPSTREAM


class BuildError(BotError):
    exit_code = ExitCode.BUILD


class SmokeError(BotError):
    exit_code = ExitCode.SMOKE


class PublishError(BotError):
    exit_code = ExitCode.PUBLISH


class GitHubError(BotError):
    exit_code = ExitCode.GITHUB


class ChecksumMismatchError(BuildError):
    """Downloaded bytes do not match the pinned sha256 (tampered or changed upstream)."""
