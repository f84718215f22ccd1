"""Logging in to a stack's container registry, and asking it whether it holds a tag.

- Artifact Registry (``*-docker.pkg.dev``) and Container Registry (``gcr.io``, ``*.gcr.io``):
  an OAuth access token from google-auth's application-default credentials, user
  ``oauth2accesstoken``.
- ECR (``ACCOUNT.dkr.ecr.REGION.amazonaws.com``): boto3's ``get_authorization_token``.
- Any other registry: no explicit credentials; the docker SDK uses the user's own docker
  config (``~/.docker/config.json``, credential helpers), as ``docker push`` would.

Credentials go only into the request to the engine; they are never logged or returned in text.
The cloud SDKs are imported only when such a registry is used.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from flowyml.runtime.images.errors import ImageError

__all__ = ["registry_auth", "registry_host", "registry_kind"]

_ECR_RE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$")


def registry_host(reference: str) -> str:
    """The registry host of an image reference or registry URI (``docker.io`` when none)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def registry_kind(host: str) -> str:
    """``"gcp"``, ``"ecr"`` or ``"config"`` (the user's docker config) for a registry host."""
    if host.endswith("-docker.pkg.dev") or host == "gcr.io" or host.endswith(".gcr.io"):
        return "gcp"
    if _ECR_RE.match(host):
        return "ecr"
    return "config"


def registry_auth(reference: str) -> dict[str, str] | None:
    """Credentials for pushing ``reference`` (``None``: let the docker config decide).

    Raises:
        ImageError: the cloud credentials are missing or refused (one line, no secret in it).
    """
    host = registry_host(reference)
    kind = registry_kind(host)
    if kind == "gcp":
        return _gcp_auth(host)
    if kind == "ecr":
        return _ecr_auth(host)
    return None


def _gcp_auth(host: str) -> dict[str, str]:
    try:
        import google.auth
        import google.auth.transport.requests
        from google.auth.exceptions import GoogleAuthError
    except ImportError:
        raise ImageError(
            f"pushing to {host} needs google-auth, which is not installed",
            hint="pip install 'flowyml[gcp]'.",
        ) from None
    try:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        credentials.refresh(google.auth.transport.requests.Request())
    except GoogleAuthError as exc:
        raise ImageError(
            f"no Google credentials to push to {host}: {type(exc).__name__}",
            hint="run `gcloud auth application-default login` or set "
            "GOOGLE_APPLICATION_CREDENTIALS.",
        ) from None
    return {"username": "oauth2accesstoken", "password": str(credentials.token)}


def _ecr_auth(host: str) -> dict[str, str]:
    match = _ECR_RE.match(host)
    assert match is not None
    account, region = match.groups()
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise ImageError(
            f"pushing to {host} needs boto3, which is not installed",
            hint="pip install 'flowyml[aws]'.",
        ) from None
    try:
        client: Any = boto3.client("ecr", region_name=region)
        data = client.get_authorization_token(registryIds=[account])["authorizationData"][0]
    except (BotoCoreError, ClientError) as exc:
        raise ImageError(
            f"no ECR authorization token for {host}: {type(exc).__name__}",
            hint="configure AWS credentials (aws configure, or AWS_PROFILE) with "
            "ecr:GetAuthorizationToken.",
        ) from None
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": username, "password": password}
