"""Cache keys: code (with same-module helpers), parameters and input hashes."""

from __future__ import annotations

import types

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
