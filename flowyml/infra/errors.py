"""The infra package's error tree, rooted at :class:`InfraError`.

Raised before any Pulumi resource is declared, so a stack a provider cannot build fails early,
in one line, with a ``To fix:`` hint.
"""

from __future__ import annotations

from flowyml.core.errors import FlowymlError


class InfraError(FlowymlError):
    """Root of every error raised by :mod:`flowyml.infra`."""


class UnknownProviderError(InfraError):
    """No Pulumi program is registered for the stack's type (``local``, ``custom``...)."""


class UnsupportedFeatureError(InfraError):
    """The stack asks a provider for something it cannot build (see ``LIMITATIONS``).

    Attributes:
        provider: The provider program refusing the stack (``gcp``, ``aws``, ``kubernetes``).
        feature: The short name of the limitation that applies.
        path: The stack field that triggered it.
    """

    def __init__(
        self, message: str, *, provider: str, feature: str, path: str, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.feature = feature
        self.path = path
