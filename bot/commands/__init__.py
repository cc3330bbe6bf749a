"""One module per subcommand, `bot/commands/<name>.py`, each exposing a click `command`.

A subcommand whose module does not exist yet is registered as pending: it says which issue
brings it and exits 2.
"""

from __future__ import annotations

import importlib

import click

from bot.commands.pending import PENDING, pending_command

ORDER = ("check", "pin", "poll", "pr", "build", "plan", "publish", "smoke", "notes", "release",
         "run")


def _load(name: str) -> click.Command:
    module_name = f"bot.commands.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name or name not in PENDING:
            raise
        help_text, issue = PENDING[name]
        return pending_command(name, help_text, issue)
    command = module.command
    assert isinstance(command, click.Command)
    return command


COMMANDS: list[click.Command] = [_load(n) for n in ORDER]
