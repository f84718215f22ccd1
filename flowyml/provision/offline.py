"""The offline planner: a preview with no Pulumi CLI, no credentials and no network.

It evaluates the stack's program under Pulumi's mocks (:mod:`flowyml.provision.mock_eval`) to get
the desired resources and their inputs, then diffs them against the last recorded state, the
stack's Pulumi checkpoint in the file backend, when there is one.

Invariants:
- Old and new resources are matched by URN (the engine's stable address), never by display name.
- Inputs are compared masked: a secret compares equal to a secret (its value is encrypted in the
  checkpoint), so a changed password is not detected offline; the plan says so in a diagnostic.
- Inputs that are unknown before apply are not counted as differences. The program runs under
  :func:`~flowyml.provision.mock_eval.preview_mocks`: ids and computed outputs of resources are
  unknown, as in a real preview, never invented.
- Provider-default inputs recorded in the checkpoint (listed in ``__defaults``) that the program
  does not set are not differences.
- Whether a changed input replaces the resource comes from ``replace_on.json``, generated from the
  provider SDKs' own text by :mod:`flowyml.provision.replace_gen` (nested paths kept, e.g.
  ``nodeConfig.machineType`` or ``metadata.name``). A change to any other input is an update.
- A replace deletes first when the program gives the resource ``delete_before_replace`` (every
  explicitly named resource), else creates the new one first, as the engine does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowyml.core.plan import (
    CREATE,
    CREATE_BEFORE_DELETE,
    DELETE,
    NOOP,
    REPLACE,
    UPDATE,
    Plan,
    ResourceChange,
)
from flowyml.provision._wire import UNKNOWN, decode, top_level
from flowyml.provision.errors import StateError
from flowyml.provision.events import is_internal, name_of
from flowyml.provision.mock_eval import (
    EvaluatedResource,
    Evaluation,
    evaluate_program,
    preview_mocks,
)
from flowyml.provision.naming import (
    PULUMI_PROJECT,
    checkpoint_paths,
    pulumi_config,
    pulumi_stack_name,
)
from flowyml.provision.resource_kinds import is_data_bearing

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

ENGINE_NAME = "offline"
REPLACE_DATA = "replace_on.json"

_DEFAULT_REPLACE_ON = frozenset({"name"})
"""For a type the data file does not list: only a change of ``name`` replaces."""


@lru_cache(maxsize=1)
def _replace_data() -> Mapping[str, Mapping[str, str]]:
    """``replace_on.json``: per type, replace-forcing input path -> the SDK text saying so."""
    text = resources.files("flowyml.provision").joinpath(REPLACE_DATA).read_text("utf-8")
    return dict(json.loads(text)["types"])


def replace_triggers(type_token: str) -> Mapping[str, str]:
    """The input paths whose change forces a new ``type_token`` resource, with the reason.

    Read from the data file generated from the provider SDKs
    (:mod:`flowyml.provision.replace_gen`); a type it does not list replaces on ``name`` only.
    """
    found = _replace_data().get(type_token)
    if found is None:
        return {path: "not in replace_on.json: assumed" for path in _DEFAULT_REPLACE_ON}
    return found


_MISSING = object()


def _value_at(value: Any, path: str) -> Any:
    """The value at a dotted input path; lists are followed element-wise (``[a, b]`` paths)."""
    head, _, rest = path.partition(".")
    if isinstance(value, list):
        return [_value_at(item, path) for item in value]
    if not isinstance(value, Mapping) or head not in value:
        return _MISSING
    return _value_at(value[head], rest) if rest else value[head]


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return value is _MISSING or value == UNKNOWN


@dataclass(frozen=True)
class RecordedResource:
    """One resource from a checkpoint: its URN, type, masked inputs and secret keys."""

    urn: str
    type: str
    inputs: Mapping[str, Any]
    defaults: frozenset[str]
    secret_inputs: tuple[str, ...]
    parent: str | None


def find_checkpoint(stack: Stack, root: Path | None = None) -> Path | None:
    """The stack's checkpoint file in the file backend, if one exists."""
    for path in checkpoint_paths(stack, root):
        if path.is_file():
            return path
    return None


def read_checkpoint(path: Path) -> list[RecordedResource]:
    """The resources recorded in a Pulumi checkpoint (file backend) or a ``stack export``.

    Accepts ``{"checkpoint": {"latest": {"resources": [...]}}}`` (the file backend) and
    ``{"deployment": {"resources": [...]}}`` (``pulumi stack export``).

    Raises:
        StateError: The file is not a readable checkpoint.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if "checkpoint" in document:
            deployment = (document["checkpoint"] or {}).get("latest") or {}
        else:
            deployment = document.get("deployment") or {}
        raw = deployment.get("resources") or []
    except (OSError, ValueError, AttributeError) as exc:
        raise StateError(
            f"cannot read the Pulumi checkpoint {path}: {exc}.",
            hint="restore it from the backend, or move it away to plan from scratch",
        ) from exc
    recorded = []
    for item in raw:
        urn, type_token = str(item.get("urn", "")), str(item.get("type", ""))
        if not urn or is_internal(urn, type_token) or item.get("delete"):
            # delete=true marks an old copy pending deletion; it is not the live resource.
            continue
        inputs = dict(item.get("inputs") or {})
        defaults = frozenset(str(k) for k in inputs.get("__defaults") or ())
        decoded = decode(inputs, mask_secrets=True)
        parent = item.get("parent") or None
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = None
        recorded.append(
            RecordedResource(
                urn=urn,
                type=type_token,
                inputs=decoded.value or {},
                defaults=defaults,
                secret_inputs=top_level(decoded.secret_paths),
                parent=parent,
            )
        )
    return recorded


def _changed_keys(desired: EvaluatedResource, old: RecordedResource) -> tuple[str, ...]:
    new = desired.masked_inputs()
    keys = sorted({*new, *old.inputs} - set(desired.unknown_inputs))
    changed = []
    for key in keys:
        if key not in new and key in old.defaults:
            continue  # a provider default the program leaves alone
        if new.get(key) != old.inputs.get(key):
            changed.append(key)
    return tuple(changed)


def _replace_paths(
    type_token: str, new: Mapping[str, Any], old: Mapping[str, Any], changed: tuple[str, ...]
) -> tuple[str, ...]:
    """The trigger paths (nested ones kept) whose value differs between ``old`` and ``new``.

    A path the program leaves unset (the provider's default) or whose new value is unknown
    until apply is not a difference.
    """
    heads = set(changed)
    found = []
    for path in replace_triggers(type_token):
        if path.split(".", 1)[0] not in heads:
            continue
        after = _value_at(new, path)
        if _contains_unknown(after):
            continue
        if after != _value_at(old, path):
            found.append(path)
    return tuple(found)


def _delete_before_replace(desired: EvaluatedResource) -> bool:
    """Whether the replacement must wait for the old resource to be deleted.

    True when the program asks for it (the ``delete_before_replace`` option: explicitly named
    resources cannot exist twice) and for API services (one per project and name).
    """
    return desired.delete_before_replace or desired.type == "gcp:projects/service:Service"


def diff(evaluation: Evaluation, recorded: list[RecordedResource], *, stack: str) -> Plan:
    """Compare desired resources with recorded ones, matching by URN.

    Args:
        evaluation: The program's resources under mocks.
        recorded: The checkpoint's resources (empty: everything is a create).
        stack: The flowyml stack name for the plan.
    """
    old_by_urn = {r.urn: r for r in recorded}
    changes: list[ResourceChange] = []
    # The SDK registers resources from worker threads, so registration order varies run to run;
    # sorting by URN makes the plan (and its rendering) stable.
    for desired in sorted(evaluation.resources, key=lambda r: r.urn):
        if is_internal(desired.urn, desired.type):
            continue
        after = desired.masked_inputs()
        old = old_by_urn.pop(desired.urn, None)
        changed: tuple[str, ...] = ()
        replace: tuple[str, ...] = ()
        before: dict[str, Any] | None = None
        if old is None:
            actions = CREATE
        else:
            before = dict(old.inputs)
            changed = _changed_keys(desired, old)
            replace = _replace_paths(desired.type, after, old.inputs, changed)
            if not changed:
                actions = NOOP
            elif replace:
                actions = REPLACE if _delete_before_replace(desired) else CREATE_BEFORE_DELETE
            else:
                actions = UPDATE
        changes.append(
            ResourceChange(
                address=desired.urn,
                type=desired.type,
                name=desired.name,
                actions=actions,
                before=before,
                after=after,
                after_unknown=desired.unknown_inputs,
                sensitive=tuple(
                    dict.fromkeys([*desired.secret_inputs, *(old.secret_inputs if old else ())])
                ),
                replace_paths=replace,
                diff_keys=changed,
                parent=desired.parent,
                data_bearing=is_data_bearing(desired.type),
            )
        )
    # What is recorded but no longer declared is deleted; children before their parents.
    for old in reversed(list(old_by_urn.values())):
        changes.append(
            ResourceChange(
                address=old.urn,
                type=old.type,
                name=name_of(old.urn),
                actions=DELETE,
                before=dict(old.inputs),
                after=None,
                sensitive=old.secret_inputs,
                parent=old.parent,
                data_bearing=is_data_bearing(old.type),
            )
        )
    return Plan(
        stack=stack,
        operation="preview",
        engine=ENGINE_NAME,
        changes=tuple(changes),
        diagnostics=evaluation.diagnostics,
    )


class OfflinePlanner:
    """Previews cloud stacks with the program under mocks and the recorded checkpoint.

    Args:
        state_root: The state directory (default: the project's ``.flowyml``).
    """

    name = ENGINE_NAME

    def __init__(self, *, state_root: Path | None = None) -> None:
        self.state_root = state_root

    def evaluate(self, stack: Stack) -> Evaluation:
        """The stack's program evaluated under mocks."""
        from flowyml.infra import program_for

        return evaluate_program(
            program_for(stack),
            project=PULUMI_PROJECT,
            stack=pulumi_stack_name(stack),
            config=pulumi_config(stack),
            mocks=preview_mocks(),
        )

    def desired(self, stack: Stack) -> Evaluation:
        """What the program declares, secrets masked: from the cache when nothing it depends
        on changed, else evaluated (and cached)."""
        from flowyml.provision import offline_cache

        key = offline_cache.cache_key(
            stack.to_dict(), pulumi_config(stack), pulumi_stack_name(stack)
        )
        cached = offline_cache.load(stack.name, key, self.state_root)
        if cached is not None:
            return cached
        evaluation = self.evaluate(stack)
        offline_cache.save(stack.name, key, evaluation, self.state_root)
        return offline_cache.masked(evaluation)

    def preview(self, stack: Stack) -> Plan:
        """The plan ``up`` would most likely make, from the program and the last checkpoint."""
        evaluation = self.desired(stack)
        checkpoint = find_checkpoint(stack, self.state_root)
        recorded = read_checkpoint(checkpoint) if checkpoint else []
        plan = diff(evaluation, recorded, stack=stack.name)
        notes = [*plan.diagnostics]
        if checkpoint is None:
            notes.append(
                "info: offline preview with no recorded state"
                + (" (remote backend)" if getattr(stack, "backend", None) else "")
                + ": every resource is a create"
            )
        else:
            notes.append(f"info: offline preview against the checkpoint {checkpoint}")
        if any(c.sensitive for c in plan.changes if not c.is_delete and c.before is not None):
            notes.append("info: secret inputs cannot be compared offline (they are encrypted)")
        return Plan(
            stack=plan.stack,
            operation=plan.operation,
            engine=plan.engine,
            changes=plan.changes,
            diagnostics=tuple(notes),
        )

    def destroy_preview(self, stack: Stack) -> Plan:
        """What ``destroy`` would delete: every resource in the recorded checkpoint."""
        checkpoint = find_checkpoint(stack, self.state_root)
        recorded = read_checkpoint(checkpoint) if checkpoint else []
        changes = tuple(
            ResourceChange(
                address=old.urn,
                type=old.type,
                name=name_of(old.urn),
                actions=DELETE,
                before=dict(old.inputs),
                sensitive=old.secret_inputs,
                parent=old.parent,
                data_bearing=is_data_bearing(old.type),
            )
            for old in reversed(recorded)
        )
        notes = () if checkpoint else ("info: no recorded state for this stack: nothing to delete",)
        return Plan(
            stack=stack.name,
            operation="destroy",
            engine=ENGINE_NAME,
            changes=changes,
            diagnostics=notes,
        )


__all__ = [
    "OfflinePlanner",
    "RecordedResource",
    "diff",
    "find_checkpoint",
    "read_checkpoint",
    "replace_triggers",
]
