"""Cache keys: code (with same-module helpers, classes and constants), parameters and input
hashes."""

from __future__ import annotations

import importlib.util
import textwrap
import threading
import types
from pathlib import Path

from flowyml import step
from flowyml.pipeline.cache import cache_key, code_hash
from flowyml.pipeline.dag import OutputHandle


def helper(x: int) -> int:
    return x * 2


def uses_helper(x: int) -> int:
    return helper(x) + 1


def uses_helper_in_nested_code(xs: list[int]) -> list[int]:
    return [helper(x) for x in xs]


def no_helper(x: int) -> int:
    return x * 2 + 1


def _swap_helper(func: types.FunctionType, new_helper: types.FunctionType) -> types.FunctionType:
    """A copy of ``func`` whose globals see ``new_helper`` as ``helper`` (same module name)."""
    env = dict(func.__globals__, helper=new_helper)
    return types.FunctionType(func.__code__, env, func.__name__)


def other_helper(x: int) -> int:
    return x * 3


SCALE = 2
LABELS = {"a": [1, 2]}
LOCK = threading.Lock()


class Scaler:
    factor = 2

    def apply(self, x: int) -> int:
        return x * self.factor


def uses_constants(x: int) -> int:
    return x * SCALE + len(LABELS)


def uses_class(x: int) -> int:
    return Scaler().apply(x)


def uses_an_object(x: int) -> int:
    with LOCK:
        return x


def _with_globals(func: types.FunctionType, **changes: object) -> types.FunctionType:
    """A copy of ``func`` whose globals differ by ``changes`` (same module name)."""
    return types.FunctionType(func.__code__, dict(func.__globals__, **changes), func.__name__)


def test_code_hash_includes_same_module_constants() -> None:
    assert code_hash(_with_globals(uses_constants, SCALE=3)) != code_hash(uses_constants)
    changed_labels = _with_globals(uses_constants, LABELS={"a": [1, 3]})
    assert code_hash(changed_labels) != code_hash(uses_constants)
    assert code_hash(_with_globals(uses_constants)) == code_hash(uses_constants)


def _step_from_source(folder: Path, source: str) -> types.FunctionType:
    """``step_fn`` from a module written with ``source`` (same file name and module name)."""
    path = folder / "probe_module.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location("probe_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    func: types.FunctionType = module.step_fn
    return func


PROBE = """
    class Scaler:
        def apply(self, x):
            return x * {factor}

    def step_fn(x):
        return Scaler().apply(x)
"""


def test_code_hash_includes_same_module_classes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    two = _step_from_source(tmp_path / "a", PROBE.format(factor=2))
    again = _step_from_source(tmp_path / "b", PROBE.format(factor=2))
    three = _step_from_source(tmp_path / "c", PROBE.format(factor=3))
    assert code_hash(two) == code_hash(again)  # same code, other file: same key
    assert code_hash(two) != code_hash(three)  # a method of a class it uses changed


def test_objects_without_a_stable_repr_do_not_enter_the_hash() -> None:
    # A lock's repr names its address: were it hashed, no two processes would share a key.
    other_lock = _with_globals(uses_an_object, LOCK=threading.Lock())
    assert code_hash(other_lock) == code_hash(uses_an_object)


def test_code_hash_is_memoized_and_stable() -> None:
    assert code_hash(uses_helper) == code_hash(uses_helper)
    assert code_hash(uses_helper) != code_hash(no_helper)


def test_code_hash_includes_same_module_helpers() -> None:
    changed = _swap_helper(uses_helper, other_helper)
    assert code_hash(changed) != code_hash(uses_helper)


def test_code_hash_follows_helpers_from_nested_code() -> None:
    changed = _swap_helper(uses_helper_in_nested_code, other_helper)
    assert code_hash(changed) != code_hash(uses_helper_in_nested_code)


def test_code_hash_of_a_step_is_its_function_hash() -> None:
    wrapped = step(uses_helper)
    assert code_hash(wrapped) == code_hash(uses_helper)


def test_cache_key_depends_on_params_and_input_hashes() -> None:
    h = OutputHandle("load", "output", 1)
    base = cache_key(uses_helper, {"x": h, "k": 1}, {h: "sha256:a"}, ("output",))
    assert base.startswith("sha256:")
    assert base == cache_key(uses_helper, {"k": 1, "x": h}, {h: "sha256:a"}, ("output",))
    assert base != cache_key(uses_helper, {"x": h, "k": 2}, {h: "sha256:a"}, ("output",))
    assert base != cache_key(uses_helper, {"x": h, "k": 1}, {h: "sha256:b"}, ("output",))
    assert base != cache_key(no_helper, {"x": h, "k": 1}, {h: "sha256:a"}, ("output",))


def test_cache_key_handles_nested_and_unusual_literals() -> None:
    h = OutputHandle("load", "output", 1)
    key = cache_key(no_helper, {"x": [h, {"a": {1, 2}}]}, {h: "sha256:a"}, ("output",))
    assert key == cache_key(no_helper, {"x": [h, {"a": {2, 1}}]}, {h: "sha256:a"}, ("output",))
