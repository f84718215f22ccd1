"""Where the images package keeps what it prepares on the driver (flowyml wheels, downloads).

``FLOWYML_CACHE_DIR`` wins, then ``$XDG_CACHE_HOME/flowyml``, then ``~/.cache/flowyml``; read at
each call, so a test that moves ``HOME`` moves the cache with it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(*parts: str) -> Path:
    """The cache directory (or a subdirectory of it), created when missing."""
    root = os.environ.get("FLOWYML_CACHE_DIR")
    if root:
        base = Path(root)
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]) / "flowyml"
    else:
        base = Path.home() / ".cache" / "flowyml"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
