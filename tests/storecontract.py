"""Behaviour every ArtifactStore adapter must show, run against each real store by its tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from bot.store import ArtifactStore
from bot.store.layout import INDEX_KEY
from bot.store.publish import LocalArtifact, collect_artifacts, publish
from tests.builtartifacts import index_entries, make_artifact
from tests.recording import RecordingReporter


def check_conditional_writes(store: ArtifactStore) -> None:
    """put_if: create-if-absent, then compare-and-swap on the tag; a stale tag loses."""
    assert store.put_if(INDEX_KEY, b"one", expected=None, content_type="application/json")
    assert not store.put_if(INDEX_KEY, b"two", expected=None, content_type="application/json")
    first = store.read(INDEX_KEY)
    assert first is not None and first.data == b"one"
    assert store.put_if(INDEX_KEY, b"two", expected=first.etag, content_type="text/plain")
    assert not store.put_if(INDEX_KEY, b"three", expected=first.etag, content_type="text/plain")
    current = store.read(INDEX_KEY)
    assert current is not None and current.data == b"two"


def publish_concurrently(make_store: Callable[[], ArtifactStore], work: Path, count: int
                         ) -> set[tuple[str, str, str]]:
    """`count` publishers, each with its own artifact, released at once; returns the index."""
    versions = [f"6.14.{n}" for n in range(count)]
    batches = [collect_artifacts(make_artifact(work / v, "mono", v, "heroku-24", size=2000)
                                 .tarball.parent) for v in versions]
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def one(batch: list[LocalArtifact]) -> None:
        store = make_store()
        start.wait()
        try:
            publish(store, batch, force=False, reporter=RecordingReporter())
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    index = make_store().read(INDEX_KEY)
    assert index is not None
    published = set(index_entries(index.data))
    assert published == {("mono", v, "heroku-24") for v in versions}
    return published
