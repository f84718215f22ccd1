"""Which resource types hold data: deleting one of them loses what is stored in it.

Matched on the type token's package, module and exact type name (lower-cased, a trailing ``V2``
allowed) so that ``aws:s3/bucket:Bucket`` and ``aws:s3/bucketV2:BucketV2`` match but satellites such
as ``aws:s3/bucketPublicAccessBlock`` or ``gcp:storage/bucketIAMMember`` do not.
"""

from __future__ import annotations

import re

# (package, module, type name): ``pkg:module/file:Name`` matches when all three are equal
# (lower-cased, a version suffix such as ``v2`` stripped from the name).
_DATA_BEARING: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("gcp", "storage", "bucket"),
        ("gcp", "sql", "databaseinstance"),
        ("gcp", "sql", "database"),
        ("gcp", "artifactregistry", "repository"),
        ("gcp", "container", "registry"),
        ("gcp", "compute", "disk"),
        ("gcp", "compute", "regiondisk"),
        ("gcp", "filestore", "instance"),
        ("gcp", "bigquery", "dataset"),
        ("gcp", "bigquery", "table"),
        ("aws", "s3", "bucket"),
        ("aws", "rds", "instance"),
        ("aws", "rds", "cluster"),
        ("aws", "ecr", "repository"),
        ("aws", "ebs", "volume"),
        ("aws", "efs", "filesystem"),
        ("aws", "dynamodb", "table"),
        ("kubernetes", "core", "persistentvolume"),
        ("kubernetes", "core", "persistentvolumeclaim"),
        ("azure-native", "storage", "storageaccount"),
        ("azure-native", "storage", "blobcontainer"),
        ("flowyml", "local", "artifactroot"),
        ("flowyml", "local", "sqlitedatabase"),
    }
)

_VERSION_SUFFIX = re.compile(r"v\d+$")


def is_data_bearing(type_token: str) -> bool:
    """True when deleting a resource of this type deletes stored data.

    Args:
        type_token: A Pulumi type token (``pkg:module/file:Type``) or a local ``flowyml:local:*``.
    """
    parts = type_token.split(":")
    if len(parts) != 3:
        return False
    pkg, module, name = parts[0].lower(), parts[1].split("/")[0].lower(), parts[2].lower()
    name = _VERSION_SUFFIX.sub("", name)
    return (pkg, module, name) in _DATA_BEARING
