"""What the dashboard reads: the serving stack's metadata and artifact stores, opened when needed.

The stores are the runner's own adapters (:func:`flowyml.runtime.binding.bind_stack`). A SQLite
database that does not exist yet is not created: the dashboard shows no runs and opens it once a
run has made it. Costs are priced by :func:`flowyml.cost.run_step_costs` with each step's
declared stack, resolved through the project's registry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flowyml.core.errors import FlowymlError
from flowyml.ui.redact import Redactor, stack_secrets


class Source:
    """The serving stack and its adapters.

    Args:
        stack: The stack whose stores are shown (a ``flowyml.stacks`` declaration).
    """

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self._lock = threading.Lock()
        self._bound: Any = None
        self._redactor: Redactor | None = None

    @property
    def redact(self) -> Redactor:
        """The redactor for this stack's secrets (built on first use: it imports SQLAlchemy)."""
        with self._lock:
            if self._redactor is None:
                self._redactor = Redactor(self._all_secrets())
            return self._redactor

    def _all_secrets(self) -> set[str]:
        # Every declared stack's, not only the served one's: the stacks pages show them all.
        from flowyml.stacks.registry import StackRegistry

        found = stack_secrets(self.stack)
        try:
            entries = StackRegistry().entries()
        except FlowymlError:
            return found
        for entry in entries:
            if entry.stack is not None and entry.name != self.name:
                found |= stack_secrets(entry.stack)
        return found

    def warm(self) -> None:
        """Build the redactor and open the stores now (the server calls it once it listens)."""
        self.redact  # noqa: B018
        self.bound()

    @property
    def name(self) -> str:
        return str(self.stack.name)

    def _missing_sqlite(self) -> bool:
        store = getattr(self.stack, "metadata_store", None)
        if getattr(store, "kind", None) != "sqlite" or store.path == ":memory:":  # type: ignore[union-attr]
            return False
        from flowyml.stacks.components.artifact_stores import resolve_local_path

        return not Path(resolve_local_path(store.path)).exists()  # type: ignore[union-attr]

    def bound(self) -> Any | None:
        """The bound stack, or ``None`` while its SQLite database does not exist yet."""
        with self._lock:
            if self._bound is None:
                if self._missing_sqlite():
                    return None
                from flowyml.runtime.binding import bind_stack

                self._bound = bind_stack(self.stack)
            return self._bound

    @property
    def metadata(self) -> Any | None:
        """The metadata store (``SqlMetadataStore``), or ``None`` when nothing is recorded yet."""
        bound = self.bound()
        return None if bound is None else bound.metadata_store

    @property
    def artifacts(self) -> Any | None:
        """The artifact store (``FsspecArtifactStore``), or ``None`` when nothing is recorded yet."""
        bound = self.bound()
        return None if bound is None else bound.artifact_store

    @property
    def store_url(self) -> str | None:
        """The metadata store's URL, password masked."""
        store = self.metadata
        if store is not None:
            return str(store.url)
        return self.declared_store_url

    @property
    def declared_store_url(self) -> str | None:
        """The declared metadata store's URL, password masked (``None`` until provisioned)."""
        declared = getattr(self.stack, "metadata_store", None)
        try:
            return None if declared is None else str(declared.sqlalchemy_url())
        except FlowymlError:
            return None

    def stack_resolver(self) -> Callable[[str | None], Any | None]:
        """Stack name -> declaration (``None`` when no longer declared), memoised for one request."""
        from flowyml.stacks.registry import resolve_stack

        seen: dict[str | None, Any] = {}

        def stack_for(name: str | None) -> Any | None:
            if name not in seen:
                if name == self.name or name is None:
                    seen[name] = self.stack
                else:
                    try:
                        seen[name] = resolve_stack(name, None)
                    except FlowymlError:  # removed since the run: its price is unknown
                        seen[name] = None
            return seen[name]

        return stack_for

    def step_costs(
        self, steps: Iterable[Any], stack_for: Callable[[str | None], Any | None] | None = None
    ) -> dict[str, Decimal | None]:
        """Estimated USD cost of each step (see :func:`flowyml.cost.run_step_costs`)."""
        from flowyml.cost import run_step_costs

        return run_step_costs(steps, stack_for or self.stack_resolver())


def total_cost(costs: dict[str, Decimal | None]) -> tuple[Decimal, int]:
    """The sum of the known step costs and how many steps are not priced."""
    known = [c for c in costs.values() if c is not None]
    return sum(known, Decimal(0)), len(costs) - len(known)


__all__ = ["Source", "total_cost"]
