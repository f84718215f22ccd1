"""The materializer seam and its registry.

A materializer turns one kind of value into bytes and back. The registry picks one by the
value's type: the first registered materializer whose ``handles(value)`` is true wins, and
``pickle`` is always the last resort. Materializers must be stateless and thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Materializer(Protocol):
    """Serialises one family of values to bytes and back.

    Attributes:
        name: Stable name recorded in ``ArtifactRef.materializer`` (never rename one).
        extension: File extension of payloads it writes, with the dot (``.json``).
    """

    name: str
    extension: str

    def handles(self, value: Any) -> bool:
        """True when this materializer can write ``value`` so it loads back as its type."""
        ...

    def dump(self, value: Any) -> bytes:
        """The payload bytes for ``value``; raises on values it cannot write."""
        ...

    def load(self, data: bytes, type_name: str) -> Any:
        """The value stored in ``data``; ``type_name`` is the saved value's qualified type."""
        ...


def type_name_of(value: Any) -> str:
    """Qualified type name recorded in an ``ArtifactRef`` (``builtins.dict``, ...)."""
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


class MaterializerRegistry:
    """An ordered set of materializers with a fallback used for everything else.

    Args:
        fallback: Handles any value the others do not (``pickle`` by default).
    """

    def __init__(self, fallback: Materializer) -> None:
        self._ordered: list[Materializer] = []
        self._by_name: dict[str, Materializer] = {fallback.name: fallback}
        self._fallback = fallback

    def register(self, materializer: Materializer, *, first: bool = False) -> None:
        """Add ``materializer``; ``first=True`` gives it priority over those already there."""
        if materializer.name in self._by_name:
            self._ordered = [m for m in self._ordered if m.name != materializer.name]
        self._by_name[materializer.name] = materializer
        if first:
            self._ordered.insert(0, materializer)
        else:
            self._ordered.append(materializer)

    def candidates(self, value: Any) -> Iterator[Materializer]:
        """Materializers to try for ``value``, best first, ending with the fallback."""
        for materializer in self._ordered:
            if materializer.handles(value):
                yield materializer
        yield self._fallback

    def get(self, name: str) -> Materializer | None:
        """The materializer registered under ``name``, or ``None``."""
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Registered names, in priority order, fallback last."""
        return (*(m.name for m in self._ordered), self._fallback.name)
