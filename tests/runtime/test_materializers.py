"""Materializers: which one a value gets, and that it loads back as exactly what was saved."""

from __future__ import annotations

import collections
import enum
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flowyml.runtime.artifacts import FsspecArtifactStore, default_registry
from flowyml.runtime.errors import ArtifactError


@dataclass(frozen=True)
class Point:
    x: int
    y: int


class Color(str, enum.Enum):
    RED = "red"


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=False)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
        return True
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


CASES: list[tuple[str, Any, str]] = [
    ("dict", {"a": [1, 2.5, None, True], "b": {"c": "é"}}, "json"),
    ("list", [1, "two", 3.0, False, None], "json"),
    ("str", "hello\nworld", "json"),
    ("int", 2**70, "json"),
    ("float", 0.1, "json"),
    ("negative zero", -0.0, "json"),
    ("nan", float("nan"), "json"),
    ("bool", True, "json"),
    ("none", None, "json"),
    ("tuple", (1, "a"), "pickle"),
    ("int keys", {1: "a"}, "pickle"),
    ("ordered dict", collections.OrderedDict(a=1), "pickle"),
    ("set", {1, 2}, "pickle"),
    ("str enum", Color.RED, "pickle"),
    ("list holding a tuple", [(1, 2)], "pickle"),
    ("bytes", b"\x00\xffdata", "bytes"),
    ("bytearray", bytearray(b"abc"), "bytes"),
    ("int array", np.arange(12, dtype=np.int32).reshape(3, 4), "numpy"),
    ("float array", np.linspace(0, 1, 7), "numpy"),
    ("0-d array", np.array(3.5), "numpy"),
    ("object array", np.array([{"a": 1}, None], dtype=object), "pickle"),
    ("dataframe", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[10, 20]), "pandas"),
    ("dataframe int columns", pd.DataFrame({0: [1.0], 1: [2.0]}), "pickle"),
    ("dataclass", Point(1, 2), "pickle"),
]


@pytest.mark.parametrize(("label", "value", "materializer"), CASES, ids=[c[0] for c in CASES])
def test_value_round_trips_as_its_own_type(
    tmp_path: Path, label: str, value: Any, materializer: str
) -> None:
    store = FsspecArtifactStore(tmp_path.as_uri())
    ref = store.save(value, "p/run/step/out")
    assert ref.materializer == materializer
    assert ref.type_name == f"{type(value).__module__}.{type(value).__qualname__}"
    loaded = store.load(ref)
    assert type(loaded) is type(value)
    assert _equal(value, loaded)


@pytest.mark.parametrize(
    "value",
    [(x for x in range(3)), threading.Lock(), lambda: 1],
    ids=["generator", "lock", "lambda"],
)
def test_unserialisable_value_is_a_one_line_error_naming_its_type(
    tmp_path: Path, value: Any
) -> None:
    store = FsspecArtifactStore(tmp_path.as_uri())
    with pytest.raises(ArtifactError) as caught:
        store.save(value, "p/run/step/out")
    message = str(caught.value)
    assert "\n" not in message
    assert type(value).__qualname__ in message
    assert not list(tmp_path.rglob("*")), "nothing may be written for a failed save"


class UpperMaterializer:
    """A user materializer for str, to check registration order."""

    name = "upper"
    extension = ".txt"

    def handles(self, value: Any) -> bool:
        return type(value) is str

    def dump(self, value: Any) -> bytes:
        return value.upper().encode()

    def load(self, data: bytes, type_name: str) -> Any:
        return data.decode().lower()


def test_registered_materializer_takes_priority(tmp_path: Path) -> None:
    registry = default_registry()
    registry.register(UpperMaterializer(), first=True)
    store = FsspecArtifactStore(tmp_path.as_uri(), registry=registry)
    ref = store.save("abc", "p/r/s/o")
    assert ref.materializer == "upper"
    assert ref.uri.endswith(".txt")
    assert Path(ref.uri.removeprefix("file://")).read_bytes() == b"ABC"
    assert store.load(ref) == "abc"
    assert registry.names[0] == "upper" and registry.names[-1] == "pickle"


def test_unknown_materializer_on_load_is_an_artifact_error(tmp_path: Path) -> None:
    registry = default_registry()
    registry.register(UpperMaterializer(), first=True)
    ref = FsspecArtifactStore(tmp_path.as_uri(), registry=registry).save("abc", "p/r/s/o")
    with pytest.raises(ArtifactError, match="unknown materializer 'upper'"):
        FsspecArtifactStore(tmp_path.as_uri()).load(ref)


def test_numpy_and_pandas_are_imported_only_for_their_values(tmp_path: Path) -> None:
    script = f"""
import sys
from flowyml.runtime.artifacts import FsspecArtifactStore
store = FsspecArtifactStore({tmp_path.as_uri()!r})
for value in ({{"a": [1]}}, b"x", (1, 2)):
    assert store.load(store.save(value, "p/r/s/o")) == value
heavy = sorted(m for m in ("numpy", "pandas", "pyarrow") if m in sys.modules)
print(",".join(heavy))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
