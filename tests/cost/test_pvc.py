"""A PersistentVolumeClaim is billed by the cloud: priced by its storage class, never $0."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowyml.cost import default_catalog, estimate_resource

PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def _claim(storage_class: str | None, size: str = "10Gi") -> dict[str, object]:
    spec: dict[str, object] = {"resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"spec": spec}


@pytest.mark.parametrize(
    ("storage_class", "size", "monthly"),
    [
        ("standard-rwo", "10Gi", Decimal("1.00")),
        ("premium-rwo", "20Gi", Decimal("3.40")),
        ("gp3", "100Gi", Decimal("8.00")),
        ("gp2", "512Mi", Decimal("0.05")),
    ],
)
def test_known_storage_classes_are_priced(storage_class: str, size: str, monthly: Decimal) -> None:
    estimate = estimate_resource(PVC, _claim(storage_class, size))
    assert estimate.priced and estimate.monthly == monthly


@pytest.mark.parametrize("storage_class", ["standard", "nfs-client", None])
def test_unknown_or_missing_storage_class_is_not_priced_never_zero(
    storage_class: str | None,
) -> None:
    estimate = estimate_resource(PVC, _claim(storage_class))
    assert not estimate.priced and estimate.monthly is None
    assert estimate.notes[0].startswith("not priced:")


def test_storage_class_prices_match_the_cloud_disk_they_name() -> None:
    catalog = default_catalog()
    for entry in catalog.provider("k8s").in_service("storage-class"):
        provider, service, sku, region = entry.attrs["same_as"].split()
        assert catalog.provider(provider).price(service, sku, region) == entry.price, entry.sku
