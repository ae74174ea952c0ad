"""vLLM's own live checks (``JACKFIELD_LIVE=vllm``, see tests/live/servers/vllm.py): its
pooling server's model list, two forced tool calls in one answer, a think block inline when
the request does not turn thinking on, what its model list publishes and how it refuses a
request past the context."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import ContextLengthError, FinishReason
from tests.live.conftest import feature
from tests.live.servers import Live
from tests.live.servers import vllm as server
from tests.live.test_openai_compatible import PROMPT, WEATHER


@feature("embeddings")
def test_the_pooling_server_lists_its_model_as_one_that_embeds(live: Live, connect: Any) -> None:
    pooling = connect(base_url=live.embedding_base_url, model=server.EMBEDDING_MODEL)
    (model,) = pooling.list_models()
    assert model.id == server.EMBEDDING_MODEL
    assert model.kind == "embedding"


@feature("parallel tool calls", "tool calls streamed")
def test_two_forced_calls_stream_as_two(connect: Any) -> None:
    rome = '{"name": "get_weather", "arguments": {"city": "Rome"}}'
    regex = server.tool_calls_regex(server.CALL, rome)
    answer = (
        connect()
        .stream(
            "What is the weather in Paris and in Rome?",
            tools=[WEATHER],
            temperature=0,
            max_tokens=320,
            extra_body={"structured_outputs": {"regex": regex}},
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


@feature("think tags")
def test_an_inline_think_block_comes_apart_from_the_answer(connect: Any) -> None:
    # No chat_template_kwargs.enable_thinking: the deepseek_v3 parser leaves the forced think
    # block in `content`, as vLLM without a reasoning parser does.
    provider = connect()
    options = {
        "temperature": 0,
        "max_tokens": 96,
        "extra_body": {"structured_outputs": {"regex": server.THINKING}},
    }
    raw = provider.stream(PROMPT, think_tags="off", **options).collect()
    assert raw.text == f"<think>{server.THOUGHT}</think>{server.CONSTRAINED}"  # inline
    assert not raw.thoughts
    streamed = provider.stream(PROMPT, **options).collect()
    whole = provider.complete(PROMPT, **options)
    for answer in (streamed, whole):
        assert answer.thoughts == server.THOUGHT
        assert answer.text == server.CONSTRAINED
        assert "<think>" not in answer.text


@feature("model listing")
def test_the_list_gives_the_context_length_and_owner(live: Live, connect: Any) -> None:
    (model,) = [m for m in connect().list_models() if m.id == live.model]
    assert model.context_length == server.CONTEXT
    assert model.owned_by == "vllm"
    assert model.kind == "chat"


@feature("errors")
def test_a_prompt_past_the_context_is_a_context_length_error(connect: Any) -> None:
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    with pytest.raises(ContextLengthError) as info:
        provider.complete("sea " * (2 * server.CONTEXT), max_tokens=4)
    assert info.value.status == 400


@feature("errors")
def test_more_tokens_than_the_context_is_a_context_length_error(connect: Any) -> None:
    with pytest.raises(ContextLengthError) as info:
        connect().complete("Say something about the sea.", max_tokens=server.CONTEXT + 1)
    assert info.value.status == 400
