"""An in-process S3 (moto's ThreadedMotoServer) on a free loopback port.

    with MotoS3() as s3:
        s3.make_bucket("releases")
        env = s3.env            # AWS_ENDPOINT_URL, fake credentials, region
        client = s3.client()    # boto3 S3 client pointed at the server

The real code under test reads ``AWS_ENDPOINT_URL`` (boto3 >= 1.28 honours it
natively), so pass ``s3.env`` to subprocesses or ``monkeypatch.setenv`` it.
"""

from __future__ import annotations

import contextlib
import socket
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.harness.closing import ClosesOnExit

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def s3_env(endpoint: str) -> dict[str, str]:
    """Environment that points boto3 (and anything honouring AWS_ENDPOINT_URL) at ``endpoint``."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # never pick up a developer's real config/credentials files or IMDS
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def make_client(endpoint: str, **config: Any) -> S3Client:
    """A boto3 S3 client for ``endpoint`` with the fake credentials.

    ``config`` goes to botocore ``Config`` (e.g. ``retries={"max_attempts": 3}``).
    """
    cfg = Config(s3={"addressing_style": "path"}, **config)
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    ).client("s3", endpoint_url=endpoint, config=cfg)


class MotoS3(ClosesOnExit):
    """moto's ThreadedMotoServer on 127.0.0.1:<free port>."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # port 0: the OS picks a free port at bind time (no race)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        h, p = self._server.get_host_and_port()
        self.host = h
        self.port = p
        self.endpoint = f"http://{h}:{p}"
        self._closed = False

    @property
    def env(self) -> dict[str, str]:
        return s3_env(self.endpoint)

    def client(self, endpoint: str | None = None, **config: Any) -> S3Client:
        """boto3 client; ``endpoint`` lets a test go through a FaultProxy instead."""
        return make_client(endpoint or self.endpoint, **config)

    def make_bucket(self, name: str) -> str:
        """Create bucket ``name`` (idempotent); returns the name."""
        c = self.client()
        with contextlib.suppress(c.exceptions.BucketAlreadyOwnedByYou):
            c.create_bucket(Bucket=name)
        return name

    def reset(self) -> None:
        """Drop all state (buckets, objects) from the moto backend."""
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.stop()
        # ThreadedMotoServer.stop() shuts down but does not close the socket
        inner = getattr(self._server, "_server", None)
        if inner is not None:
            inner.server_close()
