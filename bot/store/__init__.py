"""Artifact stores: where built tarballs are published, write-once, with an index.

Layout: `port` (the `ArtifactStore` protocol), `s3` (boto3 adapter for `s3://bucket/prefix`),
`local` (`file://DIR`, the default `./dist/store`), `layout` (keys and `index.json`),
`publish` (plan what to upload / skip / refuse, then run it), `unpublished` (what in
versions.toml is not published yet: the build matrix).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UsageError
from bot.store.local import LocalStore
from bot.store.port import ArtifactStore, StoredObject, Versioned
from bot.store.s3 import S3Store

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["ArtifactStore", "LocalStore", "S3Store", "StoredObject", "Versioned", "open_store"]


def open_store(url: str, *, s3_client: Callable[[], S3Client],
               endpoint_url: str | None = None) -> ArtifactStore:
    """The store for `url`; `s3_client` is only called for an s3:// store."""
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise UsageError(f"store URL {url!r} names no bucket; use s3://BUCKET/PREFIX")
        return S3Store(s3_client(), bucket, prefix, endpoint_url=endpoint_url)
    if url.startswith("file://"):
        path = url.removeprefix("file://")
        if not path:
            raise UsageError(f"store URL {url!r} names no directory; use file://DIR")
        return LocalStore(Path(path))
    raise UsageError(f"unsupported store URL {url!r}; use s3://BUCKET/PREFIX or file://DIR "
                     "(--store or RELEASE_BOT_STORE)")
