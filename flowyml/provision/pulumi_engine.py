"""The Pulumi engine: the only module that imports ``pulumi.automation``.

One Pulumi stack per flowyml stack (same name) in the project ``flowyml``, with an inline program
from :func:`flowyml.infra.program_for`; a file backend under ``<project>/.flowyml/pulumi`` unless
the stack declares ``backend:`` (``gs://``, ``s3://``, ``https://api.pulumi.com``); the passphrase
secrets provider with the passphrase from :func:`flowyml.provision.state.passphrase`.

Engine events are converted back to the engine's JSON shape (:func:`event_to_json`) and folded by
the pure functions of :mod:`flowyml.provision.events`, so that what is tested on recorded logs is
what runs here. Every Automation API exception becomes a :class:`ProvisionError` in
:func:`_classify`, in one place.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowyml.core.outputs import StackOutputs
from flowyml.core.plan import Plan
from flowyml.provision.engine import OnEvent, Precondition, UpResult
from flowyml.provision.errors import (
    ProvisionError,
    PulumiNotInstalledError,
    StackLockedError,
    StateError,
    UpdateFailedError,
)
from flowyml.provision.events import PlanBuilder
from flowyml.provision.naming import (
    PULUMI_PROJECT,
    backend_dir,
    backend_url,
    pulumi_config,
    pulumi_stack_name,
)
from flowyml.provision.state import (
    DEFAULT_LOCK_TIMEOUT,
    delete_outputs,
    passphrase,
    require_outputs,
    save_outputs,
    stack_lock,
)

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

ENGINE_NAME = "pulumi"


def pulumi_cli_available() -> bool:
    """True when the ``pulumi`` CLI is on PATH (the Automation API drives it)."""
    return shutil.which("pulumi") is not None


def _plain(value: Any) -> Any:
    """An Automation API event object -> the engine's JSON shape (camelCase keys)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {_camel(k): _plain(v) for k, v in vars(value).items() if v is not None}
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# EngineEvent attribute -> JSON key, for the kinds events.py reads.
_EVENT_KEYS = {
    "resource_pre_event": "resourcePreEvent",
    "res_outputs_event": "resOutputsEvent",
    "res_op_failed_event": "resOpFailedEvent",
    "diagnostic_event": "diagnosticEvent",
    "summary_event": "summaryEvent",
    "cancel_event": "cancelEvent",
    "prelude_event": "preludeEvent",
}


def event_to_json(event: Any) -> dict[str, Any]:
    """Convert a ``pulumi.automation.events.EngineEvent`` to the engine's JSON event shape."""
    out: dict[str, Any] = {"sequence": event.sequence, "timestamp": event.timestamp}
    for attr, key in _EVENT_KEYS.items():
        body = getattr(event, attr, None)
        if body is not None:
            out[key] = _plain(body)
    return out


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("error:"):
            return stripped[len("error:") :].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "the Pulumi engine failed"


def _classify(exc: BaseException, stack_name: str, plan: Plan | None) -> ProvisionError:
    """Every Automation API failure -> one of our errors (the one place that knows them)."""
    from pulumi import automation as auto

    if isinstance(exc, auto.ConcurrentUpdateError):
        return StackLockedError(stack_name, "Pulumi reports a concurrent update")
    if isinstance(exc, FileNotFoundError) or "executable file not found" in str(exc):
        return PulumiNotInstalledError()
    if isinstance(exc, auto.StackNotFoundError):
        return StateError(
            f"stack {stack_name} has no Pulumi state in its backend.",
            hint=f"run `flowyml stack up {stack_name}` first",
        )
    if isinstance(exc, auto.CommandError):
        stderr = getattr(exc, "stderr", "") or str(exc)
        return UpdateFailedError(
            f"Pulumi failed on stack {stack_name}: {_first_error_line(stderr)}",
            plan=plan,
            hint=f"fix the cause, then `flowyml stack refresh {stack_name}` and try again",
        )
    return ProvisionError(f"Pulumi failed on stack {stack_name}: {type(exc).__name__}: {exc}")


class PulumiEngine:
    """Provisions cloud stacks with the Pulumi Automation API.

    Args:
        state_root: The state directory (default: the project's ``.flowyml``).
        lock_timeout: Seconds a concurrent ``up``/``destroy`` in this project waits.
    """

    name = ENGINE_NAME

    def __init__(
        self, *, state_root: Path | None = None, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        self.state_root = state_root
        self.lock_timeout = lock_timeout

    def _workspace_stack(self, stack: Stack) -> Any:
        if not pulumi_cli_available():
            raise PulumiNotInstalledError(stack=stack.name)
        try:
            from pulumi import automation as auto
        except ImportError as exc:
            raise PulumiNotInstalledError("the pulumi Python SDK", stack=stack.name) from exc
        from flowyml.infra import program_for

        url = backend_url(stack, self.state_root)
        if url.startswith("file://") and not getattr(stack, "backend", None):
            backend_dir(self.state_root).mkdir(parents=True, exist_ok=True)
        secret = passphrase(self.state_root)
        options = auto.LocalWorkspaceOptions(
            project_settings=auto.ProjectSettings(
                name=PULUMI_PROJECT, runtime="python", backend=auto.ProjectBackend(url=url)
            ),
            secrets_provider="passphrase",
            env_vars={"PULUMI_CONFIG_PASSPHRASE": secret, "PULUMI_BACKEND_URL": url},
        )
        try:
            workspace_stack = auto.create_or_select_stack(
                stack_name=pulumi_stack_name(stack),
                project_name=PULUMI_PROJECT,
                program=program_for(stack),
                opts=options,
            )
            config = pulumi_config(stack)
            if config:
                workspace_stack.set_all_config(
                    {key: auto.ConfigValue(value=value) for key, value in config.items()}
                )
        except Exception as exc:
            raise _classify(exc, stack.name, None) from exc
        return workspace_stack

    @contextmanager
    def _run(
        self, stack: Stack, operation: str, on_event: OnEvent | None
    ) -> Iterator[tuple[Any, Callable[[Any], None], PlanBuilder]]:
        builder = PlanBuilder(stack=stack.name, operation=operation, engine=self.name)

        def handle(event: Any) -> None:
            raw = event_to_json(event)
            builder.feed(raw)
            if on_event is not None and (progress := builder.progress(raw)) is not None:
                on_event(progress)

        workspace_stack = self._workspace_stack(stack)
        try:
            yield workspace_stack, handle, builder
        except ProvisionError:
            raise
        except Exception as exc:
            raise _classify(exc, stack.name, builder.build()) from exc

    def preview(self, stack: Stack) -> Plan:
        """A real ``pulumi preview`` of the stack, as a Plan."""
        with self._run(stack, "preview", None) as (ws, handle, builder):
            ws.preview(on_event=handle)
        return builder.build()

    def up(
        self,
        stack: Stack,
        on_event: OnEvent | None = None,
        *,
        precondition: Precondition | None = None,
    ) -> UpResult:
        """``pulumi up``; records the outputs (secrets encrypted) on success.

        ``precondition`` runs holding the stack's lock, before the workspace is touched (a saved
        plan's fingerprints are checked there).
        """
        with stack_lock(stack.name, "up", timeout=self.lock_timeout, root=self.state_root):
            if precondition is not None:
                precondition()
            with self._run(stack, "up", on_event) as (ws, handle, builder):
                result = ws.up(on_event=handle)
            outputs = self._record(stack, result.outputs)
        return UpResult(plan=builder.build(), outputs=outputs)

    def _record(self, stack: Stack, values: Mapping[str, Any]) -> StackOutputs:
        """Record the stack's outputs (``OutputValue``s by key; secrets stay marked)."""
        outputs = StackOutputs(
            stack=stack.name,
            values={k: v.value for k, v in values.items()},
            secrets=frozenset(k for k, v in values.items() if v.secret),
            engine=self.name,
        )
        save_outputs(outputs, self.state_root)
        return outputs

    def destroy(self, stack: Stack, on_event: OnEvent | None = None) -> Plan:
        """``pulumi destroy``; forgets the recorded outputs on success."""
        with stack_lock(stack.name, "destroy", timeout=self.lock_timeout, root=self.state_root):
            with self._run(stack, "destroy", on_event) as (ws, handle, builder):
                ws.destroy(on_event=handle)
            delete_outputs(stack.name, self.state_root)
        return builder.build()

    def destroy_preview(self, stack: Stack) -> Plan:
        """What ``destroy`` would delete (``pulumi destroy --preview-only``)."""
        with self._run(stack, "destroy", None) as (ws, handle, builder):
            ws.preview_destroy(on_event=handle)
        return builder.build()

    def refresh(self, stack: Stack) -> Plan:
        """``pulumi refresh``: reconcile the checkpoint with the cloud, then re-record outputs.

        The outputs are read back from the refreshed checkpoint and recorded, so what binding
        uses matches the state (a lost or stale ``outputs.json`` is repaired; a stack brought
        up by raw ``pulumi up`` becomes runnable). A checkpoint with no outputs (never brought
        up, or destroyed) records nothing and forgets stale recorded outputs.
        """
        with stack_lock(stack.name, "refresh", timeout=self.lock_timeout, root=self.state_root):
            with self._run(stack, "refresh", None) as (ws, handle, builder):
                ws.refresh(on_event=handle)
                current = ws.outputs()
            if current:
                self._record(stack, current)
            else:
                delete_outputs(stack.name, self.state_root)
        return builder.build()

    def outputs(self, stack: Stack) -> StackOutputs:
        """The outputs recorded by the last successful ``up``."""
        return require_outputs(stack.name, self.state_root)
