"""Registry logins with no emulator here, through the cloud clients' own stubbing.

No Artifact Registry or ECR can run on this machine. ECR's token comes from moto's in-process
``mock_aws`` (boto3's real request path, moto's real ``GetAuthorizationToken``). google-auth has
no emulator: ``google.auth.default`` is replaced by a stub returning credentials whose
``refresh`` sets a token, which is exactly the interface flowyml uses.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from flowyml.runtime.images import ImageError
from flowyml.runtime.images.registry import registry_auth, registry_host, registry_kind


@pytest.mark.parametrize(
    ("reference", "host", "kind"),
    [
        ("us-central1-docker.pkg.dev/p/r/flowyml:abc", "us-central1-docker.pkg.dev", "gcp"),
        ("gcr.io/p/flowyml:abc", "gcr.io", "gcp"),
        ("eu.gcr.io/p/flowyml:abc", "eu.gcr.io", "gcp"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml:abc",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "ecr",
        ),
        ("127.0.0.1:5000/flowyml:abc", "127.0.0.1:5000", "config"),
        ("me/flowyml:abc", "docker.io", "config"),
        ("localhost/x:1", "localhost", "config"),
    ],
)
def test_registry_kinds(reference: str, host: str, kind: str) -> None:
    assert registry_host(reference) == host
    assert registry_kind(host) == kind


def test_other_registries_use_the_docker_config() -> None:
    assert registry_auth("127.0.0.1:5000/flowyml:abc") is None
    assert registry_auth("docker.io/me/flowyml:abc") is None


def test_ecr_token_from_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        import boto3

        expected = boto3.client("ecr", region_name="eu-west-1").get_authorization_token(
            registryIds=["123456789012"]
        )["authorizationData"][0]["authorizationToken"]
        auth = registry_auth("123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml:abc")
    user, _, password = base64.b64decode(expected).decode().partition(":")
    assert auth == {"username": user, "password": password}
    assert user == "AWS" and password


class _Credentials:
    token: str | None = None

    def refresh(self, request: Any) -> None:
        self.token = "ya29.stub-token"


def test_artifact_registry_token_from_google_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth

    seen: dict[str, Any] = {}

    def default(scopes: list[str] | None = None, **_: Any) -> tuple[_Credentials, str]:
        seen["scopes"] = scopes
        return _Credentials(), "my-project"

    monkeypatch.setattr(google.auth, "default", default)
    auth = registry_auth("europe-west1-docker.pkg.dev/my-project/flowyml/flowyml:abc")
    assert auth == {"username": "oauth2accesstoken", "password": "ya29.stub-token"}
    assert seen["scopes"] == ["https://www.googleapis.com/auth/cloud-platform"]


def test_missing_google_credentials_is_one_line_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def default(**_: Any) -> Any:
        raise DefaultCredentialsError("no credentials found in /secret/path")

    monkeypatch.setattr(google.auth, "default", default)
    with pytest.raises(ImageError) as info:
        registry_auth("gcr.io/p/flowyml:abc")
    text = str(info.value)
    assert "\n" not in text and "gcr.io" in text and "To fix:" in text
    assert "/secret/path" not in text
