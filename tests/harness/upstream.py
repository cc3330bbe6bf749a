"""A loopback HTTP server standing in for upstream download pages and tarballs.

    with UpstreamServer() as up:
        up.add("/sources/mono/", b"<html>...</html>", content_type="text/html")
        up.add_file("/sources/mono/mono-6.12.0.199.tar.xz", tarball_path)
        up.fault("/sources/mono/", "500", times=2)
        requests.get(up.url + "/sources/mono/")

Supports GET and HEAD, single ``Range: bytes=N-`` / ``bytes=a-b`` / ``bytes=-N``
(206 + Content-Range, 416 when unsatisfiable), ETag + Last-Modified with
If-None-Match / If-Modified-Since (304), a request log and per-path faults:

* ``"500"``   -- answer 500 Internal Server Error
* ``"429"``   -- answer 429 Too Many Requests with ``Retry-After: 1``
* ``"slow"``  -- sleep ``delay`` seconds (default ``slow_seconds``) then answer normally
* ``"drop"``  -- send headers and ``drop_after`` bytes of the body, then close
* ``"reset"`` -- close the connection without any response (RST)

Each fault fires for the next ``times`` matching requests (GET or HEAD), then expires.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import mimetypes
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from tests.harness.closing import ClosesOnExit

FaultKind = Literal["500", "429", "slow", "drop", "reset"]
FAULT_KINDS: tuple[str, ...] = ("500", "429", "slow", "drop", "reset")

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Request(NamedTuple):
    method: str
    path: str  # path including the query string, as sent
    headers: dict[str, str]


@dataclass
class Resource:
    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: float = 0.0


@dataclass
class _Fault:
    kind: str
    remaining: int
    delay: float
    drop_after: int
    fired: int = 0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Like production servers: a backlog that does not drop the SYNs of a few dozen clients
    # connecting at once (the default 5 costs a dropped client a 1 s SYN retransmit).
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out / disconnect mid-response (slow, drop faults) are expected.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _norm(path: str) -> str:
    """Path without query string or fragment; always starts with '/'."""
    p = urlsplit(path).path or "/"
    return p if p.startswith("/") else "/" + p


class UpstreamServer(ClosesOnExit):
    """Thread-safe loopback HTTP server; see the module docstring."""

    def __init__(self, *, host: str = "127.0.0.1", slow_seconds: float = 2.0) -> None:
        self._lock = threading.Lock()
        self._resources: dict[str, Resource] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._requests: list[Request] = []
        self.slow_seconds = slow_seconds
        self._httpd = _QuietServer((host, 0), _make_handler(self))
        addr = self._httpd.server_address
        self.host: str = str(addr[0])
        self.port: int = int(addr[1])
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"upstream-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    # -- content ---------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
        content_type: str | None = None,
        last_modified: float | None = None,
    ) -> str:
        """Serve ``body`` at ``path``; returns the absolute URL."""
        if isinstance(body, str):
            body = body.encode()
        path = _norm(path)
        if content_type is None:
            guessed, _ = mimetypes.guess_type(path)
            content_type = guessed or "application/octet-stream"
        res = Resource(
            body=body,
            status=status,
            content_type=content_type,
            headers=dict(headers or {}),
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            # HTTP dates have 1 s resolution
            last_modified=float(int(time.time() if last_modified is None else last_modified)),
        )
        with self._lock:
            self._resources[path] = res
        return self.url + path

    def add_file(
        self,
        path: str,
        file_path: str | Path,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> str:
        """Serve the bytes of ``file_path`` at ``path`` (read now); returns the URL."""
        fp = Path(file_path)
        return self.add(
            path,
            fp.read_bytes(),
            headers=headers,
            content_type=content_type,
            last_modified=fp.stat().st_mtime,
        )

    def remove(self, path: str) -> None:
        with self._lock:
            self._resources.pop(_norm(path), None)

    def resource(self, path: str) -> Resource | None:
        with self._lock:
            return self._resources.get(_norm(path))

    # -- faults ----------------------------------------------------------------

    def fault(
        self,
        path: str,
        kind: FaultKind | str,
        times: int = 1,
        *,
        delay: float | None = None,
        drop_after: int = 16,
    ) -> None:
        """Make the next ``times`` requests for ``path`` fail with ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if times < 1:
            raise ValueError("times must be >= 1")
        f = _Fault(
            kind=kind,
            remaining=times,
            delay=self.slow_seconds if delay is None else delay,
            drop_after=drop_after,
        )
        with self._lock:
            self._faults.setdefault(_norm(path), []).append(f)

    def clear_faults(self, path: str | None = None) -> None:
        with self._lock:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(_norm(path), None)

    def pending_faults(self, path: str) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults.get(_norm(path), []))

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            if not queue:
                return None
            f = queue[0]
            f.remaining -= 1
            f.fired += 1
            if f.remaining <= 0:
                queue.pop(0)
            return f

    # -- request log -----------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Snapshot of (method, path, headers) for every request received."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str, method: str | None = None) -> list[Request]:
        p = _norm(path)
        return [
            r
            for r in self.requests
            if _norm(r.path) == p and (method is None or r.method == method)
        ]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _log(self, req: Request) -> None:
        with self._lock:
            self._requests.append(req)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"UpstreamServer({self.url})"


def _make_handler(server: UpstreamServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "release-bot-upstream/1"
        # Like production servers: no Nagle delay (~40 ms) between the writes of a response
        # on a reused connection; ordinary responses also go out in one write (`_send`).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean; the request log is in server.requests

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        # -- helpers --

        def _simple(
            self, status: int, body: bytes = b"", extra: Mapping[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self._send(b"" if self.command == "HEAD" else body)

        def _send(self, body: bytes) -> None:
            """End the headers and send them with the body in one write."""
            self._headers_buffer.append(b"\r\n")
            if body:
                self._headers_buffer.append(body)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.flush_headers()

        def _reset(self) -> None:
            # SO_LINGER 0 -> close() sends RST instead of FIN.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.close()

        def _serve(self, *, head: bool) -> None:
            hdrs = dict(self.headers.items())
            server._log(Request(self.command, self.path, hdrs))
            path = _norm(self.path)

            fault = server._take_fault(path)
            if fault is not None:
                if fault.kind == "reset":
                    self._reset()
                    return
                if fault.kind == "500":
                    self._simple(500, b"injected fault: 500\n", {"Connection": "close"})
                    self.close_connection = True
                    return
                if fault.kind == "429":
                    self._simple(429, b"injected fault: 429\n", {"Retry-After": "1"})
                    return
                if fault.kind == "slow":
                    time.sleep(fault.delay)
                # "drop" is handled while sending the body below

            res = server.resource(path)
            if res is None:
                self._simple(404, b"not found\n")
                return

            lm = email.utils.formatdate(res.last_modified, usegmt=True)
            common = {"ETag": res.etag, "Last-Modified": lm, "Accept-Ranges": "bytes"}

            if res.status == 200 and self._not_modified(res):
                self.send_response(304)
                for k, v in common.items():
                    self.send_header(k, v)
                self._send(b"")
                return

            body = res.body
            status = res.status
            extra: dict[str, str] = {}
            rng = self.headers.get("Range")
            if rng and res.status == 200 and self._if_range_ok(res):
                span = _parse_range(rng, len(body))
                if span == "unsatisfiable":
                    self._simple(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                    return
                if span is not None:
                    start, end = span
                    body = body[start : end + 1]
                    status = 206
                    extra["Content-Range"] = f"bytes {start}-{end}/{len(res.body)}"

            self.send_response(status)
            self.send_header("Content-Type", res.content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in {**common, **extra, **res.headers}.items():
                self.send_header(k, v)
            if fault is not None and fault.kind == "drop":
                self.send_header("Connection", "close")
            else:
                self._send(b"" if head else body)
                return
            self.end_headers()
            if head:
                return
            if fault is not None and fault.kind == "drop":
                # Graceful close (FIN) after a partial body: the client sees the
                # headers, some bytes, then EOF short of Content-Length.
                n = max(0, min(fault.drop_after, len(body) - 1))
                with contextlib.suppress(OSError):
                    self.wfile.write(body[:n])
                    self.wfile.flush()
                self.close_connection = True

        def _not_modified(self, res: Resource) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                tags = [t.strip() for t in inm.split(",")]
                weak = [t.removeprefix("W/") for t in tags]
                return "*" in tags or res.etag in weak
            ims = self.headers.get("If-Modified-Since")
            if ims is not None:
                try:
                    since = email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError):
                    return False
                return res.last_modified <= since
            return False

        def _if_range_ok(self, res: Resource) -> bool:
            ir = self.headers.get("If-Range")
            if ir is None:
                return True
            if ir.startswith(('"', "W/")):
                return ir == res.etag
            try:
                return email.utils.parsedate_to_datetime(ir).timestamp() >= res.last_modified
            except (TypeError, ValueError):
                return False

    return Handler


def _parse_range(header: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """Parse a single-range ``bytes=`` header. None means: ignore it, send 200."""
    m = _RANGE_RE.match(header.strip().replace(" ", ""))
    if not m:
        return None  # multi-range or garbage: RFC 9110 allows ignoring it
    a, b = m.group(1), m.group(2)
    if a == "" and b == "":
        return None
    if a == "":  # suffix: last N bytes
        n = int(b)
        if n == 0:
            return "unsatisfiable"
        return (max(0, size - n), size - 1) if size else "unsatisfiable"
    start = int(a)
    end = size - 1 if b == "" else min(int(b), size - 1)
    if start >= size or (b != "" and int(b) < start):
        return "unsatisfiable"
    return start, end
