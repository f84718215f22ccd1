"""Usage assumptions that turn usage-billed prices (per GB-month) into monthly numbers.

A usage file, ``flowyml-usage.yaml`` by convention, gives quantities per resource (keyed by
address or logical name) or per Pulumi type token::

    version: 1
    resources:
      artifacts:                 # a resource's name or full address
        storage_gb: 250
    types:
      gcp:storage/bucket:Bucket:
        storage_gb: 50

``storage_gb`` means ``GB-month``; any other key is taken as a unit name as written in
``CostEstimate.usage_rates`` (e.g. ``GB-month: 10``). A resource's own entry wins over its
type's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flowyml.cost.errors import UsageFileError

USAGE_FILE_NAME = "flowyml-usage.yaml"
_KEY_UNITS = {"storage_gb": "GB-month", "storage_gb_month": "GB-month"}

Quantities = Mapping[str, Decimal]


@dataclass(frozen=True)
class Usage:
    """Usage quantities per resource and per type token (unit -> quantity)."""

    resources: Mapping[str, Quantities] = field(default_factory=dict)
    types: Mapping[str, Quantities] = field(default_factory=dict)

    def for_resource(
        self, type_token: str, address: str | None = None, name: str | None = None
    ) -> dict[str, Decimal]:
        """Quantities for one resource: its type's entry overlaid by its own (address or name)."""
        quantities = dict(self.types.get(type_token, {}))
        for key in (name, address):
            if key is not None and key in self.resources:
                quantities.update(self.resources[key])
        return quantities

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Usage:
        """Build from the parsed YAML document.

        Raises:
            UsageFileError: When a section or quantity has the wrong shape.
        """
        return cls(
            resources=_section(doc, "resources"),
            types=_section(doc, "types"),
        )


def project_usage(explicit: str | Path | None, project_dir: str | Path) -> Usage | None:
    """The usage a command should price with: ``explicit`` if given, else the project's file.

    Args:
        explicit: A usage file named on the command line (``--usage FILE``), or ``None``.
        project_dir: The project directory; its ``flowyml-usage.yaml`` is used when present.

    Returns:
        The loaded usage, or ``None`` when no file was named and the project has none.

    Raises:
        UsageFileError: When the chosen file cannot be read or has the wrong shape.
    """
    if explicit is not None:
        return load_usage(explicit)
    default = Path(project_dir) / USAGE_FILE_NAME
    return load_usage(default) if default.is_file() else None


def load_usage(path: str | Path) -> Usage:
    """Read a usage file (``flowyml-usage.yaml``).

    Raises:
        UsageFileError: When the file is missing, not YAML, or has the wrong shape.
    """
    import yaml

    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageFileError(
            f"Cannot read usage file {file}: {exc.strerror}.",
            hint=f"create {USAGE_FILE_NAME} or pass the right path",
        ) from exc
    except yaml.YAMLError as exc:
        raise UsageFileError(
            f"Usage file {file} is not valid YAML.", hint="fix the YAML syntax"
        ) from exc
    if not isinstance(doc, Mapping):
        raise UsageFileError(
            f"Usage file {file} must be a mapping with 'resources' and/or 'types'.",
            hint="see flowyml.cost.usage for the format",
        )
    return Usage.from_dict(doc)


def _section(doc: Mapping[str, Any], name: str) -> dict[str, dict[str, Decimal]]:
    raw = doc.get(name) or {}
    if not isinstance(raw, Mapping):
        raise UsageFileError(f"Usage file section {name!r} must be a mapping.")
    out: dict[str, dict[str, Decimal]] = {}
    for key, values in raw.items():
        if not isinstance(values, Mapping):
            raise UsageFileError(
                f"Usage for {key!r} must be a mapping like {{storage_gb: 50}}.",
                hint=f"write `{key}: {{storage_gb: 50}}`",
            )
        out[str(key)] = {
            _KEY_UNITS.get(str(k), str(k)): _quantity(key, k, v) for k, v in values.items()
        }
    return out


def _quantity(owner: object, key: object, value: object) -> Decimal:
    if isinstance(value, bool):
        raise UsageFileError(f"Usage {owner}.{key} must be a number, got {value!r}.")
    try:
        quantity = Decimal(str(value))
    except InvalidOperation as exc:
        raise UsageFileError(f"Usage {owner}.{key} must be a number, got {value!r}.") from exc
    if not quantity.is_finite() or quantity < 0:
        raise UsageFileError(f"Usage {owner}.{key} must be a non-negative number, got {value!r}.")
    return quantity
