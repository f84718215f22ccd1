"""The scheduling loop of one run (:class:`RunLoop`); :mod:`flowyml.pipeline.runner` drives it.

See the runner's module docstring for the invariants this loop keeps.
"""

from __future__ import annotations

import heapq
import inspect
import logging
import os
import time
import traceback
from collections import deque
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from typing import Any, Protocol

from flowyml.core.records import ArtifactRef, RunStatus, StepRecord, StepStatus
from flowyml.pipeline.cache import cache_key
from flowyml.pipeline.dag import DAG, OutputHandle, substitute
from flowyml.pipeline.errors import StepOutputError
from flowyml.pipeline.executors import Outcome, StepAttempt, StepExecutor
from flowyml.pipeline.interrupts import InterruptFlag
from flowyml.pipeline.outputs import split_outputs
from flowyml.pipeline.ports import ArtifactStore, RuntimeStack
from flowyml.pipeline.recording import StepRecorder
from flowyml.pipeline.result import PipelineResult

_log = logging.getLogger("flowyml.run")
_MAX_WAIT = 0.25  # seconds; bounds how long the loop sleeps between checks (and Ctrl-C waits)
# Seconds between checks while a timed attempt is submitted but not yet running (its
# deadline is unknown until its worker picks it up, normally within microseconds).
_START_POLL = 0.02
_FINAL = frozenset(
    {
        StepStatus.COMPLETED,
        StepStatus.CACHED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.CANCELLED,
    }
)


class RunnablePipeline(Protocol):
    """What :func:`run_pipeline` needs from a pipeline (``Pipeline`` provides it)."""

    @property
    def name(self) -> str: ...

    @property
    def dag(self) -> DAG: ...

    @property
    def enable_cache(self) -> bool: ...

    @property
    def max_workers(self) -> int | None: ...

    @property
    def use_processes(self) -> bool: ...


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Prepared:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: dict[str, ArtifactRef]
    cache_key: str | None
    started_at: datetime


@dataclass
class _Attempt:
    name: str
    stack: str
    timeout: float | None
    deadline: float | None = None  # known once the attempt is running


class RunLoop:
    """State of one run; :meth:`execute` is the scheduling loop, :meth:`cancel` its Ctrl-C path."""

    def __init__(
        self,
        pipeline: RunnablePipeline,
        stack: RuntimeStack,
        step_stacks: Mapping[str, RuntimeStack],
        run_id: str,
        interrupt: InterruptFlag | None = None,
    ) -> None:
        self.dag = pipeline.dag
        self.interrupt = interrupt or InterruptFlag()
        self.pipeline = pipeline.name
        self.run_id = run_id
        self.enable_cache = pipeline.enable_cache
        # A bound stack may declare its executor's settings (LocalExecutor(max_workers=...,
        # use_processes=...)); they are optional attributes, not part of the port.
        self.use_processes = pipeline.use_processes or bool(getattr(stack, "use_processes", False))
        # Each stack's strategy decides for itself; the pipeline's own wish applies to all.
        self.pipeline_processes = pipeline.use_processes
        default_workers = (os.cpu_count() or 2) if self.use_processes else min(32, len(self.dag))
        declared_workers = pipeline.max_workers or getattr(stack, "max_workers", None)
        self.max_workers = max(1, declared_workers or default_workers)
        self.stack = stack
        self.step_stacks = step_stacks
        self.meta = stack.metadata_store
        self.recorder = StepRecorder(self.meta)
        self.records: dict[str, StepRecord] = {}
        self.refs: dict[tuple[str, str], ArtifactRef] = {}
        self.ref_store: dict[tuple[str, str], ArtifactStore] = {}
        self.values: dict[tuple[str, str], Any] = {}
        self.consumers = self.dag.consumers()
        self.copies: dict[tuple[str, str, str], ArtifactRef] = {}
        self.prepared: dict[str, _Prepared] = {}
        self.attempts: dict[str, int] = {}
        self.skipped: set[str] = set()
        self.strategies: dict[str, StepExecutor] = {}
        self.busy: dict[str, int] = {}
        self.inflight: dict[Future[Outcome], _Attempt] = {}
        self.handle_refs: dict[tuple[str, OutputHandle], ArtifactRef] = {}
        self.where: dict[str, dict[str, Any]] = {}

    # ----------------------------------------------------------------- helpers
    def stack_for(self, name: str) -> RuntimeStack:
        return self.step_stacks.get(name, self.stack)

    def strategy_for(self, stack: RuntimeStack) -> StepExecutor:
        """The strategy the stack hands this run (asked once per stack)."""
        strategy = self.strategies.get(stack.name)
        if strategy is None:
            strategy = stack.step_executor(self.max_workers, self.pipeline_processes)
            self.strategies[stack.name] = strategy
        return strategy

    def save(self, record: StepRecord) -> None:
        self.records[record.name] = record
        self.recorder.add(record)
        if _log.isEnabledFor(logging.INFO):  # progress for whoever listens (the CLI does)
            _log.info(_progress_line(record))

    def base_record(self, name: str, status: StepStatus, **changes: Any) -> StepRecord:
        inv = self.dag[name]
        prep = self.prepared.get(name)
        fields: dict[str, Any] = {
            "run_id": self.run_id,
            "name": name,
            "status": status,
            "started_at": prep.started_at if prep else None,
            "cache_key": prep.cache_key if prep else None,
            "stack": self.stack_for(name).name,
            "resources": inv.step.resources_dict(),
            "attempts": self.attempts.get(name, 0),
            "inputs": prep.inputs if prep else {},
            "upstream": inv.upstream,
            **self.where.get(name, {}),
        }
        fields.update(changes)
        return StepRecord(**fields)

    # ------------------------------------------------------------ preparation
    def copy_into(self, key: tuple[str, str], value: Any, store: ArtifactStore) -> ArtifactRef:
        """The producer's artifact, saved (once) into another stack's artifact store."""
        copy_key = (*key, store.root_uri)
        ref = self.copies.get(copy_key)
        if ref is None:
            ref = store.save(value, f"{self.pipeline}/{self.run_id}/{key[0]}/{key[1]}")
            self.copies[copy_key] = ref
        return ref

    def prepare(self, name: str) -> None:
        """Resolve inputs (loading or copying them) and compute the cache key."""
        inv = self.dag[name]
        stack = self.stack_for(name)
        store = stack.artifact_store
        needs_values = self.strategy_for(stack).needs_values
        resolved: dict[OutputHandle, Any] = {}
        input_refs: dict[str, ArtifactRef] = {}
        for label, handle in inv.inputs:
            key = (handle.invocation, handle.output)
            ref = self.refs[key]
            source = self.ref_store[key]
            crosses = source.root_uri != store.root_uri
            value: Any = None
            if needs_values or crosses:
                if key in self.values:
                    value = self.values[key]
                else:
                    value = source.load(ref)
                    self.values[key] = value
            self.consumers[key] -= 1
            if self.consumers[key] <= 0:
                self.values.pop(key, None)
            if crosses:
                ref = self.copy_into(key, value, store)
            resolved[handle] = value
            self.handle_refs[(name, handle)] = ref
            input_refs[label] = ref
        if needs_values:
            arguments = {param: substitute(v, resolved) for param, v in inv.arguments.items()}
            bound = inspect.BoundArguments(inv.step.signature, arguments)  # type: ignore[arg-type]
            args, kwargs = bound.args, bound.kwargs
        else:
            args, kwargs = (), {}
        key_text = None
        if self.enable_cache and inv.step.cache:
            hashes = {h: input_refs[label].content_hash for label, h in inv.inputs}
            key_text = cache_key(inv.step.func, inv.arguments, hashes, inv.output_names)
        self.prepared[name] = _Prepared(args, kwargs, input_refs, key_text, _now())

    def try_cache(self, name: str) -> bool:
        prep = self.prepared[name]
        if prep.cache_key is None:
            return False
        found = self.meta.find_cached(prep.cache_key)
        inv = self.dag[name]
        store = self.stack_for(name).artifact_store
        if not found or set(found) != set(inv.output_names):
            return False
        if not all(store.exists(ref) for ref in found.values()):
            return False
        for out, ref in found.items():
            self.refs[(name, out)] = ref
            self.ref_store[(name, out)] = store
        self.save(
            self.base_record(name, StepStatus.CACHED, ended_at=_now(), cached=True, outputs=found)
        )
        return True

    # -------------------------------------------------------------- completion
    def persist(self, name: str, value: Any) -> dict[str, ArtifactRef]:
        names = self.dag[name].output_names
        parts = split_outputs(name, names, value)
        store = self.stack_for(name).artifact_store
        refs: dict[str, ArtifactRef] = {}
        for out, part in zip(names, parts, strict=True):
            key = (name, out)
            refs[out] = store.save(part, f"{self.pipeline}/{self.run_id}/{name}/{out}")
            self.refs[key] = refs[out]
            self.ref_store[key] = store
            if self.consumers.get(key, 0) > 0:
                self.values[key] = part
        return refs

    def adopt(self, name: str, outputs: Mapping[str, ArtifactRef]) -> dict[str, ArtifactRef]:
        """Register outputs a remote attempt already saved in the step's artifact store."""
        missing = [out for out in self.dag[name].output_names if out not in outputs]
        if missing:
            raise StepOutputError(
                f"step '{name}' ran but its result record lacks output(s) {', '.join(missing)}."
            )
        store = self.stack_for(name).artifact_store
        for out, ref in outputs.items():
            self.refs[(name, out)] = ref
            self.ref_store[(name, out)] = store
        return dict(outputs)

    def save_log(self, name: str, text: str) -> str | None:
        """Keep what an in-process attempt printed, next to its outputs."""
        key = f"{self.pipeline}/{self.run_id}/{name}/_attempts/{self.attempts[name]}/log.txt"
        store = self.stack_for(name).artifact_store
        try:
            return store.put_bytes(key, text.encode("utf-8"))
        except Exception:  # a log that cannot be kept must not fail the step
            _log.warning("%s: its output could not be saved as a log", name, exc_info=True)
            return None

    def where_from(self, name: str, outcome: Outcome) -> dict[str, Any]:
        """The record fields saying where an attempt ran and where its log is."""
        log_uri = outcome.log_uri
        if log_uri is None and outcome.log:
            log_uri = self.save_log(name, outcome.log)
        executor = outcome.executor or self.strategies[self.stack_for(name).name].kind
        return {"executor": executor, "log_uri": log_uri, "details": dict(outcome.details)}

    def fail(self, name: str, error: str, sorter: TopologicalSorter[str]) -> None:
        self.save(self.base_record(name, StepStatus.FAILED, ended_at=_now(), error=error))
        self.skipped |= self.dag.downstream(name)
        sorter.done(name)

    # -------------------------------------------------------------------- loop
    def execute(self) -> tuple[RunStatus, str | None]:
        sorter: TopologicalSorter[str] = TopologicalSorter(self.dag.graph())
        sorter.prepare()
        ready: deque[str] = deque()
        retry_at: list[tuple[float, str]] = []
        while sorter.is_active():
            self.interrupt.check()
            ready.extend(sorter.get_ready())
            now = time.monotonic()
            while retry_at and retry_at[0][0] <= now:
                ready.append(heapq.heappop(retry_at)[1])
            progressed = False
            blocked: deque[str] = deque()
            while ready:
                self.interrupt.check()
                name = ready.popleft()
                if name in self.skipped:
                    self.save(self.base_record(name, StepStatus.SKIPPED))
                    sorter.done(name)
                    progressed = True
                    continue
                if name not in self.prepared:
                    try:
                        self.prepare(name)
                        hit = self.try_cache(name)
                    except Exception:
                        self.fail(name, traceback.format_exc(), sorter)
                        progressed = True
                        continue
                    if hit:
                        sorter.done(name)
                        progressed = True
                        continue
                if not self.start(name):
                    blocked.append(name)
            ready = blocked
            if progressed:
                continue
            self.wait_and_collect(sorter, retry_at)
        failed = [n for n in self.dag.names if self.records[n].status is StepStatus.FAILED]
        if not failed:
            return RunStatus.COMPLETED, None
        first = self.records[failed[0]].error or ""
        last_line = first.strip().splitlines()[-1] if first.strip() else "unknown error"
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return RunStatus.FAILED, f"step '{failed[0]}' failed{more}: {last_line}"

    def start(self, name: str) -> bool:
        """Submit the next attempt of ``name`` if its stack has a free worker."""
        stack = self.stack_for(name)
        strategy = self.strategy_for(stack)
        if self.busy.get(stack.name, 0) >= strategy.capacity:
            return False
        attempt = self.attempts.get(name, 0) + 1
        self.attempts[name] = attempt
        self.where.setdefault(name, {"executor": strategy.kind})
        if attempt == 1:
            self.save(self.base_record(name, StepStatus.RUNNING))
        prep = self.prepared[name]
        inv = self.dag[name]
        step = inv.step
        future = strategy.submit(
            StepAttempt(
                run_id=self.run_id,
                pipeline=self.pipeline,
                step=name,
                attempt=attempt,
                func=step.func,
                args=prep.args,
                kwargs=prep.kwargs,
                arguments=inv.arguments,
                inputs=tuple(
                    (handle, self.handle_refs[(name, handle)]) for _, handle in inv.inputs
                ),
                output_names=inv.output_names,
                output_key=f"{self.pipeline}/{self.run_id}/{name}",
                resources=step.resources_dict(),
                timeout=step.timeout,
            )
        )
        self.inflight[future] = _Attempt(name, stack.name, step.timeout)
        self.busy[stack.name] = self.busy.get(stack.name, 0) + 1
        return True

    def wait_and_collect(
        self, sorter: TopologicalSorter[str], retry_at: list[tuple[float, str]]
    ) -> None:
        now = time.monotonic()
        wakeups = self.deadlines(now)
        if retry_at:
            wakeups.append(retry_at[0][0])
        if self.recorder.pending:
            # Wait only until pending records are due, so a slow step shows up as running.
            wakeups.append(now + self.recorder.seconds_until_due())
        timeout = min([_MAX_WAIT, *(w - now for w in wakeups)])
        if self.inflight:
            done, _ = wait(self.inflight, timeout=max(0.0, timeout), return_when=FIRST_COMPLETED)
        else:
            time.sleep(max(0.0, timeout))
            done = set()
        for future in done:
            attempt = self.inflight.pop(future)
            self.busy[attempt.stack] -= 1
            outcome = future.result()
            self.where[attempt.name] = self.where_from(attempt.name, outcome)
            if outcome.error is not None:
                self.attempt_failed(attempt.name, outcome.error, sorter, retry_at)
                continue
            try:
                if outcome.outputs is not None:
                    outputs = self.adopt(attempt.name, outcome.outputs)
                else:
                    outputs = self.persist(attempt.name, outcome.value)
            except Exception:
                self.fail(attempt.name, traceback.format_exc(), sorter)
                continue
            record = self.base_record(
                attempt.name, StepStatus.COMPLETED, ended_at=_now(), outputs=outputs
            )
            self.save(record)
            sorter.done(attempt.name)
        now = time.monotonic()
        for future, attempt in list(self.inflight.items()):
            if attempt.deadline is not None and attempt.deadline <= now:
                del self.inflight[future]
                self.busy[attempt.stack] -= 1
                self.strategies[attempt.stack].abandon(future)
                self.attempt_failed(attempt.name, self.timeout_text(attempt.name), sorter, retry_at)
        if self.recorder.pending and self.recorder.seconds_until_due() == 0.0:
            self.recorder.flush()

    def deadlines(self, now: float) -> list[float]:
        """Deadlines of running timed attempts (learning new start times on the way)."""
        found: list[float] = []
        for future, attempt in self.inflight.items():
            if attempt.timeout is None:
                continue
            if attempt.deadline is None:
                started = self.strategies[attempt.stack].started_at(future)
                if started is None:
                    found.append(now + _START_POLL)
                    continue
                attempt.deadline = started + attempt.timeout
            found.append(attempt.deadline)
        return found

    def timeout_text(self, name: str) -> str:
        step = self.dag[name].step
        how = self.strategy_for(self.stack_for(name)).timeout_note
        return (
            f"TimeoutError: step '{name}' exceeded its timeout of {step.timeout:g} s "
            f"(attempt {self.attempts[name]} of {step.retries + 1}); {how}."
        )

    def attempt_failed(
        self,
        name: str,
        error: str,
        sorter: TopologicalSorter[str],
        retry_at: list[tuple[float, str]],
    ) -> None:
        step = self.dag[name].step
        attempt = self.attempts[name]
        if attempt <= step.retries:
            delay = step.retry_delay * (2 ** (attempt - 1))
            heapq.heappush(retry_at, (time.monotonic() + delay, name))
        else:
            self.fail(name, error, sorter)

    def cancel(self) -> None:
        """Stop what runs and record every unfinished step ``cancelled``."""
        for future, attempt in list(self.inflight.items()):
            self.strategies[attempt.stack].abandon(future)
        self.inflight.clear()
        ended = _now()
        for name in self.dag.names:
            record = self.records.get(name)
            if record is None or record.status not in _FINAL:
                rec = self.base_record(name, StepStatus.CANCELLED, ended_at=ended)
                if record is None and name not in self.prepared:
                    rec = replace(rec, ended_at=None)
                self.save(rec)
        self.recorder.flush()

    def shutdown(self) -> None:
        for strategy in self.strategies.values():
            strategy.shutdown()

    def result(self, status: RunStatus, error: str | None) -> PipelineResult:
        def load(step: str, ref: ArtifactRef) -> Any:
            return self.stack_for(step).artifact_store.load(ref)

        steps = {n: self.records[n] for n in self.dag.names if n in self.records}
        return PipelineResult(
            run_id=self.run_id,
            pipeline=self.pipeline,
            status=status,
            steps=steps,
            stack=self.stack.name,
            error=error,
            _loader=load,
        )


def _progress_line(record: StepRecord) -> str:
    """One line of live progress for a step record."""
    status = record.status
    if status is StepStatus.RUNNING:
        return f"{record.name}: running"
    if status is StepStatus.FAILED and record.error:
        return f"{record.name}: failed ({record.error.strip().splitlines()[-1]})"
    if status is StepStatus.COMPLETED and record.duration is not None:
        took = record.duration
        return f"{record.name}: completed in " + (
            f"{took * 1000:.0f}ms" if took < 1 else f"{took:.2f}s"
        )
    return f"{record.name}: {status.value}"
