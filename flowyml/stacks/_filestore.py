"""A JSON file updated atomically under an inter-process lock (``fcntl.flock``).

Reads take no lock (writes replace the file atomically, so a reader sees the old or the new
whole file). Writes hold ``<file>.lock`` across read-modify-write. Reading never creates
anything; only writes create the parent directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flowyml.core.files import write_atomic
from flowyml.stacks.errors import StackRegistryError

__all__ = ["JsonFile"]


class JsonFile:
    """One JSON document on disk.

    Args:
        path: The file.
        empty: Factory of the document used when the file does not exist.
    """

    def __init__(self, path: Path, empty: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._empty = empty

    def read(self) -> dict[str, Any]:
        """The document (``empty()`` when the file does not exist).

        Raises:
            StackRegistryError: The file is unreadable or not a JSON object.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._empty()
        except OSError as exc:
            raise StackRegistryError(f"cannot read {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StackRegistryError(
                f"{self.path} is not valid JSON (line {exc.lineno})",
                hint=f"fix or delete {self.path}; registered stacks will be lost if deleted",
            ) from None
        if not isinstance(data, dict):
            raise StackRegistryError(f"{self.path} does not hold a JSON object")
        return data

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def update(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Apply ``change`` to the document under the lock and write it atomically.

        Returns:
            What ``change`` returned.
        """
        with self._locked():
            data = self.read()
            result = change(data)
            self._write(data)
            return result

    def _write(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
        write_atomic(self.path, text.encode("utf-8"))
