"""What one smoke check found: the row of the results table and one object of --json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXCERPT_CHARS = 400


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The last `limit` characters of `text` (a log's end says most), trimmed."""
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


@dataclass(frozen=True, slots=True)
class SmokeResult:
    name: str
    passed: bool
    seconds: float  # wall time of the check: container start to verdict
    http_status: int | None = None  # web checks: the status of the answer
    latency_ms: float | None = None  # web checks: time of the answering request
    output_excerpt: str = ""  # console: stdout; web: the body (failures: the container log)
    detail: str = ""  # one line: what was checked, or why it failed

    def to_json(self, stack: str | None = None, arch: str | None = None) -> dict[str, Any]:
        """One object of `release-bot smoke --json`; `stack` and `arch` (first) when the
        runtime was made from a stack's artifacts, so results of several stacks and
        architectures can be merged."""
        return {
            **({} if stack is None else {"stack": stack}),
            **({} if arch is None else {"arch": arch}),
            "name": self.name,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "http_status": self.http_status,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "output_excerpt": self.output_excerpt,
            "detail": self.detail,
        }

    def row(self) -> list[str]:
        return [
            self.name,
            "pass" if self.passed else "FAIL",
            f"{self.seconds:.1f}s",
            "-" if self.http_status is None else str(self.http_status),
            "-" if self.latency_ms is None else f"{self.latency_ms:.0f} ms",
            self.detail,
        ]


COLUMNS = ("check", "result", "time", "HTTP", "latency", "detail")
