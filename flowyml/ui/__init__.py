"""The dashboard behind ``flowyml ui``: a local web app over a stack's metadata and artifact stores.

Only :mod:`flowyml.ui.command` is imported by the CLI; the server (Starlette + uvicorn) is
imported when the command runs. Nothing here writes to the metadata store.
"""

from __future__ import annotations

__all__ = ["auth", "command", "server"]
