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

import urllib3

from bot.containers.port import Container, ContainerEngine, ContainerSpec
from bot.http import Answer
from bot.smoke.plan import Check
from bot.smoke.results import SmokeResult, excerpt

CONTAINER_LABEL = "org.release-bot.smoke"
RUN_LABEL = "org.release-bot.smoke-run"
POLL_SECONDS = 0.25
REQUEST_TIMEOUT = 10.0

def http_get(url: str, timeout: float) -> tuple[int, str]:
    """One GET, not retried and not redirected, straight to the app (urllib3 reads no proxy
    from the environment; the app is on loopback)."""
    answer = Answer(urllib3.request("GET", url, timeout=timeout, retries=False, redirect=False))
    return answer.status_code, answer.text


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def labels(run_id: str, purpose: str) -> dict[str, str]:
    return {CONTAINER_LABEL: purpose, RUN_LABEL: run_id}


def run_console(engine: ContainerEngine, image: str, check: Check, timeout: float,
                run_id: str, platform: str | None = None) -> SmokeResult:
    started = time.monotonic()
    spec = ContainerSpec(image, labels=labels(run_id, check.name), platform=platform)
    with engine.session(spec) as container:
        code = container.wait(timeout)
        seconds = time.monotonic() - started
        if code is None:
            return SmokeResult(check.name, False, seconds,
                               output_excerpt=excerpt(container.logs()),
                               detail=f"still running after {timeout:g}s (expected to exit 0)")
        stdout = container.logs(stderr=False)
        log = container.logs()
    if code != 0:
        detail = f"exited with code {code} (expected 0)"
    elif check.marker not in stdout:
        detail = f"exited 0 but stdout lacks {check.marker!r}"
    else:
        return SmokeResult(check.name, True, seconds, output_excerpt=excerpt(stdout),
                           detail=f"exit 0, stdout has {check.marker!r}")
    return SmokeResult(check.name, False, seconds, output_excerpt=excerpt(log), detail=detail)


def run_http(engine: ContainerEngine, image: str, check: Check, ready_timeout: float,
             run_id: str, platform: str | None = None) -> SmokeResult:
    assert check.port is not None
    started = time.monotonic()
    spec = ContainerSpec(image, labels=labels(run_id, check.name), network=None,
                         ports=(check.port,), platform=platform)
    with engine.session(spec) as container:
        host_port = container.host_port(check.port)
        if host_port is None:
            return SmokeResult(check.name, False, time.monotonic() - started,
                               detail=f"port {check.port}/tcp was not published (does the "
                                      f"image EXPOSE {check.port}?)")
        url = f"http://127.0.0.1:{host_port}{check.path}"
        answered = _first_answer(container, check, url, started, ready_timeout)
        seconds = time.monotonic() - started
        log = container.logs()
    if isinstance(answered, str):
        return SmokeResult(check.name, False, seconds, output_excerpt=excerpt(log),
                           detail=answered)
    (status, body), latency = answered
    if status != 200:
        detail = f"GET {check.path} answered {status} (expected 200)"
    elif check.marker not in body:
        detail = f"GET {check.path} answered 200 without {check.marker!r}"
    else:
        return SmokeResult(check.name, True, seconds, status, latency, excerpt(body),
                           f"GET {check.path}: 200 with {check.marker!r}")
    return SmokeResult(check.name, False, seconds, status, latency,
                       excerpt(body + "\n--- container log ---\n" + log), detail)


def _first_answer(container: Container, check: Check, url: str, started: float,
                  ready_timeout: float) -> tuple[tuple[int, str], float] | str:
    """GET `url` until it answers: (status and body, latency in ms), or why it never did."""
    deadline = started + ready_timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return f"no HTTP answer on port {check.port} within {ready_timeout:g}s"
        code = container.exit_code()
        if code is not None:
            return f"exited with code {code} before answering HTTP"
        sent = time.monotonic()
        try:
            answer = http_get(url, min(REQUEST_TIMEOUT, remaining))
        except urllib3.exceptions.HTTPError:
            time.sleep(min(POLL_SECONDS, max(remaining, 0)))
        else:
            return answer, (time.monotonic() - sent) * 1000


def run_check(engine: ContainerEngine, image: str, check: Check, ready_timeout: float,
              run_id: str, platform: str | None = None) -> SmokeResult:
    """Run `check` in a fresh container of `image` (for `platform`: bot.arch.platform)."""
    if check.kind == "console":
        return run_console(engine, image, check, ready_timeout, run_id, platform)
    return run_http(engine, image, check, ready_timeout, run_id, platform)
