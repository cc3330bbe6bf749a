"""Subcommands whose issue has not landed yet: they say so and exit 2."""

from __future__ import annotations

import click

from bot.errors import NotYetAvailable

PENDING: dict[str, tuple[str, str]] = {
    # name: (help, the issue that brings it)
    "pin": ("Download a component's source and record its sha256.", "the poll/PR issue (#3)"),
    "poll": ("Check upstreams for newer versions.", "the poll/PR issue (#3)"),
    "pr": ("Open or update one pull request per component.", "the poll/PR issue (#3)"),
    "build": ("Build a component in a clean container.", "the builder issue (#4)"),
    "plan": ("List what is not yet published.", "the publish issue (#5)"),
    "publish": ("Publish built artifacts write-once.", "the publish issue (#5)"),
    "smoke": ("Smoke-test the sample apps on the built runtime.", "the publish issue (#5)"),
    "notes": ("Render the release notes.", "the publish issue (#5)"),
    "release": ("Create or update the GitHub Release.", "the publish issue (#5)"),
    "run": ("The main job: plan, build, smoke, publish, announce.", "the publish issue (#5)"),
}


def pending_command(name: str, help_text: str, issue: str) -> click.Command:
    @click.command(name=name, help=f"{help_text} (not available yet)",
                   context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        raise NotYetAvailable(f"`release-bot {name}` is not available yet: it lands with {issue}")

    return command
