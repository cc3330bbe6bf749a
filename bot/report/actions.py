"""Reporter for GitHub Actions: workflow commands, step summary, step outputs.

Workflow commands go to the error stream (the runner reads both streams), so a command's
stdout stays clean for results such as `--json`.
"""

from __future__ import annotations

import re
import secrets as _secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.report.base import Redactor, Table, fmt_seconds


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _could_be_command(line: str) -> bool:
    """Would the runner read this line as a workflow command? It strips leading whitespace
    before looking for `::`, and still honours the legacy `##[command]` form anywhere."""
    return line.lstrip().startswith("::") or "##[" in line


class ActionsReporter:
    def __init__(self, *, summary_path: Path | None, output_path: Path | None,
                 err: TextIO | None = None, out: TextIO | None = None) -> None:
        self._err = err or sys.stderr
        self._out = out or sys.stdout
        self._summary_path = summary_path
        self._output_path = output_path
        self._redact = Redactor()
        self._group: str | None = None

    def _cmd(self, text: str) -> None:
        self._err.write(text + "\n")
        self._err.flush()

    def _text(self, text: str, stream: TextIO | None = None) -> None:
        """Plain text that must never act as a workflow command (it may hold upstream strings,
        build output, file names): redacted, split into lines, and when any line could be read
        as a command, fenced with `::stop-commands::` and a random token."""
        target = stream or self._err
        lines = self._redact(text).splitlines() or [""]
        if any(_could_be_command(line) for line in lines):
            token = _secrets.token_hex(16)
            lines = [f"::stop-commands::{token}", *lines, f"::{token}::"]
        target.write("".join(line + "\n" for line in lines))
        target.flush()

    def mask(self, secret: str) -> None:
        if secret:
            self._redact.add(secret)
            self._cmd(f"::add-mask::{_escape_data(secret)}")

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        # Groups do not nest in Actions: an inner phase closes the outer group and reopens it.
        outer = self._group
        if outer is not None:
            self._cmd("::endgroup::")
        self._group = name
        self._cmd(f"::group::{_escape_data(self._redact(name))}")
        start = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            took = fmt_seconds(time.monotonic() - start)
            self._text(f"{'done' if ok else 'FAILED'}: {name} ({took})")
            self._cmd("::endgroup::")
            self._group = outer
            if outer is not None:
                self._cmd(f"::group::{_escape_data(self._redact(outer))} (continued)")

    def info(self, message: str) -> None:
        self._text(message)

    def _annotate(self, kind: str, message: str, file: str | None, line: int | None) -> None:
        props = []
        if file:
            props.append(f"file={_escape_property(file)}")
            if line:
                props.append(f"line={line}")
        head = f"::{kind} {','.join(props)}::" if props else f"::{kind}::"
        self._cmd(head + _escape_data(self._redact(message)))

    def warning(self, message: str, *, file: str | None = None, line: int | None = None
                ) -> None:
        self._annotate("warning", message, file, line)

    def error(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self._annotate("error", message, file, line)

    def log(self, line: str) -> None:
        # a streamed log must not be able to issue workflow commands
        self._text(line.rstrip("\r\n"))

    def table(self, table: Table) -> None:
        widths = [len(c) for c in table.columns]
        rows = [[self._redact(str(c)) for c in r] for r in table.rows]
        for r in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, r, strict=False)]
        text = [table.title,
                "  ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=False)),
                *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) for r in rows)]
        self._text("\n".join(text), self._out)
        self.summary(self._redact(table.markdown()))

    def summary(self, markdown: str) -> None:
        if self._summary_path is not None:
            with self._summary_path.open("a", encoding="utf-8") as fh:
                fh.write(self._redact(markdown).rstrip("\n") + "\n\n")

    def output(self, name: str, value: str) -> None:
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"invalid step output name {name!r}")
        if self._output_path is None:
            return
        value = self._redact(value)
        delimiter = f"ghadelimiter_{_secrets.token_hex(16)}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{_secrets.token_hex(16)}"
        with self._output_path.open("a", encoding="utf-8") as fh:
            fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
