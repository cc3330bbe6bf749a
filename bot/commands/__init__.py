"""One module per subcommand, `bot/commands/<name>.py`, each exposing a click `command`.

A new subcommand is added to the imports and to COMMANDS below (the order of `--help`).
"""

from __future__ import annotations

import click

from bot.commands import (
    build,
    check,
    notes,
    pin,
    plan,
    poll,
    pr,
    pr_report,
    promote,
    publish,
    release,
    run,
    smoke,
    verify,
)

COMMANDS: list[click.Command] = [check.command, pin.command, poll.command, pr.command,
                                 build.command, plan.command, publish.command, smoke.command,
                                 notes.command, release.command, run.command, verify.command,
                                 promote.command, promote.builder_inputs_command,
                                 pr_report.command]
