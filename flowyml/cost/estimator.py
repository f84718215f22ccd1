"""Estimate one resource's monthly cost from its Pulumi type token and inputs.

Dispatch is a table from type token to rule (``rules_gcp``, ``rules_aws``); types that cost
nothing in themselves are listed as free; anything else is ``priced=False`` with a note, never
a silent $0.

Region: the resource's own ``region``/``location`` input (zones reduced to their region), else
the ``region`` argument, else the provider catalog's default region.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flowyml.core.plan import CostEstimate
from flowyml.cost import rules_aws, rules_gcp, rules_k8s
from flowyml.cost._bill import free, not_priced
from flowyml.cost._inputs import get, normalise_region
from flowyml.cost.money import format_rate
from flowyml.cost.prices import Catalog, default_catalog
from flowyml.cost.usage import Usage

_RULES: dict[str, rules_gcp.Rule] = {**rules_gcp.RULES, **rules_aws.RULES}
_FREE: frozenset[str] = rules_gcp.FREE | rules_aws.FREE
_FREE_PREFIXES: tuple[str, ...] = (
    "kubernetes:",
    "pulumi:",
    "random:",
    "tls:",
    "flowyml:local:",
    *rules_aws.FREE_PREFIXES,
)
_PVC = rules_k8s.PVC
USAGE_NOTE_PREFIX = "usage: "
"""Prefix of the note :func:`apply_usage` adds for each quantity it turned into money."""
_PROVIDER_OF_PREFIX = {"gcp": "gcp", "aws": "aws"}


def is_free_type(type_token: str) -> bool:
    """True for types that cost nothing in themselves (IAM, APIs, Kubernetes objects...)."""
    if type_token in _FREE or type_token.startswith(_FREE_PREFIXES):
        return True
    resource = type_token.rsplit(":", 1)[-1]
    # IAM members/bindings/policies of any GCP resource (e.g. BucketIAMMember, IAMMember).
    if type_token.startswith("gcp:") and ("IAM" in resource or "Iam" in resource):
        return True
    # S3 bucket configuration resources (versioning, policy, encryption, public access...).
    return type_token.startswith("aws:s3/") and resource not in ("Bucket", "BucketV2")


def estimate_resource(
    type_token: str,
    inputs: Mapping[str, Any] | None,
    region: str | None = None,
    usage: Usage | None = None,
    *,
    address: str | None = None,
    name: str | None = None,
    catalog: Catalog | None = None,
) -> CostEstimate:
    """Estimate the monthly cost of one resource.

    Args:
        type_token: Pulumi type token, e.g. ``gcp:sql/databaseInstance:DatabaseInstance``.
        inputs: The resource's inputs as the engine shows them (camelCase).
        region: Region to assume when the inputs carry none.
        usage: Usage assumptions turning usage rates into monthly numbers.
        address: The resource's address, to look up its usage.
        name: The resource's logical name, to look up its usage.
        catalog: The price catalog; the packaged one by default.

    Returns:
        The estimate. ``priced=False`` (with a note) for unknown types, machine types or
        regions; ``monthly`` is then ``None``.
    """
    if type_token == _PVC:
        return rules_k8s.persistent_volume_claim(
            inputs or {}, (catalog or default_catalog()).provider("k8s")
        )
    if is_free_type(type_token):
        return free()
    rule = _RULES.get(type_token)
    if rule is None:
        return not_priced(f"not priced: no price rule for {type_token}")
    prices = (catalog or default_catalog()).provider(_PROVIDER_OF_PREFIX[type_token.split(":")[0]])
    inputs = inputs or {}
    where = (
        normalise_region(get(inputs, "region"))
        or normalise_region(get(inputs, "location"))
        or normalise_region(get(inputs, "zone"))
        or normalise_region(get(inputs, "availabilityZone"))
        or normalise_region(region)
        or prices.default_region
    )
    if not prices.knows_region(where):
        return not_priced(
            f"not priced: region {where} not in the {prices.provider} catalog "
            f"(known: {', '.join(prices.regions)})"
        )
    estimate = rule(inputs, where, prices)
    if usage is not None and estimate.priced and estimate.usage_rates:
        estimate = apply_usage(estimate, usage.for_resource(type_token, address, name))
    return estimate


def apply_usage(estimate: CostEstimate, quantities: Mapping[str, Decimal]) -> CostEstimate:
    """Add ``rate x quantity`` to ``monthly`` for each usage rate with a quantity.

    The usage rates stay on the estimate (they are still how it is billed), and a note says
    which quantities were assumed.
    """
    if estimate.monthly is None:
        return estimate
    monthly = estimate.monthly
    notes = list(estimate.notes)
    for unit, rate in estimate.usage_rates.items():
        quantity = quantities.get(unit)
        if quantity is None:
            continue
        monthly += rate * quantity
        notes.append(f"{USAGE_NOTE_PREFIX}{quantity} {unit} at {format_rate(rate, unit)}")
    return CostEstimate(
        monthly,
        priced=estimate.priced,
        usage_rates=estimate.usage_rates,
        monthly_range=estimate.monthly_range,
        notes=tuple(notes),
    )


def usage_included(estimate: CostEstimate) -> bool:
    """True when every usage rate of ``estimate`` was given a quantity by a usage file."""
    if not estimate.usage_rates:
        return False
    assumed = [n for n in estimate.notes if n.startswith(USAGE_NOTE_PREFIX)]
    return all(any(f" {unit} at " in note for note in assumed) for unit in estimate.usage_rates)
