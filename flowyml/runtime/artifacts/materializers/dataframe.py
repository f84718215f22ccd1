"""pandas DataFrames as parquet.

pandas is looked up in ``sys.modules`` by ``handles`` and imported only by ``load``. A frame
parquet cannot hold faithfully (non-string column names, mixed-type object columns) makes
``dump`` raise, and the store then falls back to pickle.
"""

from __future__ import annotations

import io
import sys
from typing import Any


class PandasMaterializer:
    """Plain ``pandas.DataFrame`` values, written with pyarrow."""

    name = "pandas"
    extension = ".parquet"

    def handles(self, value: Any) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and type(value) is pd.DataFrame

    def dump(self, value: Any) -> bytes:
        if not all(type(column) is str for column in value.columns):
            # pyarrow would silently stringify them; the frame would not load back as saved.
            raise TypeError("parquet needs string column names")
        buffer = io.BytesIO()
        value.to_parquet(buffer, engine="pyarrow")
        return buffer.getvalue()

    def load(self, data: bytes, type_name: str) -> Any:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
