"""Reporter for a terminal (or any plain stream): phases with elapsed time."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from bot.report.base import Redactor, Table, fmt_seconds


class TerminalReporter:
    def __init__(self, err: TextIO | None = None, out: TextIO | None = None,
                 *, color: bool | None = None) -> None:
        err = err or sys.stderr
        out = out or sys.stdout
        self._err = Console(file=err, highlight=False, soft_wrap=True,
                            force_terminal=color, no_color=color is False)
        self._out = Console(file=out, highlight=False, soft_wrap=True,
                            force_terminal=color, no_color=color is False)
        self._redact = Redactor()
        self._depth = 0

    def mask(self, secret: str) -> None:
        self._redact.add(secret)

    def _say(self, text: str, style: str = "") -> None:
        safe = escape(self._redact(text))
        indent = "  " * self._depth
        self._err.print(f"{indent}[{style}]{safe}[/]" if style else indent + safe)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        self._say(f"▶ {name}", "bold")
        self._depth += 1
        ok = False
        try:
            yield
            ok = True
        finally:
            self._depth -= 1
            took = fmt_seconds(time.monotonic() - start)
            if ok:
                self._say(f"✔ {name} ({took})", "green")
            else:
                self._say(f"✘ {name} failed after {took}", "red")

    def info(self, message: str) -> None:
        self._say(message)

    def warning(self, message: str, *, file: str | None = None, line: int | None = None
                ) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        self._say(f"warning: {where}{message}", "yellow")

    def error(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        self._say(f"error: {where}{message}", "bold red")

    def log(self, line: str) -> None:
        self._err.print(escape(self._redact(line.rstrip("\n"))), style="dim")

    def table(self, table: Table) -> None:
        rt = RichTable(title=escape(self._redact(table.title)), title_justify="left")
        for col in table.columns:
            rt.add_column(escape(col))
        for row in table.rows:
            rt.add_row(*(escape(self._redact(str(c))) for c in row))
        self._out.print(rt)

    def summary(self, markdown: str) -> None:
        return None

    def output(self, name: str, value: str) -> None:
        return None
