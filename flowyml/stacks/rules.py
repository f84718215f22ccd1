"""Naming and form rules checked without credentials.

Each rule is a pure function ``check_x(value) -> str | None`` returning what is wrong (one
sentence, no trailing period) or ``None``. Sources: the providers' naming documentation for
projects, buckets (GCS and S3 differ), Artifact Registry and ECR repositories, service accounts,
Kubernetes names, and registry URI forms.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable

from flowyml.stacks.catalog import AWS_REGIONS, GCP_REGIONS

__all__ = [
    "check_artifact_registry_repository",
    "check_aws_region",
    "check_backend_url",
    "check_dns_label",
    "check_dockerhub_namespace",
    "check_ecr_registry_uri",
    "check_ecr_repository",
    "check_gcp_project_id",
    "check_gcp_region",
    "check_gcp_service_account_id",
    "check_gcr_registry_uri",
    "check_gcs_bucket",
    "check_s3_bucket",
    "did_you_mean",
    "ecr_registry_hint",
]


def did_you_mean(value: str, choices: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest choice, or ``None``."""
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def check_gcp_project_id(value: str) -> str | None:
    """GCP project ids: 6-30 chars of lowercase letters, digits, hyphens; a letter first; no
    trailing hyphen; no restricted words."""
    if not 6 <= len(value) <= 30:
        return f"project id {value!r} must be 6 to 30 characters long (has {len(value)})"
    if not value[0].isascii() or not value[0].islower() or not value[0].isalpha():
        return f"project id {value!r} must start with a lowercase letter"
    if not re.fullmatch(r"[a-z0-9-]+", value):
        return f"project id {value!r} may contain only lowercase letters, digits and hyphens"
    if value.endswith("-"):
        return f"project id {value!r} must not end with a hyphen"
    if "google" in value or value in {"null", "undefined"} or "ssl" in value:
        return f"project id {value!r} contains a restricted word (google, ssl, null, undefined)"
    return None


def check_gcs_bucket(value: str) -> str | None:
    """GCS bucket names: 3-63 chars (222 with dots, 63 per dot-separated part); lowercase letters,
    digits, ``-``, ``_`` and ``.``; start and end alphanumeric; not an IP address; no ``goog``
    prefix and no ``google``."""
    if not re.fullmatch(r"[a-z0-9._-]+", value):
        return (
            f"GCS bucket name {value!r} may contain only lowercase letters, digits, "
            "'-', '_' and '.'"
        )
    limit = 222 if "." in value else 63
    if not 3 <= len(value) <= limit:
        return f"GCS bucket name {value!r} must be 3 to {limit} characters long"
    if any(not 1 <= len(part) <= 63 for part in value.split(".")):
        return f"GCS bucket name {value!r} has an empty or longer than 63 character dot-part"
    if not (value[0].isalnum() and value[-1].isalnum()):
        return f"GCS bucket name {value!r} must start and end with a letter or digit"
    if _is_ip(value):
        return f"GCS bucket name {value!r} must not look like an IP address"
    if value.startswith("goog") or re.search(r"g[o0][o0]g[l1]e", value):
        return f"GCS bucket name {value!r} must not start with 'goog' or contain 'google'"
    return None


_S3_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_s3_bucket(value: str) -> str | None:
    """S3 bucket names: 3-63 chars of lowercase letters, digits, ``.`` and ``-`` (no ``_``);
    start and end alphanumeric; no ``..``; not an IP address; reserved prefixes and suffixes."""
    if not 3 <= len(value) <= 63:
        return f"S3 bucket name {value!r} must be 3 to 63 characters long (has {len(value)})"
    if not re.fullmatch(r"[a-z0-9.-]+", value):
        return f"S3 bucket name {value!r} may contain only lowercase letters, digits, '.' and '-'"
    if not (value[0].isalnum() and value[-1].isalnum()):
        return f"S3 bucket name {value!r} must start and end with a letter or digit"
    if ".." in value:
        return f"S3 bucket name {value!r} must not contain two adjacent periods"
    if _is_ip(value):
        return f"S3 bucket name {value!r} must not look like an IP address"
    for prefix in _S3_BAD_PREFIXES:
        if value.startswith(prefix):
            return f"S3 bucket name {value!r} must not start with the reserved prefix {prefix!r}"
    for suffix in _S3_BAD_SUFFIXES:
        if value.endswith(suffix):
            return f"S3 bucket name {value!r} must not end with the reserved suffix {suffix!r}"
    return None


def check_artifact_registry_repository(value: str) -> str | None:
    """Artifact Registry repository ids: lowercase letters, digits, hyphens; a letter first;
    alphanumeric last; at most 63 characters."""
    if not re.fullmatch(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", value):
        return (
            f"Artifact Registry repository id {value!r} must be 1-63 lowercase letters, digits "
            "or hyphens, starting with a letter and ending with a letter or digit"
        )
    return None


_ECR_REPO_RE = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")


def check_ecr_repository(value: str) -> str | None:
    """ECR repository names: 2-256 chars, lowercase path components separated by ``/``, each of
    alphanumerics joined by single ``.``, ``_`` or ``-``."""
    if not 2 <= len(value) <= 256 or not _ECR_REPO_RE.fullmatch(value):
        return (
            f"ECR repository name {value!r} must be 2-256 characters of lowercase path "
            "components (letters and digits joined by '.', '_' or '-') separated by '/'"
        )
    return None


def _region_problem(value: str, known: frozenset[str], provider: str) -> str | None:
    if value in known:
        return None
    suggestion = did_you_mean(value, known)
    tail = f"; {suggestion}" if suggestion else ""
    return f"{value!r} is not a known {provider} region{tail}"


def check_gcp_region(value: str) -> str | None:
    """A known GCP region name."""
    return _region_problem(value, GCP_REGIONS, "GCP")


def check_aws_region(value: str) -> str | None:
    """A known AWS region name."""
    return _region_problem(value, AWS_REGIONS, "AWS")


def check_gcp_service_account_id(value: str) -> str | None:
    """Service account ids: 6-30 chars, lowercase letter first, then letters/digits/hyphens,
    alphanumeric last."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", value):
        return (
            f"service account id {value!r} must be 6-30 lowercase letters, digits or hyphens, "
            "starting with a letter and ending with a letter or digit"
        )
    return None


def check_dns_label(value: str, what: str) -> str | None:
    """Kubernetes DNS-1123 labels (namespaces, most names): at most 63 lowercase alphanumerics
    or ``-``, alphanumeric at both ends."""
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
        return (
            f"{what} {value!r} must be at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


_GCR_RE = re.compile(r"(?:(?:us|eu|asia)\.)?gcr\.io/(?P<project>[a-z][a-z0-9-:.]*)(?:/[\w./-]+)?")
_PKG_DEV_RE = re.compile(
    r"(?P<region>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-:.]*)/(?P<repo>[a-z][a-z0-9-]*)(?:/[\w./-]+)?"
)
_ECR_URI_RE = re.compile(
    r"(?P<account>\d+)\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?:/(?P<repo>.+))?"
)


def check_gcr_registry_uri(value: str) -> str | None:
    """``gcr.io/<project>[/path]`` (or us./eu./asia.gcr.io) or
    ``<region>-docker.pkg.dev/<project>/<repository>[/path]``."""
    if _GCR_RE.fullmatch(value):
        return None
    match = _PKG_DEV_RE.fullmatch(value)
    if match:
        region = match["region"]
        if region not in GCP_REGIONS and region not in {"us", "europe", "asia"}:
            return f"registry URI {value!r} names an unknown Artifact Registry location {region!r}"
        return None
    return (
        f"registry URI {value!r} is neither 'gcr.io/<project>' nor "
        "'<region>-docker.pkg.dev/<project>/<repository>'"
    )


def check_ecr_registry_uri(value: str) -> str | None:
    """``<12-digit account>.dkr.ecr.<region>.amazonaws.com[/repository]``."""
    match = _ECR_URI_RE.fullmatch(value)
    if not match:
        return (
            f"ECR registry {value!r} is not of the form "
            "'<account>.dkr.ecr.<region>.amazonaws.com[/repository]'"
        )
    account = match["account"]
    if len(account) != 12:
        placeholder = " (it looks like a placeholder)" if _looks_like_placeholder(account) else ""
        return (
            f"ECR registry {value!r} has a {len(account)}-digit account id {account!r}"
            f"{placeholder}; AWS account ids have exactly 12 digits"
        )
    if match["region"] not in AWS_REGIONS:
        return f"ECR registry {value!r} names an unknown AWS region {match['region']!r}"
    if match["repo"] and (problem := check_ecr_repository(match["repo"])):
        return problem
    return None


def _looks_like_placeholder(account: str) -> bool:
    return len(set(account)) == 1 or account in "1234567890123456789" or account in "0123456789"


def ecr_registry_hint(value: str) -> str:
    """What to do about a bad ECR registry URI: the right form, with the user's own region and
    repository kept, and where to find the account id."""
    match = _ECR_URI_RE.fullmatch(value)
    if match is None:
        return "write it as <12-digit account id>.dkr.ecr.<region>.amazonaws.com[/repository]"
    if len(match["account"]) == 12:
        return "write it as <12-digit account id>.dkr.ecr.<region>.amazonaws.com[/repository]"
    example = value.replace(match["account"], "<your 12-digit account id>", 1)
    return (
        f"use {example!r}; `aws sts get-caller-identity --query Account --output text` prints "
        "your account id"
    )


def check_dockerhub_namespace(value: str) -> str | None:
    """Docker Hub namespaces (user or organisation): 4-30 lowercase letters and digits."""
    if not re.fullmatch(r"[a-z0-9]{4,30}", value):
        return f"Docker Hub namespace {value!r} must be 4-30 lowercase letters or digits"
    return None


_BACKEND_SCHEMES = ("file://", "gs://", "s3://", "azblob://", "https://", "http://")


def check_backend_url(value: str) -> str | None:
    """A Pulumi state backend URL: ``file://``, ``gs://``, ``s3://``, ``azblob://`` or
    ``https://`` (Pulumi Cloud or self-hosted)."""
    if not value.startswith(_BACKEND_SCHEMES):
        return (
            f"backend {value!r} is not a Pulumi backend URL "
            "(file://, gs://, s3://, azblob:// or https://)"
        )
    return None
