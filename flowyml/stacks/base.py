"""``Stack``: a named composition of components, and what every stack type shares.

Invariants:
- Stacks are immutable values (``frozen``); unknown fields are refused (``extra="forbid"``).
- Stack types that derive components (local, gcp, aws, kubernetes) fill every component left
  unset from their own fields after validation; an explicitly given component wins.
  ``to_dict()`` omits components equal to the derived ones, so ``from_dict(to_dict())`` derives
  them again and compares equal.
- ``to_dict()`` never holds a clear secret (see :mod:`flowyml.stacks.secret_refs`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flowyml.stacks import rules
from flowyml.stacks._dump import one_line, plain
from flowyml.stacks.components import (
    ArtifactStore,
    ContainerRegistry,
    DockerConfig,
    Executor,
    MetadataStore,
    Orchestrator,
    ResourceConfig,
)
from flowyml.stacks.errors import (
    StackConfigError,
    StackError,
    StackValidationError,
    ValidationProblem,
)

__all__ = ["COMPONENT_FIELDS", "Stack", "derived_field"]

COMPONENT_FIELDS: tuple[str, ...] = (
    "executor",
    "artifact_store",
    "metadata_store",
    "orchestrator",
    "container_registry",
)


def derived_field() -> Any:
    """A component field a stack type derives when left unset (see the module docstring)."""
    return Field(default=None, validate_default=False)


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class Stack(BaseModel):
    """A stack: executor, artifact store, metadata store, and optional orchestrator, registry,
    default resources and Docker settings.

    Example:
        ``Stack("dev", executor=LocalExecutor(), artifact_store=LocalArtifactStore(path="a"),
        metadata_store=SQLiteMetadataStore(path="m.db"))``

    Attributes:
        name: Stack name (letters, digits, ``-``, ``_``, ``.``; at most 63 characters).
        executor: Where steps run.
        artifact_store: Where step outputs are written.
        metadata_store: Where runs and lineage are recorded.
        orchestrator: What schedules the pipeline (``None``: flowyml's runner).
        container_registry: Where images are pushed.
        resources: Default resources of steps.
        docker: Docker settings of steps.
        budget: Monthly budget in USD; ``stack up`` refuses plans above it.
        backend: Pulumi state backend URL (``None``: a file backend under ``.flowyml/``).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    stack_type: ClassVar[str] = "custom"
    needs_provisioning: ClassVar[bool] = False
    example: ClassVar[str] = (
        'Stack("dev", executor=LocalExecutor(), artifact_store=LocalArtifactStore(path="a"), '
        'metadata_store=SQLiteMetadataStore(path="m.db"))'
    )
    """A complete constructor call, shown when the arguments are left as ``...``."""

    name: str
    executor: Executor
    artifact_store: ArtifactStore
    metadata_store: MetadataStore
    orchestrator: Orchestrator | None = None
    container_registry: ContainerRegistry | None = None
    resources: ResourceConfig | None = None
    docker: DockerConfig | None = None
    budget: Decimal | None = Field(default=None, ge=0)
    backend: str | None = None

    def __init__(self, name: str | None = None, /, **data: Any) -> None:
        if name is Ellipsis or any(value is Ellipsis for value in data.values()):
            raise self._placeholder_error()
        if name is not None:
            data["name"] = name
        super().__init__(**data)

    @classmethod
    def _placeholder_error(cls) -> StackConfigError:
        """``GCPStack(...)`` as typed from the guide: ``...`` stands for elided arguments."""
        required = [
            field
            for field, info in cls.model_fields.items()
            if info.is_required() and field not in COMPONENT_FIELDS
        ]
        needs = f"; it needs {', '.join(required)}" if required else ""
        return StackConfigError(
            f"{cls.__name__}(...) was given `...` (the guide's placeholder for the arguments it "
            f"leaves out) instead of real values{needs}",
            hint=f"write the arguments out, e.g. {cls.example}",
        )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"stack name {value!r} must be 1-63 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _fill_derived(self) -> Stack:
        for field, value in self.derived_components().items():
            if getattr(self, field) is None:
                # Frozen model: set once, during validation, before anyone sees the instance.
                object.__setattr__(self, field, value)
        return self

    def derived_components(self) -> dict[str, Any]:
        """Components this stack type derives from its own fields (none for a custom stack)."""
        return {}

    # -- validation -----------------------------------------------------------------------

    def validate(self, raise_on_error: bool = True) -> list[ValidationProblem]:  # type: ignore[override]
        """Check everything that needs no credentials.

        Args:
            raise_on_error: Raise one :class:`StackValidationError` listing every problem.

        Returns:
            The problems found (empty when the stack is valid).
        """
        found = self.problems()
        if found and raise_on_error:
            raise StackValidationError(self.name, found)
        return found

    def problems(self) -> list[ValidationProblem]:
        """Every problem found, without raising (see :meth:`validate`)."""
        found: list[ValidationProblem] = []
        derived = self.derived_components()
        for field in COMPONENT_FIELDS:
            component = getattr(self, field)
            if component is None or (field in derived and derived[field] == component):
                continue  # derived components are checked through the fields they come from
            found += component.problems(field)
        if self.resources is not None:
            found += self.resources.problems("resources")
        if self.backend is not None and (message := rules.check_backend_url(self.backend)):
            found.append(ValidationProblem("backend", message))
        found += self.own_problems()
        from flowyml.stacks.flavors import orchestrator_problems  # flavors imports components

        found += orchestrator_problems(self)
        return found

    def own_problems(self) -> list[ValidationProblem]:
        """Problems of the fields a stack type adds (overridden by stack types)."""
        return []

    # -- serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict with a ``type`` key; secrets masked or by reference, never clear."""
        data: dict[str, Any] = {"type": self.stack_type}
        derived = self.derived_components()
        for field in type(self).model_fields:
            value = getattr(self, field)
            if field in derived and derived[field] == value:
                continue
            data[field] = plain(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stack:
        """Build a stack from :meth:`to_dict` output (dispatching on ``type``).

        Raises:
            StackConfigError: Unknown ``type``, or fields that do not validate (one line).
        """
        from flowyml.stacks.stack_types import stack_class

        fields = dict(data)
        type_name = fields.pop("type", None) or ("custom" if cls is Stack else cls.stack_type)
        klass = stack_class(str(type_name))
        if not issubclass(klass, cls):
            raise StackConfigError(
                f"a {type_name!r} stack is not a {cls.__name__}",
                hint=f"use {klass.__name__}.from_dict or Stack.from_dict",
            )
        name = fields.get("name", "?")
        try:
            return klass.model_validate(fields)
        except ValidationError as exc:
            raise StackConfigError(one_line(exc, f"stack {name!r} ({type_name})")) from None

    def describe(self) -> dict[str, Any]:
        """Everything about the stack, derived components included (for display)."""
        data = {"type": self.stack_type, "needs_provisioning": self.needs_provisioning}
        data.update({field: plain(getattr(self, field)) for field in type(self).model_fields})
        return data

    def require(self, field: str) -> Any:
        """The component ``field``; raises :class:`StackError` when the stack has none."""
        value = getattr(self, field, None)
        if value is None:
            raise StackError(f"stack {self.name!r} has no {field.replace('_', ' ')}")
        return value
