"""Fragments: JSON form, round trips through the converter, finish reasons, tool arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import (
    Completion,
    FinishReason,
    InvalidToolArguments,
    TextDelta,
    ThoughtDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    ValidationError,
    converter,
    dump_fragment,
    load_fragment,
)
from jackfield._errors import format_path
from jackfield._fragments import Fragment
from tests.core.strategies import json_objects

small_text = st.text(max_size=10)
choices = st.integers(0, 3)
opt_ints = st.none() | st.integers(0, 10**6)

text_deltas = st.builds(TextDelta, small_text, choices)
thought_deltas = st.builds(ThoughtDelta, small_text, choices)
tool_call_deltas = st.builds(
    ToolCallDelta,
    st.integers(0, 5),
    st.none() | small_text,
    st.none() | small_text,
    small_text,
    choices,
)
tool_calls = st.builds(
    ToolCall, small_text, small_text, small_text, st.none() | small_text, choices, st.integers(0, 5)
)
usages = st.builds(Usage, opt_ints, opt_ints, opt_ints, opt_ints, opt_ints)
completions = st.builds(
    Completion,
    st.sampled_from(FinishReason),
    st.none() | small_text,
    st.none() | usages,
    st.none() | small_text,
    json_objects,
    choices,
)
fragments = st.one_of(text_deltas, thought_deltas, tool_call_deltas, tool_calls, completions)


def test_json_form_is_tagged_by_type_with_the_documented_fields() -> None:
    assert dump_fragment(TextDelta("hi")) == {"type": "text", "text": "hi", "choice": 0}
    assert dump_fragment(ThoughtDelta("hm", 1)) == {"type": "thought", "text": "hm", "choice": 1}
    assert dump_fragment(ToolCallDelta(0, "call_1", "get", '{"a"')) == {
        "type": "tool_call_delta",
        "index": 0,
        "id": "call_1",
        "name": "get",
        "arguments_delta": '{"a"',
        "choice": 0,
    }
    assert dump_fragment(ToolCall("call_1", "get", "{}", "mcp", 0, 0)) == {
        "type": "tool_call",
        "id": "call_1",
        "name": "get",
        "arguments": "{}",
        "source": "mcp",
        "choice": 0,
        "index": 0,
    }
    completion = Completion(
        FinishReason.LENGTH, "length", Usage(3, 4, 7, 1, 0), "qwen", {"predicted_ms": 1.5}
    )
    assert dump_fragment(completion) == {
        "type": "completion",
        "finish_reason": "length",
        "raw_finish_reason": "length",
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "total_tokens": 7,
            "cached_tokens": 1,
            "reasoning_tokens": 0,
        },
        "model": "qwen",
        "metrics": {"predicted_ms": 1.5},
        "choice": 0,
        "request_id": None,
    }


@given(fragments)
def test_every_fragment_round_trips_through_the_converter(fragment: Any) -> None:
    data = dump_fragment(fragment)
    assert data["type"] == jackfield._fragments.FRAGMENT_TAGS[type(fragment)]
    loaded = load_fragment(data)
    assert loaded == fragment
    if isinstance(fragment, Completion):
        assert type(loaded.finish_reason) is FinishReason  # type: ignore[union-attr]
    assert converter.structure(converter.unstructure(fragment, Fragment), Fragment) == fragment


def test_loading_does_not_modify_its_input() -> None:
    data = {"type": "text", "text": "hi", "choice": 0}
    load_fragment(data)
    assert data == {"type": "text", "text": "hi", "choice": 0}


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (
            {"type": "nope", "text": "x"},
            "$",
            "unknown type 'nope', expected one of 'text', 'thought', 'tool_call_delta', "
            "'tool_call', 'completion'",
        ),
        ({"text": "x"}, "$", "unknown type None, expected one of 'text'"),
        ({"type": "text", "text": 1}, "$.text", "expected a string, got int 1"),
        ({"type": "text", "text": "x", "extra": 1}, "$.extra", "unknown field 'extra'"),
        (
            {"type": "completion", "finish_reason": "meh"},
            "$.finish_reason",
            "expected one of 'stop', 'length', 'tool_calls', 'content_filter', 'error', 'other', "
            "got 'meh'",
        ),
        (["text"], "$", "expected an object with a 'type' key, got list"),
    ],
)
def test_loading_invalid_fragments_fails_clearly(data: Any, path: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_fragment(data)
    (issue,) = info.value.issues
    assert format_path(issue.path) == path
    assert issue.message.startswith(message)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stop", FinishReason.STOP),
        ("STOP", FinishReason.STOP),
        ("eos", FinishReason.STOP),
        ("length", FinishReason.LENGTH),
        ("tool_calls", FinishReason.TOOL_CALLS),
        ("tool_call", FinishReason.TOOL_CALLS),
        ("function_call", FinishReason.TOOL_CALLS),
        ("content_filter", FinishReason.CONTENT_FILTER),
        ("error", FinishReason.ERROR),
        ("abort", FinishReason.ERROR),
        ("something_new", FinishReason.OTHER),
        ("", None),
        ("null", None),
        (None, None),
    ],
)
def test_finish_reasons_are_normalised(raw: str | None, expected: FinishReason | None) -> None:
    assert FinishReason.normalise(raw) is expected


def test_tool_call_arguments_parse_or_fail_clearly() -> None:
    assert ToolCall("c1", "add", '{"a": 1}').parsed_arguments() == {"a": 1}
    assert ToolCall("c1", "add", "").parsed_arguments() == {}
    broken = ToolCall("c1", "add", '{"a": 1')
    assert not broken.arguments_valid
    with pytest.raises(InvalidToolArguments) as info:
        broken.parsed_arguments()
    assert isinstance(info.value, ValueError)
    assert "tool call 'c1' (add) has arguments that are not valid JSON" in str(info.value)
    assert info.value.arguments == '{"a": 1'


def test_fragments_are_frozen_and_hashable() -> None:
    delta = TextDelta("x")
    with pytest.raises(AttributeError):
        delta.text = "y"  # type: ignore[misc]
    completion = Completion(FinishReason.STOP, metrics={"a": [1]})
    assert hash(completion) == hash(Completion(FinishReason.STOP, metrics={"b": 2}))


def test_provider_facing_types_round_trip_through_the_converter() -> None:
    values: list[Any] = [
        jackfield.Capabilities(tools=True, max_context=4096),
        jackfield.ModelInfo(
            "m",
            8192,
            "chat",
            "vllm",
            1,
            True,
            ("alias",),
            jackfield.Capabilities(vision=True),
            {"max_model_len": 8192, "root": None},
        ),
        jackfield.Status(True, "llama.cpp", ("m",), ("m",), None, {"n_ctx": 1024}),
        jackfield.CredentialCheck(ok=False, kind="api_key", message="rejected"),
        jackfield.Embeddings(((0.5, -1.0), (0.25, 2.0)), "e", Usage(3, None, 3)),
        jackfield.Tool("f", "does f", {"type": "object", "properties": {}}, "mcp"),
    ]
    for value in values:
        data = converter.unstructure(value)
        assert json.loads(json.dumps(data)) == data  # plain JSON
        assert converter.structure(data, type(value)) == value
