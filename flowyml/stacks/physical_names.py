"""Default physical names of provisioned resources: scoped to the stack, so stacks never collide.

A fixed default (``flowyml-runner``, a ``flowyml`` repository or cluster) makes the second stack in
one project or account fail, or worse, adopt the first one's resource. Defaults here are
``<base>-<stack slug>-<4 hex>``: the slug keeps them readable, the stable hash of the full stack
name keeps two long names that truncate to the same slug apart. They are pure functions of the
declaration, so a declaration knows its names before anything is provisioned (the Vertex AI
executor's service account, the registry URI).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["scoped_name", "stable_id"]

_NOT_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def stable_id(stack_name: str) -> str:
    """Four hex digits derived from the stack name (the same on every machine and run)."""
    return hashlib.sha256(stack_name.encode("utf-8")).hexdigest()[:4]


def scoped_name(stack_name: str, base: str, *, limit: int) -> str:
    """``<base>-<stack slug>-<stable id>`` in lowercase letters, digits and hyphens.

    Args:
        stack_name: The flowyml stack name.
        base: What the resource is (``runner``, ``flowyml``...); starts with a letter.
        limit: The provider's maximum name length (the slug is shortened to fit).

    Returns:
        A name that starts with ``base`` and ends with a letter or digit, at most ``limit`` long.
    """
    slug = _NOT_NAME_CHARS.sub("-", stack_name.lower()).strip("-")
    suffix = stable_id(stack_name)
    room = limit - len(base) - len(suffix) - 2
    slug = slug[: max(room, 0)].strip("-")
    parts = [base, slug, suffix] if slug else [base, suffix]
    return re.sub("-{2,}", "-", "-".join(parts))
