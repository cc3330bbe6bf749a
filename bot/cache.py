"""The source cache: downloads on the host, stored by sha256, resumed, verified.

Layout under the cache root: `sha256/<hex>` (verified files, read-only), `partial/<key>.part`
(an interrupted download, resumed with a Range request). A file is only ever moved into
`sha256/` after its hash was computed over every byte, so what is there is what was pinned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from urllib3.exceptions import HTTPError

from bot.errors import ChecksumMismatchError, UpstreamError
from bot.files import sha256_file
from bot.http import HttpClient
from bot.report import Reporter

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class CachedFile:
    path: Path
    sha256: str
    size: int
    downloaded: int  # bytes fetched by this call (0 when served from the cache)


class SourceCache:
    def __init__(self, root: Path, http: HttpClient, reporter: Reporter) -> None:
        self.root = root
        self.http = http
        self.reporter = reporter

    def path_for(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256

    def fetch(self, url: str, sha256: str | None, *, attempts: int = 3) -> CachedFile:
        """The file at `url`, verified against `sha256` (None: record whatever it hashes to)."""
        if sha256 is not None:
            cached = self.path_for(sha256)
            if cached.is_file():
                return CachedFile(cached, sha256, cached.stat().st_size, 0)
        partial_dir = self.root / "partial"
        partial_dir.mkdir(parents=True, exist_ok=True)
        part = partial_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".part")
        if sha256 is None:
            # nothing to verify a resumed file against: bytes left by an earlier run could be
            # an older file at this URL, and their hash would be recorded as the pin
            part.unlink(missing_ok=True)
        resumed = part.exists()
        downloaded = self._download_all(url, part, attempts)
        actual = sha256_file(part)
        if sha256 is not None and actual != sha256 and resumed:
            # the partial file may be left from an older file at this URL: one clean retry
            part.unlink()
            downloaded += self._download_all(url, part, attempts)
            actual = sha256_file(part)
        if sha256 is not None and actual != sha256:
            part.unlink(missing_ok=True)
            raise ChecksumMismatchError(
                f"{url} has sha256 {actual}, but versions.toml pins {sha256}: the upstream file "
                "changed or was tampered with; nothing was built (verify it, then re-pin with "
                "`release-bot pin`)")
        final = self.path_for(actual)
        final.parent.mkdir(parents=True, exist_ok=True)
        part.chmod(0o444)
        part.replace(final)
        return CachedFile(final, actual, final.stat().st_size, downloaded)

    def _download_all(self, url: str, part: Path, attempts: int) -> int:
        """Download into `part`, resuming after dropped connections; returns bytes fetched."""
        downloaded = 0
        for attempt in range(attempts):
            try:
                return downloaded + self._download(url, part)
            except _Interrupted as exc:  # connection dropped mid-body: resume from what we have
                downloaded += exc.written
                if attempt + 1 == attempts:
                    raise UpstreamError(f"download of {url} kept failing ({exc}); "
                                        "try again later") from None
                self.reporter.warning(f"download of {url} interrupted; resuming")
        return downloaded

    def _download(self, url: str, part: Path) -> int:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        written = 0
        try:
            with self.http.stream(url, headers=headers,
                                  allow_status=(416,) if have else ()) as response:
                if response.status_code == 416:
                    # nothing after byte `have`: complete if the server's size agrees
                    total = response.headers.get("Content-Range", "").rpartition("/")[2]
                    if total == str(have):
                        return 0
                    part.unlink()
                    return self._download(url, part)
                if have and response.status_code != 206:
                    have = 0  # server ignored the range: start over
                mode = "ab" if have else "wb"
                with part.open(mode) as fh:
                    for chunk in response.iter_content(CHUNK):
                        fh.write(chunk)
                        written += len(chunk)
        except HTTPError as exc:
            # a connection dropped mid-body: the caller resumes from what was written
            raise _Interrupted(str(exc), written) from exc
        return written


class _Interrupted(OSError):
    """A download stopped mid-body after `written` bytes reached the partial file."""

    def __init__(self, message: str, written: int) -> None:
        super().__init__(message)
        self.written = written
