"""A reporter that records events, for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.report.base import Redactor, Table


@dataclass
class RecordingReporter:
    events: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    masked: list[str] = field(default_factory=list)
    _redact: Redactor = field(default_factory=Redactor)

    def mask(self, secret: str) -> None:
        self.masked.append(secret)
        self._redact.add(secret)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.events.append(("phase-start", name))
        try:
            yield
        except BaseException:
            self.events.append(("phase-failed", name))
            raise
        self.events.append(("phase-end", name))

    def _add(self, kind: str, text: str) -> None:
        self.events.append((kind, self._redact(text)))

    def info(self, message: str) -> None:
        self._add("info", message)

    def warning(self, message: str, *, file: str | None = None, line: int | None = None
                ) -> None:
        self._add("warning", message)

    def error(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self._add("error", message)

    def log(self, line: str) -> None:
        self._add("log", line)

    def table(self, table: Table) -> None:
        self.tables.append(table)

    def summary(self, markdown: str) -> None:
        self._add("summary", markdown)

    def output(self, name: str, value: str) -> None:
        self.outputs[name] = self._redact(value)

    def texts(self, kind: str) -> list[str]:
        return [t for k, t in self.events if k == kind]
