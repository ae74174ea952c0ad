"""The chunk assembler: every dialect rule, on decoded chunks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import (
    AuthenticationError,
    Completion,
    ContextLengthError,
    FinishReason,
    MalformedStreamError,
    Response,
    ServerError,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    TruncatedStreamError,
    Usage,
)
from jackfield._fragments import Fragment
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._toolnames import ToolNames


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields}]}


def finish(reason: str | None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}], **extra}


def tc(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    args: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    call: dict[str, Any] = {"function": {}}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"] = id
        call["type"] = "function"
    if name is not None:
        call["function"]["name"] = name
    if args is not None:
        call["function"]["arguments"] = args
    call.update(extra)
    return call


def assemble(*chunks: dict[str, Any], clean: bool = True, **options: Any) -> list[Fragment]:
    assembler = ChunkAssembler(**options)
    out: list[Fragment] = []
    for chunk in chunks:
        out += assembler.chunk(chunk)
    return out + assembler.finish(clean=clean)


def fold(*chunks: dict[str, Any], **options: Any) -> Response:
    return Response.fold(assemble(*chunks, **options))


# --- text, reasoning ----------------------------------------------------------------------


def test_plain_text_stream() -> None:
    fragments = assemble(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}], "model": "m"},
        delta(content="Hel"),
        delta(content=""),
        delta(content="lo"),
        finish("stop"),
    )
    assert fragments == [
        TextDelta("Hel"),
        TextDelta("lo"),
        Completion(FinishReason.STOP, "stop", None, "m", {}),
    ]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "thinking"])
def test_reasoning_fields(field: str) -> None:
    response = fold(delta(**{field: "hmm"}), delta(content="ok"), finish("stop"))
    assert (response.thoughts, response.text) == ("hmm", "ok")


def test_the_first_reasoning_field_wins_when_a_server_sends_two() -> None:
    response = fold(delta(reasoning_content="a", reasoning="a"), finish("stop"))
    assert response.thoughts == "a"


def test_sglang_style_deltas_full_of_nulls() -> None:
    null_delta = {"role": None, "content": None, "reasoning_content": None, "tool_calls": None}
    response = fold(
        {"choices": [{"index": 0, "delta": {**null_delta, "content": "x"}, "finish_reason": None}]},
        {
            "choices": [
                {"index": 0, "delta": null_delta, "finish_reason": "stop", "matched_stop": 1}
            ]
        },
    )
    assert response.text == "x"
    assert response.completion is not None
    assert response.completion.metrics["matched_stop"] == 1


def test_think_tags_become_thoughts() -> None:
    response = fold(
        delta(content="<thi"),
        delta(content="nk>plan</think>\n\nAns"),
        delta(content="wer"),
        finish("stop"),
    )
    assert (response.thoughts, response.text) == ("plan", "Answer")


def test_think_tags_off() -> None:
    response = fold(delta(content="<think>plan</think>x"), finish("stop"), think_tags="off")
    assert (response.thoughts, response.text) == ("", "<think>plan</think>x")


def test_think_block_opened_by_the_template() -> None:
    response = fold(
        delta(content="plan</think>"), delta(content="Answer"), finish("stop"), think_tags="open"
    )
    assert (response.thoughts, response.text) == ("plan", "Answer")


def test_no_duplicate_when_a_server_sends_both_field_and_tags() -> None:
    response = fold(
        delta(reasoning_content="plan"),
        delta(content="<think>plan</think>"),
        delta(content="Answer"),
        finish("stop"),
    )
    assert (response.thoughts, response.text) == ("plan", "Answer")


def test_no_duplicate_when_tags_come_before_the_field() -> None:
    response = fold(
        delta(content="<think>plan</think>Answer"), delta(reasoning_content="plan"), finish("stop")
    )
    assert (response.thoughts, response.text) == ("plan", "Answer")


def test_an_unfinished_think_tag_is_flushed_at_the_end() -> None:
    response = fold(delta(content="a <thi"), finish("stop"))
    assert response.text == "a <thi"


def test_refusals_are_text() -> None:
    assert fold(delta(refusal="I can't."), finish("stop")).text == "I can't."


def test_content_as_a_list_of_parts() -> None:
    assert (
        fold(
            delta(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]),
            finish("stop"),
        ).text
        == "ab"
    )


# --- tool calls -----------------------------------------------------------------------------


def calls(response: Response) -> list[tuple[str, str, str]]:
    return [(c.id, c.name, c.arguments) for c in response.tool_calls]


def test_openai_incremental_tool_call() -> None:
    fragments = assemble(
        delta(tool_calls=[tc(0, "call_1", "get_weather", "")]),
        delta(tool_calls=[tc(0, args='{"city":')]),
        delta(tool_calls=[tc(0, args=' "Paris"}')]),
        finish("tool_calls"),
    )
    assert fragments[:3] == [
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(0, None, None, '{"city":'),
        ToolCallDelta(0, None, None, ' "Paris"}'),
    ]
    assert fragments[3] == ToolCall("call_1", "get_weather", '{"city": "Paris"}')
    assert fragments[4].finish_reason is FinishReason.TOOL_CALLS  # type: ignore[union-attr]


def test_parallel_calls_with_indexes() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "a", "f", '{"x"'), tc(1, "b", "g", '{"y"')]),
        delta(tool_calls=[tc(1, args=": 2}"), tc(0, args=": 1}")]),
        finish("tool_calls"),
    )
    assert calls(response) == [("a", "f", '{"x": 1}'), ("b", "g", '{"y": 2}')]
    assert [c.index for c in response.tool_calls] == [0, 1]


def test_missing_index() -> None:
    response = fold(
        delta(tool_calls=[tc(None, "a", "f", '{"x"')]),
        delta(tool_calls=[tc(None, args=": 1}")]),
        delta(tool_calls=[tc(None, "b", "g", "{}")]),
        finish("tool_calls"),
    )
    assert calls(response) == [("a", "f", '{"x": 1}'), ("b", "g", "{}")]


def test_missing_index_and_ids_a_new_name_starts_a_new_call() -> None:
    response = fold(
        delta(tool_calls=[tc(None, None, "f", '{"x": 1}')]),
        delta(tool_calls=[tc(None, None, "g", "{}")]),
        finish("tool_calls"),
    )
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("f", '{"x": 1}'), ("g", "{}")]
    assert [c.id for c in response.tool_calls] == ["call_0_0", "call_0_1"]


def test_ollama_reuses_index_zero_with_new_ids() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "call_aaaa", "f", '{"x": 1}')]),
        delta(tool_calls=[tc(0, "call_bbbb", "g", '{"y": 2}')]),
        finish("tool_calls"),
    )
    assert calls(response) == [("call_aaaa", "f", '{"x": 1}'), ("call_bbbb", "g", '{"y": 2}')]


def test_first_index_not_zero() -> None:
    response = fold(
        delta(tool_calls=[tc(3, "a", "f", "{")]),
        delta(tool_calls=[tc(3, args="}")]),
        finish("tool_calls"),
    )
    assert calls(response) == [("a", "f", "{}")]
    assert response.tool_calls[0].index == 0


def test_null_id_and_type_on_later_deltas() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "a", "f", "{")]),
        delta(
            tool_calls=[
                {"index": 0, "id": None, "type": None, "function": {"name": None, "arguments": "}"}}
            ]
        ),
        finish("tool_calls"),
    )
    assert calls(response) == [("a", "f", "{}")]


def test_arguments_folded_into_the_finish_chunk() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "a", "f", '{"x"')]),
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [tc(0, args=": 1}")]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
    )
    assert calls(response) == [("a", "f", '{"x": 1}')]


def test_first_delta_with_arguments_but_no_name() -> None:
    fragments = assemble(
        delta(tool_calls=[tc(0, args='{"x"')]),
        delta(tool_calls=[tc(0, "a", "f", ": 1}")]),
        finish("tool_calls"),
    )
    assert fragments[0] == ToolCallDelta(0, None, None, '{"x"')
    assert fragments[1] == ToolCallDelta(0, "a", "f", ": 1}")
    assert calls(Response.fold(fragments)) == [("a", "f", '{"x": 1}')]


def test_the_same_id_for_every_call_is_made_unique() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "req-1", "f", "{}")]),
        delta(tool_calls=[tc(1, "req-1", "g", "{}")]),
        delta(tool_calls=[tc(2, "req-1", "h", "{}")]),
        finish("function_call"),
    )
    assert [c.id for c in response.tool_calls] == ["req-1", "req-1_2", "req-1_3"]
    assert response.finish_reason is FinishReason.TOOL_CALLS


def test_whole_calls_in_the_finish_chunk() -> None:
    response = fold(
        delta(content=""),
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            tc(0, "call_1", "f", '{"a": 1}'),
                            tc(1, "call_2", "g", '{"b": 2}'),
                        ]
                    },
                    "finish_reason": "tool_calls",
                }
            ]
        },
    )
    assert calls(response) == [("call_1", "f", '{"a": 1}'), ("call_2", "g", '{"b": 2}')]


def test_whole_arguments_sent_again_are_not_doubled() -> None:
    response = fold(
        delta(tool_calls=[tc(0, "a", "f", '{"x": 1}')]),
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [tc(0, args='{"x": 1}')]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
    )
    assert calls(response) == [("a", "f", '{"x": 1}')]


def test_invalid_json_arguments_are_kept_raw() -> None:
    response = fold(delta(tool_calls=[tc(0, "a", "f", '{"x": ')]), finish("tool_calls"))
    (call,) = response.tool_calls
    assert call.arguments == '{"x": '
    assert not call.arguments_valid


def test_arguments_given_as_an_object() -> None:
    response = fold(delta(tool_calls=[tc(0, "a", "f", {"x": 1})]), finish("tool_calls"))  # type: ignore[arg-type]
    assert calls(response) == [("a", "f", '{"x": 1}')]


def test_legacy_function_call() -> None:
    response = fold(
        delta(function_call={"name": "f", "arguments": '{"a"'}),
        delta(function_call={"arguments": ": 1}"}),
        finish("function_call"),
    )
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("f", '{"a": 1}')]


def test_named_tool_choice_finishing_with_stop_is_reported_as_tool_calls() -> None:
    response = fold(delta(tool_calls=[tc(0, "a", "f", "{}")]), finish("stop"))
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.completion is not None
    assert response.completion.raw_finish_reason == "stop"


def test_calls_are_drained_at_the_end_without_a_finish_reason() -> None:
    response = fold(delta(tool_calls=[tc(0, "a", "f", "{}")]))
    assert calls(response) == [("a", "f", "{}")]
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.completion is not None
    assert response.completion.raw_finish_reason is None


def test_tool_names_from_several_sources_split_back() -> None:
    names = ToolNames([Tool("search", source="web"), Tool("search", source="files")])
    wire = names.wire("files", "search")
    fragments = assemble(
        delta(tool_calls=[tc(0, "a", wire, "{}")]), finish("tool_calls"), tool_names=names
    )
    assert fragments[0] == ToolCallDelta(0, "a", "search", "{}")
    assert fragments[1] == ToolCall("a", "search", "{}", "files")


# --- finish reasons, usage, metrics -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason", "kept"),
    [
        ("stop", FinishReason.STOP, "stop"),
        ("length", FinishReason.LENGTH, "length"),
        ("", FinishReason.STOP, None),
        ("null", FinishReason.STOP, None),
        (None, FinishReason.STOP, None),
        ("abort", FinishReason.ERROR, "abort"),
        ("error", FinishReason.ERROR, "error"),
        ("eos_token", FinishReason.STOP, "eos_token"),
        ("weird", FinishReason.OTHER, "weird"),
    ],
)
def test_finish_reasons(raw: str | None, reason: FinishReason, kept: str | None) -> None:
    completion = fold(delta(content="x"), finish(raw)).completion
    assert completion is not None
    assert (completion.finish_reason, completion.raw_finish_reason) == (reason, kept)


def test_the_last_finish_reason_wins() -> None:
    completion = fold(finish("stop"), finish("length")).completion
    assert completion is not None
    assert completion.raw_finish_reason == "length"


def test_vllm_stop_reason_is_kept_in_metrics() -> None:
    completion = fold(
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": 128009}]}
    ).completion
    assert completion is not None
    assert completion.metrics["stop_reason"] == 128009


@pytest.mark.parametrize(
    "chunks",
    [
        # trailer with empty choices (OpenAI, vLLM, llama.cpp)
        [
            finish("stop"),
            {
                "choices": [],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
        ],
        # usage on the finish chunk (older llama.cpp)
        [finish("stop", usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})],
        # TabbyAPI: finish reason moves to the usage chunk, usage numbers as strings/floats
        [
            delta(content="x"),
            {
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": "3", "completion_tokens": 2.0, "total_tokens": None},
            },
        ],
        # text-generation-webui: usage null on every chunk, then the trailer
        [
            {**delta(content="x"), "usage": None},
            {**finish("stop"), "usage": None},
            {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
        ],
    ],
)
def test_usage_wherever_the_server_puts_it(chunks: list[dict[str, Any]]) -> None:
    assert fold(*chunks).usage == Usage(3, 2, 5, None, None)


def test_cached_and_reasoning_tokens() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 8},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    assert fold(finish("stop", usage=usage)).usage == Usage(10, 5, 15, 8, 3)


def test_llama_cpp_timings_are_metrics_and_cache_n_is_cached_tokens() -> None:
    timings = {"cache_n": 7, "prompt_n": 3, "predicted_n": 2, "predicted_per_second": 40.5}
    response = fold(
        finish("stop", timings=timings, usage={"prompt_tokens": 10, "completion_tokens": 2}),
    )
    assert response.usage == Usage(10, 2, 12, 7, None)
    assert response.completion is not None
    assert response.completion.metrics == timings


def test_model_and_fingerprint() -> None:
    completion = fold(
        {
            **finish("stop"),
            "model": "gpt-x",
            "system_fingerprint": "fp_1",
            "service_tier": "default",
        }
    ).completion
    assert completion is not None
    assert completion.model == "gpt-x"
    assert completion.metrics == {"system_fingerprint": "fp_1", "service_tier": "default"}


def test_logprobs_are_collected() -> None:
    entry = {"token": "a", "logprob": -0.1, "top_logprobs": []}
    completion = fold(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "a"},
                    "logprobs": {"content": [entry]},
                    "finish_reason": None,
                }
            ]
        },
        finish("stop"),
    ).completion
    assert completion is not None
    assert completion.metrics["logprobs"] == [entry]


@pytest.mark.parametrize("started", [False, True])
def test_logprobs_are_kept_when_a_choice_has_no_finish_reason_key(started: bool) -> None:
    """LiteLLM streams choices as exactly ``{index, delta, logprobs}``: three keys, one of them
    an extra the general path must read, so no fast path may take it."""
    entry = {"token": "b", "logprob": -0.2, "top_logprobs": []}
    opening = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunk = {"choices": [{"index": 0, "delta": {"content": "b"}, "logprobs": {"content": [entry]}}]}
    completion = fold(*(opening if started else []), chunk, finish("stop")).completion
    assert completion is not None
    assert completion.metrics["logprobs"] == [entry]


def test_extras_given_as_null_leave_the_fast_path_open() -> None:
    assembler = ChunkAssembler(think_tags="off")
    assembler.chunk({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
    nulls = {"index": 0, "delta": {"content": "c"}, "logprobs": None, "finish_reason": None}
    assert assembler.text_only({"choices": [nulls], "usage": None}) == TextDelta("c")
    assert GeneralPathOnly(think_tags="off").text_only({"choices": [nulls]}) is None


def test_several_choices_each_get_one_completion() -> None:
    fragments = assemble(
        {
            "choices": [
                {"index": 0, "delta": {"content": "a"}},
                {"index": 1, "delta": {"content": "b"}},
            ]
        },
        {"choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    )
    completions = [f for f in fragments if isinstance(f, Completion)]
    assert [(c.choice, c.finish_reason) for c in completions] == [
        (0, FinishReason.STOP),
        (1, FinishReason.LENGTH),
    ]
    assert all(c.usage == Usage(1, 2, 3) for c in completions)


def test_non_chunk_events_are_ignored() -> None:
    response = fold(delta(content="a"), {"type": "mcp_tool_result", "result": {}}, finish("stop"))
    assert response.text == "a"


# --- the end, and errors ----------------------------------------------------------------------


def test_a_stream_cut_before_the_finish_is_truncated() -> None:
    assembler = ChunkAssembler(label="local")
    assembler.chunk(delta(content="par"))
    with pytest.raises(
        TruncatedStreamError, match="local: the stream ended before the answer finished"
    ):
        assembler.finish(clean=False)


def test_an_empty_stream_is_truncated() -> None:
    with pytest.raises(TruncatedStreamError, match="before any answer"):
        ChunkAssembler().finish(clean=False)


def test_eof_after_the_finish_reason_is_fine() -> None:
    assert fold(delta(content="x"), finish("stop"), clean=False).text == "x"


def test_done_without_any_choice_is_an_empty_answer() -> None:
    (completion,) = assemble()
    assert completion == Completion(FinishReason.STOP, None, None, None, {})


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        ({"message": "boom", "type": "server_error", "code": 500}, ServerError, "boom"),
        ("Unauthorized", ServerError, "Unauthorized"),
        ({"message": "bad key", "code": 401}, AuthenticationError, "bad key"),
        (
            {
                "message": "too long",
                "type": "exceed_context_size_error",
                "code": 400,
                "n_prompt_tokens": 9000,
                "n_ctx": 4096,
            },
            ContextLengthError,
            "too long",
        ),
    ],
)
def test_errors_inside_the_stream(error: Any, kind: type, message: str) -> None:
    assembler = ChunkAssembler(label="local")
    with pytest.raises(kind) as info:
        assembler.chunk({"error": error})
    assert str(info.value).startswith(f"local: {message}")
    if kind is ContextLengthError:
        assert (info.value.prompt_tokens, info.value.context_length) == (9000, 4096)


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ([1, 2], "expected a JSON object in the stream, got list"),
        ({"choices": "x"}, "'choices' is not a list"),
        ({"choices": [1]}, "a choice is not an object"),
        ({"choices": [{"delta": "x"}]}, "a delta is not an object"),
        ({"choices": [{"delta": {"tool_calls": {"a": 1}}}]}, "'tool_calls' is not a list"),
        ({"choices": [{"delta": {"tool_calls": [1]}}]}, "a tool call is not an object"),
    ],
)
def test_malformed_chunks(chunk: Any, message: str) -> None:
    with pytest.raises(MalformedStreamError, match=message):
        ChunkAssembler().chunk(chunk)


# --- properties ------------------------------------------------------------------------------

texts = st.text(alphabet='ab {}":', max_size=6)
tool_deltas = st.builds(
    lambda i, first, args: tc(i, f"id{i}" if first else None, f"fn{i}" if first else None, args),
    st.integers(0, 2),
    st.booleans(),
    texts,
)
deltas = st.one_of(
    st.builds(lambda t: delta(content=t), texts),
    st.builds(lambda t: delta(reasoning_content=t), texts),
    st.builds(lambda d: delta(tool_calls=[d]), tool_deltas),
)


@given(st.lists(deltas, max_size=25))
def test_folded_response_adds_up_the_deltas(chunks: list[dict[str, Any]]) -> None:
    fragments = assemble(*chunks, finish("stop"), think_tags="off")
    response = Response.fold(fragments)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    thoughts = "".join(c["choices"][0]["delta"].get("reasoning_content", "") for c in chunks)
    assert (response.text, response.thoughts) == (text, thoughts)
    for call in response.tool_calls:
        parts = [
            f.arguments_delta
            for f in fragments
            if isinstance(f, ToolCallDelta) and f.index == call.index
        ]
        assert "".join(parts) == call.arguments
    assert sum(isinstance(f, Completion) for f in fragments) == 1
    assert isinstance(fragments[-1], Completion)


# --- the text-only fast path changes nothing ---------------------------------------------------


class GeneralPathOnly(ChunkAssembler):
    def text_only(self, data: dict[str, Any]) -> TextDelta | None:
        return None


MISSING = object()
texts = st.sampled_from(["Hel", "lo", "", " <think>", "</think>", "x\n"])


def _maybe(value: Any) -> Any:
    return st.one_of(st.just(MISSING), value)


@st.composite
def choices(draw: st.DrawFn) -> dict[str, Any]:
    delta_fields = draw(
        st.dictionaries(
            st.sampled_from(["content", "role", "reasoning_content", "refusal", "function_call"]),
            st.one_of(texts, st.none(), st.integers(0, 2)),
            max_size=2,
        )
    )
    if draw(st.booleans()):
        delta_fields["reasoning_details"] = draw(
            st.one_of(st.none(), st.just([]), st.just([{"type": "reasoning.text", "text": "r"}]))
        )
    if draw(st.booleans()):
        delta_fields["content"] = draw(
            st.one_of(
                st.just([{"type": "text", "text": "t"}]),
                st.just([{"type": "thinking", "thinking": [{"type": "text", "text": "k"}]}]),
                st.just({"a": 1}),
            )
        )
    choice = {
        "index": draw(_maybe(st.sampled_from([0, 1, None, "0"]))),
        "delta": draw(st.one_of(st.just(delta_fields), st.none(), st.just("text"))),
        "finish_reason": draw(_maybe(st.sampled_from([None, "stop", "", "length"]))),
        "logprobs": draw(
            _maybe(st.one_of(st.none(), st.just({"content": [{"token": "t", "logprob": -1}]})))
        ),
        "stop_reason": draw(_maybe(st.one_of(st.none(), st.integers(0, 3)))),
    }
    return {k: v for k, v in choice.items() if v is not MISSING}


@st.composite
def wire_chunks(draw: st.DrawFn) -> dict[str, Any]:
    chunk = {
        "choices": draw(st.one_of(st.lists(choices(), max_size=2), st.just("oops"))),
        "model": draw(_maybe(st.sampled_from(["m1", "m2", "", None]))),
        "system_fingerprint": draw(_maybe(st.sampled_from(["fp1", None]))),
        "usage": draw(_maybe(st.one_of(st.none(), st.just({"completion_tokens": 3})))),
        "timings": draw(_maybe(st.just({"predicted_n": 3}))),
        "service_tier": draw(_maybe(st.just("default"))),
        "x_groq": draw(_maybe(st.one_of(st.none(), st.just({"usage": {"prompt_tokens": 2}})))),
        "error": draw(_maybe(st.none())),
        "id": "chatcmpl-1",
    }
    return {k: v for k, v in chunk.items() if v is not MISSING}


def _outcome(assembler: ChunkAssembler, chunks: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for data in chunks:
        try:
            out.append(assembler.chunk(data))
        except Exception as exc:
            out.append((type(exc), str(exc)))
            return out
    try:
        out.append(assembler.finish(clean=True))
    except Exception as exc:
        out.append((type(exc), str(exc)))
    out.append((assembler.model, assembler.metrics, assembler.usage))
    return out


TWISTS = [
    None,
    "usage",
    "usage-null",
    "timings",
    "service_tier",
    "error-null",
    "role",
    "reasoning",
    "index",
    "index-none",
    "done",
    "empty-model",
    "logprobs",
    "logprobs-content",
    "logprobs-instead-of-finish",
    "stop_reason",
    "unknown-choice-key",
    "unknown-chunk-key",
]


def plain(text: str, twist: str | None, model: str = "m1", fingerprint: str = "fp1") -> Any:
    """What the fast path takes, or that with one thing that sends it away (``twist``)."""
    choice: dict[str, Any] = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    chunk: dict[str, Any] = {"choices": [choice], "model": model, "system_fingerprint": fingerprint}
    if twist == "usage":
        chunk["usage"] = {"completion_tokens": 2}
    elif twist == "usage-null":
        chunk["usage"] = None
    elif twist == "timings":
        chunk["timings"] = {"predicted_n": 2}
    elif twist == "service_tier":
        chunk["service_tier"] = "default"
    elif twist == "error-null":
        chunk["error"] = None
    elif twist == "role":
        choice["delta"]["role"] = "assistant"
    elif twist == "reasoning":
        choice["delta"]["reasoning_content"] = "hmm"
    elif twist == "index":
        choice["index"] = 1
    elif twist == "index-none":
        choice["index"] = None
    elif twist == "done":
        choice["finish_reason"] = "stop"
    elif twist == "empty-model":
        chunk["model"] = ""
    elif twist == "logprobs":
        choice["logprobs"] = None
    elif twist == "logprobs-content":
        choice["logprobs"] = {"content": [{"token": text, "logprob": -1.0}]}
    elif twist == "logprobs-instead-of-finish":
        del choice["finish_reason"]
        choice["logprobs"] = {"content": [{"token": text, "logprob": -1.0}]}
    elif twist == "stop_reason":
        choice["stop_reason"] = 7
    elif twist == "unknown-choice-key":
        choice["surprise"] = 1
    elif twist == "unknown-chunk-key":
        chunk["surprise"] = {"a": 1}
    return chunk


@st.composite
def plain_chunks(draw: st.DrawFn) -> dict[str, Any]:
    return plain(
        draw(texts),
        draw(st.sampled_from(TWISTS)),
        draw(st.sampled_from(["m1", "m2", ""])),
        draw(st.sampled_from(["fp1", "fp2"])),
    )


@pytest.mark.parametrize("twist", TWISTS)
@pytest.mark.parametrize("think", ["auto", "off"])
def test_each_chunk_the_fast_path_declines_comes_out_the_same(
    twist: str | None, think: str
) -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}], "model": "m0"},
        plain("Hello", None),
        plain("there", twist, model="m2", fingerprint="fp2"),
        plain("!", None),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    assert _outcome(ChunkAssembler(think_tags=think), chunks) == _outcome(
        GeneralPathOnly(think_tags=think), chunks
    )


@given(
    st.lists(st.one_of(plain_chunks(), wire_chunks()), max_size=10),
    st.sampled_from(["auto", "open", "off"]),
)
def test_the_fast_path_gives_what_the_general_path_gives(
    chunks: list[dict[str, Any]], think: str
) -> None:
    fast = _outcome(ChunkAssembler(think_tags=think), chunks)
    general = _outcome(GeneralPathOnly(think_tags=think), chunks)
    assert fast == general


def test_the_fast_path_takes_plain_text_chunks() -> None:
    assembler = ChunkAssembler(think_tags="off")
    assembler.chunk({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
    plain = {
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
        "model": "m",
        "system_fingerprint": "fp",
        "usage": None,
    }
    assert assembler.text_only(plain) == TextDelta("Hi")
    assert (assembler.model, assembler.metrics) == ("m", {"system_fingerprint": "fp"})
    assert assembler.text_only({**plain, "usage": {"completion_tokens": 1}}) is None


# --- shapes real servers were seen to send (written here after what they sent) ---------------


def test_a_legacy_function_call_beside_tool_calls_is_the_same_call_not_a_second() -> None:
    """llama-cpp-python's server (and LiteLLM relaying it) repeats every tool delta in the
    legacy ``function_call`` field: the arguments must not come out twice."""
    streamed = fold(
        delta(role="assistant", content=None),
        delta(
            tool_calls=[tc(0, "call_1", "weather", '{"ci')],
            function_call={"name": "weather", "arguments": '{"ci'},
        ),
        delta(
            tool_calls=[tc(0, args='ty": "Paris"}')], function_call={"arguments": 'ty": "Paris"}'}
        ),
        finish("tool_calls"),
    )
    assert streamed.tool_calls == (ToolCall("call_1", "weather", '{"city": "Paris"}'),)
    whole = ChunkAssembler()
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [tc(0, "call_1", "weather", '{"city": "Paris"}')],
        "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'},
    }
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    answer = Response.fold([*whole.chunk(body, whole=True), *whole.finish(clean=True)])
    assert [call.name for call in answer.tool_calls] == ["weather"]


def test_an_empty_legacy_function_call_beside_an_answer_is_no_call() -> None:
    message = {"role": "assistant", "content": "4", "function_call": {"name": "", "arguments": ""}}
    assembler = ChunkAssembler()
    body = {"choices": [{"index": 0, "message": message, "finish_reason": ""}]}
    answer = Response.fold([*assembler.chunk(body, whole=True), *assembler.finish(clean=True)])
    assert (answer.text, answer.tool_calls, answer.finish_reason) == ("4", (), FinishReason.STOP)


def test_a_legacy_function_call_alone_is_still_a_call() -> None:
    answer = fold(
        delta(role="assistant", function_call={"name": "weather", "arguments": "{}"}),
        finish("function_call"),
    )
    assert [call.name for call in answer.tool_calls] == ["weather"]
    assert answer.finish_reason is FinishReason.TOOL_CALLS


def thinking(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


def test_thinking_parts_of_the_content_are_reasoning() -> None:
    """Mistral's reasoning models give content as parts, the reasoning in ``thinking`` parts."""
    streamed = fold(
        delta(role="assistant", content=[thinking("Two and")]),
        delta(content=[thinking(" two.")]),
        delta(content=[{"type": "text", "text": "4"}]),
        finish("stop"),
    )
    assert (streamed.thoughts, streamed.text) == ("Two and two.", "4")
    assembler = ChunkAssembler()
    message = {"role": "assistant", "content": [thinking("Easy."), {"type": "text", "text": "4"}]}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    whole = Response.fold([*assembler.chunk(body, whole=True), *assembler.finish(clean=True)])
    assert (whole.thoughts, whole.text) == ("Easy.", "4")


def test_reasoning_details_are_thoughts_and_are_kept() -> None:
    """OpenRouter's ``reasoning_details``: text and summaries are thoughts (unless a reasoning
    field gave them), every item is kept, encrypted ones included, to be sent back."""
    encrypted = {"type": "reasoning.encrypted", "data": "b3BhcXVl"}
    answer = fold(
        delta(role="assistant", content="", reasoning_details=[encrypted]),
        delta(reasoning_details=[{"type": "reasoning.text", "text": "Hmm", "index": 0}]),
        delta(reasoning_details=[{"type": "reasoning.summary", "summary": ", sure."}]),
        delta(content="Yes."),
        finish("stop"),
    )
    assert (answer.thoughts, answer.text) == ("Hmm, sure.", "Yes.")
    assert answer.completion is not None
    assert answer.completion.metrics["reasoning_details"][0] == encrypted
    both = fold(
        delta(reasoning="Hmm", reasoning_details=[{"type": "reasoning.text", "text": "Hmm"}]),
        finish("stop"),
    )
    assert both.thoughts == "Hmm"  # once, not twice


def test_content_given_as_an_object_is_its_json_text() -> None:
    """A hosted endpoint answered a ``json_schema`` request with the object itself."""
    answer = fold(
        {"choices": [{"index": 0, "message": {"content": {"city": "Paris", "n": 2}}}]},
        finish("stop"),
    )
    assert answer.text == '{"city": "Paris", "n": 2}'


def test_usage_under_groqs_vendor_key_is_read_when_there_is_none_at_the_top() -> None:
    vendor = {"x_groq": {"id": "req_1", "usage": {"prompt_tokens": 21, "completion_tokens": 9}}}
    answer = fold(delta(role="assistant", content="Hi"), finish("stop", **vendor))
    assert answer.usage == Usage(21, 9, 30)
    top = {"usage": {"prompt_tokens": 1, "completion_tokens": 2}}
    assert fold(delta(content="Hi"), finish("stop", **vendor, **top)).usage == Usage(1, 2, 3)
