"""Stand-in for actions/upload-artifact v7 and actions/download-artifact v8 (stdlib only).

One file for both stand-ins: act copies only an action's own folder, so the harness puts
this file beside each stand-in's action.yml (`tests.workflows.standins.staged`); the composite
step runs ``python3 artifact_store.py upload|download`` with the inputs as JSON in
``STANDIN_INPUTS``. Artifacts really move between jobs, through a directory:

    $RELEASE_BOT_ACT_ARTIFACTS/<run-id>/<name>/<files>        what was uploaded
    $RELEASE_BOT_ACT_ARTIFACTS/.meta/<run-id>/<name>.json     id, size, digest
    $RELEASE_BOT_ACT_ARTIFACTS/.meta/next-id, .lock           id counter, a flock

The current run is $RELEASE_BOT_ACT_RUN_ID (default "1"). What a workflow could notice
follows the real actions' sources (src/shared/search.ts and src/upload/upload-artifact.ts
at upload-artifact v7.0.0, src/download-artifact.ts at download-artifact v8.0.1):
`path` lines with globs and `!excludes`, hidden files left out, files stored relative to
the least common ancestor of the search paths, if-no-files-found, the 409 on a duplicate
name without `overwrite`, a missing `name` failing, a `pattern` matching nothing
succeeding with nothing downloaded, one match (or `merge-multiple`) landing in `path`
itself, others in path/<name>/.

act has no artifact REST API, so with $RELEASE_BOT_ACT_FAKE_GITHUB (the fake GitHub's URL)
an upload also registers this act run there as a workflow run (once per run: the workflow
file $RELEASE_BOT_ACT_WORKFLOW, the event's head commit and pull request) and uploads the
artifact's zip to it through the fake's `/_fake/` control routes, so a later run can find it
through the REST API as on GitHub. The test completes the run with act's result.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import sys
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from standin_env import record_environment, standin_inputs

BAD_NAME_CHARS = ['"', ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/"]
NOT_FOUND_HELP = (
    "Please ensure that your artifact is not expired and the artifact was uploaded using a "
    "compatible version of toolkit/upload-artifact.\nFor more information, visit the GitHub "
    "Artifacts FAQ: https://github.com/actions/toolkit/blob/main/packages/artifact/docs/faq.md"
)


class Failed(Exception):
    """core.setFailed(message): an ::error:: line and exit code 1."""


# -- runner protocol -------------------------------------------------------------------
def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def info(text: str) -> None:
    print(text, flush=True)


def warning(text: str) -> None:
    print(f"::warning::{_escape(text)}", flush=True)


def set_output(name: str, value: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def get_bool(inputs: dict[str, str], name: str) -> bool:
    value = inputs.get(name, "")
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    raise Failed(
        f'Input does not meet YAML 1.2 "Core Schema" specification: {name}\n'
        "Support boolean input list: `true | True | TRUE | false | False | FALSE`"
    )


# -- the store -------------------------------------------------------------------------
class Store:
    def __init__(self) -> None:
        root = os.environ.get("RELEASE_BOT_ACT_ARTIFACTS", "")
        if not root:
            raise Failed("stand-in artifact store: RELEASE_BOT_ACT_ARTIFACTS is not set "
                         "(tests/workflows/act.py run_act sets it)")
        self.root = Path(root)
        self.run_id = os.environ.get("RELEASE_BOT_ACT_RUN_ID") or "1"
        (self.root / ".meta").mkdir(parents=True, exist_ok=True)

    def lock(self) -> Any:
        handle = open(self.root / ".meta" / ".lock", "a+")  # noqa: SIM115
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def files_dir(self, run_id: str, name: str) -> Path:
        return self.root / run_id / name

    def meta_path(self, run_id: str, name: str) -> Path:
        return self.root / ".meta" / run_id / f"{name}.json"

    def list(self, run_id: str) -> list[dict[str, Any]]:
        folder = self.root / ".meta" / run_id
        metas = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
        return sorted(metas, key=lambda m: int(m["id"]))

    def next_id(self) -> int:
        counter = self.root / ".meta" / "next-id"
        value = int(counter.read_text()) if counter.exists() else 1
        counter.write_text(str(value + 1))
        return value


def tree_digest(folder: Path) -> tuple[str, int]:
    """(sha256 over the sorted relative paths and contents, total size)."""
    outer, size = hashlib.sha256(), 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        size += len(data)
        rel = path.relative_to(folder).as_posix()
        outer.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return outer.hexdigest(), size


# -- @actions/glob, as upload-artifact uses it -----------------------------------------
class Pattern:
    def __init__(self, negate: bool, segments: list[str], dirs_only: bool) -> None:
        self.negate, self.segments, self.dirs_only = negate, segments, dirs_only

    @property
    def search_path(self) -> str:
        literal: list[str] = []
        for segment in self.segments:
            if re.search(r"[*?\[]", segment):
                break
            literal.append(segment)
        return "/" + "/".join(literal)

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dirs_only and not is_dir:
            return False
        return _match(self.segments, path.strip("/").split("/"))


def _match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    segment = head.replace("[^", "[!")
    return fnmatch.fnmatchcase(parts[0], segment) and _match(rest, parts[1:])


def parse_patterns(text: str) -> list[Pattern]:
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = False
        while line.startswith("!"):
            negate, line = not negate, line[1:]
        if line.startswith("~"):
            line = os.path.expanduser("~") + line[1:]
        dirs_only = line.endswith("/")
        absolute = os.path.normpath(os.path.join(os.getcwd(), line))
        segments = absolute.strip("/").split("/")
        patterns.append(Pattern(negate, segments, dirs_only))
        if dirs_only or segments[-1] != "**":  # implicitDescendants
            patterns.append(Pattern(negate, [*segments, "**"], False))
    return patterns


def search_paths(patterns: list[Pattern]) -> list[str]:
    candidates = [p.search_path for p in patterns if not p.negate]
    result: list[str] = []
    for path in candidates:
        has_ancestor = any(path != other and path.startswith(other.rstrip("/") + "/")
                           for other in candidates)
        if not has_ancestor and path not in result:
            result.append(path)
    return result


def _walk(root: str, hidden: bool) -> Iterator[tuple[str, bool]]:
    if not os.path.exists(root):
        return
    stack = [root]
    while stack:
        path = stack.pop()
        if not hidden and os.path.basename(path).startswith("."):
            continue
        is_dir = os.path.isdir(path)  # follows symbolic links, like the real globber
        yield path, is_dir
        if is_dir:
            stack.extend(os.path.join(path, child) for child in sorted(os.listdir(path)))


def find_files(text: str, hidden: bool) -> tuple[list[str], str]:
    """(files to upload, root directory): findFilesToUpload in src/shared/search.ts."""
    patterns = parse_patterns(text)
    roots = search_paths(patterns)
    files: list[str] = []
    for root in roots:
        for path, is_dir in _walk(root, hidden):
            matched = False
            for pattern in patterns:
                if pattern.matches(path, is_dir):
                    matched = not pattern.negate
            if matched and not is_dir and path not in files:
                files.append(path)
    if len(roots) > 1:
        info("Multiple search paths detected. Calculating the least common ancestor of all paths")
        split = [r.strip("/").split("/") for r in roots]
        common: list[str] = []
        for parts in zip(*split, strict=False):
            if any(p != parts[0] for p in parts):
                break
            common.append(parts[0])
        lca = "/" + "/".join(common)
        info(f"The least common ancestor is {lca}. This will be the root directory of the artifact")
        return files, lca
    if not roots:
        return files, os.getcwd()
    if len(files) == 1 and roots[0] == files[0]:
        return files, os.path.dirname(files[0])
    return files, roots[0]


# -- upload ----------------------------------------------------------------------------
def upload(inputs: dict[str, str]) -> None:
    name = inputs.get("name") or "artifact"
    search = inputs.get("path", "")
    if not search:
        raise Failed("Input required and not supplied: path")
    overwrite = get_bool(inputs, "overwrite")
    hidden = get_bool(inputs, "include-hidden-files")
    archive = get_bool(inputs, "archive")
    behaviour = inputs.get("if-no-files-found", "")
    if behaviour not in ("warn", "error", "ignore"):
        raise Failed(f"Unrecognized if-no-files-found input. Provided: {behaviour}. "
                     "Available options: warn,error,ignore")
    for key in ("retention-days", "compression-level"):
        value = inputs.get(key, "")
        if value and not re.fullmatch(r"-?\d+", value.strip()):
            raise Failed(f"Invalid {key}")
    level = inputs.get("compression-level", "")
    if level and not 0 <= int(level) <= 9:
        raise Failed("Invalid compression-level. Valid values are 0-9")

    files, root = find_files(search, hidden)
    if not files:
        message = (f"No files were found with the provided path: {search}. "
                   "No artifacts will be uploaded.")
        if behaviour == "error":
            raise Failed(message)
        (warning if behaviour == "warn" else info)(message)
        return
    info(f"With the provided path, there will be {len(files)} file{'' if len(files) == 1 else 's'}"
         " uploaded")
    if not archive:
        if len(files) > 1:
            raise Failed("When 'archive' is set to false, only a single file can be uploaded. "
                         f"Found {len(files)} files to upload.")
        name = os.path.basename(files[0])
    bad = [c for c in BAD_NAME_CHARS if c in name]
    if bad or name in (".", ".."):
        raise Failed(f"The artifact name is not valid: {name}. Contains the following "
                     f"character: {' '.join(repr(c) for c in bad) or repr(name)}")

    store = Store()
    with store.lock():
        target, meta = store.files_dir(store.run_id, name), store.meta_path(store.run_id, name)
        if meta.exists() and overwrite:
            shutil.rmtree(target, ignore_errors=True)
            meta.unlink()
        if meta.exists():
            raise Failed("Failed to CreateArtifact: Received non-retryable error: Failed "
                         "request: (409) Conflict: an artifact with this name already exists "
                         "on the workflow run")
        staging = store.root / ".meta" / f"staging-{uuid.uuid4()}"
        for path in files:
            dest = staging / os.path.relpath(path, root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        digest, size = tree_digest(target)
        artifact_id = store.next_id()
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"id": artifact_id, "name": name, "size": size,
                                    "digest": digest, "archive": archive}))
        register_with_fake_github(store, name, target)  # under the lock: one run per act run
    info(f"Artifact {name} has been successfully uploaded! Final size is {size} bytes. "
         f"Artifact ID is {artifact_id}")
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    url = f"{server}/{repo}/actions/runs/{store.run_id}/artifacts/{artifact_id}"
    info(f"Artifact download URL: {url}")
    set_output("artifact-id", str(artifact_id))
    set_output("artifact-digest", digest)
    set_output("artifact-url", url)


def _post(url: str, body: bytes, content_type: str) -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def register_with_fake_github(store: Store, name: str, folder: Path) -> None:
    """The artifact on the fake GitHub too, in this act run's workflow run (made once)."""
    fake = os.environ.get("RELEASE_BOT_ACT_FAKE_GITHUB", "").rstrip("/")
    if not fake:
        return
    repo = os.environ["GITHUB_REPOSITORY"]
    marker = store.root / ".meta" / store.run_id / "fake-run-id"
    if not marker.exists():
        event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text() or "{}")
        pull = event.get("pull_request") or {}
        head = pull.get("head") or {}
        run: dict[str, Any] = {
            "head_sha": head.get("sha") or event.get("after") or os.environ["GITHUB_SHA"],
            "workflow": os.environ["RELEASE_BOT_ACT_WORKFLOW"],
            "event": os.environ.get("GITHUB_EVENT_NAME", "push"), "status": "in_progress"}
        if pull:
            run["pull_numbers"] = [int(pull["number"])]
            run["head_repo"] = (head.get("repo") or {}).get("full_name") or repo
        made = _post(f"{fake}/_fake/repos/{repo}/actions/runs", json.dumps(run).encode(),
                     "application/json")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(made["id"]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(folder).as_posix())
    _post(f"{fake}/_fake/repos/{repo}/actions/runs/{marker.read_text()}/artifacts?name={name}",
          buf.getvalue(), "application/zip")
    info(f"(stand-in) registered artifact {name} with the fake GitHub, run "
         f"{marker.read_text()}")


# -- download --------------------------------------------------------------------------
def _braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [x for alt in match.group(1).split(",") for x in _braces(head + alt + tail)]


def name_matches(name: str, pattern: str) -> bool:
    """minimatch(name, pattern) with its defaults: braces expand, `*` skips a leading dot."""
    for alternative in _braces(pattern):
        if name.startswith(".") and not alternative.startswith("."):
            continue
        if fnmatch.fnmatchcase(name, alternative.replace("[^", "[!")):
            return True
    return False


def _select(store: Store, run_id: str, inputs: dict[str, str]) -> tuple[list[dict[str, Any]],
                                                                         bool]:
    """(artifacts, is a single named download): the selection in src/download-artifact.ts."""
    name, ids, pattern = inputs.get("name", ""), inputs.get("artifact-ids", ""), \
        inputs.get("pattern", "")
    available = store.list(run_id)
    if name:
        info("Downloading single artifact")
        found = [a for a in available if a["name"] == name]
        if not found:
            raise Failed(f"Artifact not found for name: {name}\n{NOT_FOUND_HELP}")
        return found, True
    if ids:
        info("Downloading artifacts by ID")
        wanted: list[int] = []
        for raw in (i.strip() for i in ids.split(",")):
            if raw and not raw.isdigit():
                raise Failed(f"Invalid artifact ID: '{raw}'. Must be a number.")
            if raw:
                wanted.append(int(raw))
        if not wanted:
            raise Failed("No valid artifact IDs provided in 'artifact-ids' input")
        chosen = [a for a in available if int(a["id"]) in wanted]
        if not chosen:
            raise Failed("None of the provided artifact IDs were found")
        missing = [str(i) for i in wanted if i not in {int(a["id"]) for a in chosen}]
        if missing:
            warning(f"Could not find the following artifact IDs: {', '.join(missing)}")
        return chosen, False
    if pattern:
        info(f"Filtering artifacts by pattern '{pattern}'")
        return [a for a in available if name_matches(a["name"], pattern)], False
    info("No input name, artifact-ids or pattern filtered specified, downloading all artifacts")
    if not get_bool(inputs, "merge-multiple"):
        info("An extra directory with the artifact name will be created for each download")
    return available, False


def download(inputs: dict[str, str]) -> None:
    mismatch = inputs.get("digest-mismatch") or "error"
    if mismatch not in ("ignore", "info", "warn", "error"):
        raise Failed(f"Invalid value for 'digest-mismatch': '{mismatch}'. "
                     "Valid options are: ignore, info, warn, error")
    merge, skip_decompress = get_bool(inputs, "merge-multiple"), \
        get_bool(inputs, "skip-decompress")
    path = inputs.get("path") or os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    if path.startswith("~"):
        path = os.path.expanduser("~") + path[1:]
    if inputs.get("name") and inputs.get("artifact-ids"):
        raise Failed("Inputs 'name' and 'artifact-ids' cannot be used together. "
                     "Please specify only one.")
    resolved = Path(os.path.abspath(path))
    store = Store()
    run_id = store.run_id
    if inputs.get("github-token"):
        repository = inputs.get("repository", "")
        owner, _, repo = repository.partition("/")
        if not owner or not repo:
            raise Failed(f"Invalid repository: '{repository}'. Must be in format owner/repo")
        run_id = inputs.get("run-id") or run_id
    with store.lock():
        artifacts, single = _select(store, run_id, inputs)
        if artifacts:
            info("Preparing to download the following artifacts:")
        mismatched: list[str] = []
        for a in artifacts:
            info(f"- {a['name']} (ID: {a['id']}, Size: {a['size']}, "
                 f"Expected Digest: {a['digest']})")
        for a in artifacts:
            source = store.files_dir(run_id, a["name"])
            into = resolved if single or merge or len(artifacts) == 1 else resolved / a["name"]
            into.mkdir(parents=True, exist_ok=True)
            if tree_digest(source)[0] != a["digest"]:
                mismatched.append(a["name"])
            if skip_decompress and a.get("archive", True):
                with zipfile.ZipFile(into / f"{a['name']}.zip", "w") as zf:
                    for file in sorted(p for p in source.rglob("*") if p.is_file()):
                        zf.write(file, file.relative_to(source).as_posix())
                continue
            shutil.copytree(source, into, dirs_exist_ok=True)
    for artifact_name in mismatched:
        message = (f"Artifact '{artifact_name}' digest validation failed. "
                   "Please verify the integrity of the artifact.")
        if mismatch == "info":
            info(message)
        elif mismatch == "warn":
            warning(message)
    if mismatched and mismatch == "error":
        raise Failed(f"Digest validation failed for artifact(s): {', '.join(mismatched)}. "
                     "Use 'digest-mismatch: warn' to continue on mismatch.")
    info(f"Total of {len(artifacts)} artifact(s) downloaded")
    set_output("download-path", str(resolved))
    info("Download artifact has finished successfully")


def main(argv: list[str]) -> int:
    record_environment(argv[1] if len(argv) > 1 else "artifact")
    inputs = standin_inputs()
    try:
        if argv[1:] == ["upload"]:
            upload(inputs)
        elif argv[1:] == ["download"]:
            try:
                download(inputs)
            except Failed as err:
                raise Failed(f"Unable to download artifact(s): {err}") from None
        else:
            raise Failed(f"usage: {argv[0]} upload|download")
    except Failed as err:
        print(f"::error::{_escape(str(err))}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
