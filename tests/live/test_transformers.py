"""``transformers serve``'s own live checks (``JACKFIELD_LIVE=transformers``, see
tests/live/servers/transformers.py): two tool calls in one answer, reasoning streamed, a think
block inline from a model type it does not parse, what its model list says and how it refuses
a field it does not know."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jackfield import BadRequestError, FinishReason
from tests.live.conftest import feature
from tests.live.servers import Live
from tests.live.servers import transformers as server
from tests.live.test_openai_compatible import PROMPT, WEATHER


@feature("parallel tool calls", "tool calls streamed")
def test_two_forced_calls_stream_as_two(live: Live, connect: Any) -> None:
    answer = (
        connect()
        .stream(
            "What is the weather in Paris and in Rome?",
            tools=[WEATHER],
            temperature=0,
            max_tokens=96,
            extra_body={"generation_config": live.process.forced["two_calls"]},
        )
        .collect()
    )
    assert [c.name for c in answer.tool_calls] == ["get_weather", "get_weather"]
    assert [c.parsed_arguments() for c in answer.tool_calls] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]
    assert len({c.id for c in answer.tool_calls}) == 2
    assert answer.finish_reason is FinishReason.TOOL_CALLS


@feature("reasoning field")
def test_streamed_reasoning_comes_apart_from_the_answer(live: Live, connect: Any) -> None:
    answer = connect().stream(PROMPT, temperature=0, **live.reasoning).collect()
    assert answer.thoughts == server.THOUGHT
    assert answer.text == server.CONSTRAINED


@feature("think tags")
def test_an_inline_think_block_comes_apart_from_the_answer(live: Live, connect: Any) -> None:
    # The Llama model's text is not parsed: the think block arrives inline in `content`.
    provider = connect(model=live.process.inline_model)
    forced = {"generation_config": live.process.inline_forced["think_tags"]}
    options = {"temperature": 0, "max_tokens": 64, "extra_body": forced}
    raw = provider.stream(PROMPT, think_tags="off", **options).collect()
    assert raw.text == server.INLINE["think_tags"]  # the server really sent the tags inline
    assert not raw.thoughts
    streamed = provider.stream(PROMPT, **options).collect()
    whole = provider.complete(PROMPT, **options)
    for answer in (streamed, whole):
        assert answer.thoughts == server.THOUGHT
        assert answer.text == server.CONSTRAINED
        assert "<think>" not in answer.text


@feature("model listing")
def test_the_list_says_the_model_is_loaded(live: Live, connect: Any) -> None:
    (model,) = [m for m in connect().list_models() if m.id == live.model]
    assert model.loaded is True
    assert model.owned_by == "local"


@feature("errors")
def test_a_field_it_does_not_know_is_a_bad_request_not_retried(connect: Any) -> None:
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    started = time.monotonic()
    with pytest.raises(BadRequestError) as info:
        provider.complete(PROMPT, max_tokens=2, extra_body={"no_such_field": 1})
    assert info.value.status == 422
    assert "no_such_field" in str(info.value)
    assert time.monotonic() - started < 2.0
