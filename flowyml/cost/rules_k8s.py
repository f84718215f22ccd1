"""Price rules for Kubernetes resources (Pulumi ``kubernetes:`` type tokens).

Kubernetes objects cost nothing in themselves; a PersistentVolumeClaim makes the cloud provision
and bill a volume. Its price comes from its storage class: a class the k8s catalog knows
(``standard-rwo``, ``gp3``...) is priced per GB-month at that cloud's default-region rate; any
other class (``standard`` means different disks on different clusters) is "not priced", never
a silent $0.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flowyml.core.plan import CostEstimate
from flowyml.cost._bill import Bill, not_priced
from flowyml.cost._inputs import get
from flowyml.cost.prices import ProviderCatalog

PVC = "kubernetes:core/v1:PersistentVolumeClaim"
_GIB = Decimal(1024**3)


def persistent_volume_claim(inputs: Mapping[str, Any], catalog: ProviderCatalog) -> CostEstimate:
    """A claim: requested storage (GiB) x its storage class's GB-month price."""
    from flowyml.stacks.errors import StackError
    from flowyml.stacks.quantities import parse_bytes

    storage_class = get(inputs, "spec.storageClassName")
    if not isinstance(storage_class, str) or not storage_class:
        return not_priced(
            "not priced: no storage class named (the cluster's default class decides the disk)"
        )
    entry = catalog.get("storage-class", storage_class)
    if entry is None:
        return not_priced(
            f"not priced: storage class {storage_class!r} is not in the catalog "
            "(the cloud bills the volume it provisions)"
        )
    requested = get(inputs, "spec.resources.requests.storage")
    try:
        size = Decimal(parse_bytes(str(requested), "storage")) / _GIB
    except (StackError, ValueError):
        return not_priced(f"not priced: storage request {requested!r} unknown")
    bill = Bill()
    bill.per_month(f"{storage_class} volume", entry.price, size.quantize(Decimal("0.01")))
    if entry.note:
        bill.note(entry.note)
    return bill.estimate()
