"""Run one check in a fresh container of its app image; the container is always removed.

* console: the container must exit 0 within the bound with the marker on stdout;
* http: the container port is published on 127.0.0.1 (a free host port), GET is retried
  until the app answers or the readiness bound passes (or the container exits), and the
  answer must be 200 with the marker in the body. The answering request's latency is kept.

Every container carries the labels `org.release-bot.smoke` (what it is for) and
`org.release-bot.smoke-run` (the run's id, so a run can tell its containers from another's).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import requests

from bot.smoke.plan import Check
from bot.smoke.results import SmokeResult, excerpt

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

CONTAINER_LABEL = "org.release-bot.smoke"
RUN_LABEL = "org.release-bot.smoke-run"
POLL_SECONDS = 0.25
REQUEST_TIMEOUT = 10.0

HttpGet = Callable[[str, float], tuple[int, str]]


def http_get(url: str, timeout: float) -> tuple[int, str]:
    """One GET without proxies from the environment (the app is on loopback)."""
    with requests.Session() as session:
        session.trust_env = False
        response = session.get(url, timeout=timeout, allow_redirects=False)
        return response.status_code, response.text


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def labels(run_id: str, purpose: str) -> dict[str, str]:
    return {CONTAINER_LABEL: purpose, RUN_LABEL: run_id}


@contextmanager
def removing(container: Container) -> Iterator[Container]:
    """Yield the container; remove it (forcibly) however the block ends."""
    import docker.errors

    try:
        yield container
    finally:
        with suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


def _logs(container: Container) -> str:
    return bytes(container.logs(stdout=True, stderr=True)).decode("utf-8", "replace")


def run_console(client: docker.DockerClient, image: str, check: Check, timeout: float,
                run_id: str) -> SmokeResult:
    started = time.monotonic()
    container = client.containers.create(image, network_disabled=True,
                                         labels=labels(run_id, check.name))
    with removing(container):
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except requests.exceptions.RequestException:
            return SmokeResult(check.name, False, time.monotonic() - started,
                               output_excerpt=excerpt(_logs(container)),
                               detail=f"still running after {timeout:g}s (expected to exit 0)")
        seconds = time.monotonic() - started
        stdout = bytes(container.logs(stdout=True, stderr=False)).decode("utf-8", "replace")
        log = _logs(container)
    code = int(status.get("StatusCode", -1))
    if code != 0:
        detail = f"exited with code {code} (expected 0)"
    elif check.marker not in stdout:
        detail = f"exited 0 but stdout lacks {check.marker!r}"
    else:
        return SmokeResult(check.name, True, seconds, output_excerpt=excerpt(stdout),
                           detail=f"exit 0, stdout has {check.marker!r}")
    return SmokeResult(check.name, False, seconds, output_excerpt=excerpt(log), detail=detail)


def run_http(client: docker.DockerClient, image: str, check: Check, ready_timeout: float,
             run_id: str, get: HttpGet = http_get) -> SmokeResult:
    port = f"{check.port}/tcp"
    started = time.monotonic()
    deadline = started + ready_timeout
    # None: the engine picks a free host port (read back below); loopback only.
    ports: dict[str, Any] = {port: ("127.0.0.1", None)}
    container = client.containers.create(image, ports=ports,
                                         labels=labels(run_id, check.name))
    with removing(container):
        container.start()
        container.reload()
        bindings = container.ports.get(port) or []
        if not bindings:
            return SmokeResult(check.name, False, time.monotonic() - started,
                               detail=f"port {port} was not published (does the image "
                                      f"EXPOSE {check.port}?)")
        url = f"http://127.0.0.1:{bindings[0]['HostPort']}{check.path}"
        answer: tuple[int, str] | None = None
        latency = 0.0
        while answer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return SmokeResult(
                    check.name, False, time.monotonic() - started,
                    output_excerpt=excerpt(_logs(container)),
                    detail=f"no HTTP answer on port {check.port} within {ready_timeout:g}s")
            container.reload()
            if container.status in ("exited", "dead"):
                code = container.attrs.get("State", {}).get("ExitCode")
                return SmokeResult(check.name, False, time.monotonic() - started,
                                   output_excerpt=excerpt(_logs(container)),
                                   detail=f"exited with code {code} before answering HTTP")
            sent = time.monotonic()
            try:
                answer = get(url, min(REQUEST_TIMEOUT, remaining))
                latency = (time.monotonic() - sent) * 1000
            except requests.exceptions.RequestException:
                time.sleep(min(POLL_SECONDS, max(remaining, 0)))
        seconds = time.monotonic() - started
        log = _logs(container)
    status, body = answer
    if status != 200:
        detail = f"GET {check.path} answered {status} (expected 200)"
    elif check.marker not in body:
        detail = f"GET {check.path} answered 200 without {check.marker!r}"
    else:
        return SmokeResult(check.name, True, seconds, status, latency, excerpt(body),
                           f"GET {check.path}: 200 with {check.marker!r}")
    return SmokeResult(check.name, False, seconds, status, latency,
                       excerpt(body + "\n--- container log ---\n" + log), detail)


def run_check(client: docker.DockerClient, image: str, check: Check, ready_timeout: float,
              run_id: str) -> SmokeResult:
    if check.kind == "console":
        return run_console(client, image, check, ready_timeout, run_id)
    return run_http(client, image, check, ready_timeout, run_id)
