"""The root of flowyml's error tree.

Every package defines one root error deriving from :class:`FlowymlError`; the CLI catches
``FlowymlError`` and prints ``str(err)`` as one line (plus the ``To fix:`` hint when present),
exiting with ``err.exit_code``. Anything else is a bug and shows a traceback only with ``--debug``.
"""

from __future__ import annotations


class FlowymlError(Exception):
    """Base class of every error flowyml raises on purpose.

    Args:
        message: One sentence saying what is wrong.
        hint: What to do about it, shown after ``To fix:``.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        # One sentence, then the hint: add the full stop a message may leave out.
        message = self.message.rstrip()
        if message and message[-1] not in ".!?:":
            message += "."
        return f"{message} To fix: {self.hint}"
