"""Command line: parses options, builds the `App` (composition root) and converts errors.

`main()` is the single boundary where a `BotError` becomes a one-line message and its exit
code; an unexpected exception is exit 1 (its traceback only with --debug).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from bot import __version__
from bot.app import App
from bot.commands import COMMANDS
from bot.errors import BotError, ConfigError, ExitCode

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="release-bot")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("versions.toml"), show_default=True,
              help="The versions.toml to read.")
# read by `main` from the arguments (it must know before the command runs)
@click.option("--debug", is_flag=True, expose_value=False, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path) -> None:
    """Keep a buildpack's Mono and XSP runtime binaries current.

    Polls upstream releases, opens one pull request per component bumping versions.toml,
    builds in clean containers, publishes write-once, smoke-tests and announces.

    \b
    Exit codes: 0 ok, 1 internal error, 2 usage or configuration error, 3 upstream error,
    4 build failed, 5 smoke test failed, 6 publish failed, 7 GitHub error.
    """
    env: Mapping[str, str] = ctx.meta.get("release_bot.env", os.environ)
    ctx.obj = App.from_environment(env, config_path=config_path)


for _command in COMMANDS:
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None) -> int:
    """Run the CLI and return its exit code. `env` lets tests inject the environment."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    ctx: click.Context | None = None
    try:
        with cli.make_context("release-bot", args) as ctx:
            if env is not None:
                ctx.meta["release_bot.env"] = env
            cli.invoke(ctx)
        return int(ExitCode.OK)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BotError as exc:
        if debug:
            traceback.print_exc()
        _report_error(_app_of(ctx), exc)
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the one boundary for unexpected errors
        if debug:
            traceback.print_exc()
        _report_error(_app_of(ctx),
                      BotError(f"internal error: {type(exc).__name__}: {exc} "
                               "(rerun with --debug for a traceback and report it)"))
        return int(ExitCode.INTERNAL)


def _app_of(ctx: click.Context | None) -> App | None:
    """The App the group built, if it got that far (so errors go through its reporter)."""
    obj = ctx.obj if ctx is not None else None
    return obj if isinstance(obj, App) else None


def _report_error(app: App | None, exc: BotError) -> None:
    line = " ".join(exc.message.split())
    if app is None:
        click.echo(f"error: {line}", err=True)
        return
    if isinstance(exc, ConfigError):
        # the reporter places file:line itself (an annotation on the file under Actions)
        where = f"{exc.path}:{exc.line}: " if exc.line else f"{exc.path}: "
        if line.startswith(where):
            app.reporter.error(line.removeprefix(where), file=exc.path, line=exc.line)
            return
    app.reporter.error(line)
