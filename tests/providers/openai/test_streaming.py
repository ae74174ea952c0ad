"""The provider end to end over a replay transport: requests, parsing, errors, sync and async."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContextLengthError,
    MalformedStreamError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    Response,
    ServerError,
    StreamLimitError,
    TextDelta,
    Tool,
    ToolCall,
    TruncatedStreamError,
)
from jackfield.testing.transcripts import Transcript
from tests.providers.openai.conftest import replay_provider, sse_transcript


def chunk(**delta: Any) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})


def stop(reason: str = "stop") -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})


HELLO = sse_transcript(chunk(content="Hel"), chunk(content="lo"), stop(), "[DONE]")


def sent(transport: Any, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(transport.requests[index].content)
    return body


# --- requests -----------------------------------------------------------------------------------


def test_the_request_body_and_headers() -> None:
    provider, transport = replay_provider(HELLO, model="qwen", api_key="sk-test", temperature=0.5)
    assert provider.complete("hi", max_tokens=8).text == "Hello"
    request = transport.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "http://127.0.0.1:9/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["accept"] == "application/json"
    assert sent(transport) == {
        "model": "qwen",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "temperature": 0.5,
        "max_tokens": 8,
    }


def test_streaming_asks_for_usage_and_extras_merge_over_typed_fields() -> None:
    provider, transport = replay_provider(
        HELLO,
        extra_body={
            "cache_prompt": True,
            "samplers": ["top_k", "min_p"],
            "stream_options": {"continuous_usage_stats": True},
        },
    )
    list(
        provider.stream(
            "hi", extra_body={"id_slot": 1, "samplers": ["min_p"], "cache_prompt": None}
        )
    )
    body = sent(transport)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}
    assert body["samplers"] == ["min_p"]
    assert body["id_slot"] == 1
    assert "cache_prompt" not in body
    assert "model" not in body  # llama.cpp and text-generation-webui need none


def test_include_usage_can_be_turned_off_and_layers_unset_typed_fields() -> None:
    provider, transport = replay_provider(HELLO, include_usage=False, temperature=0.3, top_p=0.9)
    list(provider.stream("hi", temperature=None, extra_body={"top_p": 0.5}))
    body = sent(transport)
    assert "stream_options" not in body
    assert "temperature" not in body  # null in a later layer unsets it
    assert body["top_p"] == 0.5  # extra_body is merged last, over the typed fields


def test_messages_tools_and_images_go_out_in_openai_shape() -> None:
    provider, transport = replay_provider(HELLO, send_reasoning=True)
    image = jackfield.ImagePart.from_bytes(b"\x89PNG", "image/png")
    call = ToolCall("c1", "search", '{"q": "x"}', source="web")
    messages = [
        jackfield.SystemMessage("sys"),
        jackfield.UserMessage((jackfield.TextPart("look"), image)),
        jackfield.AssistantMessage("", (call,), thoughts="hm"),
        jackfield.ToolMessage("c1", "result"),
    ]
    tools = [Tool("search", "Searches.", {"type": "object"}, source="web")]
    list(
        provider.stream(
            messages,
            tools=tools,
            tool_choice={"type": "function", "function": {"name": "search", "source": "web"}},
        )
    )
    body = sent(transport)
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
            ],
        },
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "web__search", "arguments": '{"q": "x"}'},
                }
            ],
            "reasoning_content": "hm",
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "web__search",
                "description": "Searches.",
                "parameters": {"type": "object"},
            },
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "web__search"}}


def test_query_and_extra_headers() -> None:
    provider, transport = replay_provider(
        HELLO, query={"api-version": "1"}, headers={"X-Trace": "t"}
    )
    list(provider.stream("hi"))
    assert str(transport.requests[0].url).endswith("/chat/completions?api-version=1")
    assert transport.requests[0].headers["x-trace"] == "t"


def test_tabbyapi_style_key_headers() -> None:
    provider, transport = replay_provider(HELLO, api_key="k", api_key_header="both")
    list(provider.stream("hi"))
    headers = transport.requests[0].headers
    assert (headers["authorization"], headers["x-api-key"]) == ("Bearer k", "k")


def test_dry_run_shows_the_exact_request_with_secrets_masked() -> None:
    provider, transport = replay_provider(
        HELLO, api_key="sk-secret", headers={"X-Api-Token": "t0ken"}
    )
    dry = provider.dry_run("hi", temperature=0)
    assert dry["method"] == "POST"
    assert dry["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert dry["headers"]["Authorization"] == "Bearer ********"
    assert dry["headers"]["X-Api-Token"] == "********"
    assert dry["body"]["temperature"] == 0
    assert "sk-secret" not in json.dumps(dry)
    assert "t0ken" not in json.dumps(dry)
    assert transport.requests == []  # nothing was sent


def test_api_key_from_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    provider, transport = replay_provider(HELLO, api_key={"env": "SB_TEST_KEY"})
    monkeypatch.delenv("SB_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="environment variable SB_TEST_KEY is not set"):
        list(provider.stream("hi"))
    monkeypatch.setenv("SB_TEST_KEY", "from-env")
    list(provider.stream("hi"))
    assert transport.requests[0].headers["authorization"] == "Bearer from-env"
    assert "from-env" not in repr(provider.options)


def test_the_openai_preset_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    provider, _ = replay_provider(HELLO, base_url=None, preset="openai", model="gpt-x")
    assert provider.base_url == "https://api.openai.com/v1"
    with pytest.raises(ConfigError, match="the openai preset needs an API key: set OPENAI_API_KEY"):
        list(provider.stream("hi"))


@pytest.mark.parametrize(
    ("options", "url"),
    [
        ({}, "http://127.0.0.1:8080/v1"),
        ({"preset": "lmstudio"}, "http://127.0.0.1:1234/v1"),
        ({"preset": "ollama"}, "http://127.0.0.1:11434/v1"),
        ({"preset": "vllm", "port": 9000}, "http://127.0.0.1:9000/v1"),
        ({"preset": "sglang", "host": "gpu-box"}, "http://gpu-box:30000/v1"),
        ({"host": "::1", "port": 5000}, "http://[::1]:5000/v1"),
        ({"base_url": "http://10.0.0.2:8000/v1/"}, "http://10.0.0.2:8000/v1"),
    ],
)
def test_where_requests_go(options: dict[str, Any], url: str) -> None:
    provider = jackfield.load_registry().create("openai-compatible", options)
    assert provider.base_url == url  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("call", "url", "authorization"),
    [
        ({}, "http://127.0.0.1:9/v1/chat/completions", "Bearer sk-instance"),
        ({"model": "other"}, "http://127.0.0.1:9/v1/chat/completions", "Bearer sk-instance"),
        (
            {"base_url": "http://127.0.0.1:7/v1"},
            "http://127.0.0.1:7/v1/chat/completions",
            "Bearer sk-instance",
        ),
        ({"port": 5}, "http://127.0.0.1:9/v1/chat/completions", "Bearer sk-instance"),
        ({"api_key": "sk-call"}, "http://127.0.0.1:9/v1/chat/completions", "Bearer sk-call"),
        ({"api_key": None}, "http://127.0.0.1:9/v1/chat/completions", None),
    ],
)
def test_a_call_can_change_where_it_goes_and_with_which_key(
    call: dict[str, Any], url: str, authorization: str | None
) -> None:
    provider, _ = replay_provider(HELLO, api_key="sk-instance")
    for _ in range(2):  # the second time from the options cache
        request = provider.dry_run("hi", **call)
        assert request["url"] == url
        shown = request["headers"].get("Authorization")
        assert shown == (None if authorization is None else "Bearer ********")
    sent_request = None
    for _ in range(2):
        provider.complete("hi", **call)
        sent_request = provider._transports[0].requests[-1]  # type: ignore[attr-defined]
        assert str(sent_request.url) == url
        assert sent_request.headers.get("authorization") == authorization


def test_repeated_plain_call_options_are_validated_once_and_stay_apart() -> None:
    provider, _ = replay_provider(HELLO)
    first = provider.options_for(temperature=1, model="m")
    assert provider.options_for(model="m", temperature=1) is first  # same options, any order
    with pytest.raises(jackfield.OptionsError, match="got a boolean"):
        provider.options_for(temperature=True, model="m")  # True == 1, yet not a number
    assert provider.options_for(temperature=0.5) is not first
    with pytest.raises(jackfield.OptionsError, match=r"\$\.temperature"):
        provider.options_for(temperature="hot")
    with pytest.raises(jackfield.OptionsError, match=r"\$\.temperature"):
        provider.options_for(temperature="hot")  # failures are never cached
    extra = provider.options_for(extra_body={"top_k": 1})  # not plain: never cached
    assert provider.options_for(extra_body={"top_k": 1}) is not extra
    assert provider.options_for(extra_body={"top_k": 1}) == extra


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # Caught when the options are validated (a configuration file, then, names the line).
        ({"preset": "lmstudoi"}, r"\$\.preset: must be one of .*; did you mean 'lmstudio'\?"),
        (
            {"base_url": "localhost:8080"},
            r"\$\.base_url: must start with http:// or https://: write http://localhost:8080/v1",
        ),
        (
            {"base_url": "http://127.0.0.1:80a/v1"},
            r"instance 'openai-compatible': base_url 'http://127.0.0.1:80a/v1' is not a valid URL "
            r"\(Port could not be cast to integer value as '80a'\); write it as "
            r"http://127.0.0.1:8080/v1",
        ),
        ({"base_url": "http://a b/v1"}, "holds a space or a control character"),
        ({"host": "127.0.0.1", "port": 70000}, r"\$\.port: must be from 1 to 65535; got 70000"),
    ],
)
def test_bad_places(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        jackfield.load_registry().create("openai-compatible", options)


def test_every_preset_is_a_ready_instance() -> None:
    registry = jackfield.load_registry()
    assert {
        "lmstudio",
        "llamacpp",
        "ollama",
        "vllm",
        "sglang",
        "textgen-webui",
        "tabbyapi",
        "koboldcpp",
        "localai",
        "openai",
    } <= set(registry.instance_names())
    provider = registry.create_instance("ollama", {"model": "qwen3:8b"})
    assert provider.base_url == "http://127.0.0.1:11434/v1"  # type: ignore[attr-defined]
    assert provider.options.model == "qwen3:8b"
    assert "preset:ollama" in provider.explain()


# --- responses -----------------------------------------------------------------------------------


def test_non_streaming_answer_uses_the_same_mapping() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "<think>plan</think>Answer",
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                        {
                            "id": "b",
                            "type": "function",
                            "function": {"name": "g", "arguments": "{}"},
                        },
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "timings": {"predicted_n": 2},
    }
    provider, _ = replay_provider(
        Transcript(200, (("content-type", "application/json"),), json.dumps(body).encode())
    )
    response = provider.complete("hi")
    assert (response.thoughts, response.text) == ("plan", "Answer")
    assert [c.id for c in response.tool_calls] == ["a", "b"]
    assert response.usage == jackfield.Usage(1, 2, 3)
    assert response.completion is not None
    assert response.completion.metrics == {"predicted_n": 2}


def test_a_json_answer_to_a_streaming_request_is_read_whole() -> None:
    body = {"choices": [{"index": 0, "message": {"content": "whole"}, "finish_reason": "stop"}]}
    provider, _ = replay_provider(
        Transcript(200, (("content-type", "application/json"),), json.dumps(body).encode())
    )
    assert [f for f in provider.stream("hi") if isinstance(f, TextDelta)] == [TextDelta("whole")]


@pytest.mark.parametrize(
    ("transcript", "kind", "message"),
    [
        (
            Transcript(
                200, (("content-type", "text/html"),), b"<html><body>Bad gateway</body></html>"
            ),
            MalformedStreamError,
            "expected a chat response but the server sent text/html",
        ),
        (
            sse_transcript(chunk(content="a"), "{not json"),
            MalformedStreamError,
            "an event is not valid JSON: '{not json'",
        ),
        (
            sse_transcript(chunk(content="a")),
            TruncatedStreamError,
            "the stream ended before the answer finished",
        ),
        (
            Transcript(200, (("content-type", "application/json"),), b""),
            TruncatedStreamError,
            "the response body is empty",
        ),
        (
            Transcript(200, (("content-type", "application/json"),), b'{"status": "ok"}'),
            MalformedStreamError,
            "JSON but not a chat completion",
        ),
        (
            sse_transcript(
                chunk(content="a"),
                json.dumps({"error": {"message": "boom", "code": 500}}),
                "[DONE]",
            ),
            ServerError,
            "replay: boom",
        ),
        (
            sse_transcript(
                chunk(content="a"), b'error: {"code": 500, "message": "slot crashed"}\n\n', "[DONE]"
            ),
            ServerError,
            "replay: slot crashed",
        ),
    ],
)
def test_bad_bodies_are_typed_errors_with_the_partial_answer(
    transcript: Transcript, kind: type, message: str
) -> None:
    provider, _ = replay_provider(transcript)
    with pytest.raises(kind) as info:
        list(provider.stream("hi"))
    assert message in str(info.value)
    partial = info.value.partial  # type: ignore[attr-defined]
    if partial is not None:
        assert partial.text in ("", "a")


def test_an_event_larger_than_the_limit() -> None:
    provider, _ = replay_provider(
        sse_transcript(chunk(content="x" * 100), stop(), "[DONE]"), limits={"event_bytes": 64}
    )
    with pytest.raises(StreamLimitError):
        list(provider.stream("hi"))


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (
            400,
            {"error": {"message": "bad temperature", "type": "invalid_request_error"}},
            BadRequestError,
            "bad temperature",
        ),
        (
            401,
            {"error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}},
            AuthenticationError,
            "Invalid API Key (check the api_key option)",
        ),
        (401, {"error": "Unauthorized"}, AuthenticationError, "Unauthorized"),
        (403, {"detail": "forbidden"}, PermissionDeniedError, "forbidden"),
        (
            404,
            {"error": {"message": "The model `x` does not exist.", "code": 404}},
            NotFoundError,
            "(list the server's models with list_models())",
        ),
        (
            422,
            {"detail": [{"loc": ["body", "messages", 0, "content"], "msg": "field required"}]},
            BadRequestError,
            "messages.0.content: field required",
        ),
        (429, {"error": {"message": "slow down"}}, RateLimitError, "slow down"),
        (500, "plain text failure", ServerError, "plain text failure"),
        (  # llama-cpp-python: a request that fails validation is a 500
            500,
            {
                "error": {
                    "message": "1 validation error:\n  {'type': 'int_parsing', 'loc': ('body', "
                    "'max_tokens'), 'msg': 'Input should be a valid integer'}",
                    "type": "internal_server_error",
                    "param": None,
                    "code": None,
                }
            },
            BadRequestError,
            "1 validation error",
        ),
        (  # LiteLLM's proxy without a database, given another key than its master key
            400,
            {
                "error": {
                    "message": "No connected db.",
                    "type": "no_db_connection",
                    "param": None,
                    "code": "400",
                }
            },
            AuthenticationError,
            "No connected db. (LiteLLM's proxy has no database, so it accepts its master key "
            "alone) (check the api_key option)",
        ),
        (  # a proxy that types its refusal of a key as auth_error
            400,
            {
                "error": {
                    "message": "Authentication Error, Invalid proxy server token passed.",
                    "type": "auth_error",
                    "param": "None",
                    "code": "400",
                }
            },
            AuthenticationError,
            "Invalid proxy server token passed",
        ),
        (502, "<html><h1>502 Bad Gateway</h1></html>", ServerError, "502 Bad Gateway"),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 5000,
                    "n_ctx": 4096,
                }
            },
            ContextLengthError,
            "exceeds the available context size",
        ),
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens. "
                    "However, your messages resulted in 9000 tokens.",
                    "code": "context_length_exceeded",
                }
            },
            ContextLengthError,
            "maximum context length",
        ),
    ],
)
def test_http_errors_map_to_the_taxonomy(status: int, body: Any, kind: type, message: str) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    transcript = Transcript(
        status, (("content-type", "application/json"), ("x-request-id", "req-9")), raw
    )
    provider, _ = replay_provider(transcript, api_key="sk-x")
    with pytest.raises(kind) as info:
        provider.complete("hi")
    error = info.value
    assert message in str(error)
    assert error.status == status  # type: ignore[attr-defined]
    assert error.request_id == "req-9"  # type: ignore[attr-defined]
    assert f"HTTP {status}" in str(error)
    if kind is ContextLengthError:
        assert error.context_length in (4096, 8192)  # type: ignore[attr-defined]
        assert error.prompt_tokens in (5000, 9000)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ('{"error": {"message": "upstream hiccup", "type": "internal_server_error"}}', 3),
        ("<html><title>500 Internal Server Error</title><center>nginx</center></html>", 3),
        (  # llama-cpp-python's validation report: the same request fails the same way
            '{"error": {"message": "7 validation errors:\\n  ...", "type": '
            '"internal_server_error", "param": null, "code": null}}',
            1,
        ),
        ('{"error": {"message": "The model `x` does not exist.", "type": "NotFoundError"}}', 1),
        # An unhandled exception: Starlette's bare page (transformers serve asked for an unknown
        # model, LiteLLM's proxy given no key), or an empty message (llama-cpp-python's failed
        # assertion on tool_choice "required").
        ("Internal Server Error", 1),
        ('{"error": {"message": "", "type": "internal_server_error", "param": null}}', 1),
    ],
)
def test_a_server_error_is_retried_unless_its_body_blames_the_request(body: str, sent: int) -> None:
    failing = Transcript(500, (("content-type", "application/json"),), body.encode())
    provider, transport = replay_provider(
        failing, retries={"attempts": 2, "backoff": 0.001, "max_backoff": 0.001}
    )
    with pytest.raises(ProviderError) as info:
        provider.complete("hi")
    assert info.value.status == 500
    assert len(transport.requests) == sent
    if sent == 1 and isinstance(info.value, jackfield.ServerError):
        assert "failed on this request without saying why (its log says more)" in str(info.value)


def test_the_key_is_scrubbed_from_server_messages() -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided: sk-abc123"}}).encode()
    provider, _ = replay_provider(
        Transcript(401, (("content-type", "application/json"),), body), api_key="sk-abc123"
    )
    with pytest.raises(AuthenticationError) as info:
        provider.complete("hi")
    assert "sk-abc123" not in str(info.value)
    assert "********" in str(info.value)


# --- sync and async, chunking ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_streams_the_same_fragments() -> None:
    provider, _ = replay_provider(HELLO)
    assert [f async for f in provider.astream("hi")] == list(provider.stream("hi"))
    assert (await provider.acomplete("hi")).text == "Hello"
    await provider.aclose()


@pytest.mark.anyio
async def test_closing_an_async_stream_closes_the_response() -> None:
    provider, transport = replay_provider(HELLO)
    async with provider.astream("hi") as stream:
        await stream.__anext__()
    assert transport.bodies[-1].closed


def test_closing_a_stream_closes_the_response() -> None:
    provider, transport = replay_provider(HELLO, chunks=[HELLO.body[:20], HELLO.body[20:]])
    for _ in provider.stream("hi"):
        break
    assert transport.bodies[-1].closed


tool_delta = st.builds(
    lambda i, first, args: {
        "index": i,
        **({"id": f"call_{i}", "type": "function"} if first else {}),
        "function": {**({"name": f"f{i}"} if first else {}), "arguments": args},
    },
    st.integers(0, 2),
    st.booleans(),
    st.text(alphabet='{}"a: 1é', max_size=6),
)
deltas = st.one_of(
    st.builds(lambda t: {"content": t}, st.text(max_size=6)),
    st.builds(lambda t: {"reasoning_content": t}, st.text(max_size=6)),
    st.builds(lambda d: {"tool_calls": [d]}, tool_delta),
)


@given(
    st.lists(deltas, max_size=12),
    st.lists(st.integers(0, 3000), max_size=10),
    st.sampled_from(["\n\n", "\r\n\r\n", "\r\r"]),
    st.booleans(),
)
def test_assembly_does_not_depend_on_how_the_sse_bytes_were_chunked(
    items: list[dict[str, Any]], cuts: list[int], separator: str, space: bool
) -> None:
    prefix = "data: " if space else "data:"
    events = [json.dumps({"choices": [{"index": 0, "delta": d}]}) for d in items]
    events += [stop("tool_calls"), "[DONE]"]
    body = "".join(f": keep-alive{separator}{prefix}{e}{separator}" for e in events).encode()
    transcript = Transcript(200, (("content-type", "text/event-stream"),), body)
    whole_provider, _ = replay_provider(transcript, think_tags="off")
    whole = list(whole_provider.stream("hi"))
    split_provider, _ = replay_provider(transcript, chunks=transcript.split(cuts), think_tags="off")
    assert list(split_provider.stream("hi")) == whole
    response = Response.fold(whole)
    assert response.text == "".join(d.get("content", "") for d in items)
    assert response.thoughts == "".join(d.get("reasoning_content", "") for d in items)


# --- every family's native extras reach the server untouched -----------------------------------

NATIVE_EXTRAS: dict[str, dict[str, Any]] = {
    "llama.cpp": {
        "cache_prompt": True,
        "id_slot": 1,
        "n_probs": 3,
        "samplers": ["top_k", "min_p"],
        "json_schema": {"type": "object"},
        "chat_template_kwargs": {"enable_thinking": False},
    },
    "vllm": {
        "top_k": 20,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
        "structured_outputs": {"regex": "[0-9]+"},
        "chat_template_kwargs": {"enable_thinking": True},
    },
    "sglang": {
        "regex": "(a|b)",
        "ebnf": "root ::= 'x'",
        "separate_reasoning": True,
        "stream_reasoning": False,
    },
    "ollama": {"reasoning_effort": "high"},
    "lmstudio": {"top_k": 40, "repeat_penalty": 1.1, "ttl": 600, "draft_model": "qwen2.5-0.5b"},
    "text-generation-webui": {
        "min_p": 0.05,
        "dry_multiplier": 0.8,
        "grammar_string": "root ::= 'x'",
        "mode": "instruct",
    },
    "tabbyapi": {
        "top_a": 0.2,
        "tfs": 0.95,
        "banned_strings": ["As an AI"],
        "json_schema": {"type": "object"},
        "template_vars": {"x": 1},
    },
    "koboldcpp": {"rep_pen": 1.1, "sampler_order": [6, 0, 1]},
    "localai": {"grammar": "root ::= 'x'", "top_k": 40},
    "openai": {
        "store": False,
        "metadata": {"run": "42"},
        "prediction": {"type": "content", "content": "x"},
    },
}


@pytest.mark.parametrize(
    "server",
    [
        pytest.param(s, marks=pytest.mark.covers(s, "extras pass-through", "transcript"))
        for s in NATIVE_EXTRAS
    ],
)
def test_native_extras_reach_the_body_untouched(server: str) -> None:
    extras = NATIVE_EXTRAS[server]
    provider, transport = replay_provider(HELLO, extra_body=extras)
    list(provider.stream("hi"))
    body = sent(transport)
    for key, value in extras.items():
        assert body[key] == value
