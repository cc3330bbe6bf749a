"""The reporter port and the pieces every reporter shares (timing, secret redaction)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

        head = "| " + " | ".join(cell(c) for c in self.columns) + " |"
        sep = "|" + "|".join("---" for _ in self.columns) + "|"
        body = ["| " + " | ".join(cell(str(c)) for c in row) + " |" for row in self.rows]
        return "\n".join([f"### {cell(self.title)}", "", head, sep, *body, ""])


class Reporter(Protocol):
    """Everything the bot tells a person goes through here (results on stdout excepted)."""

    def mask(self, secret: str) -> None:
        """Never show this value again (GitHub Actions: ::add-mask::)."""

    def phase(self, name: str) -> AbstractContextManager[None]:
        """A timed phase: a ::group:: in Actions, a header with elapsed time on a terminal."""

    def info(self, message: str) -> None: ...

    def warning(self, message: str, *, file: str | None = None, line: int | None = None
                ) -> None: ...

    def error(self, message: str, *, file: str | None = None, line: int | None = None
              ) -> None: ...

    def log(self, line: str) -> None:
        """A streamed line of a long job's log (a build)."""

    def table(self, table: Table) -> None:
        """A result table: printed, and appended to the step summary in Actions."""

    def summary(self, markdown: str) -> None:
        """Free text for the step summary (ignored on a terminal)."""

    def output(self, name: str, value: str) -> None:
        """A step output ($GITHUB_OUTPUT in Actions; ignored elsewhere)."""


@dataclass
class Redactor:
    secrets: list[str] = field(default_factory=list)

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets.append(secret)
            self.secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text


def fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}m{sec:02d}s"
