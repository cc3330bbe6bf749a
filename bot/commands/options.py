"""Options several subcommands share: `--store URL`, `--version V`, `--sha256 HEX`,
`--arch A`, and what `--json` does to a result table (`show_table`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bot.app import App
from bot.arch import ARCHES, DEFAULT_ARCH
from bot.errors import UsageError
from bot.report import Table
from bot.versions import InvalidVersion, Version

F = TypeVar("F", bound=Callable[..., Any])

SHA256_HELP = ("The sha256 of the source of --version V (required unless V is the version "
               "versions.toml pins); check it against the upstream's published checksum.")


def store_option(what: str = "") -> Callable[[F], F]:
    """`--store URL` as `store_url`; `what` says what the command reads from the store."""
    return click.option("--store", "store_url", default=None, metavar="URL",
                        help=f"s3://BUCKET/PREFIX or file://DIR{what} (default: "
                             "RELEASE_BOT_STORE, else file://dist/store).")


def version_option(help_text: str) -> Callable[[F], F]:
    """`--version V` as `version_text`; parse it with `parse_version`."""
    return click.option("--version", "version_text", default=None, metavar="V", help=help_text)


def sha256_option() -> Callable[[F], F]:
    """`--sha256 HEX`, the pin of --version V (bot.commands.override)."""
    return click.option("--sha256", default=None, metavar="HEX", help=SHA256_HELP)


def arch_option(help_text: str, *, default: str | None = DEFAULT_ARCH,
                multiple: bool = False) -> Callable[[F], F]:
    """`--arch A` as `arch` (`arches`, a tuple, when `multiple`), one of bot.arch's ARCHES;
    `default=None`: the command's own choice."""
    if multiple:
        return click.option("--arch", "arches", type=click.Choice(list(ARCHES)),
                            multiple=True, metavar="A", help=help_text)
    return click.option("--arch", type=click.Choice(list(ARCHES)), default=default,
                        show_default=default is not None, help=help_text)


def parse_version(text: str | None) -> Version | None:
    """The --version value, None when it was not given; UsageError when it is no version."""
    if text is None:
        return None
    try:
        return Version.parse(text)
    except InvalidVersion as exc:
        raise UsageError(f"--version {text!r}: {exc}; write it like --version 6.14.1") from None


def show_table(app: App, table: Table, as_json: bool, data: object) -> None:
    """The table; with --json, `data` as JSON alone on stdout, the table in the step summary."""
    if as_json:
        click.echo(json.dumps(data, indent=2))
        app.reporter.summary(table.markdown())
    else:
        app.reporter.table(table)
