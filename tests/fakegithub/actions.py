"""GitHub Actions in the fake: the state and control API of workflows, runs and artifacts.

State lives on each ``Repo`` (``workflows``, ``runs``, ``artifacts``). ``ActionsControl`` is the
plain-Python control API, mixed into ``FakeGitHub``; the REST handlers are in
``actions_rest.py``, the HTTP control routes (``/_fake/``) in ``http_control.py``. An artifact
download answers 302 to a short-lived signed blob URL under ``/_blobs/``, served here without
auth (the signature is the credential, like GitHub's storage host).
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .plumbing import Response, _iso, _now

if TYPE_CHECKING:
    from .server import Fault, Repo

BLOB_PREFIX = "/_blobs/"
TRUNCATE_AT = "x-fake-truncate-at"  # the server writes that many body bytes and hangs up
WORKFLOWS_DIR = ".github/workflows/"
RUN_STATUSES = frozenset({"queued", "in_progress", "completed", "waiting", "requested", "pending"})
CONCLUSIONS = frozenset(
    {"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required",
     "stale"}
)
RETENTION = timedelta(days=90)  # GitHub's default artifact retention
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed entry dates: the same files give the same zip bytes
SHA1_HEX = re.compile(r"[0-9a-f]{40}")


def artifact_zip(files: Mapping[str, bytes]) -> bytes:
    """The zip actions/upload-artifact v4+ stores: the files at the archive's root."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            name = path.replace("\\", "/")
            if not name or name.startswith("/") or ".." in name.split("/"):
                raise ValueError(f"artifact file path {path!r} must be relative, without '..'")
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[path])
    return buf.getvalue()


def zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _workflow_path(workflow: str) -> str:
    return workflow if workflow.startswith(WORKFLOWS_DIR) else WORKFLOWS_DIR + workflow


class ActionsControl:
    """Control API for runs and artifacts (mixed into ``FakeGitHub``)."""

    blob_url_ttl: float = 60.0  # seconds a download's blob URL stays valid (GitHub: ~1 minute)

    if TYPE_CHECKING:
        lock: threading.RLock
        repos: dict[str, Repo]
        url: str
        _ids: Iterator[int]

        def _repo(self, owner: str, name: str) -> Repo: ...
        def take_fault(self, method: str, path: str) -> Fault | None: ...

    def add_workflow_run(
        self,
        owner: str,
        repo: str,
        *,
        head_sha: str,
        workflow: str = "check.yml",
        name: str | None = None,
        event: str = "pull_request",
        head_branch: str | None = None,
        status: str = "completed",
        conclusion: str | None = "success",
        head_repo: str | None = None,
        pull_numbers: Iterable[int] = (),
    ) -> int:
        """Record a run of ``workflow`` (a file name or ``.github/workflows/`` path); its id.

        ``head_repo`` ("other/buildpack") marks a run of a fork's pull request; ``conclusion``
        only applies to a ``completed`` run; ``head_branch`` defaults to the first pull
        request's head branch, else the default branch.
        """
        if not SHA1_HEX.fullmatch(head_sha):
            raise ValueError(f"head_sha {head_sha!r} is not a 40-hex commit sha")
        if status not in RUN_STATUSES:
            raise ValueError(f"status {status!r} is not one of {sorted(RUN_STATUSES)}")
        conclusion = conclusion if status == "completed" else None
        if status == "completed" and conclusion not in CONCLUSIONS:
            raise ValueError(f"conclusion {conclusion!r} is not one of {sorted(CONCLUSIONS)}")
        if head_repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", head_repo):
            raise ValueError(f"head_repo {head_repo!r} is not owner/name")
        with self.lock:
            r = self._repo(owner, repo)
            numbers = tuple(int(n) for n in pull_numbers)
            for n in numbers:
                if n not in r.pulls:
                    raise ValueError(f"no pull request #{n} in {r.full_name}")
            wf = self._workflow_for(r, _workflow_path(workflow), name)
            wf["runs"] += 1
            if head_branch is None:
                head_branch = r.pulls[numbers[0]]["head_ref"] if numbers else r.default_branch
            fork = head_repo if head_repo and head_repo.lower() != r.full_name.lower() else None
            now = _now()
            run: dict[str, Any] = {
                "id": next(self._ids),
                "workflow_id": wf["id"],
                "name": wf["name"],
                "path": wf["path"],
                "head_sha": head_sha,
                "head_branch": head_branch,
                "event": event,
                "status": status,
                "conclusion": conclusion,
                "run_number": wf["runs"],
                "run_attempt": 1,
                "check_suite_id": next(self._ids),
                "head_repo": fork,
                "head_repo_id": next(self._ids) if fork else r.id,
                "pull_numbers": numbers,
                "created_at": now,
                "updated_at": now,
            }
            r.runs[run["id"]] = run
            return int(run["id"])

    def complete_run(self, run_id: int, conclusion: str = "success") -> None:
        """A run finishes: status ``completed`` with ``conclusion``."""
        if conclusion not in CONCLUSIONS:
            raise ValueError(f"conclusion {conclusion!r} is not one of {sorted(CONCLUSIONS)}")
        with self.lock:
            _, run = self._run_anywhere(run_id)
            run.update(status="completed", conclusion=conclusion, updated_at=_now())

    def add_artifact(
        self,
        owner: str,
        repo: str,
        run_id: int,
        name: str,
        files: Mapping[str, bytes | str] | bytes,
        *,
        expired: bool = False,
    ) -> int:
        """Upload an artifact to a run: ``files`` ({path: bytes}, zipped at the root like
        upload-artifact v4+) or the zip's bytes. Returns the artifact id."""
        if not name or "/" in name or "\\" in name:
            raise ValueError(f"artifact name {name!r} must be non-empty, without slashes")
        if isinstance(files, bytes | bytearray):
            data = bytes(files)
            try:
                zip_files(data)
            except zipfile.BadZipFile:
                raise ValueError(f"artifact {name!r}: the bytes are not a zip archive") from None
        else:
            data = artifact_zip({p: d.encode() if isinstance(d, str) else d
                                 for p, d in files.items()})
        with self.lock:
            r = self._repo(owner, repo)
            run = r.runs.get(int(run_id))
            if run is None:
                raise KeyError(f"no workflow run {run_id} in {r.full_name}")
            if any(a["run_id"] == run["id"] and a["name"] == name for a in r.artifacts.values()):
                raise ValueError(f"run {run_id} already has an artifact named {name!r}")
            now = _now()
            artifact = {
                "id": next(self._ids),
                "run_id": run["id"],
                "name": name,
                "zip": data,
                "expired": expired,
                "created_at": now,
                "expires_at": now if expired else now + RETENTION,
                "sigs": {},  # blob URL signature -> monotonic expiry
            }
            r.artifacts[artifact["id"]] = artifact
            return int(artifact["id"])

    def expire_artifact(self, owner: str, repo: str, artifact_id: int) -> None:
        """The retention period ends: the artifact stays listed, its download answers 410."""
        with self.lock:
            a = self._artifact_of(owner, repo, artifact_id)
            a.update(expired=True, expires_at=_now())

    def delete_artifact(self, owner: str, repo: str, artifact_id: int) -> None:
        with self.lock:
            a = self._artifact_of(owner, repo, artifact_id)
            del self._repo(owner, repo).artifacts[a["id"]]

    def workflow_runs(self, owner: str, repo: str) -> list[dict[str, Any]]:
        """Snapshots of the runs, oldest first: id, workflow_id, name, path, head_sha,
        head_branch, event, status, conclusion, run_number, run_attempt, head_repo (the fork,
        or None), pull_numbers, created_at, updated_at."""
        with self.lock:
            return [dict(run) for _, run in sorted(self._repo(owner, repo).runs.items())]

    def artifacts(self, owner: str, repo: str) -> list[dict[str, Any]]:
        """Snapshots of the artifacts, oldest first: id, run_id, name, size_in_bytes, digest,
        expired, created_at, expires_at, zip (bytes) and files ({path: bytes})."""
        with self.lock:
            out = []
            for _, a in sorted(self._repo(owner, repo).artifacts.items()):
                snap = {k: v for k, v in a.items() if k != "sigs"}
                snap.update(size_in_bytes=len(a["zip"]), digest=digest(a["zip"]),
                            files=zip_files(a["zip"]))
                out.append(snap)
            return out

    # ---------------------------------------------------------------- internals
    def _workflow_for(self, r: Repo, path: str, name: str | None) -> dict[str, Any]:
        wf = r.workflows.get(path)
        if wf is None:
            now = _now()
            stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            wf = {"id": next(self._ids), "name": name or stem, "path": path, "runs": 0,
                  "created_at": now, "updated_at": now}
            r.workflows[path] = wf
        return wf

    def _run_anywhere(self, run_id: int) -> tuple[Repo, dict[str, Any]]:
        for r in self.repos.values():
            if int(run_id) in r.runs:
                return r, r.runs[int(run_id)]
        raise KeyError(f"no workflow run {run_id}")

    def _artifact_of(self, owner: str, repo: str, artifact_id: int) -> dict[str, Any]:
        a = self._repo(owner, repo).artifacts.get(int(artifact_id))
        if a is None:
            raise KeyError(f"no artifact {artifact_id} in {owner}/{repo}")
        return a

    def blob_url(self, r: Repo, artifact: dict[str, Any]) -> str:
        """A fresh signed URL for the artifact's zip, valid ``blob_url_ttl`` seconds."""
        sig = secrets.token_urlsafe(16)
        artifact["sigs"][sig] = time.monotonic() + self.blob_url_ttl
        expires = _now() + timedelta(seconds=self.blob_url_ttl)
        query = urllib.parse.urlencode({"se": _iso(expires), "sig": sig})
        return f"{self.url}{BLOB_PREFIX}{r.owner}/{r.name}/artifacts/{artifact['id']}.zip?{query}"

    def serve_blob(self, target: str) -> Response:
        """``GET /_blobs/{owner}/{repo}/artifacts/{id}.zip?sig=...``: no auth, the signature
        is the credential (an unknown or lapsed one is 403, like the storage host)."""
        parsed = urllib.parse.urlsplit(target)
        m = re.fullmatch(r"/_blobs/([^/]+)/([^/]+)/artifacts/([0-9]+)\.zip", parsed.path)
        if m is None:
            return Response(404, b"BlobNotFound")
        sig = urllib.parse.parse_qs(parsed.query).get("sig", [""])[-1]
        fault = self.take_fault("GET", parsed.path)
        if fault is not None and fault.kind != "truncate":  # the storage host's own trouble:
            return Response(int(fault.kind), b"ServerBusy")  # "500", "502" or "503"
        with self.lock:
            r = self.repos.get(f"{m.group(1)}/{m.group(2)}".lower())
            a = r.artifacts.get(int(m.group(3))) if r is not None else None
            if a is None:
                return Response(404, b"BlobNotFound")
            valid_until = a["sigs"].get(sig)
            if valid_until is None or time.monotonic() >= valid_until:
                return Response(403, b"AuthenticationFailed: the signed URL is invalid or expired")
            headers = {"content-type": "application/zip"}
            if fault is not None:  # "truncate": the connection drops halfway through the body
                headers[TRUNCATE_AT] = str(len(a["zip"]) // 2)
            return Response(200, a["zip"], headers)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
