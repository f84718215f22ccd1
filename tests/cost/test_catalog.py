"""The catalog data files and their typed reader."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from flowyml.cost import Catalog, CatalogError, default_catalog
from flowyml.cost.prices import PROVIDERS

CATALOG_DIR = Path(__file__).parents[2] / "flowyml" / "cost" / "catalog"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_entry_has_price_unit_region_source_and_date(provider: str) -> None:
    catalog = default_catalog().provider(provider)
    assert catalog.entries
    for entry in catalog.entries:
        assert isinstance(entry.price, Decimal) and entry.price >= 0
        assert entry.unit and entry.region and entry.sku and entry.service
        assert entry.source.startswith("https://")
        dt.date.fromisoformat(entry.date)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_prices_are_decimal_strings_in_the_files(provider: str) -> None:
    doc = json.loads((CATALOG_DIR / f"{provider}.json").read_text())
    assert all(isinstance(e["price"], str) for e in doc["prices"])


@pytest.mark.parametrize(
    ("provider", "regions", "required"),
    [
        (
            "gcp",
            ("us-central1", "us-east1", "europe-west1"),
            [
                ("storage", "STANDARD"),
                ("storage", "NEARLINE"),
                ("storage", "COLDLINE"),
                ("storage", "ARCHIVE"),
                ("sql", "db-f1-micro"),
                ("sql", "db-g1-small"),
                ("sql", "vcpu"),
                ("sql", "ram"),
                ("sql", "storage-ssd"),
                ("sql", "storage-hdd"),
                ("registry", "storage"),
                ("gke", "cluster-management-fee"),
                ("compute", "e2-standard-4"),
                ("compute", "n1-standard-4"),
                ("compute", "n2-standard-4"),
                ("compute", "spot-discount"),
                ("gpu", "nvidia-tesla-t4"),
                ("gpu", "nvidia-l4"),
                ("disk", "pd-standard"),
                ("disk", "pd-balanced"),
                ("disk", "pd-ssd"),
            ],
        ),
        (
            "aws",
            ("us-east-1", "us-west-2", "eu-west-1"),
            [
                ("s3", "STANDARD"),
                ("rds", "db.t3.micro"),
                ("rds", "db.m5.large"),
                ("rds", "db.r5.large"),
                ("rds", "storage-gp2"),
                ("rds", "storage-gp3"),
                ("eks", "cluster"),
                ("ecr", "storage"),
                ("ebs", "gp2"),
                ("ebs", "gp3"),
                *[
                    ("ec2", t)
                    for t in (
                        "t3.medium",
                        "m5.large",
                        "c5.large",
                        "r5.large",
                        "g4dn.xlarge",
                        "p3.2xlarge",
                    )
                ],
            ],
        ),
    ],
)
def test_required_coverage(
    provider: str, regions: tuple[str, ...], required: list[tuple[str, str]]
) -> None:
    catalog = default_catalog().provider(provider)
    for region in regions:
        for service, sku in required:
            assert catalog.get(service, sku, region) is not None, (service, sku, region)


def test_gpus_where_they_are_offered() -> None:
    gcp = default_catalog().provider("gcp")
    assert gcp.price("gpu", "nvidia-tesla-v100", "us-central1") == Decimal("2.48")
    assert gcp.price("gpu", "nvidia-tesla-a100", "us-central1") == Decimal("2.933908")
    assert gcp.get("compute", "a2-highgpu-1g", "us-central1") is not None


def test_regional_entry_wins_over_global_and_missing_is_none() -> None:
    gcp = default_catalog().provider("gcp")
    assert gcp.price("gke", "cluster-management-fee", "us-east1") == Decimal("0.10")
    assert gcp.price("compute", "n1-standard-4", "mars-1") is None
    assert gcp.price("compute", "no-such-type", "us-central1") is None


def test_unknown_provider_and_region_raise_catalog_errors() -> None:
    with pytest.raises(CatalogError, match="azure"):
        default_catalog().provider("azure")
    with pytest.raises(CatalogError, match="mars-1"):
        default_catalog().entries("gcp", "mars-1")


def test_filters_by_provider_and_region() -> None:
    entries = default_catalog().entries("aws", "us-west-2")
    assert entries and {e.provider for e in entries} == {"aws"}
    assert {e.region for e in entries} <= {"us-west-2", "global"}
    assert default_catalog().provider("kubernetes").provider == "k8s"


def test_malformed_catalog_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "gcp.json").write_text(
        '{"default_region": "x", "as_of": "2024-01-01", "prices": [{"price": 1}]}'
    )
    with pytest.raises(CatalogError, match="malformed"):
        Catalog(tmp_path).provider("gcp")
    with pytest.raises(CatalogError, match="Cannot read"):
        Catalog(tmp_path).provider("aws")


@pytest.mark.parametrize(
    ("provider", "service", "sku", "region", "price"),
    [
        ("gcp", "gke", "cluster-management-fee", "global", "0.10"),
        ("gcp", "registry", "storage", "global", "0.10"),
        ("gcp", "storage", "STANDARD", "europe-west1", "0.020"),
        ("gcp", "storage", "ARCHIVE", "us-central1", "0.0012"),
        ("gcp", "disk", "pd-ssd", "us-central1", "0.17"),
        ("aws", "eks", "cluster", "global", "0.10"),
    ],
)
def test_figures_checked_against_the_page_say_so(
    provider: str, service: str, sku: str, region: str, price: str
) -> None:
    entry = default_catalog().provider(provider).get(service, sku, region)
    assert entry is not None and entry.price == Decimal(price)
    assert entry.verified and entry.verified.startswith("checked ")
    assert entry.to_dict()["verified"] == entry.verified


def test_unchecked_and_derived_figures_stay_flagged() -> None:
    gcp = default_catalog().provider("gcp")
    derived = gcp.get("compute", "n1-vcpu", "europe-west1")
    assert derived is not None and derived.verified is None and "verify" in (derived.note or "")
    aws = default_catalog().provider("aws")
    rds_eu = aws.get("rds", "db.t3.micro", "eu-west-1")
    assert rds_eu is not None and rds_eu.verified is None and "approximate" in (rds_eu.note or "")
