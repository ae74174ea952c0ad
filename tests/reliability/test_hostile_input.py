"""Hostile and malformed input: fuzzed streams, chunks and config files, limits, deep nesting.

Whatever arrives, the outcome is fragments or a documented typed error: never another
exception, never a hang (hypothesis deadlines), never unbounded memory (caps checked with
tracemalloc). The number of examples each fuzz test ran goes into docs/reliability.md.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import (
    ConfigError,
    ConfigFileError,
    MalformedStreamError,
    OptionsError,
    ProviderError,
    Response,
    StreamLimitError,
    dump_fragment,
    load_config,
)
from jackfield.provider import Limits
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._parsers import SSEParser
from tests.reliability.evidence import count

fault = pytest.mark.reliability

# --- strategies: chunks that look like what servers send, then bent -------------------------

KEYS = [
    "choices", "delta", "message", "content", "role", "tool_calls", "function_call", "index",
    "id", "type", "function", "name", "arguments", "finish_reason", "usage", "prompt_tokens",
    "completion_tokens", "error", "message", "code", "reasoning_content", "reasoning",
    "timings", "model", "logprobs", "refusal", "x",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["stop", "length", "tool_calls", "<think>", "</think>", "{", '{"a":1}'])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=30,
)
deltas = st.fixed_dictionaries(
    {},
    optional={
        "content": st.text(max_size=10) | json_values,
        "reasoning_content": st.text(max_size=10),
        "tool_calls": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "index": st.integers(-2, 3) | json_values,
                    "id": st.sampled_from(["a", "b"]) | json_values,
                    "function": st.fixed_dictionaries(
                        {},
                        optional={
                            "name": st.sampled_from(["f", "g"]) | json_values,
                            "arguments": st.sampled_from(['{"x":', "1}", "{}"]) | json_values,
                        },
                    )
                    | json_values,
                },
            )
            | json_values,
            max_size=3,
        ),
    },
)
choices = st.fixed_dictionaries(
    {},
    optional={
        "index": st.integers(-1, 3) | json_values,
        "delta": deltas | json_values,
        "finish_reason": st.sampled_from(["stop", "length", None, "tool_calls"]) | json_values,
    },
)
chunks = (
    st.fixed_dictionaries(
        {},
        optional={
            "choices": st.lists(choices, max_size=3) | json_values,
            "usage": st.fixed_dictionaries({"completion_tokens": json_values}) | json_values,
            "error": json_values,
            "timings": json_values,
            "model": json_values,
        },
    )
    | json_values
)


def event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def run_parser(pieces: list[bytes], limits: Limits | None = None) -> list[Any]:
    """Feed pieces as the HTTP loop does; return the fragments, raise only typed errors."""
    limits = limits or Limits()
    parser = SSEParser(ChunkAssembler(limits=limits), max_event_size=limits.event_bytes)
    out: list[Any] = []
    for piece in pieces:
        out += parser.feed(piece)
        if parser.error is not None:
            raise parser.error
    out += parser.close()
    return out


def check_outcome(pieces: list[bytes], limits: Limits | None = None) -> None:
    try:
        fragments = run_parser(pieces, limits)
    except ProviderError:
        return  # MalformedStreamError, StreamLimitError, TruncatedStreamError, server errors
    response = Response.fold(fragments)
    assert response.choices  # every answer has a choice, and each choice ended once
    assert all(choice.completion is not None for choice in response.choices)
    for fragment in fragments:
        orjson.dumps(dump_fragment(fragment))  # every fragment can be shown as JSON


# --- fuzzing -------------------------------------------------------------------------------


@fault(
    "fuzz", "arbitrary bytes as a chat stream, split anywhere", "fragments or a typed ProviderError"
)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_arbitrary_bytes_as_a_stream(raw: bytes, cuts: list[int]) -> None:
    count("fuzz examples: arbitrary bytes as a stream")
    check_outcome(cut(raw, cuts))


@fault(
    "fuzz",
    "arbitrary JSON chunks in well-formed SSE, split anywhere",
    "fragments (folding into one Response) or a typed ProviderError",
)
@given(st.lists(chunks, max_size=6), st.booleans(), st.lists(st.integers(0, 2000), max_size=6))
def test_arbitrary_json_chunks(payloads: list[Any], done: bool, cuts: list[int]) -> None:
    count("fuzz examples: JSON chunks")
    data = b"".join(event(p) for p in payloads) + (b"data: [DONE]\n\n" if done else b"")
    check_outcome(cut(data, cuts))


@fault(
    "fuzz",
    "JSON chunks with small caps on events, choices, tool calls, arguments",
    "fragments or StreamLimitError / another typed error",
)
@given(st.lists(chunks, max_size=6), st.lists(st.integers(0, 2000), max_size=4))
def test_arbitrary_json_chunks_under_small_caps(payloads: list[Any], cuts: list[int]) -> None:
    count("fuzz examples: JSON chunks under small caps")
    limits = Limits(event_bytes=80, choices=2, tool_calls=2, tool_argument_chars=8)
    data = b"".join(event(p) for p in payloads) + b"data: [DONE]\n\n"
    check_outcome(cut(data, cuts), limits)


TOML_PIECES = st.sampled_from(
    [
        "[instances.a]\n", "provider = \"openai-compatible\"\n", "[agents.b]\n",
        "instance = \"a\"\n", "model = \"m\"\n", "[agents.b.options]\n", "temperature = 2\n",
        "options = { extra_body = { x = [1, 2] } }\n", "api_key = { env = \"K\" }\n",
        "api_key = { file = \"/nonexistent\" }\n", "timeouts = { idle = -1 }\n", "= 3\n",
        "[[agents]]\n", "system = \"\"\"\n", "x = [[[[\n", "base_url = 7\n", "\"\\u0000\" = 1\n",
    ]
)  # fmt: skip


@fault(
    "fuzz",
    "arbitrary and TOML-like config files",
    "a Config, or ConfigFileError listing file, line and key",
)
@given(pieces=st.lists(TOML_PIECES | st.text(max_size=20), max_size=12))
def test_arbitrary_config_files(pieces: list[str], tmp_path_factory: Any) -> None:
    count("fuzz examples: config files")
    path = tmp_path_factory.mktemp("cfg") / "jackfield.toml"
    path.write_text("".join(pieces), encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigError as exc:
        problem = exc
    else:
        return
    assert isinstance(problem, ConfigFileError)
    assert str(path) in str(problem)


# --- limits ---------------------------------------------------------------------------------


def tool_delta(index: int, arguments: str, call_id: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        call.update(id=call_id, function={"name": "f", "arguments": arguments})
    return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}


@fault("limits", "more tool calls than limits.tool_calls", "StreamLimitError naming the cap")
def test_more_tool_calls_than_the_cap() -> None:
    events = [event(tool_delta(i, "{}", f"c{i}")) for i in range(5)]
    with pytest.raises(StreamLimitError, match=r"more than 3 tool calls \(limits.tool_calls\)"):
        run_parser(events, Limits(tool_calls=3))


@fault("limits", "more choices than limits.choices", "StreamLimitError naming the cap")
def test_more_choices_than_the_cap() -> None:
    payload = {"choices": [{"index": i, "delta": {"content": "x"}} for i in range(4)]}
    with pytest.raises(StreamLimitError, match=r"more than 2 choices \(limits.choices\)"):
        run_parser([event(payload)], Limits(choices=2))


@fault(
    "limits",
    "tool-call arguments longer than limits.tool_argument_chars, in 10,000 pieces",
    "StreamLimitError; linear time",
)
def test_tool_arguments_longer_than_the_cap() -> None:
    pieces = [event(tool_delta(0, "", "c0"))] + [event(tool_delta(0, "ab")) for _ in range(10_000)]
    with pytest.raises(StreamLimitError, match=r"longer than 15000 characters"):
        run_parser(pieces, Limits(tool_argument_chars=15_000))


@fault(
    "limits",
    "one SSE line of 50 MB, no line end, under a 64 KB cap",
    "StreamLimitError; memory stays near the cap",
)
def test_an_endless_line_is_bounded_in_memory() -> None:
    block = b"data: " + b"x" * (1024 * 1024)
    parser = SSEParser(ChunkAssembler(), max_event_size=64 * 1024)
    fed = 0
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        with pytest.raises(StreamLimitError):  # noqa: PT012 - the loop is what is tested
            while fed < 50:
                fed += 1
                parser.feed(block)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not tracing:
            tracemalloc.stop()
    assert fed == 1  # refused at the first megabyte
    assert peak < 8 * 1024 * 1024  # the 1 MB block and its decoded copy, not 50 MB


@fault("limits", "/v1/models answer larger than limits.body_bytes", "ServerError naming the cap")
def test_a_models_answer_larger_than_the_cap() -> None:
    from jackfield.testing.transcripts import Transcript
    from tests.providers.openai.conftest import replay_provider

    huge = {"object": "list", "data": [{"id": "m" * 100, "object": "model"}] * 2000}
    transcript = Transcript(200, (("content-type", "application/json"),), json.dumps(huge).encode())
    provider, _ = replay_provider(transcript, limits={"body_bytes": 4096})
    with pytest.raises(ProviderError, match="larger than 4096 bytes"):
        provider.list_models()


@fault(
    "limits",
    "a limit set to zero, negative or not a number",
    "OptionsError naming the limit and the layer",
)
@pytest.mark.parametrize(
    ("value", "message"),
    [(0, r"limits\.choices: must be a positive number, got 0"), ("x", "expected an integer")],
)
def test_a_bad_limit_is_an_options_error(value: Any, message: str) -> None:
    with pytest.raises(OptionsError, match=message) as info:
        jackfield.load_registry().create("openai-compatible", {"limits": {"choices": value}})
    assert info.value.issues[0].path[0] == "limits"
    assert info.value.issues[0].layer == "instance:openai-compatible"


# --- deep nesting ---------------------------------------------------------------------------


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_objects(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@fault(
    "nesting", "a chunk nested 100,000 levels deep", "MalformedStreamError (not a RecursionError)"
)
def test_a_chunk_nested_deeper_than_any_parser_allows() -> None:
    data = b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"
    with pytest.raises(MalformedStreamError):
        run_parser([data])


@pytest.mark.parametrize("where", ["content", "arguments", "timings", "error"])
@fault(
    "nesting",
    "JSON nested 1,000 deep in content, tool arguments, timings or an error",
    "fragments or a typed error; the process goes on",
)
def test_deep_json_inside_a_chunk(where: str) -> None:
    chunk: dict[str, Any] = {"choices": [{"index": 0, "delta": {"content": "DEEP"}}]}
    if where == "arguments":
        chunk = tool_delta(0, "", "c0")
        chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] = "DEEP"
    elif where == "timings":
        chunk["timings"] = {"deep": "DEEP"}
    elif where == "error":
        chunk = {"error": {"message": "DEEP"}}
    deep = "[" * 1000 + "1" + "]" * 1000  # within orjson's limit, beyond Python's json
    data = b"data: " + json.dumps(chunk).replace('"DEEP"', deep).encode() + b"\n\n"
    check_outcome([data, event({"choices": [{"index": 0, "finish_reason": "stop"}]})])


@fault(
    "nesting",
    "extra_body nested 10,000 levels deep, from a call",
    "OptionsError at the path, naming the layer",
)
def test_deep_extra_body_is_an_options_error() -> None:
    provider = jackfield.load_registry().create("openai-compatible", {})
    with pytest.raises(OptionsError) as info:
        provider.dry_run("hi", extra_body=nested_objects(10_000))
    assert "nested more than 100 levels deep" in str(info.value)
    assert info.value.issues[0].layer == "call"


@fault("nesting", "a config file with arrays nested 100,000 deep", "ConfigFileError, not a crash")
def test_a_deeply_nested_config_file(tmp_path: Path) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="nested too deeply"):
        load_config(path)
