"""`ContainerEngine` over the docker SDK (the only module in bot/ that calls it for containers).

A build's container idles (`sleep infinity` under docker's init) while each recipe step runs
in it as a `docker exec`, its output streamed line by line; a smoke container runs its
image's command and is waited for. Either way the container is removed with its anonymous
volumes when the session ends, unless the spec keeps it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from bot.containers.port import ContainerSpec, EngineError, ImageInfo, OnLine

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container as DockerContainerModel


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "explanation", None) or exc)


class DockerContainer:
    def __init__(self, client: docker.DockerClient, model: DockerContainerModel,
                 user: str | None) -> None:
        self._client = client
        self._model = model
        self._user = user

    @property
    def id(self) -> str:
        return str(self._model.id)

    @property
    def name(self) -> str:
        return str(self._model.name)

    def run(self, script: str, *, workdir: str, on_line: OnLine) -> int:
        api = self._client.api
        exec_id = api.exec_create(self._model.id, ["bash", "-c", script], user=self._user or "",
                                  workdir=workdir, stdout=True, stderr=True)["Id"]
        stream = api.exec_start(exec_id, stream=True)
        rest = ""  # a line not ended yet
        try:
            for text in codecs.iterdecode(stream, "utf-8", errors="replace"):
                *lines, rest = (rest + text).split("\n")
                for line in lines:
                    on_line(line.rstrip("\r"))
        finally:
            stream.close()  # the SDK's CancellableStream: shuts the engine socket down
            # and the response's file on that socket, which holds its fd (the SDK leaves it
            # to the garbage collector: a ResourceWarning); the SDK has no public handle on it
            stream._response.close()  # type: ignore[attr-defined]
        if rest:
            on_line(rest.rstrip("\r"))
        code = api.exec_inspect(exec_id).get("ExitCode")
        return 255 if code is None else int(code)

    def export(self, path: str) -> Iterator[bytes]:
        stream, _stat = self._model.get_archive(path)
        yield from stream

    def wait(self, timeout: float) -> int | None:
        try:
            status = self._model.wait(timeout=timeout)
        except requests.exceptions.RequestException:  # the engine's answer timed out
            return None
        return int(status.get("StatusCode", -1))

    def exit_code(self) -> int | None:
        self._model.reload()
        if self._model.status not in ("exited", "dead"):
            return None
        return int(self._model.attrs.get("State", {}).get("ExitCode", -1))

    def logs(self, *, stderr: bool = True) -> str:
        return bytes(self._model.logs(stdout=True, stderr=stderr)).decode("utf-8", "replace")

    def host_port(self, port: int) -> int | None:
        self._model.reload()
        bindings = self._model.ports.get(f"{port}/tcp") or []
        return int(bindings[0]["HostPort"]) if bindings else None


class DockerEngine:
    """`ContainerEngine` over a `docker.DockerClient`."""

    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client

    @contextmanager
    def session(self, spec: ContainerSpec) -> Iterator[DockerContainer]:
        import docker.errors
        from docker.types import Mount as DockerMount

        # None for the host port: the engine picks a free one (loopback only).
        ports: dict[str, Any] = {f"{p}/tcp": ("127.0.0.1", None) for p in spec.ports}
        hardening: dict[str, Any] = ({"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}
                                     if spec.harden else {})
        model = None
        try:
            model = self._client.containers.create(
                spec.image,
                command=list(spec.command) if spec.command is not None else None,
                init=spec.init or None,
                user=spec.user,
                environment=dict(spec.env),
                mounts=[DockerMount(m.target, str(m.source), type="bind",
                                    read_only=m.read_only) for m in spec.mounts],
                labels=dict(spec.labels),
                working_dir=spec.workdir,
                network_mode=spec.network,
                ports=ports or None,
                nano_cpus=int(spec.cpus * 1e9) if spec.cpus else None,
                mem_limit=spec.memory,
                memswap_limit=spec.memory,
                detach=True,
                platform=spec.platform,
                **hardening,
            )
            model.start()
            yield DockerContainer(self._client, model, spec.user)
        except docker.errors.APIError as exc:
            raise EngineError(_reason(exc)) from None
        finally:
            if model is not None and not spec.keep:
                with suppress(docker.errors.NotFound):
                    model.remove(force=True, v=True)

    def build_image(self, context: Path, *, tag: str, buildargs: Mapping[str, str],
                    labels: Mapping[str, str], on_line: OnLine,
                    platform: str | None = None) -> str:
        import docker.errors

        built_id: str | None = None
        error: str | None = None
        try:
            events: Any = self._client.api.build(
                path=str(context), tag=tag, buildargs=dict(buildargs), labels=dict(labels),
                rm=True, forcerm=True, pull=False, decode=True, platform=platform)
            for event in events:
                for line in str(event.get("stream", "")).splitlines():
                    if line.strip():
                        on_line(line)
                aux = event.get("aux")
                if isinstance(aux, dict) and "ID" in aux:
                    built_id = str(aux["ID"])
                if "error" in event:
                    error = str(event["error"]).strip()
        except docker.errors.APIError as exc:
            error = _reason(exc)
        if error is not None or built_id is None:
            raise EngineError(error or "the engine reported no image id")
        return built_id

    def image(self, ref: str) -> ImageInfo | None:
        import docker.errors

        try:
            image = self._client.images.get(ref)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(_reason(exc)) from None
        digests = image.attrs.get("RepoDigests") or []
        return ImageInfo(str(image.id), dict(image.labels or {}),
                         tuple(sorted(str(d) for d in digests)))

    def pull(self, ref: str, platform: str | None = None) -> str:
        import docker.errors

        try:
            return str(self._client.images.pull(ref, platform=platform).id)
        except docker.errors.APIError as exc:
            raise EngineError(_reason(exc)) from None
