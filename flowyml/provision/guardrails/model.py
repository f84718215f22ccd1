"""The guardrail model: a rule (data plus one small test function), a hit, a finding, a report.

A rule's ``test`` looks at one resource of the plan (its ``after`` inputs) with a :class:`PlanView`
of the whole plan for the resources it relates to, and yields :class:`Hit` s. The runner turns hits
into :class:`Finding` s with the rule's severity (raised on a production stack when the rule says
so), the resource address and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flowyml.core.plan import Plan, ResourceChange

_PRODUCTION = re.compile(r"(^|[-_.])prod(uction)?($|[-_.])", re.IGNORECASE)


class Severity(StrEnum):
    """How bad a finding is. Only errors fail ``stack check`` (exit code 4)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


def is_production(stack_name: str) -> bool:
    """True for a stack named ``production`` or ``prod``, alone or as a ``-``/``_``/``.`` part."""
    return bool(_PRODUCTION.search(stack_name))


@dataclass(frozen=True)
class Hit:
    """One problem a rule's test found on one resource.

    Attributes:
        message: What is wrong, one sentence naming the resource's own values.
        fix: A fix more precise than the rule's, when the test knows one.
        unchecked: True when the test could not decide because an input it needs is known only
            after apply (reported as info, never as a pass).
        severity: A severity other than the rule's for this hit (a milder or graver case).
    """

    message: str
    fix: str | None = None
    unchecked: bool = False
    severity: Severity | None = None


def unchecked(key: str, what: str) -> Hit:
    """The hit for "cannot tell offline": ``key`` is computed by the provider at apply time."""
    return Hit(
        f"{what} not checked offline: `{key}` is known only after apply",
        fix="run `flowyml stack check` again after `flowyml stack up` (the recorded state "
        "then holds the value)",
        unchecked=True,
    )


@dataclass(frozen=True)
class PlanView:
    """The stack as the plan leaves it: every resource that is not deleted, with lookups.

    Attributes:
        stack: The stack name.
        production: Whether production-only rules apply (see :func:`is_production`).
        resources: Changes whose ``after`` exists (creates, updates, replaces, unchanged).
        own_arns: ARNs of the stack's own resources, when known (from placeholder evaluation).
    """

    stack: str
    production: bool
    resources: tuple[ResourceChange, ...]
    own_arns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, plan: Plan, *, own_arns: frozenset[str] = frozenset()) -> PlanView:
        kept = tuple(c for c in plan.changes if c.after is not None)
        return cls(plan.stack, is_production(plan.stack), kept, own_arns)

    def of_type(self, *types: str) -> list[ResourceChange]:
        return [c for c in self.resources if c.type in types]


def after(change: ResourceChange) -> Mapping[str, Any]:
    """The change's desired inputs (empty for a delete)."""
    return change.after or {}


def is_unknown(change: ResourceChange, key: str) -> bool:
    """True when top-level input ``key`` is computed at apply time."""
    return key in change.after_unknown or (key in after(change) and after(change)[key] is None)


Test = Callable[[ResourceChange, PlanView], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    """One guardrail.

    Attributes:
        id: Short, stable name (``bucket-public``), for docs, tests and suppressions.
        severity: Severity on any stack.
        types: The type tokens whose resources ``test`` inspects.
        summary: What the rule guards against, one line (``stack check --rules``/docs).
        fix: What to change, shown after ``To fix:`` unless the hit has a more precise one.
        test: Yields a :class:`Hit` per problem of one resource.
        production_severity: Severity on a production stack, when stricter there.
        needs: Top-level inputs ``test`` reads, per type, that may be unknown before apply
            (the checker evaluates the program with placeholder ids to learn them).
    """

    id: str
    severity: Severity
    types: frozenset[str]
    summary: str
    fix: str
    test: Test
    production_severity: Severity | None = None
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def severity_for(self, view: PlanView) -> Severity:
        if view.production and self.production_severity is not None:
            return self.production_severity
        return self.severity


@dataclass(frozen=True)
class Finding:
    """One guardrail finding on one resource."""

    rule: str
    severity: Severity
    address: str
    type: str
    name: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "address": self.address,
            "type": self.type,
            "name": self.name,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Report:
    """Every finding of one check, most severe first.

    Attributes:
        stack: The stack checked.
        engine: The engine whose plan was checked.
        findings: The findings, sorted by severity, then address.
        placeholders: True when inputs unknown before apply were filled from an evaluation with
            placeholder ids (the findings then say what the program *would* send).
    """

    stack: str
    engine: str
    findings: tuple[Finding, ...] = ()
    placeholders: bool = False

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "engine": self.engine,
            "summary": {s.value: self.count(s) for s in Severity},
            "findings": [f.to_dict() for f in self.findings],
            "placeholders": self.placeholders,
        }
