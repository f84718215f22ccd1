"""Where a project's files live.

The project directory is ``$FLOWYML_PROJECT_DIR`` when set, else the nearest ancestor of the
current directory holding a ``flowyml.yaml``, else the current directory. flowyml keeps its state
(registry, local artifacts and metadata, Pulumi state, recorded outputs) under
``<project>/.flowyml/``.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILENAME = "flowyml.yaml"
STATE_DIRNAME = ".flowyml"


def project_dir(start: Path | None = None) -> Path:
    """The project directory (see module docstring)."""
    env = os.environ.get("FLOWYML_PROJECT_DIR")
    if env:
        return Path(env).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILENAME).is_file():
            return candidate
    return here


def state_dir(start: Path | None = None) -> Path:
    """``<project>/.flowyml`` (not created here: read-only commands must not write)."""
    return project_dir(start) / STATE_DIRNAME
