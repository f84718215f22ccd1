"""Run the guardrail rules over a plan: one finding per hit, most severe first.

Inputs a rule needs may be unknown before apply (an IAM policy embedding a bucket ARN, an S3
satellite's ``bucket``). :func:`check_stack` then evaluates the stack's program once more under
mocks that invent placeholder ids (deterministic, offline), fills only those inputs and says so
in the report (``placeholders``); what is still unknown is reported as "not checked", never
passed silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowyml.core.plan import Plan, ResourceChange
from flowyml.provision.guardrails import clusters, databases, iam, storage
from flowyml.provision.guardrails.model import (
    Finding,
    PlanView,
    Report,
    Rule,
    Severity,
    is_unknown,
)

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

RULES: tuple[Rule, ...] = (*storage.RULES, *databases.RULES, *iam.RULES, *clusters.RULES)
"""Every guardrail, in the order findings of equal severity are listed."""


def check_plan(
    plan: Plan,
    *,
    rules: Sequence[Rule] = RULES,
    own_arns: frozenset[str] = frozenset(),
    placeholders: bool = False,
) -> Report:
    """Every finding of ``rules`` on the resources ``plan`` leaves in place (offline, pure).

    Args:
        plan: A plan from any engine (deleted resources are not checked).
        rules: The rules to run (default: all).
        own_arns: ARNs of the stack's own resources, when known.
        placeholders: Whether unknown inputs were filled with placeholder ids.
    """
    view = PlanView.of(plan, own_arns=own_arns)
    findings: list[Finding] = []
    for rule in rules:
        for change in view.resources:
            if change.type not in rule.types:
                continue
            for hit in rule.test(change, view):
                if hit.unchecked:
                    severity = Severity.INFO
                elif hit.severity is not None and not (
                    view.production and rule.production_severity is not None
                ):
                    severity = hit.severity
                else:
                    severity = rule.severity_for(view)
                findings.append(
                    Finding(
                        rule=rule.id,
                        severity=severity,
                        address=change.address,
                        type=change.type,
                        name=change.name,
                        message=hit.message,
                        fix=hit.fix or rule.fix,
                    )
                )
    findings.sort(key=lambda f: (f.severity.rank, f.address, f.rule))
    return Report(plan.stack, plan.engine, tuple(findings), placeholders)


def _needs_placeholders(plan: Plan, rules: Sequence[Rule]) -> bool:
    return any(
        is_unknown(change, key)
        for change in plan.changes
        if change.after is not None
        for rule in rules
        for key in rule.needs.get(change.type, ())
    )


def _fill(change: ResourceChange, resolved: dict[str, object]) -> ResourceChange:
    unknown = [k for k in change.after_unknown if k in resolved] + [
        k for k, v in (change.after or {}).items() if v is None and k in resolved
    ]
    if not unknown:
        return change
    filled = {**(change.after or {}), **{k: resolved[k] for k in unknown}}
    remaining = tuple(k for k in change.after_unknown if k not in resolved)
    return dataclasses.replace(change, after=filled, after_unknown=remaining)


def with_placeholders(stack: Stack, plan: Plan) -> tuple[Plan, frozenset[str]]:
    """``plan`` with its unknown inputs filled from an evaluation with placeholder ids.

    Returns:
        The filled plan (secrets still masked) and the placeholder ARNs of the stack's own
        resources (what its policies refer to in that evaluation).
    """
    from flowyml.infra import program_for
    from flowyml.provision.mock_eval import evaluate_program
    from flowyml.provision.naming import PULUMI_PROJECT, pulumi_config, pulumi_stack_name

    evaluation = evaluate_program(
        program_for(stack),
        project=PULUMI_PROJECT,
        stack=pulumi_stack_name(stack),
        config=pulumi_config(stack),
    )
    by_urn = {r.urn: r.masked_inputs() for r in evaluation.resources}
    arns = frozenset(
        str(r.state["arn"]) for r in evaluation.resources if isinstance(r.state.get("arn"), str)
    )
    changes = [_fill(c, by_urn[c.address]) if c.address in by_urn else c for c in plan.changes]
    return plan.with_changes(changes), arns


def check_stack(stack: Stack, plan: Plan, *, rules: Sequence[Rule] = RULES) -> Report:
    """Check the plan of ``stack``, filling unknown inputs a rule needs (see module doc)."""
    if stack.needs_provisioning and _needs_placeholders(plan, rules):
        filled, arns = with_placeholders(stack, plan)
        return check_plan(filled, rules=rules, own_arns=arns, placeholders=True)
    return check_plan(plan, rules=rules)
