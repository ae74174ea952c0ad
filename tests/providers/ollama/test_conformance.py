"""The conformance kit on the native Ollama provider, against a scripted NDJSON server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import jackfield
from jackfield.testing.conformance import ProviderConformance
from tests.support.scripted_server import Reply, ScriptedServer, serving

NDJSON = {"content-type": "application/x-ndjson"}
JSON = {"content-type": "application/json; charset=utf-8"}
FINAL = {
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 5,
    "eval_count": 2,
    "eval_duration": 20000000,
}


def lines(*objects: dict[str, Any]) -> list[bytes]:
    return [json.dumps({"model": "qwen3:8b", **o}).encode() + b"\n" for o in objects]


def reply(request: Any) -> Reply:
    if request.method == "GET":
        data = {
            "/api/version": {"version": "0.12.11"},
            "/api/tags": {"models": [{"name": "qwen3:8b", "model": "qwen3:8b"}]},
            "/api/ps": {"models": [{"name": "qwen3:8b"}]},
        }.get(request.path, {"error": "not found"})
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    body = json.loads(request.body)
    if request.path == "/api/show":
        data = {
            "model_info": {"general.architecture": "qwen3", "qwen3.context_length": 40960},
            "capabilities": ["completion", "tools", "thinking"],
        }
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    if request.path == "/api/embed":
        data = {
            "model": "nomic",
            "embeddings": [[0.5, 0.25] for _ in body["input"]],
            "prompt_eval_count": 3,
        }
        return Reply(headers=JSON, body=[json.dumps(data).encode()], chunked=False)
    messages = body["messages"]
    for i, message in enumerate(messages):  # stricter than Ollama: each call gets its result
        calls = message.get("tool_calls") or ()
        answers = messages[i + 1 : i + 1 + len(calls)]
        if len(answers) < len(calls) or any(m["role"] != "tool" for m in answers):
            error = {"error": "each tool call needs a tool message right after it"}
            return Reply(status=400, headers=JSON, body=[json.dumps(error).encode()], chunked=False)
    if body.get("tools") and messages[-1]["role"] != "tool":  # tool results get text
        name = body["tools"][0]["function"]["name"]
        call = {
            "id": "call_ab12cd34",
            "function": {"index": 0, "name": name, "arguments": {"city": "Paris"}},
        }
        objects = [
            {"message": {"role": "assistant", "content": "", "tool_calls": [call]}, "done": False}
        ]
    else:
        objects = [{"message": {"role": "assistant", "content": "Hel"}, "done": False}]
        if body.get("think"):
            objects.insert(
                0,
                {
                    "message": {"role": "assistant", "content": "", "thinking": "Hmm."},
                    "done": False,
                },
            )
        objects.append({"message": {"role": "assistant", "content": "lo"}, "done": False})
    objects.append({"message": {"role": "assistant", "content": ""}, **FINAL})
    if not body.get("stream", True):
        whole = {"message": {"role": "assistant", "content": "Hello"}, **FINAL}
        return Reply(headers=JSON, body=lines(whole), chunked=False)
    return Reply(headers=NDJSON, body=lines(*objects))


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with serving(reply) as running:
        yield running


class TestOllamaConformance(ProviderConformance):
    tools = True
    reasoning = True
    vision = True
    embeddings = True
    secret_option = "api_key"
    call_options = {"model": "qwen3:8b"}
    reasoning_call_options = {"think": True}

    @pytest.fixture
    def provider(self, server: ScriptedServer) -> Iterator[jackfield.Provider[Any]]:
        registry = jackfield.load_registry()
        with registry.create("ollama", {"base_url": server.url}, instance="ollama") as provider:
            yield provider

    @pytest.fixture
    def failing_provider(self) -> Iterator[jackfield.Provider[Any]]:
        with serving([Reply()]) as gone:
            url = gone.url
        with jackfield.load_registry().create(
            "ollama", {"base_url": url, "retries": {"attempts": 0}}, instance="down"
        ) as provider:
            yield provider
