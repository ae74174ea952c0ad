"""The OpenAI-compatible provider end to end against llama.cpp's own server, for real.

The model is a tiny base model: these tests check the wire, not the wisdom. Where an assertion
needs a known output, llama.cpp's own extras (grammar, json_schema, seed, temperature 0)
make it deterministic.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

import jackfield
from jackfield import (
    AuthenticationError,
    BadRequestError,
    Completion,
    ContextLengthError,
    FinishReason,
    Response,
    ServiceConnectionError,
    TextDelta,
    ThoughtDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolMessage,
)
from jackfield._options import resolve
from jackfield_llamacpp.server import LlamaServer
from tests.compat.conftest import API_KEY, slots

pytestmark = pytest.mark.compat


def live(*features: str) -> Any:
    """Evidence for docs/compatibility.md: these features work against llama.cpp, live."""

    def mark(test: Any) -> Any:
        for feature in features:
            test = pytest.mark.covers("llama.cpp", feature, "live")(test)
        return test

    return mark


DETERMINISTIC = {"temperature": 0, "seed": 7, "extra_body": {"cache_prompt": False}}
WEATHER = Tool(
    "get_weather",
    "Get the weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


# 1. streaming chat --------------------------------------------------------------------------------


@live("streaming text", "usage", "timings")
def test_streaming_chat_with_usage_and_timings(llama: LlamaServer, connect: Any) -> None:
    provider = connect(llama)
    fragments = list(provider.stream("Tell me about the sea.", max_tokens=24, **DETERMINISTIC))
    texts = [f for f in fragments if isinstance(f, TextDelta)]
    completions = [f for f in fragments if isinstance(f, Completion)]
    assert len(texts) > 1  # it really streamed
    assert len(completions) == 1
    assert fragments[-1] is completions[0]
    completion = completions[0]
    assert completion.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens or 0) > 5
    assert usage.completion_tokens == len(texts) or usage.completion_tokens == 24
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.cached_tokens is not None
    for key in ("prompt_n", "prompt_ms", "predicted_n", "predicted_per_second"):
        assert key in completion.metrics
    whole = provider.complete("Tell me about the sea.", max_tokens=24, **DETERMINISTIC)
    assert whole.text == Response.fold(fragments).text
    assert whole.usage == usage


# 2. vendor extras ---------------------------------------------------------------------------------


@live("extras pass-through")
def test_grammar_constrains_the_answer(llama: LlamaServer, connect: Any) -> None:
    grammar = 'root ::= ("red" | "green" | "blue")'
    response = connect(llama).complete("Pick a colour.", extra_body={"grammar": grammar})
    assert response.text in ("red", "green", "blue")


def test_json_schema_constrains_the_answer(llama: LlamaServer, connect: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"colour": {"enum": ["red", "green"]}, "count": {"type": "integer"}},
        "required": ["colour", "count"],
    }
    text = connect(llama).complete("Describe a colour.", extra_body={"json_schema": schema}).text
    data = json.loads(text)
    assert data["colour"] in ("red", "green")
    assert isinstance(data["count"], int)


def test_n_probs_come_back(llama: LlamaServer, connect: Any) -> None:
    response = connect(llama).complete("Say hi.", max_tokens=3, extra_body={"n_probs": 2})
    assert response.completion is not None
    logprobs = response.completion.metrics["logprobs"]
    assert len(logprobs) >= 1
    assert {"token", "logprob", "top_logprobs"} <= set(logprobs[0])
    assert len(logprobs[0]["top_logprobs"]) == 2


def test_cache_prompt_reports_cached_tokens_on_the_second_request(
    llama: LlamaServer, connect: Any
) -> None:
    provider = connect(llama, extra_body={"cache_prompt": True, "id_slot": 0})
    prompt = "Remember this sentence about lighthouses and the long grey sea."
    provider.complete(prompt, max_tokens=2, temperature=0)
    second = provider.complete(prompt, max_tokens=2, temperature=0)
    assert second.usage is not None
    assert (second.usage.cached_tokens or 0) > 5


def test_id_slot_pins_a_slot(llama: LlamaServer, connect: Any) -> None:
    before = {s["id"]: s.get("id_task") for s in slots(llama)}
    connect(llama).complete("Which slot?", max_tokens=2, extra_body={"id_slot": 2})
    after = {s["id"]: s.get("id_task") for s in slots(llama)}
    changed = [slot for slot in after if after[slot] != before[slot]]
    assert changed == [2]


def test_agent_extras_deep_merge_over_host_extras_and_reach_the_server(
    llama: LlamaServer, registry: jackfield.Registry
) -> None:
    layers = resolve(
        (
            "host:llamacpp",
            {"base_url": llama.base_url, "extra_body": {"id_slot": 3, "top_k": 7, "min_p": 0.2}},
        ),
        ("agent:picker", {"extra_body": {"min_p": 0.125, "samplers": ["top_k", "min_p"]}}),
    )
    with registry.create("openai-compatible", layers) as provider:
        assert provider.options.extra_body == {
            "id_slot": 3,
            "top_k": 7,
            "min_p": 0.125,
            "samplers": ["top_k", "min_p"],
        }
        provider.complete("Merge me.", max_tokens=2)
    params = next(s for s in slots(llama) if s["id"] == 3)["params"]
    assert params["top_k"] == 7
    assert params["min_p"] == pytest.approx(0.125)
    assert params["samplers"] == ["top_k", "min_p"]


# 3. models and status -----------------------------------------------------------------------------


@live("model listing", "status")
def test_models_and_status_without_spending_a_token(llama: LlamaServer, connect: Any) -> None:
    provider = connect(llama)
    tasks_before = [s.get("id_task") for s in slots(llama)]
    (model,) = provider.list_models()
    assert model.id == "gemma-3-270m-q4_k_m"  # the launcher names it after the file
    assert model.context_length == 1024  # the slot's context, learned from the server
    # What /props publishes: the context, the modalities (a text model) and what the chat
    # template can do (the model's fallback template knows no tools); the rest is unknown.
    assert model.capabilities == jackfield.Capabilities.published(
        max_context=1024, vision=False, tools=False, system_prompt=True
    )
    status = provider.status()
    assert status.connected
    assert status.server_kind == "llama.cpp"
    assert status.loaded_models == (model.id,)
    assert status.details["total_slots"] == 4
    assert status.error is None
    assert [s.get("id_task") for s in slots(llama)] == tasks_before  # no generation happened


# 4. auth ------------------------------------------------------------------------------------------


@live("auth")
def test_api_keys(llama_auth: LlamaServer, connect: Any) -> None:
    with pytest.raises(AuthenticationError) as info:
        connect(llama_auth).complete("hi", max_tokens=1)
    assert info.value.status == 401
    assert "Invalid API Key" in str(info.value)
    with pytest.raises(AuthenticationError):
        connect(llama_auth, api_key="wrong-key").complete("hi", max_tokens=1)
    for header in ("authorization", "x-api-key"):
        provider = connect(llama_auth, api_key=API_KEY, api_key_header=header)
        assert provider.complete("hi", max_tokens=2).completion is not None
    assert connect(llama_auth, api_key=API_KEY).validate().ok
    assert not connect(llama_auth, api_key="wrong-key").validate().ok


def test_models_need_the_key_on_this_build(llama_auth: LlamaServer, connect: Any) -> None:
    with pytest.raises(AuthenticationError):
        connect(llama_auth).list_models()
    assert len(connect(llama_auth, api_key=API_KEY).list_models()) == 1
    status = connect(llama_auth).status()
    assert status.connected
    assert status.error is not None
    assert "Invalid API Key" in status.error


# 5. tool calls ------------------------------------------------------------------------------------


@live("tool calls streamed")
def test_real_tool_calls_and_the_result_round_trip(llama_tools: LlamaServer, connect: Any) -> None:
    provider = connect(llama_tools, tool_choice="required", parallel_tool_calls=False)
    tool = Tool(WEATHER.name, WEATHER.description, WEATHER.parameters, source="weather")
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    stream = provider.stream(messages, tools=[tool], max_tokens=48, temperature=0)
    fragments = list(stream)
    deltas = [f for f in fragments if isinstance(f, ToolCallDelta)]
    calls = [f for f in fragments if isinstance(f, ToolCall)]
    assert len(deltas) > 1  # the arguments streamed in pieces
    (call,) = calls
    assert (call.name, call.source) == ("get_weather", "weather")  # sent as weather__get_weather
    assert "".join(d.arguments_delta for d in deltas) == call.arguments
    assert isinstance(call.parsed_arguments()["city"], str)
    assert stream.response.finish_reason is FinishReason.TOOL_CALLS
    follow_up = [*messages, stream.response.to_message(), ToolMessage(call.id, "sunny, 24 C")]
    answer = provider.complete(follow_up, tools=[tool], max_tokens=48, temperature=0)
    assert answer.completion is not None  # the server accepted the tool result
    (model,) = provider.list_models()  # and /props says this template can do tools
    assert model.capabilities is not None
    assert model.capabilities.tools is True


@live("parallel tool calls")
def test_parallel_tool_calls_come_apart(llama_tools: LlamaServer, connect: Any) -> None:
    provider = connect(llama_tools, tool_choice="required", parallel_tool_calls=True)
    response = provider.complete(
        "Weather in Paris and Rome?", tools=[WEATHER], max_tokens=60, temperature=0
    )
    complete = [c for c in response.tool_calls if c.arguments_valid]
    assert len(complete) >= 2
    assert len({c.id for c in response.tool_calls}) == len(response.tool_calls)
    assert [c.index for c in response.tool_calls] == list(range(len(response.tool_calls)))


# 6. reasoning -------------------------------------------------------------------------------------


REASONING_GRAMMAR = 'root ::= [a-z ]{10,40} "</think>" [a-z ]{5,30}'


@live("reasoning field", "think tags")
def test_reasoning_field_and_think_tags_give_the_same_split(
    llama_reasoning: LlamaServer, connect: Any
) -> None:
    provider = connect(llama_reasoning)
    question = "What is the capital of France?"
    options = {
        "max_tokens": 48,
        **DETERMINISTIC,
        "extra_body": {"cache_prompt": False, "grammar": REASONING_GRAMMAR},
    }
    parsed = list(provider.stream(question, **options))
    thoughts = [f for f in parsed if isinstance(f, ThoughtDelta)]
    assert len(thoughts) > 1  # real reasoning_content deltas, streamed
    by_field = Response.fold(parsed)
    assert by_field.thoughts.strip()
    assert by_field.text.strip()
    inline_options = {
        **options,
        "extra_body": {**options["extra_body"], "reasoning_format": "none"},
    }
    inline = provider.complete(question, think_tags="auto", **inline_options)
    raw = provider.complete(question, think_tags="off", **inline_options)
    assert "</think>" in raw.text  # the server really inlined it
    assert inline.thoughts.strip() == by_field.thoughts.strip()
    assert inline.text.strip() == by_field.text.strip()


# 7. cancellation ----------------------------------------------------------------------------------


@live("cancellation")
def test_closing_a_stream_frees_the_slot(llama: LlamaServer, connect: Any) -> None:
    provider = connect(llama)
    options = {"max_tokens": 400, "extra_body": {"ignore_eos": True, "id_slot": 1}}
    with provider.stream("Write a very long story.", **options) as stream:
        for i, _ in enumerate(stream):
            if i == 3:
                assert next(s for s in slots(llama) if s["id"] == 1)["is_processing"]
                break
    deadline = time.monotonic() + 5
    while next(s for s in slots(llama) if s["id"] == 1)["is_processing"]:
        assert time.monotonic() < deadline, "the server kept generating after the stream closed"
        time.sleep(0.05)
    assert provider.complete("Still there?", max_tokens=2).completion is not None


# 8. errors ----------------------------------------------------------------------------------------


@live("errors")
def test_a_prompt_over_the_context_size(llama: LlamaServer, connect: Any) -> None:
    with pytest.raises(ContextLengthError) as info:
        connect(llama).complete("word " * 1500, max_tokens=4)
    error = info.value
    assert error.status == 400
    assert error.context_length == 1024
    assert error.prompt_tokens is not None
    assert error.prompt_tokens > 1024


def test_a_bad_request(llama: LlamaServer, connect: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        connect(llama).complete("hi", extra_body={"grammar": "this is not a grammar"})
    assert info.value.status == 400
    assert "grammar" in str(info.value)


def test_a_server_that_is_not_running(connect: Any) -> None:
    server = LlamaServer(slots=1, context=256).start()
    url = server.base_url
    server.stop()
    with pytest.raises(ServiceConnectionError) as info:
        connect(server, retries={"attempts": 0}).complete("hi")
    assert f"cannot connect to {url}/chat/completions" in str(info.value)
    assert not connect(server).status().connected


# 9. concurrency -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_streams_stay_separate(llama: LlamaServer, connect: Any) -> None:
    provider = connect(llama)
    words = ["alpha", "bravo", "charlie", "delta"]

    async def one(word: str) -> tuple[str, int]:
        grammar = f'root ::= "{word}" (" " "{word}"){{5}}'
        text, deltas = "", 0
        async with provider.astream(f"Say {word}.", extra_body={"grammar": grammar}) as stream:
            async for fragment in stream:
                if isinstance(fragment, TextDelta):
                    text += fragment.text
                    deltas += 1
        return text, deltas

    results = await asyncio.gather(*(one(word) for word in words))
    await provider.aclose()
    for word, (text, deltas) in zip(words, results, strict=True):
        assert text == " ".join([word] * 6)
        assert deltas > 1


# 10. embeddings -----------------------------------------------------------------------------------


@live("embeddings")
def test_embeddings(llama_embeddings: LlamaServer, connect: Any) -> None:
    provider = connect(llama_embeddings)
    result = provider.embed(["the sea", "a lighthouse", "the sea"])
    assert len(result.vectors) == 3
    assert len({len(v) for v in result.vectors}) == 1
    assert len(result.vectors[0]) > 100
    assert result.vectors[0] == pytest.approx(result.vectors[2])
    assert result.vectors[0] != pytest.approx(result.vectors[1])
    assert result.usage is not None
    assert (result.usage.prompt_tokens or 0) > 3


@pytest.mark.anyio
async def test_embeddings_async(llama_embeddings: LlamaServer, connect: Any) -> None:
    provider = connect(llama_embeddings)
    result = await provider.aembed("one text")
    assert len(result.vectors) == 1
    await provider.aclose()
