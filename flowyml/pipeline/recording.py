"""Batched step recording: the runner's writes to the metadata store, coalesced.

A run writes each step at least twice (``running``, then its final status). Writing each record
in its own transaction made recording most of the runner's per-step cost, so records are kept
here and written together: when ``flush_interval`` has passed since the last write, whenever the
runner is about to wait on a slow step, and at the end of a run (including a cancelled one).
A later record of a step replaces its earlier one before it is written.

Invariant: a step that has been running longer than ``flush_interval`` is visible in the store
as ``running``; nothing the runner recorded is lost unless the process is killed outright (then
at most ``flush_interval`` worth of records are missing and the run stays ``running``).
"""

from __future__ import annotations

import time
from typing import Protocol

from flowyml.core.records import StepRecord

FLUSH_INTERVAL_S = 0.05


class _StepSink(Protocol):
    def save_step(self, step: StepRecord) -> None: ...


class StepRecorder:
    """Collects step records and writes them to a metadata store in batches.

    Args:
        store: The metadata store; its ``save_steps`` is used when it has one.
        flush_interval: Longest time (seconds) a record waits before it is written.
    """

    def __init__(self, store: _StepSink, flush_interval: float = FLUSH_INTERVAL_S) -> None:
        self._store = store
        self._interval = flush_interval
        self._pending: dict[str, StepRecord] = {}
        self._last_flush = time.monotonic()

    @property
    def pending(self) -> bool:
        """True when some records are not written yet."""
        return bool(self._pending)

    def seconds_until_due(self) -> float:
        """How long the oldest pending record may still wait (0 when due)."""
        return max(0.0, self._last_flush + self._interval - time.monotonic())

    def add(self, record: StepRecord) -> None:
        """Queue ``record`` (replacing a queued one of the same step); write if due."""
        self._pending.pop(record.name, None)  # keep insertion order = order of last update
        self._pending[record.name] = record
        if self.seconds_until_due() == 0.0:
            self.flush()

    def flush(self) -> None:
        """Write every pending record now, in one transaction when the store can batch."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        records = list(self._pending.values())
        self._pending.clear()
        save_steps = getattr(self._store, "save_steps", None)
        if save_steps is not None:
            save_steps(records)
        else:
            for record in records:
                self._store.save_step(record)
