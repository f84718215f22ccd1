"""Guardrails for buckets: public, unversioned, not encrypted with a declared configuration.

S3 settings live in satellite resources (``BucketPublicAccessBlock``, ``BucketVersioning``...)
whose ``bucket`` input names the bucket; a bucket with no satellite of a kind is flagged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from flowyml.core.plan import ResourceChange
from flowyml.provision.guardrails.model import (
    Hit,
    PlanView,
    Rule,
    Severity,
    after,
    is_unknown,
    unchecked,
)

GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_ACL = ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl")
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_BLOCK_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _s3_name(bucket: ResourceChange) -> Any:
    return after(bucket).get("bucket")


def _satellites(
    view: PlanView, bucket: ResourceChange, types: tuple[str, ...]
) -> list[ResourceChange]:
    name = _s3_name(bucket)
    return [c for c in view.of_type(*types) if name is not None and after(c).get("bucket") == name]


def _unlinked(view: PlanView, types: tuple[str, ...]) -> bool:
    """True when a satellite of these types exists whose bucket is unknown (cannot be linked)."""
    return any(is_unknown(c, "bucket") for c in view.of_type(*types))


def _gcs_public_access(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if inputs.get("publicAccessPrevention") != "enforced":
        yield Hit(
            f"bucket {inputs.get('name')} does not enforce public access prevention "
            f"(publicAccessPrevention: {inputs.get('publicAccessPrevention') or 'inherited'})"
        )
    if inputs.get("uniformBucketLevelAccess") is not True:
        yield Hit(
            f"bucket {inputs.get('name')} allows per-object ACLs (no uniform bucket-level "
            "access): an object can be made public on its own",
            fix="set uniformBucketLevelAccess: true on the bucket",
        )


def _s3_public_access(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    blocks = _satellites(view, change, (S3_PUBLIC_BLOCK,))
    if not blocks:
        if _unlinked(view, (S3_PUBLIC_BLOCK,)):
            yield unchecked("bucket", f"the public access block of bucket {_s3_name(change)}")
            return
        yield Hit(f"bucket {_s3_name(change)} has no public access block")
        return
    for block in blocks:
        off = [flag for flag in PUBLIC_BLOCK_FLAGS if after(block).get(flag) is not True]
        if off:
            yield Hit(
                f"bucket {_s3_name(change)}'s public access block leaves {', '.join(off)} off"
            )


def _public_principal(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        values = aws if isinstance(aws, list) else [aws]
        return "*" in values
    return False


def _policy_document(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def _grants_public(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type in GCS_IAM:
        members = [inputs.get("member"), *(inputs.get("members") or [])]
        public = sorted({m for m in members if m in PUBLIC_MEMBERS})
        if public:
            yield Hit(
                f"grants {inputs.get('role')} on bucket {inputs.get('bucket')} to "
                f"{', '.join(public)}: anyone can reach its objects"
            )
    elif change.type == S3_POLICY:
        if is_unknown(change, "policy"):
            yield unchecked("policy", "the bucket policy")
            return
        document = _policy_document(inputs.get("policy")) or {}
        for statement in _statements(document):
            if (
                statement.get("Effect") == "Allow"
                and _public_principal(statement)
                and not statement.get("Condition")
            ):
                yield Hit(
                    f"the policy of bucket {inputs.get('bucket')} allows Principal '*' with no condition"
                )
    elif change.type in S3_ACL:
        acl = inputs.get("acl")
        if acl in PUBLIC_ACLS:
            yield Hit(f"bucket {inputs.get('bucket')} has the canned ACL {acl}")


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = document.get("Statement") or []
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, Mapping)]


def _unversioned(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type == GCS_BUCKET:
        if (inputs.get("versioning") or {}).get("enabled") is not True:
            yield Hit(
                f"bucket {inputs.get('name')} keeps no object versions: an overwrite or "
                "delete is final",
                fix="set versioning.enabled on the bucket (flowyml's GCSBucketSpec has no "
                "versioning field yet, so a GCP stack cannot declare it)",
            )
        return
    if (inputs.get("versioning") or {}).get("enabled") is True:
        return  # the bucket's own (deprecated) versioning block
    found = _satellites(view, change, S3_VERSIONING)
    if not found and _unlinked(view, S3_VERSIONING):
        yield unchecked("bucket", f"the versioning of bucket {_s3_name(change)}")
        return
    enabled = any(
        (after(v).get("versioningConfiguration") or {}).get("status") == "Enabled" for v in found
    )
    if not enabled:
        yield Hit(
            f"bucket {_s3_name(change)} keeps no object versions: an overwrite or delete is final"
        )


def _s3_unencrypted(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    if after(change).get("serverSideEncryptionConfiguration"):
        return
    if _satellites(view, change, S3_ENCRYPTION):
        return
    if _unlinked(view, S3_ENCRYPTION):
        yield unchecked("bucket", f"the encryption of bucket {_s3_name(change)}")
        return
    yield Hit(
        f"bucket {_s3_name(change)} declares no server-side encryption: it relies on the "
        "account default (SSE-S3 for new buckets since January 2023), with no key of yours"
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "bucket-public",
        Severity.ERROR,
        frozenset({*GCS_IAM, S3_POLICY, *S3_ACL}),
        "a bucket readable or writable by anyone (allUsers, Principal '*', a public canned ACL)",
        "grant the stack's runner identity instead of allUsers/'*', or serve public files "
        "from a separate bucket made for it",
        _grants_public,
        needs={S3_POLICY: ("policy",)},
    ),
    Rule(
        "bucket-public-access-not-blocked",
        Severity.WARNING,
        frozenset({GCS_BUCKET}),
        "a GCS bucket that does not enforce public access prevention",
        "set publicAccessPrevention: enforced (flowyml's GCP program does)",
        _gcs_public_access,
        production_severity=Severity.ERROR,
    ),
    Rule(
        "bucket-public-access-not-blocked",
        Severity.WARNING,
        frozenset(S3_BUCKETS),
        "an S3 bucket without a public access block turning on all four protections",
        "add an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, "
        "ignorePublicAcls and restrictPublicBuckets set to true",
        _s3_public_access,
        production_severity=Severity.ERROR,
        needs={S3_PUBLIC_BLOCK: ("bucket",)},
    ),
    Rule(
        "bucket-unversioned",
        Severity.WARNING,
        frozenset({GCS_BUCKET, *S3_BUCKETS}),
        "a bucket that keeps no object versions (an overwritten artifact is lost)",
        "set `bucket: {versioning: true}` on the stack (S3BucketSpec)",
        _unversioned,
        needs={t: ("bucket",) for t in S3_VERSIONING},
    ),
    Rule(
        "bucket-unencrypted",
        Severity.INFO,
        frozenset(S3_BUCKETS),
        "an S3 bucket with no server-side encryption configuration of its own",
        "add an aws.s3.BucketServerSideEncryptionConfiguration (AES256, or aws:kms with a key "
        "you control)",
        _s3_unencrypted,
        needs={t: ("bucket",) for t in S3_ENCRYPTION},
    ),
)
