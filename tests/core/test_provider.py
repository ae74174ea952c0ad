"""The Provider base: streams, whole answers, call options, errors, closing, sync and async."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import (
    Completion,
    ConversationError,
    CredentialCheck,
    FinishReason,
    ModelInfo,
    OptionsError,
    ProviderError,
    ServerError,
    Status,
    TextDelta,
    ThoughtDelta,
    Tool,
)
from jackfield.testing import ScriptedOptions, ScriptedProvider, reply_fragments

STOP = Completion(FinishReason.STOP, "stop")


def make(**options: Any) -> ScriptedProvider:
    return ScriptedProvider.from_options(options, name="test")  # type: ignore[return-value]


def test_stream_yields_fragments_and_folds_them() -> None:
    provider = make(reply="Hello world", thoughts="hmm", chunk_size=4)
    stream = provider.stream("hi")
    fragments = list(stream)
    assert fragments == reply_fragments(
        "Hello world", thoughts="hmm", chunk_size=4, model="scripted"
    )
    assert [f.text for f in fragments if isinstance(f, TextDelta)] == ["Hell", "o wo", "rld"]
    assert stream.response.text == "Hello world"
    assert stream.response.thoughts == "hmm"
    assert stream.response.done


def test_next_works_on_the_stream_object() -> None:
    stream = make(reply="ab", chunk_size=1).stream("hi")
    assert next(stream) == TextDelta("a")
    assert next(stream) == TextDelta("b")


def test_complete_sends_a_non_streaming_request() -> None:
    provider = make(reply="whole")
    response = provider.complete([{"role": "user", "content": "hi"}])
    assert response.text == "whole"
    assert provider.requests[-1].stream is False
    provider.stream("hi")
    assert provider.requests[-1].stream is True


def test_call_options_merge_over_instance_options() -> None:
    provider = make(temperature=0.5, extra_body={"cache_prompt": True, "top_k": 40})
    list(provider.stream("hi", max_tokens=8, extra_body={"top_k": None, "min_p": 0.1}))
    options = provider.requests[-1].options
    assert options.temperature == 0.5
    assert options.max_tokens == 8
    assert options.extra_body == {"cache_prompt": True, "min_p": 0.1}
    assert provider.options.max_tokens is None  # the instance is untouched


def test_call_options_are_validated_and_blamed_on_the_call_layer() -> None:
    provider = make(temperature=0.5)
    with pytest.raises(OptionsError) as info:
        provider.stream("hi", temperature="warm")
    assert str(info.value) == (
        "invalid options for provider 'test':\n"
        "  $.temperature: expected a number, got str 'warm' (set by layer 'call')"
    )
    assert provider.requests == []


def test_invalid_conversations_fail_at_call_time() -> None:
    provider = make()
    with pytest.raises(ConversationError):
        provider.stream([{"role": "tool", "content": "x"}])
    assert provider.requests == []


def test_explain_shows_every_effective_value_and_its_layer() -> None:
    provider = make(reply="r", extra_body={"a": 1})
    assert provider.explain(temperature=0.1).splitlines() == [
        'model        = "scripted"  <- (default)',
        'reply        = "r"         <- instance:test',
        'thoughts     = ""          <- (default)',
        "chunk_size   = 8           <- (default)",
        "temperature  = 0.1         <- call",
        "max_tokens   = null        <- (default)",
        "extra_body.a = 1           <- instance:test",
    ]


def test_tools_reach_the_request() -> None:
    provider = make()
    tool = Tool("add", "Adds.", {"type": "object"})
    provider.complete("hi", tools=[tool])
    assert provider.requests[-1].tools == (tool,)


def test_breaking_out_of_a_stream_closes_the_exchange() -> None:
    provider = make(reply="a long answer", chunk_size=1)
    for _ in provider.stream("hi"):
        break
    assert provider.exchanges[-1].closed


def test_with_block_closes_the_exchange() -> None:
    provider = make(reply="a long answer", chunk_size=1)
    with provider.stream("hi") as stream:
        next(stream)
    assert provider.exchanges[-1].closed
    stream.close()  # closing twice is fine


def test_an_error_mid_stream_carries_what_arrived() -> None:
    provider = ScriptedProvider(
        script=[TextDelta("par"), ThoughtDelta("t"), TextDelta("tial"), ServerError("boom")]
    )
    stream = provider.stream("hi")
    with pytest.raises(ServerError) as info:
        list(stream)
    assert info.value.partial is not None
    assert info.value.partial.text == "partial"
    assert info.value.partial.thoughts == "t"
    assert info.value.partial is stream.response
    assert provider.exchanges[-1].closed


def test_an_error_before_anything_arrived_has_no_partial() -> None:
    provider = ScriptedProvider(script=[ServerError("down")])
    with pytest.raises(ServerError) as info:
        provider.complete("hi")
    assert info.value.partial is None


def test_foreign_exceptions_become_provider_errors() -> None:
    provider = ScriptedProvider(script=[TextDelta("x"), KeyError("choices")], name="buggy")
    with pytest.raises(ProviderError) as info:
        provider.complete("hi")
    assert type(info.value) is ProviderError
    assert str(info.value) == "buggy failed: KeyError: 'choices'"
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.partial is not None
    assert info.value.partial.text == "x"


def test_a_script_can_depend_on_the_request() -> None:
    provider = ScriptedProvider(
        script=lambda request: [TextDelta(request.conversation.messages[-1].content.upper()), STOP]  # type: ignore[union-attr]
    )
    assert provider.complete("shout").text == "SHOUT"


def test_models_status_and_credentials() -> None:
    provider = ScriptedProvider(ScriptedOptions(model="m1"))
    assert provider.list_models() == [ModelInfo("m1", context_length=4096)]
    assert provider.status() == Status(True, "scripted", ("m1",), ("m1",))
    assert provider.validate() == CredentialCheck(True, "none", "no credentials needed")


def test_provider_is_a_context_manager() -> None:
    with make() as provider:
        assert provider.complete("x").text
    assert repr(provider) == "<ScriptedProvider 'test'>"


@pytest.mark.anyio
async def test_async_api_matches_the_sync_api() -> None:
    provider = make(reply="Hello async", thoughts="t", chunk_size=3)
    fragments = [f async for f in provider.astream("hi")]
    assert fragments == list(provider.stream("hi"))
    response = await provider.acomplete("hi")
    assert response == provider.complete("hi")
    assert provider.requests[-2].stream is False
    assert await provider.alist_models() == provider.list_models()
    assert await provider.astatus() == provider.status()
    assert await provider.avalidate() == provider.validate()
    async with provider as same:
        assert same is provider


@pytest.mark.anyio
async def test_async_close_and_errors() -> None:
    provider = make(reply="abcdef", chunk_size=1)
    async with provider.astream("hi") as stream:
        assert await stream.__anext__() == TextDelta("a")
    assert provider.exchanges[-1].closed
    failing = ScriptedProvider(script=[TextDelta("a"), ServerError("late")])
    with pytest.raises(ServerError) as info:
        await failing.acomplete("hi")
    assert info.value.partial is not None
    assert info.value.partial.text == "a"
    assert failing.exchanges[-1].closed
