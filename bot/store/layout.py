"""Where artifacts live in a store, and `index.json`, the list buildpacks read.

Keys: `<stack>/<component>-<version>.{tar.gz,sha256,json}`, with `<stack>/<arch>/` for an
architecture other than amd64 (`artifact_key`); `index.json` (schema 1) is written last.
Its `artifacts` list holds the amd64 entries only (an entry without `arch` is amd64), so a
reader that knows nothing of architectures finds exactly what it found before;
`other-arches` (absent when empty) holds the rest. README.md ("Artifact store layout") has
the full layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from bot.arch import DEFAULT_ARCH
from bot.build.manifest import artifact_stem
from bot.errors import PublishError
from bot.files import is_sha256
from bot.store.port import ArtifactStore

INDEX_KEY = "index.json"
INDEX_SCHEMA = 1
# Entries for architectures other than amd64 live in a list of their own, so a reader of
# `artifacts` (every reader before architectures existed) only ever finds amd64 builds.
OTHER_ARCHES = "other-arches"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def check_name(kind: str, value: str) -> str:
    """A component, version or stack as it may appear in a key (no slashes, no `..`)."""
    if not _NAME.fullmatch(value) or ".." in value or len(value) > 100:
        raise PublishError(f"{kind} {value!r} cannot be used in a store key; only letters, "
                           "digits and . _ + - are allowed")
    return value


def check_sha256(value: str, what: str) -> str:
    if not is_sha256(value):
        raise PublishError(f"{what} has no valid sha256 ({value[:80]!r}); rebuild the artifact")
    return value


def artifact_key(component: str, version: str, stack: str, arch: str = DEFAULT_ARCH) -> str:
    return artifact_stem(check_name("component", component), check_name("version", version),
                         check_name("stack", stack), arch=check_name("arch", arch),
                         key=True) + ".tar.gz"


def checksum_key(key: str) -> str:
    return key.removesuffix(".tar.gz") + ".sha256"


def manifest_key(key: str) -> str:
    return key.removesuffix(".tar.gz") + ".json"


def checksum_line(key: str, sha256: str) -> bytes:
    """sha256sum format, naming the file as it sits beside this one (`sha256sum -c` works)."""
    return f"{sha256}  {key.rsplit('/', 1)[-1]}\n".encode()


@dataclass(frozen=True, slots=True)
class IndexEntry:
    component: str
    version: str
    stack: str
    key: str
    url: str
    sha256: str
    size: int
    published: str
    arch: str = DEFAULT_ARCH

    @property
    def ident(self) -> tuple[str, str, str, str]:
        return (self.component, self.version, self.stack, self.arch)

    def same_artifact(self, other: IndexEntry) -> bool:
        """Same bytes at the same place (the publish time does not matter)."""
        return replace(self, published="") == replace(other, published="")


@dataclass(frozen=True, slots=True)
class Index:
    entries: tuple[IndexEntry, ...] = ()
    updated: str = ""

    def find(self, component: str, version: str, stack: str,
             arch: str = DEFAULT_ARCH) -> IndexEntry | None:
        wanted = (component, version, stack, arch)
        return next((e for e in self.entries if e.ident == wanted), None)

    def published(self) -> set[tuple[str, str, str, str]]:
        return {e.ident for e in self.entries}


def _sorted(entries: Iterable[IndexEntry]) -> tuple[IndexEntry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.component, e.stack, e.arch, e.version,
                                                 e.key)))


def merge_index(index: Index, entries: Iterable[IndexEntry], updated: str) -> Index | None:
    """`index` with `entries` added (replacing entries for the same artifact that differ).

    None when nothing would change: an entry already there for the same bytes keeps its
    original publish time, so a re-publish that was skipped leaves the index as it was.
    """
    current = {e.ident: e for e in index.entries}
    changed = False
    for entry in entries:
        old = current.get(entry.ident)
        if old is not None and old.same_artifact(entry):
            continue
        current[entry.ident] = entry
        changed = True
    if not changed:
        return None
    return Index(_sorted(current.values()), updated)


def render_index(index: Index) -> bytes:
    doc = {"schema": INDEX_SCHEMA, "updated": index.updated,
           "artifacts": [asdict(e) for e in index.entries if e.arch == DEFAULT_ARCH]}
    others = [asdict(e) for e in index.entries if e.arch != DEFAULT_ARCH]
    if others:
        doc[OTHER_ARCHES] = others
    return (json.dumps(doc, indent=2) + "\n").encode()


def parse_index(data: bytes | None, where: str) -> Index:
    """The index stored at `where` (None: no index yet, an empty one)."""
    if data is None:
        return Index()
    fix = f"{where} is not a release-bot index; restore it from the store's history or fix it"
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("schema") != INDEX_SCHEMA:
            raise PublishError(f"{fix} (expected schema {INDEX_SCHEMA})")
        entries = [IndexEntry(
            component=str(e["component"]), version=str(e["version"]), stack=str(e["stack"]),
            key=str(e["key"]), url=str(e["url"]), sha256=str(e["sha256"]), size=int(e["size"]),
            published=str(e["published"]), arch=str(e.get("arch", DEFAULT_ARCH)))
            for e in [*doc["artifacts"], *doc.get(OTHER_ARCHES, [])]]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError,
            OverflowError, RecursionError) as exc:
        raise PublishError(f"{fix} ({type(exc).__name__}: {exc})") from None
    return Index(_sorted(entries), str(doc.get("updated", "")))


def read_index(store: ArtifactStore) -> tuple[Index, str | None]:
    """The store's index (empty when there is none yet) and its tag for a conditional write."""
    current = store.read(INDEX_KEY)
    if current is None:
        return Index(), None
    return parse_index(current.data, store.public_url(INDEX_KEY)), current.etag
