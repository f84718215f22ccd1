"""The usage file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from flowyml.cost import UsageFileError, load_usage


def test_load_usage_by_resource_and_type(tmp_path: Path) -> None:
    path = tmp_path / "flowyml-usage.yaml"
    path.write_text(
        "version: 1\n"
        "resources:\n  artifacts: {storage_gb: 250}\n"
        "types:\n  gcp:storage/bucket:Bucket: {storage_gb: 50}\n  aws:ecr/repository:Repository: {GB-month: 3.5}\n"
    )
    usage = load_usage(path)
    token = "gcp:storage/bucket:Bucket"
    assert usage.for_resource(token) == {"GB-month": Decimal(50)}
    assert usage.for_resource(token, name="artifacts") == {"GB-month": Decimal(250)}
    assert usage.for_resource("aws:ecr/repository:Repository") == {"GB-month": Decimal("3.5")}
    assert usage.for_resource("aws:s3/bucket:Bucket") == {}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("resources: [1]\n", "must be a mapping"),
        ("resources:\n  a: 5\n", "storage_gb"),
        ("resources:\n  a: {storage_gb: lots}\n", "number"),
        ("resources:\n  a: {storage_gb: -1}\n", "non-negative"),
        ("resources: {a: [\n", "not valid YAML"),
    ],
)
def test_bad_usage_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(text)
    with pytest.raises(UsageFileError, match=match):
        load_usage(path)


def test_missing_usage_file(tmp_path: Path) -> None:
    with pytest.raises(UsageFileError, match="Cannot read"):
        load_usage(tmp_path / "nope.yaml")
