"""Guardrails: offline security and safety checks on a stack's Plan (``flowyml stack check``).

Rules are data (:class:`Rule`: id, severity, types, fix) plus one small test each, grouped by
what they guard: :mod:`.storage`, :mod:`.databases`, :mod:`.iam`, :mod:`.clusters`. They read
the same :class:`~flowyml.core.plan.Plan` every engine produces, so they need neither the
Pulumi CLI nor credentials.
"""

from flowyml.provision.guardrails.check import RULES, check_plan, check_stack, with_placeholders
from flowyml.provision.guardrails.model import (
    Finding,
    Hit,
    PlanView,
    Report,
    Rule,
    Severity,
    is_production,
)

__all__ = [
    "RULES",
    "Finding",
    "Hit",
    "PlanView",
    "Report",
    "Rule",
    "Severity",
    "check_plan",
    "check_stack",
    "is_production",
    "with_placeholders",
]
