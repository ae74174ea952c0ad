"""llama-cpp-python's own live checks (beside those every server runs): its inline think tags,
its 500 for a request it refuses, its whole tool answers and its unpooled embeddings."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jackfield import (
    BadRequestError,
    FinishReason,
    NotSupportedError,
    SystemMessage,
    Tool,
    UserMessage,
)
from tests.live.conftest import feature
from tests.live.servers.llama_cpp_python import PER_TOKEN_MODEL, TOOL_CHOICE

PROMPT = "Say something about the sea."
# The server has no reasoning parser: a grammar makes the model write a think block inline.
THINKING = 'root ::= "<think>" "waves" "</think>" "hello"'
WEATHER = Tool(
    "get_weather",
    "Get the weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@feature("think tags")
def test_an_inline_think_block_comes_apart_from_the_answer(connect: Any) -> None:
    provider = connect()
    options = {"max_tokens": 32, "temperature": 0, "extra_body": {"grammar": THINKING}}
    raw = provider.stream(PROMPT, think_tags="off", **options).collect()
    assert raw.text == "<think>waves</think>hello"  # the server really sent the tags inline
    split = provider.stream(PROMPT, **options).collect()
    assert (split.thoughts, split.text) == ("waves", "hello")


@feature("errors")
def test_a_request_it_refuses_with_a_500_is_a_typed_error_and_no_retry_loop(connect: Any) -> None:
    # llama-cpp-python answers every request-validation error with HTTP 500.
    provider = connect(retries={"attempts": 2, "backoff": 2.0})
    started = time.monotonic()
    with pytest.raises(BadRequestError) as info:
        provider.complete(PROMPT, max_tokens=2, extra_body={"max_tokens": "lots"})
    spent = time.monotonic() - started
    assert info.value.status == 500
    assert "validation error" in str(info.value)
    assert spent < 2.0, f"an answer that cannot change was retried ({spent:.1f} s)"


def test_a_whole_tool_answer_with_the_legacy_function_call_is_one_call(connect: Any) -> None:
    # The answer carries `tool_calls` and the same call again as the legacy `function_call`.
    answer = connect().complete(
        "What is the weather in Paris?",
        tools=[WEATHER],
        tool_choice=TOOL_CHOICE,
        max_tokens=48,
        temperature=0,
    )
    (call,) = answer.tool_calls
    assert call.name == "get_weather"
    assert isinstance(call.parsed_arguments(), dict)
    assert answer.finish_reason is FinishReason.TOOL_CALLS
    assert answer.text == ""


@feature("embeddings")
def test_embeddings_without_pooling_are_refused_clearly(connect: Any) -> None:
    provider = connect(model=PER_TOKEN_MODEL)
    with pytest.raises(NotSupportedError, match="one vector per token"):
        provider.embed(["the sea", "the sky"])


def test_the_developer_role_it_refuses_is_learned_once(connect: Any) -> None:
    # It answers the developer role with a 500 validation report ("'input': 'developer'"):
    # the provider sends the message as system instead, and from then on at once.
    provider = connect(system_role="developer", max_tokens=4)
    conversation = [SystemMessage("Be brief."), UserMessage("Hi")]
    assert provider.complete(conversation).done
    assert list(provider.learned().values()) == [["the developer role sent as system"]]
    assert provider.dry_run(conversation)["body"]["messages"][0]["role"] == "system"
    assert provider.complete(conversation).done
    with pytest.raises(BadRequestError, match="validation error"):
        connect(system_role="developer", learn_quirks=False).complete(conversation, max_tokens=4)
