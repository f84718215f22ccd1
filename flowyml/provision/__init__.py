"""Stack lifecycle: engines (Pulumi, local, offline planner), engine events -> Plan, state and locks."""

from flowyml.provision.errors import (
    ProgramError,
    ProvisionError,
    PulumiNotInstalledError,
    StackLockedError,
    StateError,
    UnsupportedStackError,
    UpdateFailedError,
)
from flowyml.provision.mock_eval import EvaluatedResource, Evaluation, build_urn, evaluate_program

__all__ = [
    "EvaluatedResource",
    "Evaluation",
    "ProgramError",
    "ProvisionError",
    "PulumiNotInstalledError",
    "StackLockedError",
    "StateError",
    "UnsupportedStackError",
    "UpdateFailedError",
    "build_urn",
    "evaluate_program",
]
