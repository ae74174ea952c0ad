"""The checks every live server runs (see conftest.py). Models here are tiny or random: the
checks prove the wire, not the wisdom; where an answer must be known, the server's own
constraints (``live.constrain``) force it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import jackfield
from jackfield import (
    BadRequestError,
    Completion,
    FinishReason,
    NotFoundError,
    ServerError,
    TextDelta,
    Tool,
    ToolCall,
    ToolMessage,
)
from tests.live.conftest import feature
from tests.live.servers import Live

WEATHER = Tool(
    "get_weather",
    "Get the weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
PROMPT = "Say something about the sea."


@feature("streaming text")
def test_a_streamed_answer_ends_in_one_completion(live: Live, connect: Any) -> None:
    provider = connect()
    stream = provider.stream(PROMPT, max_tokens=8, temperature=0)
    fragments = list(stream)
    texts = [f for f in fragments if isinstance(f, TextDelta)]
    completions = [f for f in fragments if isinstance(f, Completion)]
    assert texts, "no text arrived"
    assert len(completions) == 1
    assert fragments[-1] is completions[0]
    completion = completions[0]
    assert completion.finish_reason in (FinishReason.LENGTH, FinishReason.STOP)
    assert stream.response.text == "".join(t.text for t in texts)
    if live.streamed_usage:
        assert completion.usage is not None
        assert 1 <= (completion.usage.completion_tokens or 0) <= 8
        assert (completion.usage.prompt_tokens or 0) > 0
    else:  # the server ignores stream_options: nothing is made up
        assert completion.usage is None


@feature("streaming text", "usage")
def test_a_whole_answer_reads_as_the_streamed_one_and_has_usage(connect: Any) -> None:
    provider = connect()
    whole = provider.complete(PROMPT, max_tokens=6, temperature=0)
    streamed = provider.stream(PROMPT, max_tokens=6, temperature=0).collect()
    assert whole.text
    assert streamed.text
    assert whole.usage is not None
    assert 1 <= (whole.usage.completion_tokens or 0) <= 6
    assert (whole.usage.prompt_tokens or 0) > 0


@pytest.mark.anyio
@feature("streaming text")
async def test_async_streams_stay_apart(connect: Any) -> None:
    import asyncio

    provider = connect()

    async def one(n: int) -> jackfield.Response:
        return await provider.astream(f"{PROMPT} ({n})", max_tokens=5).collect()

    try:
        answers = await asyncio.gather(*(one(n) for n in range(3)))
    finally:
        await provider.aclose()  # this loop's pool: close() closes the sync one alone
    assert all(a.done and a.text for a in answers)


@feature("extras pass-through")
def test_the_servers_own_constraints_reach_it(live: Live, connect: Any) -> None:
    assert live.constrain, "a server module must say how to constrain its answer"
    answer = connect().complete(PROMPT, max_tokens=32, temperature=0, **live.constrain)
    assert answer.text == live.constrained


@feature("model listing")
def test_the_model_is_listed(live: Live, connect: Any) -> None:
    models = connect().list_models()
    assert live.model in [m.id for m in models]


@feature("status")
def test_status_tells_the_server_from_what_it_says(live: Live, connect: Any) -> None:
    status = connect().status()
    assert status.connected, status.error
    assert status.server_kind == live.kind
    assert live.model in status.models
    assert status.error is None


@feature("errors")
def test_an_unknown_model_is_a_typed_error_and_no_retry_loop(live: Live, connect: Any) -> None:
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    if live.any_model_name:  # it answers with the model it has (some echo the name asked)
        answer = provider.complete(PROMPT, model="no-such-model-anywhere", max_tokens=2)
        assert answer.done
        assert answer.completion is not None
        return
    started = time.monotonic()
    # 404 or 400 from most; transformers serve crashes on it (500 "Internal Server Error",
    # nothing more), which is a ServerError that is not retried.
    with pytest.raises((NotFoundError, BadRequestError, ServerError)) as info:
        provider.complete(PROMPT, model="no-such-model-anywhere", max_tokens=4)
    spent = time.monotonic() - started
    assert info.value.status in (400, 404, 500), info.value
    assert spent < 2.0, f"an answer that cannot change was retried ({spent:.1f} s)"


@feature("cancellation")
def test_closing_a_stream_early_leaves_the_provider_working(connect: Any) -> None:
    provider = connect()
    with provider.stream(PROMPT, max_tokens=64) as stream:
        first = next(f for f in stream if isinstance(f, TextDelta))
    assert first.text is not None
    assert provider.complete(PROMPT, max_tokens=4).done


@feature("tool calls streamed")
def test_a_tool_call_and_its_result_round_trip(live: Live, connect: Any) -> None:
    provider = connect()
    conversation: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    streamed = provider.stream(conversation, tools=[WEATHER], temperature=0, **live.tool_call)
    answer = streamed.collect()
    (call,) = answer.tool_calls
    assert isinstance(call, ToolCall)
    assert call.name == "get_weather"
    assert isinstance(call.parsed_arguments(), dict)
    assert answer.finish_reason is FinishReason.TOOL_CALLS
    # The second turn: the call (an assistant message of tool calls alone) and its result.
    conversation += [answer.to_message(), ToolMessage(call.id, json.dumps({"celsius": 21}))]
    second = provider.complete(conversation, tools=[WEATHER], max_tokens=8, temperature=0)
    assert second.done


def test_a_whole_tool_answer_is_one_call(live: Live, connect: Any) -> None:
    # llama-cpp-python (and LiteLLM relaying it) sends the call twice: as tool_calls and as the
    # legacy function_call; an agent must run the tool once.
    question = "What is the weather in Paris?"
    answer = connect().complete(question, tools=[WEATHER], temperature=0, **live.tool_call)
    (call,) = answer.tool_calls
    assert call.name == "get_weather"
    assert isinstance(call.parsed_arguments(), dict)
    assert answer.finish_reason is FinishReason.TOOL_CALLS
    assert answer.text == ""


@feature("parallel tool calls")
def test_two_calls_in_one_answer_come_apart(live: Live, connect: Any) -> None:
    assert live.two_calls, "a server module must say how to force two calls, or why it cannot"
    question = "What is the weather in Paris and in Rome?"
    answer = connect().stream(question, tools=[WEATHER], temperature=0, **live.two_calls).collect()
    assert [c.name for c in answer.tool_calls] == ["get_weather", "get_weather"]
    cities = [c.parsed_arguments() for c in answer.tool_calls]
    assert cities == [{"city": "Paris"}, {"city": "Rome"}]
    assert len({c.id for c in answer.tool_calls}) == 2
    assert answer.finish_reason is FinishReason.TOOL_CALLS


@feature("think tags")
def test_an_inline_think_block_comes_apart_from_the_answer(live: Live, connect: Any) -> None:
    assert live.inline_think, "a server module must say how to force an inline think block"
    provider = connect()
    options = {"temperature": 0, **live.inline_think}
    raw = provider.stream(PROMPT, think_tags="off", **options).collect()
    assert raw.text == f"<think>{live.thought}</think>{live.constrained}"  # really inline
    assert not raw.thoughts
    streamed = provider.stream(PROMPT, **options).collect()
    whole = provider.complete(PROMPT, **options)
    for answer in (streamed, whole):
        assert (answer.thoughts, answer.text) == (live.thought, live.constrained)


@feature("reasoning field")
def test_reasoning_comes_apart_from_the_answer(live: Live, connect: Any) -> None:
    answer = connect().complete(PROMPT, temperature=0, **live.reasoning)
    assert answer.thoughts
    assert "<think>" not in answer.text


@feature("embeddings")
def test_embeddings_come_back_one_per_text(live: Live, connect: Any) -> None:
    assert live.embedding_model is not None
    where = {"base_url": live.embedding_base_url} if live.embedding_base_url else {}
    vectors = connect(model=live.embedding_model, **where).embed(["the sea", "the sky"]).vectors
    assert len(vectors) == 2
    assert len(vectors[0]) == len(vectors[1]) > 0
    assert vectors[0] != vectors[1]


@feature("auth")
def test_a_wrong_key_is_refused_and_validate_says_so(live: Live, connect: Any) -> None:
    assert live.api_key is not None
    wrong = connect(api_key="not-the-key")
    with pytest.raises(jackfield.AuthenticationError):
        wrong.complete(PROMPT, max_tokens=2)
    check = wrong.validate()
    assert not check.ok
    assert connect().validate().ok
