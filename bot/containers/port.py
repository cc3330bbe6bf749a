"""The container port: what build and smoke ask of a container engine, and nothing more.

* `session(spec)`: a container created and started from `spec`, removed with its anonymous
  volumes when the block ends (success, failure, timeout and Ctrl-C alike) unless
  `spec.keep` asks to keep it for debugging;
* `build_image(...)`: an image built from a context directory, its log streamed line by line;
* `image(ref)` / `pull(ref)`: what the engine knows of an image, fetching one.

Only what the spec names reaches a container: the explicit environment (no host variables),
the bind mounts, the network (none unless asked), the user. The adapter raises `EngineError`
for anything the engine refuses; callers turn it into their own error (build: exit 4,
smoke: exit 5) with the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

OnLine = Callable[[str], None]


class EngineError(Exception):
    """The engine refused or failed an operation; the message is its one-line reason."""


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Mount:
    source: Path  # a host file or directory (absolute)
    target: str
    read_only: bool = True


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    image: str
    command: tuple[str, ...] | None = None  # None: the image's own
    user: str | None = None  # None: the image's own
    env: Mapping[str, str] = field(default_factory=_empty)
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_empty)
    workdir: str | None = None
    cpus: float | None = None
    memory: str | None = None
    network: str | None = "none"  # None: the engine's default network (needed for `ports`)
    ports: tuple[int, ...] = ()  # container TCP ports published on 127.0.0.1 (free host ports)
    init: bool = False  # run the command under the engine's init (reaps, forwards signals)
    harden: bool = False  # no capabilities, no new privileges
    keep: bool = False  # leave the container behind when the session ends
    platform: str | None = None  # e.g. linux/arm64 (bot.arch); None: the engine's own


@dataclass(frozen=True, slots=True)
class ImageInfo:
    id: str
    labels: Mapping[str, str]
    repo_digests: tuple[str, ...]  # sorted


class Container(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    def run(self, script: str, *, workdir: str, on_line: OnLine) -> int:
        """Run a bash script in the container (as the spec's user); stream its output;
        return its exit code."""

    def export(self, path: str) -> Iterator[bytes]:
        """A tar stream of `path` (its entries start with the basename of `path`)."""

    def wait(self, timeout: float) -> int | None:
        """The exit code of the container's command; None if it still runs at `timeout`."""

    def exit_code(self) -> int | None:
        """The exit code if the command has ended, else None (it still runs)."""

    def logs(self, *, stderr: bool = True) -> str:
        """What the command wrote to stdout (and stderr) so far."""

    def host_port(self, port: int) -> int | None:
        """The loopback host port `port` is published on (None: not published)."""


class ContainerEngine(Protocol):
    def session(self, spec: ContainerSpec) -> AbstractContextManager[Container]: ...

    def build_image(self, context: Path, *, tag: str, buildargs: Mapping[str, str],
                    labels: Mapping[str, str], on_line: OnLine,
                    platform: str | None = None) -> str:
        """Build `context` (its Dockerfile) as `tag` (for `platform`, default the engine's);
        stream the log; return the image id. Intermediate containers are removed even when
        the build fails; no base is pulled."""

    def image(self, ref: str) -> ImageInfo | None:
        """The local image `ref`, None when there is none."""

    def pull(self, ref: str, platform: str | None = None) -> str:
        """Pull `ref` (for `platform`, default the engine's); return its id."""
