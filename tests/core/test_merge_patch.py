"""merge_patch: RFC 7396 examples and algebraic laws."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given

from jackfield._options import merge_patch
from tests.core.strategies import json_objects, json_values

# RFC 7396, Appendix A, verbatim.
RFC_EXAMPLES = [
    ('{"a":"b"}', '{"a":"c"}', '{"a":"c"}'),
    ('{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'),
    ('{"a":"b"}', '{"a":null}', "{}"),
    ('{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'),
    ('{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'),
    ('{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'),
    ('{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'),
    ('{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'),
    ('["a","b"]', '["c","d"]', '["c","d"]'),
    ('{"a":"b"}', '["c"]', '["c"]'),
    ('{"a":"foo"}', "null", "null"),
    ('{"a":"foo"}', '"bar"', '"bar"'),
    ('{"e":null}', '{"a":1}', '{"e":null,"a":1}'),
    ("[1,2]", '{"a":"b","c":null}', '{"a":"b"}'),
    ("{}", '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_EXAMPLES)
def test_rfc7396_examples(target: str, patch: str, expected: str) -> None:
    assert merge_patch(json.loads(target), json.loads(patch)) == json.loads(expected)


def test_nested_stream_options_partially_overridden() -> None:
    host = {"stream_options": {"include_usage": True, "continuous_usage_stats": False}}
    agent = {"stream_options": {"continuous_usage_stats": True}}
    assert merge_patch(host, agent) == {
        "stream_options": {"include_usage": True, "continuous_usage_stats": True}
    }


def test_nulls_inside_arrays_are_kept() -> None:
    assert merge_patch({}, {"stop": [None, "x"]}) == {"stop": [None, "x"]}


def test_result_shares_no_containers_with_inputs() -> None:
    target: dict[str, Any] = {"keep": {"deep": [1]}}
    patch: dict[str, Any] = {"new": {"list": [{"x": 1}]}}
    result = merge_patch(target, patch)
    result["keep"]["deep"].append(2)
    result["new"]["list"][0]["x"] = 99
    assert target == {"keep": {"deep": [1]}}
    assert patch == {"new": {"list": [{"x": 1}]}}


@given(json_objects)
def test_empty_patch_is_identity_on_objects(target: dict[str, Any]) -> None:
    assert merge_patch(target, {}) == target


@given(json_values, json_values)
def test_applying_a_patch_twice_equals_once(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@given(json_values, json_values)
def test_inputs_are_never_mutated(target: Any, patch: Any) -> None:
    before = copy.deepcopy((target, patch))
    merge_patch(target, patch)
    assert (target, patch) == before


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            out += _leaves(item, (*path, key))
        return out
    return [(path, value)]


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


@given(json_objects, json_objects)
def test_patch_wins_on_every_leaf_it_sets_and_null_deletes(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge_patch(target, patch)
    for path, value in _leaves(patch):
        if not path:
            continue
        parent = _get(result, path[:-1])
        if value is None:
            assert path[-1] not in parent
        elif value != {}:
            assert parent[path[-1]] == value


@given(json_objects, json_objects)
def test_keys_the_patch_does_not_mention_survive(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge_patch(target, patch)
    for key, value in target.items():
        if key not in patch:
            assert result[key] == value
