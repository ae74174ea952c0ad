"""Response: folding fragment streams, independent of chunking, and associative."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import (
    AssistantMessage,
    Completion,
    FinishReason,
    Response,
    TextDelta,
    ThoughtDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from jackfield._fragments import Fragment
from tests.core.test_fragments import fragments


def test_folds_a_typical_stream() -> None:
    response = Response.fold(
        [
            ThoughtDelta("Let me "),
            ThoughtDelta("think."),
            TextDelta("Hel"),
            TextDelta("lo"),
            ToolCallDelta(0, "c1", "add", '{"a":'),
            ToolCallDelta(0, None, None, " 1}"),
            ToolCall("c1", "add", '{"a": 1}', index=0),
            Completion(FinishReason.TOOL_CALLS, "tool_calls", Usage(5, 3, 8)),
        ]
    )
    assert response.text == "Hello"
    assert response.thoughts == "Let me think."
    assert response.tool_calls == (ToolCall("c1", "add", '{"a": 1}'),)
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.usage == Usage(5, 3, 8)
    assert response.done
    assert response.choice(0).pending_tool_calls == ()
    assert response.to_message() == AssistantMessage(
        "Hello", (ToolCall("c1", "add", '{"a": 1}'),), "Let me think."
    )


def test_tool_calls_still_arriving_are_visible_as_pending() -> None:
    response = Response.fold(
        [ToolCallDelta(0, "c1", "add", '{"a"'), ToolCallDelta(0, None, None, ": 1"), TextDelta("x")]
    )
    assert response.tool_calls == ()
    assert response.choice(0).pending_tool_calls == (ToolCallDelta(0, "c1", "add", '{"a": 1'),)
    assert not response.done


def test_choices_are_kept_apart() -> None:
    response = Response.fold(
        [
            TextDelta("a", 0),
            TextDelta("b", 1),
            TextDelta("c", 0),
            Completion(FinishReason.STOP, choice=1),
        ]
    )
    assert [c.text for c in response.choices] == ["ac", "b"]
    assert response.text == "ac"
    assert not response.done  # choice 0 has no completion yet
    assert response.choice(5).text == ""


def test_an_empty_response() -> None:
    response = Response()
    assert (response.text, response.thoughts, response.tool_calls) == ("", "", ())
    assert response.completion is None
    assert response.finish_reason is None
    assert response.usage is None
    assert not response.done
    assert response.choices == ()


def test_not_a_fragment_is_rejected() -> None:
    with pytest.raises(TypeError, match="not a fragment"):
        Response().add("text")  # type: ignore[arg-type]


def _rechunk(fragments: list[Fragment], cuts: list[int]) -> list[Fragment]:
    """Split every text/thought/argument delta at the given points into several deltas."""
    out: list[Fragment] = []
    for fragment in fragments:
        if isinstance(fragment, (TextDelta, ThoughtDelta)):
            text, start = fragment.text, 0
            for cut in sorted({c % (len(text) + 1) for c in cuts}):
                out.append(type(fragment)(text[start:cut], fragment.choice))
                start = cut
            out.append(type(fragment)(text[start:], fragment.choice))
        elif isinstance(fragment, ToolCallDelta):
            text, start = fragment.arguments_delta, 0
            first = True
            for cut in sorted({c % (len(text) + 1) for c in cuts}):
                out.append(
                    ToolCallDelta(
                        fragment.index,
                        fragment.id if first else None,
                        fragment.name if first else None,
                        text[start:cut],
                        fragment.choice,
                    )
                )
                start, first = cut, False
            out.append(
                ToolCallDelta(
                    fragment.index,
                    fragment.id if first else None,
                    fragment.name if first else None,
                    text[start:],
                    fragment.choice,
                )
            )
        else:
            out.append(fragment)
    return out


@given(st.lists(fragments, max_size=15), st.lists(st.integers(0, 20), max_size=4))
def test_folding_does_not_depend_on_how_deltas_were_cut(
    stream: list[Fragment], cuts: list[int]
) -> None:
    assert Response.fold(_rechunk(stream, cuts)) == Response.fold(stream)


# Streams dense in tool-call deltas and calls sharing a few indexes, where merging is subtle.
tool_streams = st.lists(
    st.one_of(
        st.builds(
            ToolCallDelta,
            st.integers(0, 1),
            st.sampled_from([None, "a", "b"]),
            st.sampled_from([None, "f", "g"]),
            st.sampled_from(["{", "1", "}", "2"]),
        ),
        st.builds(ToolCall, st.just("a"), st.just("f"), st.just("{}"), index=st.integers(0, 1)),
        st.builds(TextDelta, st.sampled_from(["x", "y"])),
    ),
    max_size=15,
)


@given(
    st.one_of(st.lists(fragments, max_size=15), tool_streams),
    st.integers(0, 15),
    st.integers(0, 15),
)
def test_folding_is_associative(stream: list[Fragment], i: int, j: int) -> None:
    i, j = sorted((min(i, len(stream)), min(j, len(stream))))
    a, b, c = stream[:i], stream[i:j], stream[j:]
    fa, fb, fc = Response.fold(a), Response.fold(b), Response.fold(c)
    whole = Response.fold(stream)
    assert fa.merge(fb) == Response.fold(a + b)
    assert fa.merge(fb).merge(fc) == whole
    assert fa.merge(fb.merge(fc)) == whole


@given(
    st.lists(fragments, max_size=10) | tool_streams, st.lists(fragments, max_size=10) | tool_streams
)
def test_merge_leaves_both_operands_unchanged(xs: list[Fragment], ys: list[Fragment]) -> None:
    a, b = Response.fold(xs), Response.fold(ys)
    before = (a.choices, b.choices)
    a.merge(b)
    assert (a.choices, b.choices) == before


@given(st.lists(fragments, max_size=15))
def test_text_is_the_concatenation_of_text_deltas(stream: list[Fragment]) -> None:
    response = Response.fold(stream)
    for choice in response.choices:
        deltas = [f for f in stream if isinstance(f, TextDelta) and f.choice == choice.index]
        assert choice.text == "".join(d.text for d in deltas)
