"""The conformance kit on the OpenAI-compatible provider, over real sockets to a scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import jackfield
from jackfield.testing.conformance import ProviderConformance
from tests.support.scripted_server import Reply, ScriptedServer, serving, sse

JSON = {"content-type": "application/json"}


def unanswered(messages: list[dict[str, Any]]) -> str | None:
    """What OpenAI refuses with HTTP 400: a turn of tool calls not followed by a tool message
    for each, or a tool message answering no call."""
    waiting: set[str] = set()
    for message in messages:
        if message["role"] == "tool":
            if message.get("tool_call_id") not in waiting:
                return "messages with role 'tool' must be a response to a preceding 'tool_calls'"
            waiting.discard(message["tool_call_id"])
            continue
        if waiting:
            break
        waiting = {call["id"] for call in message.get("tool_calls") or ()}
    if waiting:
        return "an assistant message with 'tool_calls' must be followed by tool messages"
    return None


def reply(request: Any) -> Reply:
    if request.path.endswith("/models"):
        data = {"object": "list", "data": [{"id": "tiny", "object": "model", "owned_by": "vllm"}]}
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    body = json.loads(request.body)
    if request.path.endswith("/embeddings"):
        vectors = [
            {"index": i, "embedding": [0.1 * i, 0.2, 0.3]} for i in range(len(body["input"]))
        ]
        data = {"data": vectors, "model": "tiny", "usage": {"prompt_tokens": 4, "total_tokens": 4}}
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    usage = {
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    problem = unanswered(body["messages"])
    if problem:
        error = {"error": {"message": problem, "type": "invalid_request_error"}}
        return Reply(status=400, headers=JSON, body=[json.dumps(error).encode()], chunked=False)
    if body.get("tools") and body["messages"][-1]["role"] != "tool":  # tool results get text
        name = body["tools"][0]["function"]["name"]
        events = [
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": name, "arguments": '{"city"'},
                                }
                            ]
                        },
                    }
                ]
            },
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [{"index": 0, "function": {"arguments": ': "Paris"}'}}]
                        },
                    }
                ]
            },
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        ]
    else:
        events = [{"choices": [{"index": 0, "delta": {"content": "Hel"}}]}]
        if body.get("reasoning_effort"):
            events.insert(
                0, {"choices": [{"index": 0, "delta": {"reasoning_content": "Thinking."}}]}
            )
        events += [
            {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": "Hello"}
        choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
        data = {"choices": choices, "usage": usage["usage"]}
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    return Reply(body=sse(*events, usage))


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with serving(reply) as running:
        yield running


class TestOpenAICompatibleConformance(ProviderConformance):
    tools = True
    reasoning = True
    vision = True
    embeddings = True
    secret_option = "api_key"
    reasoning_call_options = {"extra_body": {"reasoning_effort": "low"}}

    @pytest.fixture
    def provider(self, server: ScriptedServer) -> Iterator[jackfield.Provider[Any]]:
        registry = jackfield.load_registry()
        with registry.create(
            "openai-compatible", {"base_url": f"{server.url}/v1"}, instance="scripted"
        ) as provider:
            yield provider

    @pytest.fixture
    def failing_provider(self) -> Iterator[jackfield.Provider[Any]]:
        with serving([Reply()]) as gone:
            url = gone.url  # a port nothing listens on any more
        options = {"base_url": f"{url}/v1", "retries": {"attempts": 0}}
        with jackfield.load_registry().create(
            "openai-compatible", options, instance="down"
        ) as provider:
            yield provider
