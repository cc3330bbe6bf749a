"""One CI-aware reporter, chosen in the composition root (`bot.app`).

`Reporter` is the port; `TerminalReporter` (rich, on a terminal or a plain stream),
and `ActionsReporter` (GitHub Actions workflow commands, step summary, outputs) implement
it.
"""

from bot.report.actions import ActionsReporter
from bot.report.base import Reporter, Table
from bot.report.terminal import TerminalReporter

__all__ = ["ActionsReporter", "Reporter", "Table", "TerminalReporter"]
