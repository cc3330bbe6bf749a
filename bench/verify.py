"""Benchmark: `release-bot verify` of 200 artifacts of 1 MiB on a loopback S3 (moto).

    .venv/bin/python -m bench.verify [--count 200] [--mib 1] [--runs 3]

Publishes COUNT artifacts (random bytes) to a public-read moto bucket with the real publish
code, then prints, in the same process and against the same server:

* `verify`: the real CLI (`release-bot verify --json`, in-process): the public index, then
  per entry the tarball streamed and hashed, its `.sha256` and its manifest (3 GETs per
  entry), on the bounded pool;
* baseline: a plain sequential `requests.get(url)` + `hashlib.sha256` of the same COUNT
  tarball URLs (one GET each, nothing else checked);
* the ratio verify / baseline;
* for scale, the same GETs verify makes (index, tarballs, sidecars, manifests), sequential.

No asserts beyond "verify passed": the figures are for people. Best of `--runs` each.
moto runs in this process (as in the tests), so its request handling shares the GIL; it
answers HTTP/1.0 (a connection per request) and spends milliseconds of CPU on each GET, so
on loopback the request count, not the network, sets the time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bot.app import App
from bot.settings import Settings
from bot.store.publish import collect_artifacts, publish
from bot.verify.runner import WORKERS
from tests.builtartifacts import make_artifact
from tests.clirunner import run_cli
from tests.harness.s3 import MotoS3
from tests.recording import RecordingReporter
from tests.test_publish_s3 import make_public

MIB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--mib", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines

    with MotoS3() as s3, tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        out = Path(tmp) / "out"
        for n in range(args.count):
            make_artifact(out, "mono", f"6.14.{n}", "heroku-24", size=args.mib * MIB)
        bucket = make_public(s3, s3.make_bucket(f"verify-{uuid.uuid4().hex[:10]}"))
        store_url = f"s3://{bucket}/buildpack"
        app = App(Settings.from_env(s3.env), RecordingReporter())
        start = time.perf_counter()
        result = publish(app.store(store_url), collect_artifacts(out), force=False,
                         reporter=RecordingReporter())
        urls = [e.url for e in result.entries]
        print(f"published {len(urls)} x {args.mib} MiB to moto {s3.endpoint} in "
              f"{time.perf_counter() - start:.1f} s; verify pool: {WORKERS} workers")

        ours: list[float] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            verified = run_cli(["verify", "--store", store_url, "--json"], env=s3.env,
                               cwd=tmp)
            ours.append(time.perf_counter() - start)
            assert verified.code == 0, verified.stderr
            assert len(json.loads(verified.stdout)) == args.count

        baseline: list[float] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            for url in urls:
                response = requests.get(url, timeout=60)
                response.raise_for_status()
                hashlib.sha256(response.content).hexdigest()
            baseline.append(time.perf_counter() - start)

        same: list[float] = []
        index_url = urls[0].rsplit("/", 2)[0] + "/index.json"
        every = [index_url, *(u.removesuffix(".tar.gz") + suffix for u in urls
                              for suffix in (".tar.gz", ".sha256", ".json"))]
        for _ in range(args.runs):
            start = time.perf_counter()
            for url in every:
                response = requests.get(url, timeout=60)
                response.raise_for_status()
                hashlib.sha256(response.content).hexdigest()
            same.append(time.perf_counter() - start)

        mine, base = min(ours), min(baseline)
        total = args.count * args.mib
        print(f"release-bot verify (CLI):          {mine:7.2f} s  ({total / mine:6.1f} MiB/s, "
              f"{3 * args.count + 1} GETs)")
        print(f"baseline sequential requests.get: {base:7.2f} s  ({total / base:6.1f} MiB/s, "
              f"{args.count} GETs)")
        print(f"ratio verify / baseline:           {mine / base:7.2f}x")
        print(f"for scale, verify's {len(every)} GETs sequential: {min(same):7.2f} s "
              f"(ratio verify / that {mine / min(same):.2f}x)")


if __name__ == "__main__":
    main()
