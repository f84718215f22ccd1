"""Artifact stores: where step outputs are written. Each has a ``uri`` the runtime opens with
fsspec. Relative local paths resolve against the project directory when ``uri`` is read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from flowyml.core.paths import project_dir
from flowyml.stacks import rules
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.secret_refs import Secret

__all__ = [
    "ArtifactStore",
    "AzureBlobStore",
    "GCSArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
    "resolve_local_path",
]


def resolve_local_path(path: str) -> Path:
    """``path`` made absolute against the project directory (``~`` expanded)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (project_dir() / candidate).resolve()


def _join(scheme: str, bucket: str, prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{scheme}://{bucket}/{prefix}" if prefix else f"{scheme}://{bucket}"


class LocalArtifactStore(Component):
    """A directory on this machine.

    Attributes:
        path: Directory; relative paths resolve against the project directory.
    """

    kind: Literal["local"] = "local"
    path: str = ".flowyml/artifacts"

    @property
    def resolved_path(self) -> Path:
        """The absolute directory."""
        return resolve_local_path(self.path)

    @property
    def uri(self) -> str:
        """``file:///abs/path``."""
        return self.resolved_path.as_uri()


class GCSArtifactStore(Component):
    """A Google Cloud Storage bucket (and optional prefix).

    Attributes:
        bucket: Bucket name.
        prefix: Key prefix inside the bucket.
    """

    kind: Literal["gcs"] = "gcs"
    bucket: str
    prefix: str = ""

    @property
    def uri(self) -> str:
        """``gs://bucket/prefix``."""
        return _join("gs", self.bucket, self.prefix)

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.bucket", rules.check_gcs_bucket(self.bucket))


class S3ArtifactStore(Component):
    """An S3 (or S3-compatible) bucket.

    Attributes:
        bucket: Bucket name.
        prefix: Key prefix inside the bucket.
        region: AWS region of the bucket.
        endpoint_url: Endpoint of an S3-compatible service (MinIO, moto, ...).
    """

    kind: Literal["s3"] = "s3"
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None

    @property
    def uri(self) -> str:
        """``s3://bucket/prefix``."""
        return _join("s3", self.bucket, self.prefix)

    def problems(self, path: str) -> list[ValidationProblem]:
        found = problem(f"{path}.bucket", rules.check_s3_bucket(self.bucket))
        if self.region is not None and self.endpoint_url is None:
            found += problem(f"{path}.region", rules.check_aws_region(self.region))
        return found


class AzureBlobStore(Component):
    """An Azure Blob Storage container.

    Attributes:
        container: Container name.
        account_name: Storage account.
        prefix: Blob name prefix.
        connection_string: Connection string (secret; ``${VAR}`` recommended).
    """

    kind: Literal["azure"] = "azure"
    container: str
    account_name: str | None = None
    prefix: str = ""
    connection_string: Secret | None = None

    @property
    def uri(self) -> str:
        """``az://container/prefix``."""
        return _join("az", self.container, self.prefix)

    def problems(self, path: str) -> list[ValidationProblem]:
        if not re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", self.container):
            return problem(
                f"{path}.container",
                f"Azure container name {self.container!r} must be 3-63 lowercase letters, "
                "digits or single hyphens, starting and ending with a letter or digit",
            )
        return []


ArtifactStore = Annotated[
    LocalArtifactStore | GCSArtifactStore | S3ArtifactStore | AzureBlobStore,
    Field(discriminator="kind"),
]
"""Any artifact store, told apart by ``kind``."""
