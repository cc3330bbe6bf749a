"""Run the real CLI in-process with a controlled environment and working directory."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.cli import main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@contextlib.contextmanager
def _chdir(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(args: Sequence[str], *, env: Mapping[str, str] | None = None,
            cwd: Path | str | None = None) -> CliResult:
    """`release-bot ARGS` with exactly `env` as its environment (default: empty)."""
    out, err = io.StringIO(), io.StringIO()
    with _chdir(Path(cwd) if cwd else None), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        code = main(list(args), env=dict(env or {}))
    return CliResult(code, out.getvalue(), err.getvalue())
