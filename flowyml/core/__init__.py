"""Core types shared by every layer: the error tree root and the Plan model."""

from flowyml.core.errors import FlowymlError
from flowyml.core.plan import Action, Plan, PlanSummary, ResourceChange

__all__ = ["Action", "FlowymlError", "Plan", "PlanSummary", "ResourceChange"]
