"""Local cloud-storage emulators for tests: moto's S3 server and the GCS emulator.

Both run in-process on free ports, in memory, for a whole test session. Test packages expose
them through their conftest::

    from emulators import gcs_emulator, s3_emulator  # noqa: F401  (pytest fixtures)

Each fixture yields an object with the endpoint, fsspec ``storage_options`` and
``new_bucket()`` (a fresh, uniquely named bucket per test). The S3 fixture sets dummy AWS
credentials and ``AWS_ENDPOINT_URL``; the GCS one sets ``STORAGE_EMULATOR_HOST`` and
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (without it gcsfs waits 60 s per bucket lookup on a
gRPC call the emulator never answers; gcsfs reads it at import, so importing this module sets
it too). The environment is restored afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

# gcsfs reads this once, when first imported: set it before any test module imports gcsfs.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class S3Emulator:
    """A running moto S3 server."""

    endpoint_url: str
    buckets: list[str] = field(default_factory=list)

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options reaching this server."""
        return {"client_kwargs": {"endpoint_url": self.endpoint_url}}

    def client(self) -> Any:
        """A boto3 S3 client for this server."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def new_bucket(self, prefix: str = "flowyml-test") -> str:
        """Create a fresh bucket and return its name."""
        name = _unique(prefix)
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return name


@dataclass
class GCSEmulator:
    """A running GCS emulator."""

    endpoint_url: str
    buckets: list[str] = field(default_factory=list)

    @property
    def storage_options(self) -> dict[str, Any]:
        """gcsfs options reaching this emulator anonymously."""
        return {"endpoint_url": self.endpoint_url, "token": "anon"}

    def new_bucket(self, prefix: str = "flowyml-test") -> str:
        """Create a fresh bucket and return its name."""
        import gcsfs

        name = _unique(prefix)
        fs = gcsfs.GCSFileSystem(**self.storage_options, skip_instance_cache=True)
        fs.mkdir(name)
        self.buckets.append(name)
        return name


@pytest.fixture(scope="session")
def s3_emulator() -> Iterator[S3Emulator]:
    """moto's S3 server for the session, with dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in S3_ENV.items():
            patch.setenv(key, value)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        try:
            yield S3Emulator(endpoint_url=endpoint)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GCSEmulator]:
    """The GCS emulator (in memory) for the session."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        patch.setenv("STORAGE_EMULATOR_HOST", endpoint)
        try:
            yield GCSEmulator(endpoint_url=endpoint)
        finally:
            server.stop()
