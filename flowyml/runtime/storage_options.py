"""fsspec storage options for an artifact URI, from its declaration and the environment.

* ``s3://``: ``endpoint_url`` from the ``S3ArtifactStore`` declaration, else ``AWS_ENDPOINT_URL``
  (MinIO, moto, LocalStack); ``region`` as the client's ``region_name``.
* ``gs://``: when ``STORAGE_EMULATOR_HOST`` is set, talk to that emulator anonymously.
* ``az://``: the declaration's connection string (revealed here, in memory only), else
  ``AZURE_STORAGE_CONNECTION_STRING`` (Azurite, or a real account), else the declared account
  name with the SDK's credential chain.

Credentials otherwise come from each SDK's usual chain (environment, files, metadata server).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else "file"


def storage_options_for(uri: str, declaration: Any = None) -> dict[str, Any]:
    """Options to open ``uri`` with fsspec.

    Args:
        uri: The artifact root URI.
        declaration: The stack's artifact store component, if it matches ``uri``'s scheme.
    """
    scheme = _scheme(uri)
    if scheme in ("s3", "s3a"):
        return _s3(declaration, os.environ)
    if scheme in ("gs", "gcs"):
        return _gcs(os.environ)
    if scheme in ("az", "abfs", "abfss"):
        return _azure(declaration, os.environ)
    return {}


def _s3(declaration: Any, env: Mapping[str, str]) -> dict[str, Any]:
    client: dict[str, Any] = {}
    endpoint = getattr(declaration, "endpoint_url", None) or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        client["endpoint_url"] = endpoint
    region = getattr(declaration, "region", None)
    if region:
        client["region_name"] = region
    return {"client_kwargs": client} if client else {}


def _gcs(env: Mapping[str, str]) -> dict[str, Any]:
    host = env.get("STORAGE_EMULATOR_HOST")
    if not host:
        return {}
    endpoint = host if "://" in host else f"http://{host}"
    # gcsfs reads this when first imported; its default probes a gRPC API emulators lack and
    # stalls 60 s per bucket lookup.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    # The emulator accepts no real credentials; looking for them would stall.
    return {"endpoint_url": endpoint, "token": "anon"}


def _azure(declaration: Any, env: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    secret = getattr(declaration, "connection_string", None)
    if secret is not None:
        from flowyml.stacks.secret_refs import reveal

        options["connection_string"] = reveal(secret, "connection_string")
    elif env.get("AZURE_STORAGE_CONNECTION_STRING"):
        # adlfs would read it too; passing it makes it part of the options the binding keys
        # its store cache on, so a changed variable opens a new store instead of a stale one.
        options["connection_string"] = env["AZURE_STORAGE_CONNECTION_STRING"]
    account = getattr(declaration, "account_name", None)
    if account and "connection_string" not in options:
        options["account_name"] = account
    return options
