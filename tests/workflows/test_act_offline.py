"""Fast checks of the act harness's own logic, without act: secret files, log scrubbing,
job results, and the artifact stand-in's path matching (upload-artifact's search rules)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.workflows.act import _job_runs, _name_jobs, dotenv_line, parse_log, with_line_masks
from tests.workflows.standins import ACTIONS_DIR


def test_dotenv_lines() -> None:
    assert dotenv_line("A", "plain $HOME \\n \"q\"\nline 2") == "A='plain $HOME \\n \"q\"\nline 2'"
    assert dotenv_line("B", "it's $X\n\\y") == 'B="it\'s \\$X\\n\\\\y"'
    with pytest.raises(ValueError, match="backslash"):
        dotenv_line("C", "ends in \\")
    with pytest.raises(ValueError, match="secret name"):
        dotenv_line("not-a-name", "x")


def test_multi_line_secrets_get_one_mask_per_line() -> None:
    masks = with_line_masks({"KEY": "-----BEGIN-----\nabc\n\n-----END-----", "ONE": "x"})
    assert masks == {"KEY": "-----BEGIN-----\nabc\n\n-----END-----", "ONE": "x",
                     "RELEASE_BOT_ACT_MASK_0": "-----BEGIN-----",
                     "RELEASE_BOT_ACT_MASK_1": "abc", "RELEASE_BOT_ACT_MASK_2": "-----END-----"}


def test_parse_log_scrubs_every_field() -> None:
    records = [
        {"jobID": "a", "command": "add-mask", "arg": "runtime-token", "msg": "  ⚙  ***",
         "raw": "::add-mask::runtime-token\n"},
        {"jobID": "a", "command": "set-env", "arg": "hunter2", "msg": "::set-env:: K=***"},
        {"jobID": "a", "step": 'test "runtime-token" = x', "msg": "⭐ Run Main test \"***\""},
    ]
    raw = "\n".join([*(json.dumps(r) for r in records), "Error: hunter2 and runtime-token"])
    text, parsed = parse_log(raw, {"PASSWORD": "hunter2"})
    assert "hunter2" not in text and "runtime-token" not in text
    assert parsed[0]["arg"] == "***" and parsed[2]["step"] == 'test "***" = x'
    assert text.splitlines()[-1] == "Error: *** and ***"


def record(job: str, job_id: str, matrix: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"job": job, "jobID": job_id, "matrix": matrix, **fields}


def test_matrix_results_are_per_entry() -> None:
    a, b = {"stack": "a"}, {"stack": "b"}
    records = [
        record("wf/build (b)-2", "build", b, stepID=["0"], stepResult="failure", msg="x"),
        record("wf/build (b)-2", "build", b, jobResult="failure", msg="🏁  Job failed"),
        record("wf/build (a)-1", "build", a, stepID=["0"], stepResult="success", msg="x"),
        record("wf/build (a)-1", "build", a, stepID=["up"], stepResult="failure", msg="x"),
        record("wf/build (a)-1", "build", a, stepID=["up"], msg="Failed but continue next step"),
        record("wf/build (a)-1", "build", a, jobResult="failure", msg="🏁  Job failed"),
        record("wf/plain-1", "plain", {"n": 1}, jobResult="success", msg="🏁  Job succeeded"),
    ]
    _name_jobs(records, {"name": "wf", "jobs": {"build": {"name": "build (${{ matrix.stack }})"},
                                                "plain": {}}}, "w.yml")
    runs = _job_runs(records)
    assert [(r.job_id, r.name, r.result) for r in runs] == [
        ("build", "build (b)", "failure"), ("build", "build (a)", "success"),
        ("plain", "plain (1)", "success")]


# -- the artifact stand-in's search (src/shared/search.ts of upload-artifact v7) ---------
def load_store() -> ModuleType:
    path = ACTIONS_DIR / "artifact_store.py"
    if str(ACTIONS_DIR) not in sys.path:  # its shared module, as the staged copy finds it
        sys.path.insert(0, str(ACTIONS_DIR))
    spec = importlib.util.spec_from_file_location("artifact_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel in ("dist/a/one.tar.gz", "dist/a/one.sha256", "dist/b/two.tar.gz", "dist/.hid",
                "logs/x.log", "single.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def found(store: ModuleType, spec: str, root: Path, hidden: bool = False) -> tuple[list[str], str]:
    files, base = store.find_files(spec, hidden)
    return sorted(os.path.relpath(f, base) for f in files), os.path.relpath(base, root)


@pytest.mark.parametrize(("spec", "files", "base"), [
    ("dist/", ["a/one.sha256", "a/one.tar.gz", "b/two.tar.gz"], "dist"),
    ("dist/*/*.tar.gz", ["a/one.tar.gz", "b/two.tar.gz"], "dist"),
    ("dist/**/*.tar.gz\n!dist/b/", ["a/one.tar.gz"], "dist"),
    ("dist/a/\nlogs/x.log", ["dist/a/one.sha256", "dist/a/one.tar.gz", "logs/x.log"], "."),
    ("single.txt", ["single.txt"], "."),
    ("dist/a/one.tar.gz", ["one.tar.gz"], "dist/a"),
    ("# comment\n\n  dist/b  \n", ["two.tar.gz"], "dist/b"),
    ("nothing/*", [], "nothing"),
])
def test_upload_search(tree: Path, spec: str, files: list[str], base: str) -> None:
    assert found(load_store(), spec, tree) == (files, base)


def test_hidden_files_only_when_asked(tree: Path) -> None:
    store = load_store()
    assert ".hid" not in found(store, "dist/", tree)[0]
    assert ".hid" in found(store, "dist/", tree, hidden=True)[0]


@pytest.mark.parametrize(("name", "pattern", "matches"), [
    ("build-mono-a", "build-*", True), ("deps-x", "{build,deps}-*", True),
    (".hidden", "*", False), ("smoke-a", "build-*", False), ("a", "[^b]", True),
])
def test_download_patterns(name: str, pattern: str, matches: bool) -> None:
    assert load_store().name_matches(name, pattern) is matches
