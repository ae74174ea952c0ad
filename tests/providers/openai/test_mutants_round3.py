"""Tests that kill the mutants ``nox -s mutate`` (dev/mutate.py) found surviving in the
OpenAI-compatible chunk assembler (issue 16, "Test strength"): rules the suite had tested one step
short of where a small bug would show. The equivalent ones are listed with the reason in
dev/mutation_equivalents.py.

- Content and reasoning given as parts: junk parts are skipped (not the rest of the list),
  non-text values are no text, a ``thinking`` list is the text of its parts; reasoning and text
  (fast path too) carry their choice; custom think tags; text held as a possible tag is given
  at the end.
- Tool calls: a call without a function object, name or arguments, or with arguments as an
  object; an id or name repeated on every delta is given once; the repeat of a call's whole
  arguments is dropped, the repeat of an unfinished piece is not; a whole answer's calls are
  taken as listed; calls after the finish reason; legacy calls repeating their name.
- Caps and the end: the choice, tool-call and argument caps are exact and say so; metrics
  nested deeper than 32 levels are left out; token counts that are not finite are unknown and a
  server's total is kept; a stream ending before any answer, a chunk nested too deeply and a
  chunk that is not a dict are errors that say so.
"""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import StreamLimitError, TextDelta, ThoughtDelta, ToolCall, ToolCallDelta
from jackfield._fragments import Fragment
from jackfield.provider import Limits
from jackfield_openai._assembler import ChunkAssembler


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields}]}


def feed(*chunks: dict[str, Any], assembler: ChunkAssembler | None = None) -> list[Fragment]:
    assembler = assembler or ChunkAssembler(think_tags="off")
    out: list[Fragment] = []
    for chunk in chunks:
        out += assembler.chunk(chunk)
    return out + assembler.finish(clean=True)


def of(kind: type, fragments: list[Fragment]) -> list[Any]:
    return [f for f in fragments if isinstance(f, kind)]


# --- parts ---------------------------------------------------------------------------------------


def test_junk_parts_are_skipped_not_the_rest_of_the_list() -> None:
    parts = ["junk", 3, {"type": "text", "text": "hello"}, {"type": "text", "text": 5},
             {"type": "text", "text": ""}, {"type": "text", "text": " world"}]  # fmt: skip
    assert [t.text for t in of(TextDelta, feed(delta(content=parts)))] == ["hello", " world"]


def test_thinking_parts_are_the_text_of_their_parts() -> None:
    thinking = [
        {"type": "text", "text": "a"},
        {"type": "text"},
        "junk",
        {"type": "text", "text": "b"},
    ]
    parts = [{"type": "thinking", "thinking": thinking}, {"type": "text", "text": "answer"}]
    out = feed(delta(content=parts))
    assert [t.text for t in of(ThoughtDelta, out)] == ["ab"]
    assert [t.text for t in of(TextDelta, out)] == ["answer"]
    odd = feed(delta(content=[{"type": "thinking", "thinking": 42}]))
    assert [t.text for t in of(ThoughtDelta, odd)] == ["42"]


def test_reasoning_details_give_only_text() -> None:
    details = [{"type": "reasoning.text", "text": 5}, {"type": "reasoning.text", "text": "real"},
               {"type": "reasoning.summary", "summary": "sum"}, {"type": "reasoning.encrypted"}]  # fmt: skip
    out = feed(delta(reasoning_details=details))
    assert [t.text for t in of(ThoughtDelta, out)] == ["real", "sum"]


# --- tool calls ----------------------------------------------------------------------------------


def tool(index: int | None = 0, **fields: Any) -> dict[str, Any]:
    call = dict(fields)
    if index is not None:
        call["index"] = index
    return delta(tool_calls=[call])


def test_a_call_without_a_function_object_or_arguments() -> None:
    out = feed(
        tool(id="c1"),
        tool(function="not an object"),
        tool(function={"name": "f"}),
        tool(function={"arguments": None}),
        tool(function={"arguments": "{}"}),
    )
    deltas = of(ToolCallDelta, out)
    assert [(d.id, d.name, d.arguments_delta) for d in deltas] == [
        ("c1", None, ""), (None, "f", ""), (None, None, "{}")
    ]  # fmt: skip
    assert [(c.id, c.name, c.arguments) for c in of(ToolCall, out)] == [("c1", "f", "{}")]


def test_arguments_given_as_an_object_are_its_json_text_unescaped() -> None:
    out = feed(tool(id="c1", function={"name": "f", "arguments": {"city": "Zürich"}}))
    assert [c.arguments for c in of(ToolCall, out)] == ['{"city": "Zürich"}']


def test_only_a_repeat_of_the_whole_arguments_is_dropped() -> None:
    """A final flush that sends a call's whole arguments again adds nothing; a piece that
    happens to equal the unfinished arguments so far is more of them."""
    whole = feed(
        tool(id="c1", function={"name": "f", "arguments": '{"a": 1}'}),
        tool(function={"arguments": '{"a": 1}'}),
    )
    assert [c.arguments for c in of(ToolCall, whole)] == ['{"a": 1}']
    unfinished = feed(
        tool(id="c1", function={"name": "f", "arguments": "[1,"}),
        tool(function={"arguments": "[1,"}),
        tool(function={"arguments": "2]]"}),
    )
    assert [c.arguments for c in of(ToolCall, unfinished)] == ["[1,[1,2]]"]


def test_a_whole_answers_calls_are_taken_as_listed() -> None:
    call = {"id": "same", "type": "function", "function": {"name": "tick", "arguments": "{}"}}
    body = {"choices": [{"index": 0, "message": {"tool_calls": [call, call]},
                         "finish_reason": "tool_calls"}]}  # fmt: skip
    assembler = ChunkAssembler()
    out = assembler.chunk(body, whole=True) + assembler.finish(clean=True)
    assert [(c.id, c.name) for c in of(ToolCall, out)] == [("same", "tick"), ("same_2", "tick")]


def test_the_tool_call_cap_is_exact_and_says_so() -> None:
    def calls(n: int) -> list[dict[str, Any]]:
        return [tool(i, id=f"c{i}", function={"name": "f", "arguments": "{}"}) for i in range(n)]

    limits = Limits(tool_calls=2)
    assert len(of(ToolCall, feed(*calls(2), assembler=ChunkAssembler(limits=limits)))) == 2
    with pytest.raises(StreamLimitError) as info:
        feed(*calls(3), assembler=ChunkAssembler(label="srv", limits=limits))
    assert str(info.value) == "srv: the answer has more than 2 tool calls (limits.tool_calls)"


def test_an_id_or_name_repeated_on_every_delta_is_given_once() -> None:
    out = feed(
        tool(id="c1", function={"name": "f", "arguments": "{"}),
        tool(id="c1", function={"name": "f", "arguments": "}"}),
    )
    deltas = of(ToolCallDelta, out)
    assert [(d.id, d.name, d.arguments_delta) for d in deltas] == [
        ("c1", "f", "{"),
        (None, None, "}"),
    ]
    assert [(c.id, c.name, c.arguments) for c in of(ToolCall, out)] == [("c1", "f", "{}")]


def test_the_argument_cap_counts_every_piece_and_says_so() -> None:
    limits = Limits(tool_argument_chars=4)
    pieces = [
        tool(id="c1", function={"name": "f", "arguments": "[1"}),
        tool(function={"arguments": ",2]"}),
    ]
    with pytest.raises(StreamLimitError) as info:
        feed(*pieces, assembler=ChunkAssembler(label="srv", limits=limits))
    assert str(info.value) == (
        "srv: the answer has tool call arguments longer than 4 characters "
        "(limits.tool_argument_chars)"
    )
    fits = [
        tool(id="c1", function={"name": "f", "arguments": "[1"}),
        tool(function={"arguments": "]"}),
    ]
    out = feed(*fits, assembler=ChunkAssembler(limits=Limits(tool_argument_chars=3)))
    assert [c.arguments for c in of(ToolCall, out)] == ["[1]"]


@pytest.mark.parametrize("think_tags", ["off", "auto"])
def test_reasoning_is_labelled_with_its_choice(think_tags: str) -> None:
    chunk = {"choices": [{"index": 1, "delta": {"reasoning_content": "hmm"}},
                         {"index": 2, "delta": {"content": "<think>tagged</think>answer"}}]}  # fmt: skip
    out = feed(chunk, assembler=ChunkAssembler(think_tags=think_tags))
    thoughts = [(t.text, t.choice) for t in of(ThoughtDelta, out)]
    assert ("hmm", 1) in thoughts
    if think_tags == "auto":
        assert ("tagged", 2) in thoughts


def test_token_counts_that_are_not_finite_numbers_are_unknown() -> None:
    usage = {"prompt_tokens": "1e999", "completion_tokens": float("nan"),
             "total_tokens": float("inf")}  # fmt: skip
    [completion] = feed({"choices": [], "usage": usage})[-1:]
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (None, None)
    assert completion.usage.total_tokens is None
    fine = feed({"choices": [], "usage": {"prompt_tokens": "7", "completion_tokens": 2.0}})[-1]
    assert fine.usage is not None
    assert fine.usage.total_tokens == 9


def nested(levels: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"k": value} if kind == "d" else [value]
    return value


@pytest.mark.parametrize("kind", ["d", "l"])
def test_metrics_nested_deeper_than_32_levels_are_left_out(kind: str) -> None:
    timings = {"ok": nested(32, kind), "deep": nested(33, kind), "flat": 1}
    [completion] = feed({"choices": [], "timings": timings})[-1:]
    assert completion.metrics == {"ok": nested(32, kind), "flat": 1}


def test_the_servers_total_is_kept_and_only_a_missing_one_is_computed() -> None:
    def usage(**counts: Any) -> Any:
        [completion] = feed({"choices": [], "usage": counts})[-1:]
        return completion.usage

    assert usage(prompt_tokens=3, completion_tokens=2, total_tokens=10).total_tokens == 10
    assert usage(prompt_tokens=3, completion_tokens=2).total_tokens == 5
    assert usage(prompt_tokens=3).total_tokens is None
    assert usage(completion_tokens=2).total_tokens is None


def test_the_fast_path_labels_text_with_its_choice() -> None:
    assembler = ChunkAssembler(think_tags="off")
    first = assembler.chunk(
        {"choices": [{"index": 1, "delta": {"role": "assistant", "content": "a"}}]}
    )
    fast = assembler.chunk({"choices": [{"index": 1, "delta": {"content": "b"}}]})
    assert [(t.text, t.choice) for t in first + fast] == [("a", 1), ("b", 1)]


def test_calls_arriving_after_the_finish_reason_are_still_given() -> None:
    out = feed(
        tool(0, id="c0", function={"name": "f", "arguments": "{}"}),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        tool(1, id="c1", function={"name": "g", "arguments": "{}"}),
    )
    assert [(c.id, c.name) for c in of(ToolCall, out)] == [("c0", "f"), ("c1", "g")]


def test_a_call_without_a_name_has_an_empty_name() -> None:
    out = feed(tool(id="c1", function={"arguments": "{}"}))
    assert [(c.id, c.name, c.arguments) for c in of(ToolCall, out)] == [("c1", "", "{}")]


def test_logprobs_from_every_chunk_are_kept_in_order() -> None:
    one, two = {"token": "a", "logprob": -0.1}, {"token": "b", "logprob": -0.2}
    out = feed(
        {"choices": [{"index": 0, "delta": {"content": "a"}, "logprobs": {"content": [one]}}]},
        {"choices": [{"index": 0, "delta": {"content": "b"}, "logprobs": {"content": [two]}}]},
    )
    assert out[-1].metrics["logprobs"] == [one, two]


def test_an_object_given_as_content_is_its_json_text_unescaped() -> None:
    out = feed(delta(content={"città": "Zürich"}))
    assert [t.text for t in of(TextDelta, out)] == ['{"città": "Zürich"}']


def test_a_legacy_call_repeating_its_name_on_every_delta_is_one_call() -> None:
    out = feed(
        delta(function_call={"name": "f", "arguments": "{"}),
        delta(function_call={"name": "f", "arguments": "}"}),
    )
    assert [(c.name, c.arguments) for c in of(ToolCall, out)] == [("f", "{}")]


def test_a_stream_ending_before_any_answer_says_so() -> None:
    from jackfield import TruncatedStreamError

    with pytest.raises(TruncatedStreamError) as info:
        ChunkAssembler(label="srv").finish(clean=False)
    assert (
        str(info.value) == "srv: the stream ended before any answer (no finish reason, no [DONE])"
    )


def test_choice_metrics_logprobs_and_reasoning_details_too_deep_are_left_out() -> None:
    deep, ok = nested(33, "l"), nested(32, "l")
    chunk = {"choices": [{"index": 0, "delta": {"reasoning_details": [deep]},
                          "matched_stop": deep, "stop_reason": ok,
                          "logprobs": {"content": [deep]}, "finish_reason": "stop"}]}  # fmt: skip
    metrics = feed(chunk)[-1].metrics
    assert metrics == {"stop_reason": ok}


def test_text_held_back_as_a_possible_tag_is_given_at_the_end() -> None:
    out = feed(delta(content="  <thi"), assembler=ChunkAssembler(think_tags="auto"))
    assert [(t.text, t.choice) for t in of(TextDelta, out)] == [("  <thi", 0)]
    thought = feed(delta(content="<think>deep </th"), assembler=ChunkAssembler(think_tags="auto"))
    assert [t.text for t in of(ThoughtDelta, thought)] == ["deep ", "</th"]


def test_the_choice_cap_is_exact_and_says_so() -> None:
    def choices(n: int) -> dict[str, Any]:
        return {"choices": [{"index": i, "delta": {"content": "x"}} for i in range(n)]}

    assert (
        len(of(TextDelta, feed(choices(2), assembler=ChunkAssembler(limits=Limits(choices=2)))))
        == 2
    )
    with pytest.raises(StreamLimitError) as info:
        feed(choices(3), assembler=ChunkAssembler(label="srv", limits=Limits(choices=2)))
    assert str(info.value) == "srv: the answer has more than 2 choices (limits.choices)"


def test_custom_think_tags_are_the_ones_split() -> None:
    assembler = ChunkAssembler(think_tags="auto", think_open="<reason>", think_close="</reason>")
    out = feed(delta(content="<reason>why</reason>because"), assembler=assembler)
    assert [t.text for t in of(ThoughtDelta, out)] == ["why"]
    assert [t.text for t in of(TextDelta, out)] == ["because"]


def test_a_chunk_nested_too_deeply_to_read_is_a_malformed_stream() -> None:
    from jackfield import MalformedStreamError

    deep: Any = "x"
    for _ in range(100_000):
        deep = {"k": deep}
    with pytest.raises(MalformedStreamError) as info:
        ChunkAssembler(label="srv").chunk(delta(content=deep))
    assert str(info.value) == "srv: a chunk is nested too deeply to read"


def test_a_chunk_that_is_not_a_json_object_is_malformed_on_the_fast_path_too() -> None:
    """Chunks are what JSON decodes to: a ``dict``. Anything else is refused, even shaped like
    the commonest chunk of a choice the fast path would take."""
    from collections import OrderedDict

    from jackfield import MalformedStreamError

    assembler = ChunkAssembler(label="srv", think_tags="off")
    assembler.chunk(delta(content="a"))
    odd = OrderedDict(choices=[{"index": 0, "delta": {"content": "b"}}])
    with pytest.raises(MalformedStreamError) as info:
        assembler.chunk(odd)
    assert str(info.value) == "srv: expected a JSON object in the stream, got OrderedDict"


def test_errors_name_the_provider_by_default() -> None:
    from jackfield import TruncatedStreamError

    with pytest.raises(TruncatedStreamError, match=r"^openai-compatible: the stream ended"):
        ChunkAssembler().finish(clean=False)


def test_a_choice_without_an_index_is_choice_0() -> None:
    out = feed({"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]},
               {"choices": [{"index": "1", "delta": {"content": "!"}}]})  # fmt: skip
    assert [(t.text, t.choice) for t in of(TextDelta, out)] == [("hi", 0), ("!", 0)]
    assert [c.choice for c in out if type(c).__name__ == "Completion"] == [0]
