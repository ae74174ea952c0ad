"""resolve(): layered merge with provenance, and explain()."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import ConfigError
from jackfield._errors import format_path
from jackfield._options import merge_patch, resolve
from tests.core.strategies import json_objects


def test_worked_example_from_the_docs() -> None:
    resolved = resolve(
        ("defaults", {"temperature": 0.8, "extra_body": {"cache_prompt": True, "top_k": 40}}),
        ("host:local", {"extra_body": {"samplers": ["top_k", "min_p"]}}),
        ("agent:coder", {"temperature": 0.2, "extra_body": {"top_k": None}}),
        ("call", {"max_tokens": 64}),
    )
    assert resolved.value == {
        "temperature": 0.2,
        "extra_body": {"cache_prompt": True, "samplers": ["top_k", "min_p"]},
        "max_tokens": 64,
    }
    assert resolved.source(["temperature"]) == "agent:coder"
    assert resolved.source(["extra_body", "cache_prompt"]) == "defaults"
    assert resolved.source(["extra_body", "samplers", 1]) == "host:local"
    assert resolved.source(["extra_body", "top_k"]) is None
    assert resolved.layers == ("defaults", "host:local", "agent:coder", "call")
    assert resolved.explain().splitlines() == [
        "temperature             = 0.2                 <- agent:coder",
        "extra_body.cache_prompt = true                <- defaults",
        'extra_body.samplers     = ["top_k", "min_p"]  <- host:local',
        "max_tokens              = 64                  <- call",
    ]


def test_explain_marks_values_no_layer_set_as_defaults() -> None:
    resolved = resolve(("host", {"model": "m"}))
    effective = {"model": "m", "temperature": None}
    assert resolved.explain(effective).splitlines() == [
        'model       = "m"   <- host',
        "temperature = null  <- (default)",
    ]


def test_explain_with_nothing_set() -> None:
    assert resolve().explain() == "(no options set)"


def test_replacing_an_object_with_a_scalar_forgets_its_leaves() -> None:
    resolved = resolve(("a", {"x": {"y": 1, "z": 2}}), ("b", {"x": 5}), ("c", {"x": {"w": 1}}))
    assert resolved.value == {"x": {"w": 1}}
    assert dict(resolved.provenance) == {("x",): "c", ("x", "w"): "c"}


def test_empty_object_created_by_a_layer_is_attributed_to_it() -> None:
    resolved = resolve(("a", {"extra_body": {}}))
    assert resolved.value == {"extra_body": {}}
    assert resolved.source(["extra_body"]) == "a"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ((("host", ["not", "a", "mapping"]),), "layer 'host': options must be a mapping, got list"),
        ((("host", {1: "x"}),), "$: option keys must be strings, got 1 (set by layer 'host')"),
        (
            (("host", {"a": {2: "x"}}),),
            "$.a: option keys must be strings, got 2 (set by layer 'host')",
        ),
        (({"not": "a pair"},), "a layer is a (name, mapping) pair"),
    ],
)
def test_malformed_layers_are_config_errors(layers: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(*layers)
    assert message in str(info.value)


def test_format_path() -> None:
    assert format_path(["extra_body", "samplers", 2]) == "$.extra_body.samplers[2]"
    assert format_path(["headers", "X-Api-Key"]) == "$.headers.X-Api-Key"
    assert format_path(["odd key", 0]) == '$["odd key"][0]'
    assert format_path(["a", "b"], root="") == "a.b"
    assert format_path([]) == "$"


layer_stacks = st.lists(
    st.tuples(st.sampled_from(["defaults", "host", "agent", "call", "x"]), json_objects),
    max_size=5,
)


def _leaf_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    return [path]


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


_MISSING = object()


def _sets(patch: Any, path: tuple[str, ...], before: Any) -> bool:
    """Whether a layer's patch writes the leaf at ``path``.

    A scalar or array leaf is written by a non-null value at that path; an empty-object leaf
    is written by the patch that created the object there (an object patch merged into an
    existing object changes nothing).
    """
    written = _lookup(patch, path)
    if written is _MISSING or written is None:
        return False
    if isinstance(written, dict):
        return not isinstance(_lookup(before, path), dict)
    return True


@given(layer_stacks)
def test_value_is_the_fold_of_merge_patch(layers: list[tuple[str, dict[str, Any]]]) -> None:
    expected: Any = {}
    for _, patch in layers:
        expected = merge_patch(expected, patch)
    assert resolve(*layers).value == expected


@given(layer_stacks)
def test_provenance_names_the_last_layer_that_set_each_leaf(
    layers: list[tuple[str, dict[str, Any]]],
) -> None:
    resolved = resolve(*[(f"{i}:{name}", patch) for i, (name, patch) in enumerate(layers)])
    befores: list[Any] = [{}]
    for _, patch in layers:
        befores.append(merge_patch(befores[-1], patch))
    for path in _leaf_paths(resolved.value):
        if not path:
            continue
        setters = [i for i, (_, patch) in enumerate(layers) if _sets(patch, path, befores[i])]
        assert setters, path
        assert resolved.source(path) == f"{setters[-1]}:{layers[setters[-1]][0]}"
