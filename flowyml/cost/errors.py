"""Errors raised by :mod:`flowyml.cost`: one root, :class:`CostError`, and its children.

Invariant: every error here derives from :class:`CostError`, itself a
:class:`~flowyml.core.errors.FlowymlError`, so the CLI prints it as one line and exits with
``exit_code``.
"""

from __future__ import annotations

from decimal import Decimal

from flowyml.core.errors import FlowymlError


class CostError(FlowymlError):
    """Root of every error the cost package raises on purpose."""


class CatalogError(CostError):
    """The price catalog is missing, malformed, or asked for a provider/region it lacks."""


class UsageFileError(CostError):
    """A usage file (``flowyml-usage.yaml``) cannot be read or has the wrong shape."""


class BudgetExceededError(CostError):
    """The new monthly total of a plan is over the budget.

    Attributes:
        new_total: The plan's new monthly total (priced resources only).
        limit: The budget it was checked against.
        over_by: ``new_total - limit``.
    """

    exit_code = 3

    def __init__(
        self, message: str, *, new_total: Decimal, limit: Decimal, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.new_total = new_total
        self.limit = limit
        self.over_by = new_total - limit


class UnpricedBudgetError(CostError):
    """A budget gate cannot be checked: resources of the plan have no price (fails closed).

    Attributes:
        not_priced: ``(name, reason)`` of each resource the catalog cannot price.
    """

    exit_code = 3

    def __init__(
        self, message: str, *, not_priced: tuple[tuple[str, str], ...], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.not_priced = not_priced
