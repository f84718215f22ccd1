"""Local cloud-storage emulators for tests: moto's S3 server, the GCS emulator and Azurite.

S3 and GCS run in-process on free ports, in memory; Azurite (npm's ``azurite-blob``) runs as a
child process on a free port with its data in a temp dir. Each lives for a whole test session.
Test packages expose them through their conftest::

    from emulators import azurite, gcs_emulator, s3_emulator  # noqa: F401  (pytest fixtures)

Each fixture yields an object with the endpoint, fsspec ``storage_options`` and
``new_bucket()`` (a fresh, uniquely named bucket per test). The S3 fixture sets dummy AWS
credentials and ``AWS_ENDPOINT_URL``; the GCS one sets ``STORAGE_EMULATOR_HOST`` and
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (without it gcsfs waits 60 s per bucket lookup on a
gRPC call the emulator never answers; gcsfs reads it at import, so importing this module sets
it too). The Azurite one yields the development connection string (account
``devstoreaccount1``) and is skipped, saying so, only when ``azurite-blob`` is not installed.
The environment is restored afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
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


# Azurite's documented development account: a public, fixed key that only Azurite accepts.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_REPO = Path(__file__).resolve().parent.parent


def azurite_binary() -> str | None:
    """``azurite-blob`` from PATH or the repository's ``node_modules`` (where CI installs it)."""
    found = shutil.which("azurite-blob")
    local = _REPO / "node_modules" / ".bin" / "azurite-blob"
    return found or (str(local) if local.is_file() else None)


@dataclass
class AzuriteEmulator:
    """A running Azurite blob service."""

    endpoint_url: str
    containers: list[str] = field(default_factory=list)

    @property
    def connection_string(self) -> str:
        """Azurite's development connection string for this endpoint."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint_url}/{AZURITE_ACCOUNT};"
        )

    @property
    def storage_options(self) -> dict[str, Any]:
        """adlfs options reaching this emulator."""
        return {"connection_string": self.connection_string}

    def new_container(self, prefix: str = "flowyml-test") -> str:
        """Create a fresh container and return its name."""
        import adlfs

        name = _unique(prefix)
        fs = adlfs.AzureBlobFileSystem(**self.storage_options, skip_instance_cache=True)
        fs.mkdir(name)
        self.containers.append(name)
        return name


def _wait_listening(port: int, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite-blob exited with code {proc.returncode} at startup")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"azurite-blob did not listen on 127.0.0.1:{port} within {seconds:g} s")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteEmulator]:
    """Azurite's blob service for the session (skipped only when it is not installed)."""
    binary = azurite_binary()
    if binary is None:
        pytest.skip(
            "azurite-blob not found on PATH or in node_modules/.bin "
            "(install it with `npm install azurite@3`, as .ci/run does)"
        )
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    command = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--location", str(location), "--skipApiVersionCheck", "--silent"]
    # No internet here: telemetry would only try (and fail) to reach its endpoint.
    command += ["--disableTelemetry"]
    # Own process group: the node process and anything it spawns end together at teardown.
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_listening(port, proc)
        yield AzuriteEmulator(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
