"""Pulumi entry point: provision the flowyml stack named like the selected Pulumi stack."""

from pathlib import Path

import pulumi

from flowyml.infra import program_for
from flowyml.stacks.registry import StackRegistry

stack = StackRegistry(root=Path(__file__).resolve().parent.parent).get_stack(pulumi.get_stack())
program_for(stack)()
