"""Materializers: how values become artifact payloads and come back as their type."""

from __future__ import annotations

from flowyml.runtime.artifacts.materializers.base import (
    Materializer,
    MaterializerRegistry,
    type_name_of,
)
from flowyml.runtime.artifacts.materializers.builtin import (
    BytesMaterializer,
    JsonMaterializer,
    PickleMaterializer,
)
from flowyml.runtime.artifacts.materializers.dataframe import PandasMaterializer
from flowyml.runtime.artifacts.materializers.ndarray import NumpyMaterializer


def default_registry() -> MaterializerRegistry:
    """A fresh registry: json, bytes, numpy, pandas, then the pickle fallback."""
    registry = MaterializerRegistry(fallback=PickleMaterializer())
    for materializer in (
        JsonMaterializer(),
        BytesMaterializer(),
        NumpyMaterializer(),
        PandasMaterializer(),
    ):
        registry.register(materializer)
    return registry


__all__ = [
    "BytesMaterializer",
    "JsonMaterializer",
    "Materializer",
    "MaterializerRegistry",
    "NumpyMaterializer",
    "PandasMaterializer",
    "PickleMaterializer",
    "default_registry",
    "type_name_of",
]
