"""Tests that kill mutants which survived the first suite (issue 16, "Test strength"): the
assembler with several choices that all stream tool calls. Before, every multi-choice test
streamed text only, so tool-call pieces labelled choice 0 whatever their choice went unseen.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import Completion, FinishReason, Response, ToolCall, ToolCallDelta
from jackfield._fragments import Fragment
from jackfield_openai._assembler import ChunkAssembler

# choice -> the calls it makes: (name, arguments)
CALLS = {
    0: [("get_weather", '{"city": "Paris"}'), ("get_time", '{"tz": "CET"}')],
    1: [("search", '{"q": "rain"}')],
    2: [("get_weather", '{"city": "Oslo"}'), ("lookup", '{"id": 7}'), ("noop", "{}")],
}


def pieces() -> list[tuple[int, dict[str, Any]]]:
    """Every streamed tool-call delta of every choice, in order within each call: the first
    carries id and name, then the arguments three characters at a time."""
    out = []
    for choice, calls in CALLS.items():
        for i, (name, arguments) in enumerate(calls):
            first = {"index": i, "id": f"c{choice}{i}", "type": "function"}
            out.append((choice, {**first, "function": {"name": name, "arguments": ""}}))
            for start in range(0, len(arguments), 3):
                part = arguments[start : start + 3]
                out.append((choice, {"index": i, "function": {"arguments": part}}))
    return out


def assemble(order: list[tuple[int, dict[str, Any]]], *, batched: bool) -> list[Fragment]:
    assembler = ChunkAssembler()
    fragments: list[Fragment] = []
    if batched:  # one chunk holding one piece of every choice, as vLLM does with n > 1
        rounds: dict[int, list[dict[str, Any]]] = {}
        for choice, piece in order:
            rounds.setdefault(choice, []).append(piece)
        depth = max(len(v) for v in rounds.values())
        for n in range(depth):
            choices = [
                {"index": c, "delta": {"tool_calls": [p[n]]}}
                for c, p in rounds.items()
                if n < len(p)
            ]
            fragments += assembler.chunk({"choices": choices})
    else:
        for choice, piece in order:
            chunk = {"choices": [{"index": choice, "delta": {"tool_calls": [piece]}}]}
            fragments += assembler.chunk(chunk)
    ends = [{"index": c, "delta": {}, "finish_reason": "tool_calls"} for c in CALLS]
    fragments += assembler.chunk({"choices": ends})
    return fragments + assembler.finish(clean=True)


def check(fragments: list[Fragment]) -> None:
    expected = {
        (choice, i): (f"c{choice}{i}", name, arguments)
        for choice, calls in CALLS.items()
        for i, (name, arguments) in enumerate(calls)
    }
    # Every piece is labelled with the choice it came from: put back together by (choice,
    # call), the pieces give each choice's own calls; folded without the complete calls (a
    # stream cut before its end), each choice's pending calls are its own.
    deltas = [f for f in fragments if isinstance(f, ToolCallDelta)]
    rebuilt: dict[tuple[int, int], list[Any]] = {}
    for d in deltas:
        entry = rebuilt.setdefault((d.choice, d.index), [None, None, ""])
        entry[0] = entry[0] if d.id is None else d.id
        entry[1] = entry[1] if d.name is None else d.name
        entry[2] += d.arguments_delta
    assert {k: tuple(v) for k, v in rebuilt.items()} == expected
    cut = Response.fold(deltas)
    for choice in CALLS:
        pending = cut.choice(choice).pending_tool_calls
        assert [(choice, p.index) for p in pending] == [k for k in expected if k[0] == choice]
        assert [(p.id, p.name, p.arguments_delta) for p in pending] == [
            v for k, v in expected.items() if k[0] == choice
        ]
    calls = [f for f in fragments if isinstance(f, ToolCall)]
    assert {(c.choice, c.index): (c.id, c.name, c.arguments) for c in calls} == expected
    completions = [f for f in fragments if isinstance(f, Completion)]
    assert [(c.choice, c.finish_reason) for c in completions] == [
        (choice, FinishReason.TOOL_CALLS) for choice in CALLS
    ]
    answer = Response.fold(fragments)
    for choice, made in CALLS.items():
        assert [(c.name, json.loads(c.arguments)) for c in answer.choice(choice).tool_calls] == [
            (name, json.loads(arguments)) for name, arguments in made
        ]
        assert answer.choice(choice).pending_tool_calls == ()


@pytest.mark.parametrize("batched", [False, True], ids=["one choice per chunk", "all choices"])
def test_each_tool_call_piece_carries_its_choice(batched: bool) -> None:
    check(assemble(pieces(), batched=batched))


@given(st.randoms(use_true_random=False))
def test_interleaved_choices_keep_their_tool_call_pieces_apart(random: Any) -> None:
    """Pieces of different choices interleaved in any order (each call's own pieces in order)."""
    queues: dict[int, list[dict[str, Any]]] = {}
    for choice, piece in pieces():
        queues.setdefault(choice, []).append(piece)
    order = []
    while queues:
        choice = random.choice(sorted(queues))
        order.append((choice, queues[choice].pop(0)))
        if not queues[choice]:
            del queues[choice]
    check(assemble(order, batched=False))


def test_whole_answers_with_several_choices_label_their_calls() -> None:
    body = {
        "choices": [
            {
                "index": choice,
                "message": {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": i,
                            "id": f"c{choice}{i}",
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                        for i, (name, arguments) in enumerate(calls)
                    ],
                },
                "finish_reason": "tool_calls",
            }
            for choice, calls in CALLS.items()
        ]
    }
    assembler = ChunkAssembler()
    check(assembler.chunk(body, whole=True) + assembler.finish(clean=True))
