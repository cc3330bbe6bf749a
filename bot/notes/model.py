"""The facts release notes are rendered from (plain data, filled by `run` or `notes`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.arch import DEFAULT_ARCH


@dataclass(frozen=True, slots=True)
class NoteArtifact:
    component: str
    version: str
    stack: str
    url: str
    sha256: str
    size: int
    builder_image: str = ""
    built_against: str = ""
    base_image: str = ""  # the builder's base image digest, when the manifest records it
    # `gh attestation verify <file> --repo OWNER/REPO`; "" when the repository is unknown or
    # the artifact is not published
    attestation_command: str = ""
    arch: str = DEFAULT_ARCH


@dataclass(frozen=True, slots=True)
class NoteSmoke:
    name: str
    stack: str
    passed: bool
    seconds: float
    detail: str = ""
    output: str = ""  # an excerpt of what the sample printed or answered (upstream text)
    arch: str = DEFAULT_ARCH  # the runtime's architecture


@dataclass(frozen=True, slots=True)
class NoteComponent:
    name: str
    version: str
    source_url: str
    source_sha256: str
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseNotes:
    components: tuple[NoteComponent, ...]
    artifacts: tuple[NoteArtifact, ...]
    smoke: tuple[NoteSmoke, ...] = ()
    # "<component> <version> (<stack>)" of artifacts no smoke check covers (said in the notes)
    unchecked: tuple[str, ...] = ()
    # what the checks ran on, when it is not a runtime made of these artifacts
    smoke_runtime: str = ""
    # the attestation the publish job made of the tarballs it uploaded (`--attestation-url`)
    attestation_url: str = ""

    @property
    def tag(self) -> str:
        """The release tag, from the versions: `mono-6.14.1+xsp-4.7.1`."""
        return "+".join(f"{c.name}-{c.version}" for c in self.components)

    @property
    def title(self) -> str:
        return ", ".join(f"{c.name} {c.version}" for c in self.components)
