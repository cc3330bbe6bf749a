"""Small HTTP exchanges read whole through libcurl (pycurl): the poll's hot path.

A poll is hundreds of tiny GETs and HEADs. Through `requests` each costs ~0.4 ms of Python
(~0.2 ms through urllib3) and holds the GIL while parsing headers; libcurl does the protocol in
C with the GIL released (~0.05 ms of ours), which is also how nvchecker is fast. Handles are
pooled (one per concurrent exchange), each keeping its connections alive between uses, and an
exchange takes an idle handle that already talked to its host when there is one; handles share
DNS answers and TLS sessions. (Sharing the connection cache too made a poll slower: the
handles then serialise on its lock.)

Nothing here reads the environment: proxies, NO_PROXY and the CA bundle are given (libcurl
would otherwise read `http_proxy` and friends itself; an explicit empty proxy stops that).
Redirects are followed (at most 10; http and https only; libcurl does not send a custom
Authorization header to another host; the proxy chosen for the first URL's scheme serves the
whole chain). A failure is a `TransportError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO

import pycurl

MAX_REDIRECTS = 10
_ERROR_NAMES = {
    pycurl.E_COULDNT_RESOLVE_HOST: "ConnectionError",
    pycurl.E_COULDNT_RESOLVE_PROXY: "ProxyError",
    pycurl.E_COULDNT_CONNECT: "ConnectionError",
    pycurl.E_OPERATION_TIMEDOUT: "Timeout",
    pycurl.E_GOT_NOTHING: "ConnectionError",
    pycurl.E_SEND_ERROR: "ConnectionError",
    pycurl.E_RECV_ERROR: "ConnectionError",
    pycurl.E_PARTIAL_FILE: "IncompleteRead",
    pycurl.E_TOO_MANY_REDIRECTS: "TooManyRedirects",
    pycurl.E_SSL_CONNECT_ERROR: "SSLError",
    pycurl.E_PEER_FAILED_VERIFICATION: "SSLError",
}


class TransportError(Exception):
    """The exchange failed without an HTTP answer (connection, timeout, TLS, truncation).
    `name` is a short, stable label for messages, in the vocabulary of `requests`."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer read whole: status, headers (case-insensitive), body (decoded from gzip etc.)."""

    status_code: int
    headers: Headers
    content: bytes

    def close(self) -> None:
        """Nothing to release: the body is read and the connection is back in the pool."""


@dataclass(frozen=True)
class CurlOptions:
    timeout: float = 30.0  # connect timeout, and the longest stall while reading
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None  # libcurl's own matching: host names, domain suffixes, `*`
    ca_bundle: str | None = None
    user_agent: str = "release-bot"


class CurlTransport:
    """Thread-safe: each exchange takes a handle from the pool and gives it back."""

    def __init__(self, options: CurlOptions) -> None:
        self.options = options
        # idle handles, most recently used last, each with the origins it has talked to
        self._idle: list[tuple[pycurl.Curl, set[str]]] = []
        self._lock = threading.Lock()
        self._share = pycurl.CurlShare()  # pycurl locks it for use from several threads
        for data in (pycurl.LOCK_DATA_DNS, pycurl.LOCK_DATA_SSL_SESSION):
            self._share.setopt(pycurl.SH_SHARE, data)

    def _handle(self, origin: str) -> tuple[pycurl.Curl, set[str]]:
        """An idle handle, preferably one that has a connection to `origin` open."""
        with self._lock:
            for i in range(len(self._idle) - 1, -1, -1):
                if origin in self._idle[i][1]:
                    return self._idle.pop(i)
            if self._idle:
                return self._idle.pop()
        return self._new_handle(), set()

    def _new_handle(self) -> pycurl.Curl:
        o = self.options
        c = pycurl.Curl()
        c.setopt(pycurl.NOSIGNAL, 1)  # threads: no SIGALRM for DNS timeouts
        c.setopt(pycurl.SHARE, self._share)
        c.setopt(pycurl.FOLLOWLOCATION, 1)
        c.setopt(pycurl.MAXREDIRS, MAX_REDIRECTS)
        c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.ENCODING, "")  # every encoding libcurl can decode
        c.setopt(pycurl.USERAGENT, o.user_agent)
        c.setopt(pycurl.CONNECTTIMEOUT_MS, int(o.timeout * 1000))
        c.setopt(pycurl.LOW_SPEED_LIMIT, 1)  # a read stalled for `timeout` seconds fails
        c.setopt(pycurl.LOW_SPEED_TIME, max(1, round(o.timeout)))
        c.setopt(pycurl.NOPROXY, o.no_proxy or "")
        c.setopt(pycurl.SSL_VERIFYPEER, 1)
        c.setopt(pycurl.SSL_VERIFYHOST, 2)
        if o.ca_bundle:
            c.setopt(pycurl.CAINFO, o.ca_bundle)
        return c

    def close(self) -> None:
        """Close the idle handles and their connections (handles in use close when done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for c, _ in idle:
            c.close()

    def _release(self, c: pycurl.Curl, origins: set[str]) -> None:
        with self._lock:
            self._idle.append((c, origins))

    def exchange(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        """GET or HEAD `url`, following redirects; the final answer read whole."""
        if method not in ("GET", "HEAD"):
            raise ValueError(f"CurlTransport sends GET and HEAD only, not {method}")
        https = url.startswith("https:")
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host[:port]
        c, origins = self._handle(origin)
        lines: list[bytes] = []
        body = BytesIO()
        ok = False
        try:
            proxy = self.options.https_proxy if https else self.options.http_proxy
            c.setopt(pycurl.PROXY, proxy or "")  # "" = no proxy, and no proxy from the env
            c.setopt(pycurl.URL, url)
            if method == "HEAD":
                c.setopt(pycurl.NOBODY, 1)
            else:
                c.setopt(pycurl.HTTPGET, 1)
            c.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in headers.items()])
            c.setopt(pycurl.HEADERFUNCTION, lines.append)
            c.setopt(pycurl.WRITEFUNCTION, body.write)
            try:
                c.perform()
            except pycurl.error as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else -1
                detail = str(exc.args[1]) if len(exc.args) > 1 else ""
                raise TransportError(_ERROR_NAMES.get(code, "NetworkError"),
                                     f"curl {code} {detail}") from None
            status = int(c.getinfo(pycurl.RESPONSE_CODE))
            ok = True
        finally:
            if ok:
                origins.add(origin)  # redirects may add more; this is a preference only
                self._release(c, origins)
            else:
                c.close()  # a handle that failed mid-exchange keeps no half-read connection
        return Reply(status, Headers(lines), body.getvalue())


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case (names kept in lower case).

    Made from the raw header lines libcurl hands over (every answer's, redirects and 1xx
    included); the final answer's block is parsed on first use: a HEAD probe reads only the
    status, never its headers."""

    __slots__ = ("_fields", "_lines")

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._fields: dict[str, str] | None = None  # lower-case name -> value

    @property
    def fields(self) -> dict[str, str]:
        if self._fields is None:
            self._fields = _last_headers(self._lines)
        return self._fields

    def __getitem__(self, name: str) -> str:
        return self.fields[name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self.fields.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"Headers({self.fields!r})"


def _last_headers(lines: list[bytes]) -> dict[str, str]:
    """The header block of the final answer (after redirects and 1xx)."""
    start = 0
    for i, raw in enumerate(lines):
        if raw.startswith(b"HTTP/"):
            start = i + 1
    fields: dict[str, str] = {}
    for raw in lines[start:]:
        name, colon, value = raw.decode("iso-8859-1").partition(":")
        if colon:
            key, value = name.strip().lower(), value.strip()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
    return fields
