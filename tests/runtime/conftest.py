"""Fixtures of the runtime tests: artifact stores on every backend, metadata databases.

Metadata tests run on SQLite and on the real PostgreSQL and MariaDB servers (CI starts them;
``FLOWYML_TEST_POSTGRES_URL`` / ``FLOWYML_TEST_MYSQL_URL`` override the defaults). Each test
gets a fresh database, dropped afterwards, so parallel runs never share tables. A server that
does not answer fails the test loudly: a silent skip would hide a broken CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from emulators import (  # noqa: F401  (pytest fixtures)
    AzuriteEmulator,
    GCSEmulator,
    S3Emulator,
    azurite,
    gcs_emulator,
    s3_emulator,
)

from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.binding import clear_cache

POSTGRES_URL = os.environ.get(
    "FLOWYML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("FLOWYML_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER_URLS = {"postgresql": POSTGRES_URL, "mysql": MYSQL_URL}


@pytest.fixture(autouse=True)
def _fresh_binding_cache() -> Iterator[None]:
    yield
    clear_cache()


@pytest.fixture(params=["file", "memory", "s3", "gs", "az"])
def artifact_store(request: pytest.FixtureRequest, tmp_path: Path) -> FsspecArtifactStore:
    """An empty artifact store on each backend (local dir, memory, moto S3, GCS emulator, Azurite)."""
    backend = request.param
    if backend == "file":
        return FsspecArtifactStore(tmp_path.as_uri())
    if backend == "memory":
        return FsspecArtifactStore(f"memory://flowyml-{uuid.uuid4().hex}")
    if backend == "s3":
        s3: S3Emulator = request.getfixturevalue("s3_emulator")
        return FsspecArtifactStore(f"s3://{s3.new_bucket()}/artifacts", s3.storage_options)
    if backend == "gs":
        gcs: GCSEmulator = request.getfixturevalue("gcs_emulator")
        return FsspecArtifactStore(f"gs://{gcs.new_bucket()}/artifacts", gcs.storage_options)
    az: AzuriteEmulator = request.getfixturevalue("azurite")
    return FsspecArtifactStore(f"az://{az.new_container()}/artifacts", az.storage_options)


def _admin_engine(server_url: str) -> sa.Engine:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"database server {sa.make_url(server_url).render_as_string(hide_password=True)} "
            f"is not answering ({exc.orig}); start it (.ci/run does) before running these tests",
            pytrace=False,
        )
    return engine


@pytest.fixture
def fresh_database() -> Iterator[object]:
    """A factory: ``fresh_database(backend)`` -> URL of a new, empty database, dropped at teardown."""
    created: list[tuple[sa.Engine, str, str]] = []

    def make(backend: str, tmp: Path | None = None) -> str:
        if backend == "sqlite":
            directory = tmp or Path(os.environ.get("TMPDIR", "/tmp"))
            return f"sqlite:///{directory / f'flowyml-{uuid.uuid4().hex}.db'}"
        admin = _admin_engine(SERVER_URLS[backend])
        name = f"flowyml_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        created.append((admin, backend, name))
        return sa.make_url(SERVER_URLS[backend]).set(database=name).render_as_string(False)

    yield make
    clear_cache()
    for admin, backend, name in created:
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def metadata_url(request: pytest.FixtureRequest, fresh_database: object, tmp_path: Path) -> str:
    """URL of a fresh metadata database on each backend."""
    return fresh_database(request.param, tmp_path)  # type: ignore[operator]
