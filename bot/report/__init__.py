"""One CI-aware reporter, chosen in the composition root (`bot.app`).

`Reporter` is the port; `TerminalReporter` (rich, on a terminal or a plain stream),
`ActionsReporter` (GitHub Actions workflow commands, step summary, outputs) and
`RecordingReporter` (tests assert on what was reported) implement it.
"""

from bot.report.actions import ActionsReporter
from bot.report.base import Reporter, Table
from bot.report.recording import RecordingReporter
from bot.report.terminal import TerminalReporter

__all__ = ["ActionsReporter", "RecordingReporter", "Reporter", "Table", "TerminalReporter"]
