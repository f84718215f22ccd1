"""``python -m flowyml.entrypoint TASK_URI``: run one step attempt where it was sent.

See :mod:`flowyml.runtime.entrypoint`.
"""

from __future__ import annotations

if __name__ == "__main__":
    import sys

    from flowyml.runtime.entrypoint import main

    sys.exit(main())
