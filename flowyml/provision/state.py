"""Recorded state per stack: outputs (secrets encrypted at rest), the passphrase, and locks.

Layout under ``<project>/.flowyml/``:

- ``stacks/<name>/outputs.json``: outputs of the last successful ``up``. Plain outputs are stored as
  they are; secret outputs are stored only as Fernet tokens under a key derived with scrypt from
  the passphrase and a per-file salt, never in clear text.
- ``stacks/<name>/.lock``: an ``fcntl`` lock held for the whole of an ``up`` or ``destroy``.
- ``passphrase``: generated once (mode 0600) when neither ``FLOWYML_PASSPHRASE`` nor
  ``PULUMI_CONFIG_PASSPHRASE`` is set; the Pulumi engine's secrets provider uses the same one.

Writes are atomic (temporary file + ``os.replace``), so a crash never leaves a half-written file.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowyml.core.files import write_atomic
from flowyml.core.outputs import StackOutputs
from flowyml.core.paths import state_dir
from flowyml.provision.errors import StackLockedError, StateError

PASSPHRASE_ENV = ("FLOWYML_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE")
PASSPHRASE_FILE = "passphrase"
OUTPUTS_FILE = "outputs.json"
LOCK_FILE = ".lock"
OUTPUTS_FORMAT = 1
DEFAULT_LOCK_TIMEOUT = 30.0

_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _root(root: Path | None) -> Path:
    return root if root is not None else state_dir()


def stack_dir(name: str, root: Path | None = None) -> Path:
    """``<state>/stacks/<name>`` (not created)."""
    if not _STACK_NAME.match(name) or ".." in name:
        raise StateError(
            f"invalid stack name {name!r} for a state directory.",
            hint="use letters, digits, '.', '-' and '_' only",
        )
    return _root(root) / "stacks" / name


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically with mode 0600."""
    write_atomic(path, data, mode=0o600)


def passphrase(root: Path | None = None, *, create: bool = True) -> str:
    """The secrets passphrase: from the environment, else ``<state>/passphrase``.

    Args:
        root: The state directory (default: the project's ``.flowyml``).
        create: Generate and store one (mode 0600) when there is none.

    Raises:
        StateError: No passphrase and ``create`` is False.
    """
    for var in PASSPHRASE_ENV:
        value = os.environ.get(var)
        if value:
            return value
    path = _root(root) / PASSPHRASE_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        raise StateError(
            "no passphrase to decrypt this project's secrets.",
            hint="set FLOWYML_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE) to the one used before",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(32)
    try:
        # O_EXCL: when two processes race, exactly one writes; the other reads the winner's.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generated + "\n")
    return generated


@functools.lru_cache(maxsize=16)
def _fernet_key(secret: str, salt: bytes) -> bytes:
    try:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError as exc:  # pragma: no cover - cryptography ships with the pulumi deps
        raise StateError(
            "the `cryptography` package is needed to store secret outputs.",
            hint="pip install cryptography",
        ) from exc
    kdf = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1)
    return base64.urlsafe_b64encode(kdf.derive(secret.encode("utf-8")))


def _fernet(secret: str, salt: bytes) -> Any:
    from cryptography.fernet import Fernet

    return Fernet(_fernet_key(secret, salt))


def save_outputs(outputs: StackOutputs, root: Path | None = None) -> Path:
    """Record a stack's outputs, secret values encrypted.

    Args:
        outputs: The outputs to record (replaces any recorded before).
        root: The state directory (default: the project's ``.flowyml``).

    Returns:
        The path written.
    """
    salt = secrets.token_bytes(16)
    plain: dict[str, Any] = {}
    sealed: dict[str, str] = {}
    fernet = _fernet(passphrase(root), salt) if outputs.secrets & set(outputs.values) else None
    for key, value in outputs.values.items():
        if key in outputs.secrets:
            assert fernet is not None
            sealed[key] = fernet.encrypt(json.dumps(value).encode("utf-8")).decode("ascii")
        else:
            plain[key] = value
    document = {
        "format_version": OUTPUTS_FORMAT,
        "stack": outputs.stack,
        "engine": outputs.engine,
        "salt": base64.b64encode(salt).decode("ascii"),
        "values": plain,
        "secrets": sealed,
    }
    path = stack_dir(outputs.stack, root) / OUTPUTS_FILE
    _write_private(path, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))
    return path


def load_outputs(name: str, root: Path | None = None) -> StackOutputs | None:
    """The recorded outputs of stack ``name``, ``None`` when it was never brought up.

    Raises:
        StateError: The file is corrupt, or its secrets cannot be decrypted (wrong passphrase).
    """
    path = stack_dir(name, root) / OUTPUTS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(
            f"the recorded outputs of stack {name} are unreadable ({path}: {exc}).",
            hint=f"run `flowyml stack up {name}` to record them again",
        ) from exc
    values: dict[str, Any] = dict(document.get("values") or {})
    sealed: dict[str, str] = dict(document.get("secrets") or {})
    if sealed:
        from cryptography.fernet import InvalidToken

        fernet = _fernet(passphrase(root, create=False), base64.b64decode(document["salt"]))
        for key, token in sealed.items():
            try:
                values[key] = json.loads(fernet.decrypt(token.encode("ascii")))
            except InvalidToken as exc:
                raise StateError(
                    f"cannot decrypt the secret outputs of stack {name}: the passphrase differs "
                    "from the one they were written with.",
                    hint="set FLOWYML_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE) to that passphrase",
                ) from exc
    return StackOutputs(
        stack=str(document.get("stack") or name),
        values=values,
        secrets=frozenset(sealed),
        engine=str(document.get("engine") or "pulumi"),
    )


def require_outputs(name: str, root: Path | None = None) -> StackOutputs:
    """The recorded outputs of stack ``name``.

    Raises:
        StateError: None are recorded (the stack was never brought up), or they are unreadable.
    """
    recorded = load_outputs(name, root)
    if recorded is None:
        raise StateError(
            f"stack {name} has no recorded outputs.", hint=f"run `flowyml stack up {name}`"
        )
    return recorded


def delete_outputs(name: str, root: Path | None = None) -> bool:
    """Forget the recorded outputs of stack ``name``; True when there were some."""
    path = stack_dir(name, root) / OUTPUTS_FILE
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def stack_lock(
    name: str,
    operation: str,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    root: Path | None = None,
    poll: float = 0.1,
) -> Iterator[Path]:
    """Hold the stack's lock for an ``up`` or ``destroy``; wait up to ``timeout`` seconds.

    The lock is an ``fcntl.flock`` on ``stacks/<name>/.lock``, released by the kernel if the
    process dies, so a crash never leaves a stack locked.

    Raises:
        StackLockedError: Another process still holds the lock after ``timeout`` seconds.
    """
    path = stack_dir(name, root) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    raise StackLockedError(name, holder) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{operation} by pid {os.getpid()}".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str | None:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        return text or None
    return None
