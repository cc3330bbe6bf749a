"""Benchmark: publishing a 200 MB artifact to a loopback S3 (moto) against boto3's upload_file.

    .venv/bin/python -m bench.publish [--mb 200] [--runs 5]

Prints, for the same file and server, in the same process:

* baseline: one `client.upload_file` (s3transfer's defaults: 8 MiB parts, 10 threads);
* `publish`: collect (check the manifest) + plan (HEAD, GET index) + the upload staged
  (a multipart upload with per-part CRC32, the tarball hashed with SHA-256 as it is read
  and checked against its manifest) + commit (complete, composite check) + sidecars +
  conditional index; reported as a ratio to the baseline;
* a re-publish that is skipped: time (which is mostly hashing the tarball to check it) and
  S3 requests (counted with a botocore `before-send` hook).

No asserts: the figures are for people. Best of `--runs` for each timing; the baseline and
ours alternate, each after a garbage collection.
"""

from __future__ import annotations

import argparse
import collections
import gc
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bot.app import App
from bot.settings import Settings
from bot.store.publish import collect_artifacts, publish
from tests.builtartifacts import make_artifact
from tests.harness.s3 import MotoS3
from tests.recording import RecordingReporter

MIB = 1 << 20


def best(times: list[float]) -> float:
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with MotoS3() as s3, tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        out = Path(tmp) / "out"
        built = make_artifact(out, "mono", "6.14.1", "heroku-24", size=args.mb * MIB)
        app = App(Settings.from_env(s3.env), RecordingReporter())
        client = app.s3
        requests: collections.Counter[str] = collections.Counter()

        def count(request: Any, **_: Any) -> None:
            requests[f"{request.method} {request.url.split('?', 1)[-1][:20]}"
                     if "uploadId" in request.url else request.method] += 1

        client.meta.events.register("before-send.s3", count)
        print(f"file: {args.mb} MiB random bytes; server: moto {s3.endpoint}")

        baseline: list[float] = []
        ours: list[float] = []
        bucket = ""
        for _ in range(args.runs):  # alternating, so that load on the machine hits both alike
            gc.collect()
            base_bucket = s3.make_bucket(f"base-{uuid.uuid4().hex[:10]}")
            start = time.perf_counter()
            client.upload_file(str(built.tarball), base_bucket, "heroku-24/mono-6.14.1.tar.gz")
            baseline.append(time.perf_counter() - start)
            gc.collect()
            bucket = s3.make_bucket(f"pub-{uuid.uuid4().hex[:10]}")
            store = app.store(f"s3://{bucket}/buildpack")
            start = time.perf_counter()
            publish(store, collect_artifacts(out), force=False, reporter=RecordingReporter())
            ours.append(time.perf_counter() - start)
        base, mine = best(baseline), best(ours)
        print(f"baseline upload_file:            {base:7.2f} s  "
              f"({args.mb / base:6.1f} MiB/s)")
        print(f"release-bot publish:             {mine:7.2f} s  "
              f"({args.mb / mine:6.1f} MiB/s)  ratio {mine / base:5.2f}x baseline")

        store = app.store(f"s3://{bucket}/buildpack")
        skip_times: list[float] = []
        for _ in range(args.runs):
            requests.clear()
            start = time.perf_counter()
            result = publish(store, collect_artifacts(out), force=False,
                             reporter=RecordingReporter())
            skip_times.append(time.perf_counter() - start)
            assert not result.index_written
        print(f"skipped re-publish:              {best(skip_times):7.3f} s (hashing the "
              f"tarball to check it); {sum(requests.values())} requests {dict(requests)}; "
              f"ratio {best(skip_times) / base:5.3f}x baseline")

if __name__ == "__main__":
    main()
