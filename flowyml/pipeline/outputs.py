"""Splitting a step's return value into its declared outputs (the loop and the entrypoint)."""

from __future__ import annotations

from typing import Any

from flowyml.pipeline.errors import StepOutputError


def split_outputs(step: str, names: tuple[str, ...], value: Any) -> tuple[Any, ...]:
    """The parts of ``value`` for each of ``names``, in order.

    Raises:
        StepOutputError: several outputs are declared and ``value`` is not a tuple or list of
            that length.
    """
    if len(names) == 1:
        return (value,)
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return tuple(value)
    raise StepOutputError(
        f"step '{step}' declares {len(names)} outputs but returned "
        f"{type(value).__name__}"
        + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        + ".",
        hint=f"return a tuple of {len(names)} values.",
    )
