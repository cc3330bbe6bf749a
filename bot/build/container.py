"""The container port (a tiny surface) and its docker-SDK adapter.

A build gets one fresh container (`ContainerRuntime.session(spec)`): it idles (`sleep
infinity` under docker's init) while each recipe step runs in it as a `docker exec` with
its output streamed line by line. The container is removed with its anonymous volumes when
the session ends — on success, failure and Ctrl-C alike — unless `spec.keep` asks to keep
it for debugging.

Only what the spec names reaches the container: the explicit environment (no host
variables), read-only bind mounts, no network, no capabilities, an unprivileged user.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from bot.errors import BuildError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container as DockerContainerModel


@dataclass(frozen=True, slots=True)
class Mount:
    source: Path  # a host file or directory (absolute)
    target: str
    read_only: bool = True


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    image: str
    user: str
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    workdir: str = "/"
    cpus: float | None = None
    memory: str | None = None
    network: str = "none"
    keep: bool = False


class Container(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    def run(self, script: str, *, workdir: str, on_line: Callable[[str], None]) -> int:
        """Run a bash script in the container; stream its output; return its exit code."""

    def export(self, path: str) -> Iterator[bytes]:
        """A tar stream of `path` (its entries start with the basename of `path`)."""


class ContainerRuntime(Protocol):
    def session(self, spec: ContainerSpec) -> AbstractContextManager[Container]: ...


class _LineSplitter:
    """Turns a stream of byte chunks into whole decoded lines."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._on_line = on_line

    def feed(self, chunk: bytes) -> None:
        self._buffer += self._decoder.decode(chunk)
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._on_line(line.rstrip("\r"))

    def close(self) -> None:
        self._buffer += self._decoder.decode(b"", final=True)
        if self._buffer:
            self._on_line(self._buffer.rstrip("\r"))
        self._buffer = ""


class DockerContainer:
    def __init__(self, client: docker.DockerClient, model: DockerContainerModel,
                 user: str) -> None:
        self._client = client
        self._model = model
        self._user = user

    @property
    def id(self) -> str:
        return str(self._model.id)

    @property
    def name(self) -> str:
        return str(self._model.name)

    def run(self, script: str, *, workdir: str, on_line: Callable[[str], None]) -> int:
        api = self._client.api
        exec_id = api.exec_create(self._model.id, ["bash", "-c", script], user=self._user,
                                  workdir=workdir, stdout=True, stderr=True)["Id"]
        splitter = _LineSplitter(on_line)
        for chunk in api.exec_start(exec_id, stream=True):
            splitter.feed(chunk)
        splitter.close()
        code = api.exec_inspect(exec_id).get("ExitCode")
        return 255 if code is None else int(code)

    def export(self, path: str) -> Iterator[bytes]:
        stream, _stat = self._model.get_archive(path)
        yield from stream


class DockerRuntime:
    """`ContainerRuntime` over the docker SDK."""

    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client

    @contextmanager
    def session(self, spec: ContainerSpec) -> Iterator[Container]:
        import docker.errors
        from docker.types import Mount as DockerMount

        model = None
        try:
            model = self._client.containers.create(
                spec.image,
                command=["sleep", "infinity"],
                init=True,
                user=spec.user,
                environment=dict(spec.env),
                mounts=[DockerMount(m.target, str(m.source), type="bind",
                                    read_only=m.read_only) for m in spec.mounts],
                labels=dict(spec.labels),
                working_dir=spec.workdir,
                network_mode=spec.network,
                nano_cpus=int(spec.cpus * 1e9) if spec.cpus else None,
                mem_limit=spec.memory,
                memswap_limit=spec.memory,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                detach=True,
            )
            model.start()
            yield DockerContainer(self._client, model, spec.user)
        except docker.errors.APIError as exc:
            raise BuildError(f"the Docker engine refused the build container "
                             f"({exc.explanation or exc}); check --cpus/--memory and "
                             "`docker info`") from None
        finally:
            if model is not None and not spec.keep:
                with suppress(docker.errors.NotFound):
                    model.remove(force=True, v=True)
