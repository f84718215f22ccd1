"""The stack types by ``type`` name: the one table ``from_dict`` and the config loader use."""

from __future__ import annotations

from flowyml.stacks.aws import AWSStack
from flowyml.stacks.base import Stack
from flowyml.stacks.errors import StackConfigError
from flowyml.stacks.gcp import GCPStack
from flowyml.stacks.k8s import KubernetesStack
from flowyml.stacks.local import LocalStack
from flowyml.stacks.rules import did_you_mean

__all__ = ["STACK_TYPES", "stack_class"]

STACK_TYPES: dict[str, type[Stack]] = {
    cls.stack_type: cls for cls in (Stack, LocalStack, GCPStack, AWSStack, KubernetesStack)
}


def stack_class(type_name: str) -> type[Stack]:
    """The stack class of ``type_name``.

    Raises:
        StackConfigError: Unknown type (with a did-you-mean).
    """
    try:
        return STACK_TYPES[type_name]
    except KeyError:
        suggestion = did_you_mean(type_name, STACK_TYPES)
        known = ", ".join(sorted(STACK_TYPES))
        message = f"unknown stack type {type_name!r}"
        if suggestion:
            message += f"; {suggestion}"
        raise StackConfigError(message, hint=f"use one of: {known}") from None
