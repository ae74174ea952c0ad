"""The tool loop against a real llama.cpp server: a real answer's call runs a real tool.

The packaged model is a tiny base model: it cannot choose a tool. So the first step forces the
wire with ``tool_choice="required"`` (with the ``tools.jinja`` template, llama.cpp's grammar
then makes it answer with one valid call), and the step after the tool results asks for text
with ``tool_choice="none"``. The run's options go with every step, so a forced first
step would force every step: the run's ``step_options`` (:func:`forced_then_answer`) gives
the later steps options of their own.

Measured with llama.cpp b11549 (xllamacpp 2026.10.11549) and ``tools.jinja``: ``"required"``
gives a valid call (HTTP 200, finish ``tool_calls``) when ``max_tokens`` leaves room for it
(16 cuts it short); ``{"type": "function", "function": {"name": ...}}``, ``"auto"`` and no
``tool_choice`` fail with HTTP 500 ("The model produced output that does not match the
expected peg-native format"; streamed: HTTP 200, then that error as an event). After a tool
message, ``"none"`` (or no tools) gives text with HTTP 200, and ``"required"`` calls the tool
again. ``grammar`` beside tools is refused (HTTP 400, "Cannot use custom grammar constraints
with tools"). A template without tools (ChatML, the packaged one) answers every
``tool_choice`` with plain text. An answer whose call was cut short by ``max_tokens``, sent
back, is refused with HTTP 500 (its arguments are not JSON).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import AssistantMessage, Conversation, ToolCall, ToolMessage, ToolResult, UserMessage
from jackfield_llamacpp.server import LlamaServer

pytestmark = pytest.mark.compat

FORCED = {"tool_choice": "required", "parallel_tool_calls": False}
OPTIONS = {"temperature": 0, "seed": 7, "max_tokens": 48, "extra_body": {"cache_prompt": False}}
ANSWER = {"tool_choice": "none", "max_tokens": 8}


def forced_then_answer(step: int, conversation: Conversation) -> Mapping[str, Any]:
    """The run's ``step_options``: the first model call must call a tool (``OPTIONS``), the
    ones after the tool results must answer (``ANSWER``)."""
    return {} if step == 1 else ANSWER


def post(server: LlamaServer, path: str, body: Mapping[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{server.url}{path}", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture
def llamacpp(llama_tools: LlamaServer, registry: jackfield.Registry) -> Iterator[Any]:
    """The ``llamacpp`` preset of the OpenAI-compatible provider on the real server."""
    options = {"preset": "llamacpp", "base_url": llama_tools.base_url, **FORCED}
    with registry.create("openai-compatible", options, instance="llamacpp") as provider:
        yield provider


def test_a_real_call_runs_a_python_tool_and_its_result_gets_an_answer(
    llamacpp: jackfield.Provider[Any], llama_tools: LlamaServer
) -> None:
    cities: list[str] = []

    @jackfield.tool
    def get_weather(city: str) -> str:
        """Get the weather for a city.

        Args:
            city: the city's name.
        """
        cities.append(city)
        return "sunny, 24 C"

    run = llamacpp.run(
        "What is the weather in Paris?",
        tools=[get_weather],
        max_steps=3,
        step_options=forced_then_answer,
        **OPTIONS,
    )
    fragments = list(run)
    (call,) = [f for f in fragments if isinstance(f, ToolCall)]
    (result,) = [f for f in fragments if isinstance(f, ToolResult)]
    assert fragments.index(call) < fragments.index(result)
    assert (result.id, result.content, result.is_error) == (call.id, "sunny, 24 C", False)
    assert cities == [call.parsed_arguments()["city"]]  # the tool ran on the model's arguments
    assert (run.stop_reason, run.steps) == ("answer", 2)
    user, turn, answer, last = run.messages
    assert isinstance(user, UserMessage)
    assert isinstance(turn, AssistantMessage)
    assert turn.tool_calls == (call,)
    assert answer == ToolMessage(call.id, "sunny, 24 C")
    assert isinstance(last, AssistantMessage)
    assert not last.tool_calls
    assert last.content == run.text != ""  # the server answered the tool result with text

    # The server read the tool message as one: its template renders what the provider sent
    # for the second step with a tool turn, and that prompt is what the second step counted.
    sent = llamacpp.dry_run(run.messages[:3], tools=[get_weather], **{**OPTIONS, **ANSWER})
    prompt = post(llama_tools, "/apply-template", sent["body"])["prompt"]
    assert "<|im_start|>tool\nsunny, 24 C<|im_end|>" in prompt
    assert "<|im_start|>assistant\n<function=get_weather>{" in prompt  # the call's turn
    tokens = post(llama_tools, "/tokenize", {"content": prompt, "add_special": True})["tokens"]
    usage = run.responses[1].usage
    assert usage is not None
    assert usage.prompt_tokens == len(tokens)


@pytest.mark.anyio
async def test_a_forced_call_reaches_a_real_mcp_server(llamacpp: jackfield.Provider[Any]) -> None:
    from jackfield import MCPServer, MCPServerConfig

    command = str(Path(sys.executable).parent / "mcp-server-time")
    server = MCPServer("time", MCPServerConfig(command=command, args=("--local-timezone", "UTC")))
    try:
        # one tool, so that "required" forces this one (a named tool_choice fails here)
        (now,) = [t for t in await server.atools() if t.tool.name == "get_current_time"]
        run = llamacpp.arun(
            "What time is it in UTC?",
            tools=[now],
            max_steps=3,
            step_options=forced_then_answer,
            **OPTIONS,
        )
        fragments = [f async for f in run]
    finally:
        await server.aclose()
        await llamacpp.aclose()
    (call,) = [f for f in fragments if isinstance(f, ToolCall)]
    (result,) = [f for f in fragments if isinstance(f, ToolResult)]
    assert (call.source, call.name) == ("time", "get_current_time")  # time__get_current_time
    assert result.id == call.id
    assert not result.is_error, result.content
    assert result.data["timezone"] == call.parsed_arguments()["timezone"]  # the server's answer
    assert "datetime" in result.data
    assert (run.stop_reason, run.steps) == ("answer", 2)
    assert run.messages[2] == ToolMessage(call.id, result.content)
    assert not run.response.tool_calls
