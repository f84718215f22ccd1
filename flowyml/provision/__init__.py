"""Stack lifecycle: engines (Pulumi, local, offline planner), engine events -> Plan, state and locks."""

from flowyml.provision.engine import Engine, OnEvent, UpResult
from flowyml.provision.errors import (
    ConfirmationRequiredError,
    ProgramError,
    ProvisionError,
    PulumiNotInstalledError,
    StackLockedError,
    StateError,
    UnsupportedStackError,
    UpdateFailedError,
)
from flowyml.provision.events import Progress, plan_from_events
from flowyml.provision.mock_eval import EvaluatedResource, Evaluation, build_urn, evaluate_program
from flowyml.provision.select import Choice, engine_for
from flowyml.provision.state import delete_outputs, load_outputs, save_outputs, stack_lock

__all__ = [
    "Choice",
    "ConfirmationRequiredError",
    "Engine",
    "EvaluatedResource",
    "Evaluation",
    "OnEvent",
    "ProgramError",
    "Progress",
    "ProvisionError",
    "PulumiNotInstalledError",
    "StackLockedError",
    "StateError",
    "UnsupportedStackError",
    "UpResult",
    "UpdateFailedError",
    "build_urn",
    "delete_outputs",
    "engine_for",
    "evaluate_program",
    "load_outputs",
    "plan_from_events",
    "save_outputs",
    "stack_lock",
]
