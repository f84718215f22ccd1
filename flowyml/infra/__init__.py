"""Pulumi programs per provider: a stack declaration in, resources and typed exports out.

``program_for(stack)`` picks the provider program by ``stack.stack_type``, checks the table of
what that provider cannot do (:data:`LIMITATIONS`), and returns a zero-argument Pulumi program.
Importing this package imports no Pulumi SDK: each program imports the submodules it needs
when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flowyml.infra import aws, gcp, k8s
from flowyml.infra.capabilities import (
    LIMITATIONS,
    Limitation,
    check_supported,
    find_unsupported,
    limitations_for,
)
from flowyml.infra.errors import InfraError, UnknownProviderError, UnsupportedFeatureError

__all__ = [
    "LIMITATIONS",
    "PROVIDERS",
    "InfraError",
    "Limitation",
    "Program",
    "Provider",
    "UnknownProviderError",
    "UnsupportedFeatureError",
    "check_supported",
    "find_unsupported",
    "limitations_for",
    "program_for",
]

Program = Callable[[], None]
"""A Pulumi inline program: declares resources and exports when an engine runs it."""


@dataclass(frozen=True)
class Provider:
    """One provider program behind the common interface.

    Attributes:
        stack_type: The ``Stack.stack_type`` it builds (``gcp``, ``aws``, ``kubernetes``).
        build: ``stack -> Program``.
        packages: The Pulumi provider packages it needs (for "install X" hints).
    """

    stack_type: str
    build: Callable[[Any], Program]
    packages: tuple[str, ...]


PROVIDERS: Mapping[str, Provider] = MappingProxyType(
    {
        "gcp": Provider(
            "gcp", gcp.program, ("pulumi", "pulumi-gcp", "pulumi-random", "pulumi-kubernetes")
        ),
        "aws": Provider(
            "aws", aws.program, ("pulumi", "pulumi-aws", "pulumi-random", "pulumi-kubernetes")
        ),
        "kubernetes": Provider("kubernetes", k8s.program, ("pulumi", "pulumi-kubernetes")),
    }
)
"""Provider programs by stack type."""


def program_for(stack: Any) -> Program:
    """The Pulumi program that provisions ``stack``.

    Args:
        stack: A stack declaration (``GCPStack``, ``AWSStack`` or ``KubernetesStack``).

    Returns:
        A zero-argument program for a Pulumi engine (automation API, or mocks offline).

    Raises:
        UnknownProviderError: The stack type has no program (local and custom stacks are not
            provisioned with Pulumi).
        UnsupportedFeatureError: The stack asks its provider for something it cannot build.
    """
    stack_type = str(getattr(stack, "stack_type", ""))
    provider = PROVIDERS.get(stack_type)
    if provider is None:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownProviderError(
            f"stack '{getattr(stack, 'name', '?')}' has type {stack_type!r}, which no Pulumi "
            f"program provisions (programs exist for: {known}).",
            hint="local stacks are set up by `flowyml stack up local` with the local engine; "
            "for cloud resources declare `type: gcp`, `aws` or `kubernetes`",
        )
    check_supported(stack)
    return provider.build(stack)
