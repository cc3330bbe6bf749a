"""The CLI skeleton: help, version, global options, exit codes, --debug."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

import bot
from bot.cli import cli
from bot.errors import (
    BuildError,
    ConfigError,
    GitHubError,
    PublishError,
    SmokeError,
    UpstreamError,
    UsageError,
)
from tests.clirunner import run_cli

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "versions.toml"
SUBCOMMANDS = ("check", "pin", "plan", "poll", "pr", "build", "publish", "smoke", "notes",
               "release", "run", "verify", "promote", "builder-inputs", "pr-report")


def help_commands(text: str) -> list[str]:
    section = text.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines()
            if line.startswith("  ") and not line.startswith("   ")]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_subcommand(flag: str) -> None:
    result = run_cli([flag])
    assert result.code == 0
    assert sorted(help_commands(result.stdout)) == sorted(SUBCOMMANDS)
    for option in ("--config", "--debug", "--version"):
        assert option in result.stdout
    # the exit codes are documented in the help
    assert "3 upstream error" in result.stdout and "7 GitHub error" in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name: str) -> None:
    result = run_cli([name, "--help"])
    assert result.code == 0, result.output
    assert f"Usage: release-bot {name}" in result.stdout


def test_version() -> None:
    result = run_cli(["--version"])
    assert result.code == 0
    assert result.stdout == f"release-bot, version {bot.__version__}\n"


def test_python_dash_m_bot_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--version"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"release-bot, version {bot.__version__}"


def test_python_dash_m_bot_exit_code_is_propagated(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: versions.toml: file not found (run from the "
                                   "repository root or pass --config PATH)")


def test_config_defaults_to_versions_toml_in_the_working_directory(tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / "versions.toml")
    result = run_cli(["check", "--json"], cwd=tmp_path)
    assert result.code == 0, result.output
    assert '"config": "versions.toml"' in result.stdout
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    result = run_cli(["check"], cwd=elsewhere)
    assert result.code == 2
    assert "versions.toml: file not found" in result.stderr


def test_config_must_not_be_a_directory(tmp_path: Path) -> None:
    result = run_cli(["--config", str(tmp_path), "check"])
    assert result.code == 2
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_subcommand_exits_2() -> None:
    result = run_cli(["chek"])
    assert result.code == 2
    assert "No such command 'chek'" in result.stderr
    assert "Did you mean 'check'?" in result.stderr
    assert result.stdout == ""


def test_unknown_option_exits_2() -> None:
    result = run_cli(["--config", str(SHIPPED), "check", "--jsn"])
    assert result.code == 2
    assert "--jsn" in result.stderr


def test_unknown_component_on_the_cli_did_you_mean() -> None:
    result = run_cli(["--config", str(SHIPPED), "pin", "monoo"])
    assert result.code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "unknown component 'monoo'" in result.stderr
    assert "did you mean 'mono'?" in result.stderr


# -- error boundary --------------------------------------------------------------------------

def add_command(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Register a test-only subcommand on the real group; `main()` is exercised unchanged."""

    @click.command(name="test-boom")
    def command() -> None:
        action()

    monkeypatch.setitem(cli.commands, "test-boom", command)


def internal_bug() -> None:
    {}["missing"]  # an honest programming error


def test_internal_error_without_debug_has_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    add_command(monkeypatch, internal_bug)
    result = run_cli(["test-boom"])
    assert result.code == 1
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: internal error: KeyError: 'missing'")
    assert "--debug" in result.stderr


def test_internal_error_with_debug_prints_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    add_command(monkeypatch, internal_bug)
    result = run_cli(["--debug", "test-boom"])
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "in internal_bug" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: internal error: KeyError")


def test_bot_error_with_debug_prints_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise UpstreamError("upstream down; try later")

    add_command(monkeypatch, fail)
    assert "Traceback" not in run_cli(["test-boom"]).stderr
    result = run_cli(["--debug", "test-boom"])
    assert result.code == 3
    assert "Traceback (most recent call last)" in result.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("bad usage"), 2),
        (ConfigError("versions.toml", "bad value", line=3, key="a.b", fix="fix it"), 2),
        (UpstreamError("upstream"), 3),
        (BuildError("build"), 4),
        (SmokeError("smoke"), 5),
        (PublishError("publish"), 6),
        (GitHubError("github"), 7),
    ],
)
def test_exit_codes(monkeypatch: pytest.MonkeyPatch, error: Exception, code: int) -> None:
    def fail() -> None:
        raise error

    add_command(monkeypatch, fail)
    result = run_cli(["test-boom"])
    assert result.code == code
    assert result.stderr.count("\n") == 1
    assert result.stderr == f"error: {error}\n"


def test_error_messages_are_forced_onto_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise UpstreamError("tag 'x\n::error::forged' is odd")

    add_command(monkeypatch, fail)
    result = run_cli(["test-boom"], env={"GITHUB_ACTIONS": "true"})
    assert result.code == 3
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("::error::")


def test_config_error_under_actions_is_an_annotation_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "versions.toml"
    path.write_text('[stacks.a]\nbuild-image = "b"\nrun-image = "r"\n\n[components.m]\n'
                    'version = "1.0"\nsource = "ftp://x/{version}"\n', encoding="utf-8")
    result = run_cli(["--config", str(path), "check"], env={"GITHUB_ACTIONS": "true"})
    assert result.code == 2
    assert result.stderr.startswith(f"::error file={path},line=7::components.m.source: ")
    assert result.stderr.count("\n") == 1
