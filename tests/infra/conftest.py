"""Fixtures of the infra tests: a program evaluated under Pulumi mocks.

Only the Pulumi engine is mocked (no Pulumi CLI can exist on these machines, see DESIGN.md):
programs run for real, through ``flowyml.provision.evaluate_program``, which records every
resource registration as the engine would receive it.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowyml.infra import program_for
from flowyml.provision import evaluate_program
from flowyml.provision.mock_eval import Evaluation

from .builders import Evaluate


@pytest.fixture
def evaluate() -> Evaluate:
    """Run ``program_for(stack)`` under mocks; the Pulumi stack is named like the flowyml one."""

    def run(stack: Any) -> Evaluation:
        return evaluate_program(program_for(stack), project="flowyml", stack=stack.name)

    return run
