"""Fixtures of the end-to-end tests: emulators, the local PostgreSQL, a Cloud SQL proxy stand-in.

- S3 and GCS: the session emulators of ``tests/emulators.py`` (moto's server, the GCS emulator).
- PostgreSQL: the real server at 127.0.0.1:5432 (trust auth; CI starts it). A server that does
  not answer fails the test: a silent skip would hide a broken CI.
- Cloud SQL: there is no emulator, so the local PostgreSQL plays the instance, and
  :class:`CloudSQLProxy` plays the Cloud SQL Auth Proxy: like ``cloud-sql-proxy --unix-socket
  DIR``, it serves ``DIR/<connection name>/.s.PGSQL.5432`` and forwards to the instance.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from emulators import gcs_emulator, s3_emulator  # noqa: F401  (pytest fixtures)

POSTGRES_HOST = os.environ.get("FLOWYML_TEST_POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("FLOWYML_TEST_POSTGRES_PORT", "5432"))
POSTGRES_ADMIN = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user=postgres dbname=postgres"


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class _Forward(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT)) as upstream:
            back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            back.start()
            _pipe(self.request, upstream)
            back.join(timeout=10)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class CloudSQLProxy:
    """Serve Cloud SQL instance sockets under ``socket_dir``, forwarding to the local server."""

    def __init__(self, socket_dir: Path) -> None:
        self.socket_dir = socket_dir
        self._servers: list[_UnixServer] = []

    def serve(self, connection_name: str) -> None:
        """Start serving ``<socket_dir>/<connection_name>/.s.PGSQL.5432``."""
        directory = self.socket_dir / connection_name
        directory.mkdir(parents=True, exist_ok=True)
        server = _UnixServer(str(directory / ".s.PGSQL.5432"), _Forward)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def cloudsql_proxy() -> Iterator[CloudSQLProxy]:
    # A short directory: Unix socket paths are limited to 107 bytes.
    socket_dir = Path(tempfile.mkdtemp(prefix="csql", dir="/tmp"))
    proxy = CloudSQLProxy(socket_dir)
    try:
        yield proxy
    finally:
        proxy.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture
def postgres_admin() -> Iterator[psycopg.Connection]:
    """An autocommit admin connection to the local PostgreSQL server."""
    try:
        connection = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} is not answering ({exc}); "
            "start it (.ci/run does) before running these tests",
            pytrace=False,
        )
    with connection:
        yield connection
