"""LiteLLM proxy's own live checks (beside those every server runs), with llama-cpp-python
behind it: the inline think tags it relays when streaming, the legacy ``function_call`` it
relays in a whole answer, and the unpooled embeddings it passes on."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import FinishReason, NotSupportedError, Tool
from tests.live.conftest import feature
from tests.live.servers.litellm import THINKING
from tests.live.servers.llama_cpp_python import PER_TOKEN_MODEL, TOOL_CHOICE

PROMPT = "Say something about the sea."
WEATHER = Tool(
    "get_weather",
    "Get the weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@feature("think tags")
def test_an_inline_think_block_streamed_comes_apart_from_the_answer(connect: Any) -> None:
    # Streamed, LiteLLM relays the backend's inline tags as they come (split over deltas).
    provider = connect()
    options = {"max_tokens": 32, "extra_body": {"grammar": THINKING}}
    raw = provider.stream(PROMPT, think_tags="off", **options).collect()
    assert raw.text == "<think>waves</think>hello"
    split = provider.stream(PROMPT, **options).collect()
    assert (split.thoughts, split.text) == ("waves", "hello")


def test_a_whole_tool_answer_with_the_legacy_function_call_is_one_call(connect: Any) -> None:
    answer = connect().complete(
        "What is the weather in Paris?", tools=[WEATHER], tool_choice=TOOL_CHOICE, max_tokens=48
    )
    (call,) = answer.tool_calls
    assert call.name == "get_weather"
    assert isinstance(call.parsed_arguments(), dict)
    assert answer.finish_reason is FinishReason.TOOL_CALLS
    assert answer.text == ""


@feature("embeddings")
def test_embeddings_without_pooling_behind_it_are_refused_clearly(connect: Any) -> None:
    provider = connect(model=PER_TOKEN_MODEL)
    with pytest.raises(NotSupportedError, match="one vector per token"):
        provider.embed(["the sea", "the sky"])
