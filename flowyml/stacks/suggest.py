"""The error for an unknown stack name: which stacks exist, and which one was probably meant.

Names such as ``gcp-prod`` or ``aws_inference`` say which kind of stack the user has in mind;
the suggestion then comes from the known stacks of that type (the guide registers a GCP stack
and activates ``"gcp-prod"``: when the GCP stack is called ``production``, that is the one to
suggest, not the similarly spelled ``aws-prod``). Other names get the closest spelling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flowyml.stacks.errors import UnknownStackError
from flowyml.stacks.rules import did_you_mean

__all__ = ["suggest_stack", "unknown_stack_error"]

# Words in a stack name that say which stack type it means.
_TYPE_WORDS: dict[str, str] = {
    "gcp": "gcp",
    "google": "gcp",
    "vertex": "gcp",
    "gke": "gcp",
    "aws": "aws",
    "amazon": "aws",
    "eks": "aws",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "kubernetes": "kubernetes",
    "local": "local",
}


def _type_in(name: str) -> str | None:
    for word in re.split(r"[-_.\s]+", name.lower()):
        if word in _TYPE_WORDS:
            return _TYPE_WORDS[word]
    return None


def suggest_stack(name: str, known: Sequence[tuple[str, str | None]]) -> str | None:
    """The known stack ``name`` probably means, or ``None``.

    Args:
        name: The unknown name.
        known: ``(name, type)`` of every known stack (type ``None`` when it does not load).
    """
    wanted = _type_in(name)
    if wanted is not None:
        same_type = [n for n, t in known if t == wanted]
        if len(same_type) == 1:
            return same_type[0]
        close = did_you_mean(name, same_type)
        return close.split("'")[1] if close else None
    close = did_you_mean(name, [n for n, _ in known])
    return close.split("'")[1] if close else None


def unknown_stack_error(name: str, known: Sequence[tuple[str, str | None]]) -> UnknownStackError:
    """One line: the unknown name, the likely one, every known stack, and how to add one.

    Args:
        name: The unknown name.
        known: ``(name, type)`` of every known stack.
    """
    listed = ", ".join(f"{n} ({t})" if t else n for n, t in known)
    message = f"unknown stack {name!r}. " + (
        f"Known stacks: {listed}." if known else "No stack is known."
    )
    suggestion = suggest_stack(name, known)
    if suggestion is not None:
        kind = dict(known).get(suggestion)
        message += f" Did you mean {suggestion!r}" + (f" (the {kind} stack)?" if kind else "?")
    return UnknownStackError(
        message,
        hint=(
            f"use a known name, or make {name!r} known: declare it under `stacks:` in "
            "flowyml.yaml, or register it (StackRegistry().register_stack(stack) or "
            "`flowyml stack register FILE`)"
        ),
    )
