"""Reporters: GitHub Actions workflow commands, step summary and outputs; the terminal twin;
the choice made in the composition root."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App, make_reporter
from bot.report import ActionsReporter, Table, TerminalReporter
from bot.settings import Settings
from tests.clirunner import run_cli

SHIPPED = Path(__file__).resolve().parents[1] / "versions.toml"
TOKEN = "ghp_S3cretT0kenValue1234567890abcdef"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


def runner_commands(text: str) -> list[tuple[str, str, str]]:
    """The workflow commands the Actions runner would execute for this output: a model of
    actions/runner ActionCommand.TryParseV2 (leading whitespace is trimmed, then `::name
    props::data`), `::stop-commands::TOKEN` ... `::TOKEN::`, and the legacy `##[name]` form."""
    commands: list[tuple[str, str, str]] = []
    stopped: str | None = None
    for line in text.splitlines():
        trimmed = line.lstrip()
        if stopped is not None:
            if trimmed == f"::{stopped}::":
                stopped = None
            continue
        if trimmed.startswith("::"):
            end = trimmed.find("::", 2)
            if end < 0:
                continue
            info, data = trimmed[2:end], trimmed[end + 2:]
            name, _, props = info.partition(" ")
            if name == "stop-commands":
                stopped = data
                continue
            commands.append((name, props, data))
        elif "##[" in line:
            commands.append(("legacy", "", line))
    return commands


def unescape_data(data: str) -> str:
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(data: str) -> str:
    return (data.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


class Actions:
    def __init__(self, tmp_path: Path) -> None:
        self.err, self.out = io.StringIO(), io.StringIO()
        self.summary_path = tmp_path / "summary.md"
        self.output_path = tmp_path / "output.txt"
        self.rep = ActionsReporter(summary_path=self.summary_path, output_path=self.output_path,
                                   err=self.err, out=self.out)

    def commands(self) -> list[tuple[str, str, str]]:
        return runner_commands(self.err.getvalue()) + runner_commands(self.out.getvalue())

    def names(self) -> list[str]:
        return [name for name, _, _ in self.commands()]


@pytest.fixture
def gha(tmp_path: Path) -> Actions:
    return Actions(tmp_path)


# -- groups ----------------------------------------------------------------------------------

def test_group_per_phase(gha: Actions) -> None:
    with gha.rep.phase("poll"):
        gha.rep.info("checking")
    with gha.rep.phase("build"):
        pass
    cmds = [(n, d) for n, _, d in gha.commands()]
    assert cmds == [("group", "poll"), ("endgroup", ""), ("group", "build"), ("endgroup", "")]
    lines = gha.err.getvalue().splitlines()
    assert lines[1] == "checking"
    assert re.fullmatch(r"done: poll \(\d+\.\ds\)", lines[2])


def test_nested_phases_close_the_outer_group_first(gha: Actions) -> None:
    with gha.rep.phase("release"):
        with gha.rep.phase("build mono"):
            pass
        gha.rep.info("between")
    groups = [(n, d) for n, _, d in gha.commands() if n in ("group", "endgroup")]
    assert groups == [
        ("group", "release"),
        ("endgroup", ""),
        ("group", "build mono"),
        ("endgroup", ""),
        ("group", "release (continued)"),
        ("endgroup", ""),
    ]
    depth = 0
    for name, _ in groups:  # groups never nest in Actions
        depth += 1 if name == "group" else -1
        assert depth in (0, 1)
    assert depth == 0


def test_failed_phase_still_closes_its_group(gha: Actions) -> None:
    with pytest.raises(RuntimeError), gha.rep.phase("smoke"):
        raise RuntimeError("boom")
    assert gha.names() == ["group", "endgroup"]
    assert re.search(r"^FAILED: smoke \(\d+\.\ds\)$", gha.err.getvalue(), re.M)


def test_group_name_is_escaped(gha: Actions) -> None:
    with gha.rep.phase("50% of\nbuild"):
        pass
    (_, _, data), _ = gha.commands()
    assert data == "50%25 of%0Abuild"


# -- annotations -----------------------------------------------------------------------------

def test_warning_annotation_with_file_and_line(gha: Actions) -> None:
    gha.rep.warning("xsp is unpinned", file="versions.toml", line=12)
    assert gha.err.getvalue() == "::warning file=versions.toml,line=12::xsp is unpinned\n"


def test_annotation_escaping(gha: Actions) -> None:
    gha.rep.error("100% broken\r\n::error::forged", file="dir,a:b/versions.toml", line=3)
    out = gha.err.getvalue()
    assert out.count("\n") == 1  # one physical line: nothing can be forged
    [(name, props, data)] = gha.commands()
    assert name == "error"
    assert data == "100%25 broken%0D%0A::error::forged"
    assert unescape_data(data) == "100% broken\r\n::error::forged"
    fields = dict(p.split("=", 1) for p in props.split(","))
    assert unescape_property(fields["file"]) == "dir,a:b/versions.toml"
    assert fields["line"] == "3"


def test_annotation_without_location(gha: Actions) -> None:
    gha.rep.warning("plain")
    gha.rep.warning("line without file is dropped", line=4)
    assert gha.err.getvalue().splitlines() == ["::warning::plain",
                                               "::warning::line without file is dropped"]


# -- injection -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "hostile",
    [
        "::warning::pwned",
        "   ::error file=x::indented",
        "\t::add-mask::x",
        "ok\n::set-output name=x::y",
        "ok\r::notice::cr",
        "##[set-env name=PATH;]/tmp",
        "::stop-commands::abc",
    ],
)
def test_log_and_info_lines_cannot_issue_workflow_commands(gha: Actions, hostile: str) -> None:
    gha.rep.log(hostile)
    gha.rep.info(hostile)
    gha.rep.table(Table(hostile, ["a"], [[hostile]]))
    assert gha.commands() == []
    # still shown to the reader
    visible = hostile.splitlines()[-1].strip()
    assert visible in gha.err.getvalue()
    # and commands after it still work
    gha.rep.warning("real")
    assert gha.names() == ["warning"]


def test_plain_log_lines_are_passed_through(gha: Actions) -> None:
    gha.rep.log("checking for gcc... gcc\n")
    gha.rep.log("make[1]: Leaving directory '/src'")
    assert gha.err.getvalue() == "checking for gcc... gcc\nmake[1]: Leaving directory '/src'\n"


# -- summary and outputs ---------------------------------------------------------------------

def test_step_summary_is_appended_as_markdown(gha: Actions) -> None:
    gha.summary_path.write_text("earlier step\n", encoding="utf-8")
    gha.rep.table(Table("Published", ["component", "version"],
                        [["mono", "6.14.1"], ["xsp", "4.7|1"]]))
    gha.rep.summary("**done**")
    text = gha.summary_path.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    lines = text.splitlines()
    assert "### Published" in lines
    i = lines.index("| component | version |")
    assert lines[i + 1] == "|---|---|"
    assert lines[i + 2] == "| mono | 6.14.1 |"
    assert lines[i + 3] == "| xsp | 4.7\\|1 |"
    assert text.rstrip().endswith("**done**")
    # the table is also printed for the log, on stdout
    assert "mono" in gha.out.getvalue() and "6.14.1" in gha.out.getvalue()


def parse_outputs(text: str) -> list[tuple[str, str, str]]:
    found = re.findall(r"^([A-Za-z0-9_-]+)<<(\S+)\n(.*?)\n\2\n", text, re.M | re.S)
    assert "".join(f"{n}<<{d}\n{v}\n{d}\n" for n, d, v in found) == text  # nothing else
    return found


def test_outputs_use_a_random_heredoc_delimiter(gha: Actions) -> None:
    value = "line one\nname<<EOF\nEOF\nghadelimiter_\n"
    gha.rep.output("notes", value)
    gha.rep.output("notes2", value)
    gha.rep.output("version", "6.14.1")
    found = parse_outputs(gha.output_path.read_text(encoding="utf-8"))
    assert [(n, v) for n, _, v in found] == [("notes", value), ("notes2", value),
                                             ("version", "6.14.1")]
    delimiters = [d for _, d, _ in found]
    assert len(set(delimiters)) == 3
    for _, d, v in found:
        assert d not in v
        assert len(d) >= 20


def test_output_names_cannot_inject(gha: Actions) -> None:
    with pytest.raises(ValueError, match="output name"):
        gha.rep.output("a\nb", "x")
    assert not gha.output_path.exists()


def test_outputs_and_summary_are_ignored_without_files() -> None:
    err, out = io.StringIO(), io.StringIO()
    rep = ActionsReporter(summary_path=None, output_path=None, err=err, out=out)
    rep.output("x", "y")
    rep.summary("z")
    assert err.getvalue() == ""


# -- secrets ---------------------------------------------------------------------------------

def actions_env(tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_SESSION_TOKEN": SESSION,
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }


def test_make_reporter_masks_every_secret_first(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rep = make_reporter(Settings.from_env(actions_env(tmp_path)))
    assert isinstance(rep, ActionsReporter)
    rep.info("hello")
    err = capsys.readouterr().err
    cmds = runner_commands(err)
    masks = [unescape_data(d) for n, _, d in cmds if n == "add-mask"]
    assert sorted(masks) == sorted([TOKEN, AWS_SECRET, SESSION])
    assert err.splitlines()[: len(masks)] == [f"::add-mask::{m}" for m in masks]


def test_secrets_are_redacted_everywhere(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(tmp_path)
    rep = make_reporter(Settings.from_env(env))
    capsys.readouterr()  # drop the add-mask lines: the only place a secret may appear
    for secret in (TOKEN, AWS_SECRET, SESSION):
        said = f"token={secret}!"
        with rep.phase(said):
            rep.info(said)
            rep.warning(said, file="versions.toml", line=1)
            rep.error(said)
            rep.log(said)
            rep.table(Table(said, ["k"], [[said]]))
            rep.summary(said)
            rep.output("out", said)
    captured = capsys.readouterr()
    files = Path(env["GITHUB_STEP_SUMMARY"]).read_text() + Path(env["GITHUB_OUTPUT"]).read_text()
    everything = captured.out + captured.err + files
    for secret in (TOKEN, AWS_SECRET, SESSION):
        assert secret not in everything
    assert everything.count("token=***!") >= 3 * 10
    assert "AKIAEXAMPLE" not in everything  # never given, never printed


def test_terminal_reporter_redacts_and_times_phases(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 165.5])
    monkeypatch.setattr("bot.report.terminal.time.monotonic", lambda: next(clock))
    err, out = io.StringIO(), io.StringIO()
    rep = TerminalReporter(err=err, out=out, color=False)
    rep.mask(TOKEN)
    with rep.phase("build mono"):
        rep.info(f"using {TOKEN}")
        rep.log(f"[bold]{TOKEN}[/bold]")
        rep.warning(f"w {TOKEN}", file="versions.toml", line=3)
    rep.table(Table("t", ["k"], [[TOKEN]]))
    text = err.getvalue() + out.getvalue()
    assert TOKEN not in text
    lines = err.getvalue().splitlines()
    assert lines[0] == "▶ build mono"
    assert lines[1] == "  using ***"
    assert "[bold]***[/bold]" in lines[2]  # markup shown literally, not interpreted
    assert lines[3] == "  warning: versions.toml:3: w ***"
    assert lines[4] == "✔ build mono (1m05s)"
    assert "***" in out.getvalue()


def test_terminal_reporter_reports_failed_phase() -> None:
    err = io.StringIO()
    rep = TerminalReporter(err=err, out=io.StringIO(), color=False)
    with pytest.raises(KeyError), rep.phase("smoke"):
        raise KeyError("x")
    assert re.search(r"^✘ smoke failed after \d+\.\ds$", err.getvalue(), re.M)
    assert "::" not in err.getvalue()



def test_terminal_table_title_is_shown_literally() -> None:
    # the title carries the --config path: rich markup in it is text, not a (broken) tag
    out = io.StringIO()
    rep = TerminalReporter(err=io.StringIO(), out=out, color=False)
    rep.table(Table("[/x].toml: 1 components [bold]", ["k"], [["v"]]))
    assert "[/x].toml: 1 components [bold]" in out.getvalue()

# -- composition root ------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "kind"), [
    ({"GITHUB_ACTIONS": "true"}, ActionsReporter),
    ({"GITHUB_ACTIONS": "false"}, TerminalReporter),
    ({"CI": "true"}, TerminalReporter),
    ({}, TerminalReporter),
])
def test_reporter_is_chosen_from_the_given_env(env: dict[str, str], kind: type) -> None:
    assert isinstance(App(Settings.from_env(env)).reporter, kind)


def test_settings_from_empty_env() -> None:
    s = Settings.from_env({})
    assert s.in_actions is False
    assert s.github_token is None
    assert s.secrets == ()
    assert s.step_summary is None and s.output_file is None
    assert s.store_url == "file://dist/store"
    assert s.github_api_url == "https://api.github.com"
    assert s.config_path == Path("versions.toml")


def test_summary_files_only_under_actions(tmp_path: Path) -> None:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "s"), "GITHUB_OUTPUT": str(tmp_path / "o")}
    assert Settings.from_env(env).step_summary is None
    s = Settings.from_env({**env, "GITHUB_ACTIONS": "true"})
    assert s.step_summary == tmp_path / "s"
    assert s.output_file == tmp_path / "o"


@pytest.fixture
def poisoned_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    marker = "MARKER_poisoned_os_environ_7f3a9c"
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_REPOSITORY",
                 "RELEASE_BOT_STORE", "AWS_ENDPOINT_URL", "DOCKER_HOST"):
        monkeypatch.setenv(name, marker)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "poisoned-summary"))
    yield marker
    assert not (tmp_path / "poisoned-summary").exists()


def test_settings_never_read_os_environ(poisoned_environ: str) -> None:
    s = Settings.from_env({})
    assert poisoned_environ not in repr(s)
    assert s == Settings.from_env({})
    assert s.in_actions is False
    assert isinstance(App(s).reporter, TerminalReporter)


def test_cli_uses_the_env_it_is_given(poisoned_environ: str, tmp_path: Path) -> None:
    result = run_cli(["--config", str(SHIPPED), "check"], env={})
    assert result.code == 0, result.output
    assert poisoned_environ not in result.output
    assert runner_commands(result.stderr) == []  # terminal reporter, despite os.environ
    summary = tmp_path / "given-summary.md"
    result = run_cli(["--config", str(SHIPPED), "check"],
                     env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 0, result.output
    names = [n for n, _, _ in runner_commands(result.stderr)]
    if "UNPINNED" in result.stdout:
        assert "warning" in names
    assert "| component |" in summary.read_text(encoding="utf-8")
