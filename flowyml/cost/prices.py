"""The price catalog: one typed reader over the JSON data files and one facade to query them.

Each provider has one file, ``flowyml/cost/catalog/<provider>.json``, listing entries with
``service``, ``sku``, ``region``, ``unit``, ``price`` (a decimal string), ``source`` (the public
price page) and ``date`` (as-of), plus an optional ``note``, ``verified`` (what the figure was checked
against, and when) and ``attrs`` (machine shape).

Invariants:
- Prices are :class:`~decimal.Decimal`, parsed from strings; a missing entry is ``None``,
  never a silent zero.
- Region ``"global"`` holds prices that do not vary by region; a regional entry wins over it.
- Files are read once per process (the catalog is immutable).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from flowyml.cost.errors import CatalogError

PROVIDERS: tuple[str, ...] = ("gcp", "aws", "k8s")
"""Providers with a catalog file, in display order."""

GLOBAL = "global"

_PROVIDER_ALIASES = {"kubernetes": "k8s", "google": "gcp"}


@dataclass(frozen=True)
class PriceEntry:
    """One list price.

    Attributes:
        provider: ``gcp``, ``aws`` or ``k8s``.
        service: Group within the provider, e.g. ``compute``, ``sql``, ``ec2``, ``rds``.
        sku: The key within the service, e.g. ``n1-standard-4`` or ``db.t3.micro``.
        region: Region the price applies to, or ``"global"``.
        unit: What one ``price`` buys: ``hour``, ``GB-month``, ``vCPU-hour``, ``ratio``...
        price: USD per ``unit``.
        source: URL of the public price page.
        date: ISO date the price was recorded as of.
        note: What the figure assumes or how sure it is.
        verified: What the figure was checked against and when (``None``: not checked yet).
        attrs: Shape of a machine (``vcpu``, ``memory_gb``, ``gpu``, ``gpu_count``...).
    """

    provider: str
    service: str
    sku: str
    region: str
    unit: str
    price: Decimal
    source: str
    date: str
    note: str | None = None
    verified: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (price as a decimal string)."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "service": self.service,
            "sku": self.sku,
            "region": self.region,
            "unit": self.unit,
            "price": str(self.price),
            "source": self.source,
            "date": self.date,
        }
        if self.note:
            out["note"] = self.note
        out["verified"] = self.verified
        if self.attrs:
            out["attrs"] = dict(self.attrs)
        return out


@dataclass(frozen=True)
class ProviderCatalog:
    """Every price of one provider, indexed by ``(service, sku, region)``."""

    provider: str
    default_region: str
    as_of: str
    note: str
    entries: tuple[PriceEntry, ...]
    _index: Mapping[tuple[str, str, str], PriceEntry] = field(repr=False, compare=False)

    @property
    def regions(self) -> tuple[str, ...]:
        """Regions with at least one price (``global`` excluded), sorted."""
        return tuple(sorted({e.region for e in self.entries if e.region != GLOBAL}))

    def knows_region(self, region: str) -> bool:
        """True when some entry is priced for ``region`` (or the provider is region-free)."""
        return region in self.regions or not self.regions

    def get(self, service: str, sku: str, region: str | None = None) -> PriceEntry | None:
        """The entry for ``sku`` in ``region``, else its global entry, else ``None``."""
        if region is not None:
            found = self._index.get((service, sku, region))
            if found is not None:
                return found
        return self._index.get((service, sku, GLOBAL))

    def price(self, service: str, sku: str, region: str | None = None) -> Decimal | None:
        """Shorthand for ``get(...).price``; ``None`` when not catalogued."""
        entry = self.get(service, sku, region)
        return None if entry is None else entry.price

    def in_service(self, service: str, region: str | None = None) -> Iterator[PriceEntry]:
        """Entries of one service, in ``region`` when given (global entries included)."""
        for entry in self.entries:
            if entry.service == service and (region is None or entry.region in (region, GLOBAL)):
                yield entry


class Catalog:
    """Facade over the provider catalogs; the only way the rest of the package reads prices.

    Args:
        directory: Where the ``<provider>.json`` files are; the packaged catalog by default.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._loaded: dict[str, ProviderCatalog] = {}

    @staticmethod
    def normalise(provider: str) -> str:
        """Map aliases (``kubernetes``, ``google``) to catalog names."""
        name = provider.strip().lower()
        return _PROVIDER_ALIASES.get(name, name)

    def provider(self, provider: str) -> ProviderCatalog:
        """The catalog of one provider.

        Raises:
            CatalogError: When there is no catalog for ``provider``.
        """
        name = self.normalise(provider)
        if name not in PROVIDERS:
            raise CatalogError(
                f"No price catalog for provider {provider!r}.",
                hint=f"use one of: {', '.join(PROVIDERS)}",
            )
        if name not in self._loaded:
            self._loaded[name] = _parse(name, self._read(name))
        return self._loaded[name]

    def providers(self) -> tuple[ProviderCatalog, ...]:
        """Every provider catalog, in :data:`PROVIDERS` order."""
        return tuple(self.provider(name) for name in PROVIDERS)

    def entries(self, provider: str | None = None, region: str | None = None) -> list[PriceEntry]:
        """Entries filtered by provider and region (global entries match any region).

        Raises:
            CatalogError: When ``provider`` or ``region`` is not in the catalog.
        """
        catalogs = self.providers() if provider is None else (self.provider(provider),)
        if region is not None and not any(region in c.regions for c in catalogs):
            known = sorted({r for c in catalogs for r in c.regions})
            raise CatalogError(
                f"No prices for region {region!r}.", hint=f"use one of: {', '.join(known)}"
            )
        return [
            e
            for c in catalogs
            for e in c.entries
            if region is None or (e.region in (region, GLOBAL) and region in c.regions)
        ]

    def _read(self, name: str) -> str:
        try:
            if self._directory is not None:
                return (self._directory / f"{name}.json").read_text(encoding="utf-8")
            return (
                resources.files("flowyml.cost")
                .joinpath("catalog")
                .joinpath(f"{name}.json")
                .read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise CatalogError(
                f"Cannot read the {name} price catalog: {exc}.",
                hint="reinstall flowyml (the catalog ships in the package)",
            ) from exc


def _parse(provider: str, text: str) -> ProviderCatalog:
    try:
        doc = json.loads(text)
        entries = tuple(_entry(provider, raw) for raw in doc["prices"])
        header = (str(doc["default_region"]), str(doc["as_of"]), str(doc.get("note", "")))
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise CatalogError(
            f"The {provider} price catalog is malformed: {exc!r}.",
            hint="restore flowyml/cost/catalog from the package",
        ) from exc
    index: dict[tuple[str, str, str], PriceEntry] = {}
    for entry in entries:
        key = (entry.service, entry.sku, entry.region)
        if key in index:
            raise CatalogError(f"The {provider} price catalog lists {key} twice.")
        index[key] = entry
    default_region, as_of, note = header
    return ProviderCatalog(provider, default_region, as_of, note, entries, index)


def _entry(provider: str, raw: Mapping[str, Any]) -> PriceEntry:
    price = raw["price"]
    if not isinstance(price, str):
        raise TypeError(f"price of {raw.get('sku')} must be a decimal string, got {price!r}")
    return PriceEntry(
        provider=provider,
        service=str(raw["service"]),
        sku=str(raw["sku"]),
        region=str(raw["region"]),
        unit=str(raw["unit"]),
        price=Decimal(price),
        source=str(raw["source"]),
        date=str(raw["date"]),
        note=raw.get("note"),
        verified=raw.get("verified"),
        attrs=dict(raw.get("attrs", {})),
    )


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The packaged catalog, shared by the whole process."""
    return Catalog()
