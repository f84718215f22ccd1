"""numpy arrays as ``.npy`` files.

numpy is never imported here at module level: ``handles`` looks numpy up in ``sys.modules``
(a value cannot be an ndarray unless numpy is already imported), and ``load`` imports it only
when an ``.npy`` artifact is read.
"""

from __future__ import annotations

import io
import sys
from typing import Any


class NumpyMaterializer:
    """Plain ``numpy.ndarray`` values without object dtype (those go to pickle)."""

    name = "numpy"
    extension = ".npy"

    def handles(self, value: Any) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and type(value) is np.ndarray and not value.dtype.hasobject

    def dump(self, value: Any) -> bytes:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return buffer.getvalue()

    def load(self, data: bytes, type_name: str) -> Any:
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
