"""A tiny fault-injecting HTTP/1.1 proxy for loopback tests (e.g. boto3 -> proxy -> moto).

    with FaultProxy("127.0.0.1", s3.port) as proxy:
        client = s3.client(proxy.url)
        rule = proxy.fail(500, method="PUT", path="/releases/", times=1)
        proxy.drop(method="PUT", path=re.compile(r"partNumber=2"), after_bytes=1024)
        ...
        assert rule.fired == 1 and proxy.injected_count == 2

It acts as the *server* for the client (point ``endpoint_url`` at ``proxy.url``),
parses each request head plus its body (Content-Length or chunked) and forwards it
over a keep-alive connection to the target, relaying the response.  A matching
rule instead:

* ``fail(status)`` -- answers ``status`` (default 500, S3-style XML error body) and
  closes the connection; the request never reaches the target;
* ``drop(after_bytes=K)`` -- reads the head and K bytes of the request body, then
  resets the client connection (RST); the target never sees the request.

``Expect: 100-continue`` is answered by the proxy itself (and stripped before
forwarding), so botocore never waits out its 1 s continue timeout.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from tests.harness.closing import ClosesOnExit

_HEAD_LIMIT = 64 * 1024
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ProxyRequest(NamedTuple):
    method: str
    target: str  # request target as sent, e.g. "/bucket/key?partNumber=1&uploadId=x"
    headers: dict[str, str]  # lower-cased names

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


PathMatch = str | re.Pattern[str] | Callable[[ProxyRequest], bool] | None


@dataclass
class Rule:
    """One injection rule; ``fired`` counts how often it triggered."""

    kind: str  # "status" | "drop"
    method: str | None
    path: PathMatch
    times: int
    status: int = 500
    after_bytes: int = 0
    fired: int = 0
    hits: list[ProxyRequest] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.times - self.fired

    def matches(self, req: ProxyRequest) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and req.method.upper() != self.method.upper():
            return False
        p = self.path
        if p is None:
            return True
        if isinstance(p, str):
            return req.target.startswith(p)
        if isinstance(p, re.Pattern):
            return p.search(req.target) is not None
        return bool(p(req))


class _Closed(Exception):
    """The peer closed the connection."""


class _Reader:
    """Buffered reader over a socket that can also hand back raw bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_head(self) -> bytes | None:
        """Bytes up to and including the blank line; None on clean EOF before any byte."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > _HEAD_LIMIT:
                raise ValueError("request head too large")
            if not self._fill():
                if self.buf:
                    raise _Closed("EOF inside head")
                return None
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def readline(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise _Closed("EOF inside chunked body")
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line + b"\r\n"

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _Closed("EOF inside body")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_some(self, limit: int) -> bytes:
        if not self.buf and not self._fill():
            return b""
        data, self.buf = self.buf[:limit], self.buf[limit:]
        return data


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return start, headers


def _iter_body(
    reader: _Reader, headers: dict[str, str], *, until_close: bool = False
) -> Iterator[bytes]:
    """Yield raw body bytes as they are on the wire (chunk framing included)."""
    te = headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        while True:
            size_line = reader.readline()
            yield size_line
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # trailers until blank line
                while True:
                    line = reader.readline()
                    yield line
                    if line == b"\r\n":
                        return
            remaining = size + 2  # data + CRLF
            while remaining:
                data = reader.read_some(min(remaining, 65536))
                if not data:
                    raise _Closed("EOF inside chunk")
                remaining -= len(data)
                yield data
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining > 0:
            data = reader.read_some(min(remaining, 65536))
            if not data:
                raise _Closed("EOF inside body")
            remaining -= len(data)
            yield data
    elif until_close:
        while True:
            data = reader.read_some(65536)
            if not data:
                return
            yield data


def _peer_closed(sock: socket.socket) -> bool:
    """An idle keep-alive socket that is readable has been closed (or is broken)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy(ClosesOnExit):
    """Loopback HTTP/1.1 forwarder with fault injection; thread-safe."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._requests: list[ProxyRequest] = []
        self._injected: list[tuple[str, ProxyRequest]] = []
        self._conns: set[socket.socket] = set()
        self.errors: list[Exception] = []  # unexpected errors in connection threads
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"faultproxy-{self.port}", daemon=True
        )
        self._thread.start()

    # -- rules -----------------------------------------------------------------

    def fail(
        self,
        status: int = 500,
        *,
        method: str | None = None,
        path: PathMatch = None,
        times: int = 1,
    ) -> Rule:
        """Answer the next ``times`` matching requests with ``status``."""
        return self._add(Rule("status", method, path, times, status=status))

    def drop(
        self,
        *,
        method: str | None = None,
        path: PathMatch = None,
        after_bytes: int = 0,
        times: int = 1,
    ) -> Rule:
        """Reset the connection after ``after_bytes`` bytes of the matching request body."""
        return self._add(Rule("drop", method, path, times, after_bytes=after_bytes))

    def _add(self, rule: Rule) -> Rule:
        if rule.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def _match(self, req: ProxyRequest) -> Rule | None:
        with self._lock:
            self._requests.append(req)
            for rule in self._rules:
                if rule.matches(req):
                    rule.fired += 1
                    rule.hits.append(req)
                    self._injected.append((rule.kind, req))
                    return rule
        return None

    # -- observations ----------------------------------------------------------

    @property
    def requests(self) -> list[ProxyRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def injected(self) -> list[tuple[str, ProxyRequest]]:
        """(kind, request) for each injected fault, in order."""
        with self._lock:
            return list(self._injected)

    @property
    def injected_count(self) -> int:
        with self._lock:
            return len(self._injected)

    # -- server ----------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve_client, args=(conn,), daemon=True).start()

    def _connect_upstream(self) -> tuple[socket.socket, _Reader]:
        up = socket.create_connection(self.target, timeout=60)
        with self._lock:
            self._conns.add(up)
        return up, _Reader(up)

    def _forget(self, *socks: socket.socket | None) -> None:
        for s in socks:
            if s is None:
                continue
            with self._lock:
                self._conns.discard(s)
            with contextlib.suppress(OSError):
                s.close()

    def _serve_client(self, client: socket.socket) -> None:
        reader = _Reader(client)
        up: socket.socket | None = None
        up_reader: _Reader | None = None
        try:
            while not self._stop.is_set():
                head = reader.read_head()
                if head is None:
                    return
                start, headers = _parse_head(head)
                parts = start.split(" ")
                if len(parts) != 3:
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    return
                method, target, _version = parts
                req = ProxyRequest(method, target, headers)
                expects = headers.get("expect", "").lower() == "100-continue"
                rule = self._match(req)

                if rule is not None and rule.kind == "status":
                    body = (
                        "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>InternalError</Code>"
                        f"<Message>injected {rule.status} by faultproxy</Message></Error>"
                    ).encode()
                    reason = _REASONS.get(rule.status, "Injected")
                    resp = (
                        f"HTTP/1.1 {rule.status} {reason}\r\n"
                        "Content-Type: application/xml\r\n"
                        f"Content-Length: {len(body)}\r\n"
                        + ("Retry-After: 1\r\n" if rule.status in (429, 503) else "")
                        + "Connection: close\r\n\r\n"
                    ).encode() + body
                    client.sendall(resp)
                    return  # close: the unread request body must not be parsed as a request

                if expects:
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

                if rule is not None and rule.kind == "drop":
                    seen = 0
                    for data in _iter_body(reader, headers):
                        seen += len(data)
                        if seen >= rule.after_bytes:
                            break
                    _reset(client)
                    return

                # forward
                fwd_head = self._rewrite_head(head, expects)
                if up is not None and _peer_closed(up):
                    self._forget(up)  # stale keep-alive connection
                    up = None
                if up is None:
                    up, up_reader = self._connect_upstream()
                assert up_reader is not None
                up.sendall(fwd_head)
                for data in _iter_body(reader, headers):
                    up.sendall(data)
                keep = self._relay_response(method, up_reader, client)
                if not keep:
                    return
                if headers.get("connection", "").lower() == "close":
                    return
        except (_Closed, OSError):
            return
        except Exception as exc:  # never let a proxy thread die noisily
            with self._lock:
                self.errors.append(exc)
            return
        finally:
            self._forget(client, up)

    @staticmethod
    def _rewrite_head(head: bytes, strip_expect: bool) -> bytes:
        if not strip_expect:
            return head
        lines = head.split(b"\r\n")
        kept = [ln for ln in lines if not ln.lower().startswith(b"expect:")]
        return b"\r\n".join(kept)

    @staticmethod
    def _relay_response(method: str, up_reader: _Reader, client: socket.socket) -> bool:
        """Relay one response; returns whether both connections can be reused."""
        while True:
            head = up_reader.read_head()
            if head is None:
                raise _Closed("upstream closed before responding")
            start, headers = _parse_head(head)
            client.sendall(head)
            status = int(start.split(" ", 2)[1])
            if 100 <= status < 200:
                continue  # interim response; the final one follows
            break
        no_body = method.upper() == "HEAD" or status in (204, 304)
        has_framing = (
            "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
        )
        if not no_body:
            for data in _iter_body(up_reader, headers, until_close=not has_framing):
                client.sendall(data)
        if headers.get("connection", "").lower() == "close":
            return False
        return no_body or has_framing

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=5)
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()
