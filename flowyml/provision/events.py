"""Pure functions from Pulumi engine events (their JSON shape) to flowyml's Plan model.

The input is the engine's event log shape, one dict per event: ``resourcePreEvent``,
``resOutputsEvent``, ``resOpFailedEvent``, ``diagnosticEvent``, ``summaryEvent``, ``cancelEvent``,
each step carrying ``metadata`` with ``op``, ``urn``, ``type``, ``old``/``new`` state, ``diffs``,
``detailedDiff`` and ``keys``.

Invariants:
- One :class:`ResourceChange` per URN. Pulumi's three replace steps (``create-replacement``,
  ``replace``, ``delete-replaced``) collapse into one change: ``(CREATE, DELETE)`` when the new
  copy is created first (Pulumi's default), ``(DELETE, CREATE)`` when the old one is deleted first
  (``deleteBeforeReplace``), as in Terraform. A lone ``delete-replaced`` (the old copy of a resource
  replaced by an earlier, interrupted update) is a plain delete.
- The root ``pulumi:pulumi:Stack`` and the engine's implicit default providers are not changes.
- Secrets never leave here in clear: they become ``"[secret]"`` and their keys are listed in
  ``sensitive``; a diagnostic quoting a secret value seen in the events has it replaced too. Engine bookkeeping keys (``__defaults``, ``__meta``, ``__provider``) are dropped.
- The event log always ends with ``cancelEvent`` (it is the end-of-stream marker), so it does not by
  itself mean "cancelled": a run is cancelled when a step started and never finished or failed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyml.core.plan import (
    CREATE,
    CREATE_BEFORE_DELETE,
    DELETE,
    NOOP,
    READ,
    REPLACE,
    SECRET_MASK,
    UPDATE,
    Action,
    Actions,
    Plan,
    ResourceChange,
    is_replace,
)
from flowyml.provision._wire import decode, top_level
from flowyml.provision.resource_kinds import is_data_bearing

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"

# Steps that belong to a replace and are collapsed into one change.
_REPLACE_OPS = frozenset({"create-replacement", "replace", "delete-replaced"})

# Every other op Pulumi emits -> the actions it means to a reader of the plan.
_SIMPLE_OPS: dict[str, Actions] = {
    "same": NOOP,
    "create": CREATE,
    "update": UPDATE,
    "delete": DELETE,
    "read": READ,
    "read-replacement": READ,
    "refresh": NOOP,  # becomes UPDATE below when the refresh found differences
    "import": READ,
    "import-replacement": READ,
    "discard": NOOP,  # forgotten from state, nothing touched
    "discard-replaced": NOOP,
    "remove-pending-replace": NOOP,
}

_EVENT_KINDS = (
    "resourcePreEvent",
    "resOutputsEvent",
    "resOpFailedEvent",
    "diagnosticEvent",
    "summaryEvent",
    "cancelEvent",
    "preludeEvent",
    "stdoutEvent",
    "policyEvent",
)

# Pulumi's display markup in diagnostic messages, e.g. "<{%reset%}>".
_COLOR_TAG = re.compile(r"<\{%[^%]*%\}>")
# Secret values shorter than this are not redacted from messages (it would garble them).
_MIN_REDACTED = 4


def event_kind(event: Mapping[str, Any]) -> str | None:
    """The kind of one engine event (``resourcePreEvent``...), ``None`` when unknown."""
    for kind in _EVENT_KINDS:
        if kind in event and event[kind] is not None:
            return kind
    return None


def read_event_log(path: Path) -> list[dict[str, Any]]:
    """Parse an engine event log (one JSON event per line; blank lines ignored)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def name_of(urn: str) -> str:
    """The logical name at the end of a URN."""
    return urn.rsplit("::", 1)[-1]


def is_internal(urn: str, type_token: str) -> bool:
    """True for the root stack and implicit default providers: not changes a user made."""
    if type_token == ROOT_STACK_TYPE:
        return True
    if type_token.startswith(PROVIDER_TYPE_PREFIX):
        return name_of(urn) == "default" or name_of(urn).startswith("default_")
    return False


def _parent(state: Mapping[str, Any] | None) -> str | None:
    parent = (state or {}).get("parent") or None
    if parent and parent.split("::")[2] == ROOT_STACK_TYPE:
        return None
    return str(parent) if parent else None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _diff_keys(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    diffs = metadata.get("diffs") or ()
    if not diffs and metadata.get("detailedDiff"):
        diffs = [re.split(r"[.\[]", path, maxsplit=1)[0] for path in metadata["detailedDiff"]]
    return _unique(str(d) for d in diffs)


def _changed_keys(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, actions: Actions
) -> tuple[str, ...]:
    """Top-level keys whose values differ, for updates and replaces whose step lists no diffs."""
    if (
        before is None
        or after is None
        or (Action.UPDATE not in actions and not is_replace(actions))
    ):
        return ()
    keys = sorted({*before, *after})
    return tuple(k for k in keys if before.get(k) != after.get(k))


def _replace_paths(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    detailed = metadata.get("detailedDiff") or {}
    from_detail = [
        path
        for path, diff in detailed.items()
        if str(diff.get("diffKind", "")).endswith("-replace")
    ]
    keys = list(metadata.get("replaceKeys") or ()) or list(metadata.get("keys") or ())
    return _unique([*from_detail, *keys])


def _inputs(state: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    if not state:
        return None, [], []
    decoded = decode(state.get("inputs") or {}, mask_secrets=True)
    return decoded.value, decoded.secret_paths, decoded.unknown_paths


def change_from_metadata(metadata: Mapping[str, Any], actions: Actions) -> ResourceChange:
    """Build the change for one step's metadata, with ``actions`` already decided.

    Args:
        metadata: A step's ``metadata`` (``op``, ``urn``, ``type``, ``old``, ``new``, diffs...).
        actions: What the step (or the collapsed replace) does.
    """
    urn = str(metadata["urn"])
    old, new = metadata.get("old"), metadata.get("new")
    type_token = str(metadata.get("type") or (new or old or {}).get("type") or "")
    before, before_secrets, _ = _inputs(old)
    after, after_secrets, after_unknown = _inputs(new)
    if actions == DELETE:
        after, after_secrets, after_unknown = None, [], []
    if actions == CREATE:
        before, before_secrets = None, []
    return ResourceChange(
        address=urn,
        type=type_token,
        name=name_of(urn),
        actions=actions,
        before=before,
        after=after,
        after_unknown=_unique(after_unknown),
        sensitive=top_level([*before_secrets, *after_secrets]),
        replace_paths=_replace_paths(metadata) if is_replace(actions) else (),
        diff_keys=_diff_keys(metadata) or _changed_keys(before, after, actions),
        parent=_parent(new) or _parent(old),
        data_bearing=is_data_bearing(type_token),
    )


@dataclass
class _Entry:
    """What has been seen of one URN so far."""

    metadata: dict[str, Any]
    ops: list[str] = field(default_factory=list)
    started: int = 0
    finished: int = 0


@dataclass
class PlanBuilder:
    """Folds engine events, in order, into a :class:`Plan` (usable live or on a whole log).

    Attributes:
        stack: The flowyml stack name.
        operation: ``preview``, ``up``, ``destroy`` or ``refresh``.
        engine: Name of the engine recorded on the plan.
    """

    stack: str
    operation: str
    engine: str = "pulumi"
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _failed: list[str] = field(default_factory=list)
    _diagnostics: list[str] = field(default_factory=list)
    _ended: bool = False
    _secret_texts: set[str] = field(default_factory=set)

    def redact(self, text: str) -> str:
        """``text`` with every secret value seen so far replaced by ``[secret]``."""
        for secret in sorted(self._secret_texts, key=len, reverse=True):
            text = text.replace(secret, SECRET_MASK)
        return text

    def progress(self, event: Mapping[str, Any]) -> Progress | None:
        """:func:`progress_of` ``event``, its message redacted (feed the event first)."""
        progress = progress_of(event)
        if progress is None:
            return None
        return dataclasses.replace(progress, message=self.redact(progress.message))

    def _remember_secrets(self, metadata: Mapping[str, Any]) -> None:
        for state in (metadata.get("old"), metadata.get("new")):
            for part in ("inputs", "outputs"):
                if isinstance(state, Mapping) and state.get(part):
                    texts = decode(state[part], mask_secrets=True).secret_texts
                    # Too short to redact without garbling every message.
                    self._secret_texts.update(t for t in texts if len(t) >= _MIN_REDACTED)

    def feed(self, event: Mapping[str, Any]) -> None:
        """Take one engine event into account."""
        kind = event_kind(event)
        if kind in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
            body = event[kind]
            self._remember_secrets(body.get("metadata") or {})
            self._step(kind, body.get("metadata") or {})
        elif kind == "diagnosticEvent":
            line = diagnostic_line(event[kind])
            if line:
                self._diagnostics.append(line)
        elif kind == "summaryEvent":
            self._ended = True
            if event[kind].get("maybeCorrupt"):
                self._diagnostics.append(
                    "warning: the engine reports the stack's state may be out of date "
                    "(an operation failed part-way); run `flowyml stack refresh`"
                )
        elif kind == "cancelEvent":
            self._ended = True

    def _step(self, kind: str, metadata: Mapping[str, Any]) -> None:
        urn = str(metadata.get("urn") or "")
        type_token = str(metadata.get("type") or "")
        if not urn or is_internal(urn, type_token):
            return
        entry = self._entries.get(urn)
        if entry is None:
            entry = self._entries[urn] = _Entry(metadata=dict(metadata))
        op = str(metadata.get("op") or "same")
        if kind == "resourcePreEvent":
            entry.started += 1
            entry.ops.append(op)
            # The replace's create/replace steps carry the new inputs; delete-replaced carries
            # only the old ones, so it must not overwrite richer metadata seen before.
            if op != "delete-replaced" or len(entry.ops) == 1:
                entry.metadata = dict(metadata)
        elif kind == "resOutputsEvent":
            entry.finished += 1
        else:
            entry.finished += 1
            if urn not in self._failed:
                self._failed.append(urn)

    @staticmethod
    def _actions(entry: _Entry) -> Actions:
        replace_ops = [op for op in entry.ops if op in _REPLACE_OPS]
        if replace_ops:
            if set(replace_ops) == {"delete-replaced"}:
                return DELETE
            return REPLACE if replace_ops[0] == "delete-replaced" else CREATE_BEFORE_DELETE
        op = entry.ops[-1] if entry.ops else str(entry.metadata.get("op") or "same")
        actions = _SIMPLE_OPS.get(op, NOOP)
        if op == "refresh" and _diff_keys(entry.metadata):
            return UPDATE
        return actions

    def interrupted(self) -> tuple[str, ...]:
        """URNs whose step started but neither finished nor failed."""
        return tuple(u for u, e in self._entries.items() if e.started > e.finished)

    def build(self) -> Plan:
        """The plan as seen so far."""
        changes = tuple(
            change_from_metadata(e.metadata, self._actions(e))
            for e in self._entries.values()
            if e.ops
        )
        interrupted = self.interrupted() if self._ended else ()
        diagnostics = [self.redact(line) for line in self._diagnostics]
        if interrupted:
            diagnostics.append(
                f"error: the operation was cancelled before {len(interrupted)} resource "
                "operation(s) finished: " + ", ".join(name_of(u) for u in interrupted)
            )
        return Plan(
            stack=self.stack,
            operation=self.operation,
            engine=self.engine,
            changes=changes,
            diagnostics=tuple(diagnostics),
            failed=tuple(self._failed),
            cancelled=bool(interrupted),
        )


def plan_from_events(
    events: Iterable[Mapping[str, Any]], *, stack: str, operation: str, engine: str = "pulumi"
) -> Plan:
    """Fold a whole event stream into a :class:`Plan`.

    Args:
        events: Engine events in the engine's JSON shape, in order.
        stack: The flowyml stack name.
        operation: ``preview``, ``up``, ``destroy`` or ``refresh``.
        engine: Engine name recorded on the plan.
    """
    builder = PlanBuilder(stack=stack, operation=operation, engine=engine)
    for event in events:
        builder.feed(event)
    return builder.build()


def diagnostic_line(body: Mapping[str, Any]) -> str | None:
    """``"<severity>: <message>"`` for warnings and errors, ``None`` for chatter (debug, info)."""
    severity = str(body.get("severity") or "")
    if severity not in ("warning", "error"):
        return None
    message = _COLOR_TAG.sub("", str(body.get("message") or "")).strip()
    if not message:
        return None
    where = f" ({name_of(str(body['urn']))})" if body.get("urn") else ""
    return f"{severity}{where}: {message.splitlines()[0]}"


@dataclass(frozen=True)
class Progress:
    """One line of live progress derived from one engine event.

    Attributes:
        phase: ``start``, ``done``, ``failed`` or ``diagnostic``.
        verb: What happens: ``create``, ``update``, ``replace``, ``delete``...
        address: The resource's URN (empty for diagnostics).
        type: The resource's type token.
        name: The resource's logical name.
        message: A one-line description, ready to print.
    """

    phase: str
    verb: str
    address: str
    type: str
    name: str
    message: str


_VERBS = {
    "create": ("creating", "created"),
    "update": ("updating", "updated"),
    "delete": ("deleting", "deleted"),
    "replace": ("replacing", "replaced"),
    "create-replacement": ("creating replacement", "created replacement"),
    "delete-replaced": ("deleting original", "deleted original"),
    "read": ("reading", "read"),
    "refresh": ("refreshing", "refreshed"),
    "import": ("importing", "imported"),
}


def progress_of(event: Mapping[str, Any]) -> Progress | None:
    """A progress line for events worth showing live (not ``same`` steps or the root stack)."""
    kind = event_kind(event)
    if kind == "diagnosticEvent":
        line = diagnostic_line(event[kind])
        return None if line is None else Progress("diagnostic", "", "", "", "", line)
    if kind not in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
        return None
    metadata = event[kind].get("metadata") or {}
    urn, type_token = str(metadata.get("urn") or ""), str(metadata.get("type") or "")
    op = str(metadata.get("op") or "same")
    if is_internal(urn, type_token) or op not in _VERBS:
        return None
    doing, done = _VERBS[op]
    name = name_of(urn)
    if kind == "resourcePreEvent":
        return Progress("start", op, urn, type_token, name, f"{doing} {type_token} {name}")
    if kind == "resOutputsEvent":
        return Progress("done", op, urn, type_token, name, f"{done} {type_token} {name}")
    return Progress("failed", op, urn, type_token, name, f"failed {doing} {type_token} {name}")


def iter_progress(events: Iterable[Mapping[str, Any]]) -> Iterator[Progress]:
    """Progress lines for a stream of events (diagnostics redacted of the secrets seen)."""
    builder = PlanBuilder(stack="", operation="")
    for event in events:
        builder.feed(event)
        progress = builder.progress(event)
        if progress is not None:
            yield progress
