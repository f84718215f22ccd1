"""Saved plans, as ``terraform plan -out`` / ``apply PLANFILE``: ``stack preview NAME --out FILE``
writes the priced plan with fingerprints of what it was made from; ``stack up NAME --plan FILE``
applies only while those fingerprints still hold.

Three fingerprints, each a SHA-256:

- ``declaration``: the stack as loaded (``Stack.to_dict()``, variables resolved; secrets are
  references or masks there, so a changed secret *value* is not detected) and its provider config.
- ``programs``: what turns the declaration into resources: flowyml's version, the source of the
  infra programs (cloud stacks) or of the local engine and its schema migrations (local stack),
  and the installed versions of the provider SDKs.
- ``state``: the recorded state the plan was diffed against: the resources of the stack's Pulumi
  checkpoint (file backend), or what the local engine observes plus the recorded outputs.

The file holds the plan's masked form only (no secret in clear) and is written mode 0600.
A remote backend (``gs://``, ``s3://``, Pulumi Cloud) cannot be fingerprinted without the Pulumi
CLI, so saving a plan for one is refused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowyml import __version__
from flowyml.core.files import write_atomic
from flowyml.core.plan import Action, CostEstimate, Plan, ResourceChange
from flowyml.provision.errors import SavedPlanError

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

SAVED_PLAN_KIND = "flowyml-saved-plan"
SAVED_PLAN_FORMAT = 1
PARTS = ("declaration", "programs", "state")
_WORDS = {
    "declaration": "its declaration",
    "programs": "the programs",
    "state": "its recorded state",
}


def _digest(material: Any) -> str:
    text = json.dumps(material, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sources_digest(paths: list[Path]) -> list[tuple[str, str]]:
    return [(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in sorted(paths)]


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def declaration_fingerprint(stack: Stack) -> str:
    """SHA-256 of the declaration as loaded, with the provider config it implies."""
    from flowyml.provision.naming import pulumi_config

    config = pulumi_config(stack) if stack.needs_provisioning else {}
    return _digest({"stack": stack.to_dict(), "config": config})


def programs_fingerprint(stack: Stack) -> str:
    """SHA-256 of what builds the resources: program or engine source, and SDK versions."""
    if stack.stack_type == "local":
        import flowyml.provision.local_engine as local_engine
        import flowyml.runtime.metadata.migrate as migrate

        migrations = Path(migrate.__file__).parent / "migrations"
        files = [Path(local_engine.__file__), *migrations.rglob("*.py")]
        return _digest({"flowyml": __version__, "sources": _sources_digest(files)})
    import flowyml.infra
    from flowyml.infra import PROVIDERS

    provider = PROVIDERS.get(stack.stack_type)
    packages = provider.packages if provider is not None else ()
    files = list(Path(flowyml.infra.__file__).parent.glob("*.py"))
    return _digest(
        {
            "flowyml": __version__,
            "sources": _sources_digest(files),
            "sdks": {name: _installed(name) for name in packages},
        }
    )


def state_fingerprint(stack: Stack, state_root: Path | None = None) -> str:
    """SHA-256 of the recorded state a plan of ``stack`` is diffed against.

    Raises:
        SavedPlanError: The stack keeps its state in a remote backend.
    """
    if stack.stack_type == "local":
        from flowyml.provision.local_engine import LocalEngine

        return _digest(LocalEngine(state_root=state_root).observed_state(stack))
    from flowyml.provision.naming import checkpoint_paths

    paths = checkpoint_paths(stack, state_root)
    if not paths:
        raise SavedPlanError(
            f"stack {stack.name} keeps its state in {stack.backend}, which cannot be read "
            "without the Pulumi CLI, so a saved plan could not tell whether it changed.",
            hint=f"preview without --out, then `flowyml stack up {stack.name}`",
        )
    for path in paths:
        if path.is_file():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SavedPlanError(
                    f"cannot read the Pulumi checkpoint {path}: {exc}.",
                    hint="restore it from the backend",
                ) from exc
            latest = (document.get("checkpoint") or {}).get("latest") or {}
            return _digest({"resources": latest.get("resources") or []})
    return _digest({"resources": None})


@dataclass(frozen=True)
class Fingerprints:
    """The three fingerprints of a saved plan (see the module docstring)."""

    declaration: str
    programs: str
    state: str

    @classmethod
    def of(cls, stack: Stack, state_root: Path | None = None) -> Fingerprints:
        return cls(
            declaration=declaration_fingerprint(stack),
            programs=programs_fingerprint(stack),
            state=state_fingerprint(stack, state_root),
        )

    def to_dict(self) -> dict[str, str]:
        return {part: getattr(self, part) for part in PARTS}

    def changed(self, now: Fingerprints) -> list[str]:
        """The parts that differ from ``now``, in :data:`PARTS` order."""
        return [part for part in PARTS if getattr(self, part) != getattr(now, part)]


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file written by :func:`save_plan`."""

    path: Path
    stack: str
    created_at: str
    fingerprints: Fingerprints
    plan: Plan

    def verify(self, stack: Stack, state_root: Path | None = None) -> None:
        """Refuse unless the plan is for ``stack`` and every fingerprint still holds.

        Raises:
            SavedPlanError: One line naming what changed (declaration, programs, state).
        """
        if stack.name != self.stack:
            raise SavedPlanError(
                f"{self.path} is a plan for stack {self.stack}, not {stack.name}.",
                hint=f"run `flowyml stack up {self.stack} --plan {self.path}`, or make a plan "
                f"for {stack.name} with `flowyml stack preview {stack.name} --out FILE`",
            )
        changed = self.fingerprints.changed(Fingerprints.of(stack, state_root))
        if changed:
            what = " and ".join(_WORDS[part] for part in changed)
            raise SavedPlanError(
                f"the saved plan {self.path} is stale: {what} changed since it was made "
                f"({self.created_at}); nothing was applied.",
                hint=f"review a new plan: `flowyml stack preview {stack.name} --out {self.path}`",
            )


def save_plan(path: Path, stack: Stack, plan: Plan, state_root: Path | None = None) -> Path:
    """Write ``plan`` (masked, priced or not) with the fingerprints of ``stack`` now.

    Raises:
        SavedPlanError: The state cannot be fingerprinted (remote backend).
    """
    document = {
        "kind": SAVED_PLAN_KIND,
        "format_version": SAVED_PLAN_FORMAT,
        "stack": stack.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprints": Fingerprints.of(stack, state_root).to_dict(),
        "plan": plan.to_dict(),
    }
    write_atomic(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"), mode=0o600)
    return path


def load_plan(path: Path) -> SavedPlan:
    """Read a saved plan.

    Raises:
        SavedPlanError: The file is missing, not JSON, or not a flowyml saved plan.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("kind") != SAVED_PLAN_KIND:
            raise ValueError("it is not a flowyml saved plan")
        if document.get("format_version") != SAVED_PLAN_FORMAT:
            raise ValueError(f"format {document.get('format_version')!r} is not supported")
        prints = document["fingerprints"]
        return SavedPlan(
            path=path,
            stack=str(document["stack"]),
            created_at=str(document.get("created_at") or "unknown time"),
            fingerprints=Fingerprints(*(str(prints[part]) for part in PARTS)),
            plan=plan_from_dict(document["plan"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SavedPlanError(
            f"cannot read the saved plan {path}: {exc}.",
            hint="make one with `flowyml stack preview NAME --out FILE`",
        ) from exc


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _cost(data: Mapping[str, Any] | None) -> CostEstimate | None:
    if data is None:
        return None
    span = data.get("monthly_range")
    return CostEstimate(
        monthly=_money(data.get("monthly")),
        priced=bool(data.get("priced", True)),
        usage_rates={k: Decimal(str(v)) for k, v in (data.get("usage_rates") or {}).items()},
        monthly_range=None if span is None else (Decimal(str(span[0])), Decimal(str(span[1]))),
        notes=tuple(data.get("notes") or ()),
    )


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    """The inverse of :meth:`Plan.to_dict` (for plans read back from a file)."""
    changes = tuple(
        ResourceChange(
            address=str(c["address"]),
            type=str(c["type"]),
            name=str(c["name"]),
            actions=tuple(Action(a) for a in c["actions"]),
            before=c.get("before"),
            after=c.get("after"),
            after_unknown=tuple(c.get("after_unknown") or ()),
            sensitive=tuple(c.get("sensitive") or ()),
            replace_paths=tuple(c.get("replace_paths") or ()),
            diff_keys=tuple(c.get("diff_keys") or ()),
            parent=c.get("parent"),
            data_bearing=bool(c.get("data_bearing")),
            cost_before=_cost(c.get("cost_before")),
            cost_after=_cost(c.get("cost_after")),
        )
        for c in data["resource_changes"]
    )
    return Plan(
        stack=str(data["stack"]),
        operation=str(data["operation"]),
        engine=str(data["engine"]),
        changes=changes,
        format_version=str(data.get("format_version") or "1.0"),
        diagnostics=tuple(data.get("diagnostics") or ()),
        failed=tuple(data.get("failed") or ()),
        cancelled=bool(data.get("cancelled")),
    )
