"""The chat request body: a conversation and typed options as OpenAI's JSON (sans-I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jackfield import (
    AssistantMessage,
    Conversation,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    Tool,
    ToolMessage,
    UserMessage,
    merge_patch,
)
from jackfield_openai._chat import ChatOptions
from jackfield_openai._toolnames import ToolNames

__all__ = ["SAMPLING_FIELDS", "chat_body"]

SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "parallel_tool_calls",
    "priority",
)


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    image: dict[str, Any] = {"url": part.as_url()}
    if part.detail:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _message(message: Message, names: ToolNames, options: ChatOptions) -> dict[str, Any]:
    if isinstance(message, SystemMessage):
        return {"role": options.system_role, "content": message.content}
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return {"role": "user", "content": message.content}
        return {"role": "user", "content": [_part(p) for p in message.content]}
    if isinstance(message, AssistantMessage):
        # Always a string: an assistant message of tool calls alone goes out with "", which
        # every server tried accepts; llama-cpp-python answers null with HTTP 500, and LiteLLM
        # drops a null content so its upstream fails.
        wire: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": names.wire(call.source, call.name),
                        "arguments": call.arguments,
                    },
                }
                for call in message.tool_calls
            ]
        if options.send_reasoning and message.thoughts:
            wire["reasoning_content"] = message.thoughts
        return wire
    assert isinstance(message, ToolMessage)
    wire = {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.name:
        wire["name"] = message.name
    return wire


def _tool_choice(choice: str | dict[str, Any], names: ToolNames) -> Any:
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            source = function.get("source")
            wire_name = names.wire(source if isinstance(source, str) else None, function["name"])
            return {"type": "function", "function": {"name": wire_name}}
    return choice


def chat_body(
    conversation: Conversation,
    tools: Sequence[Tool],
    options: ChatOptions,
    names: ToolNames,
    *,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body: typed fields first, then ``extra_body`` merged over them."""
    body: dict[str, Any] = {}
    if options.model:
        body["model"] = options.model
    body["messages"] = [_message(m, names, options) for m in conversation]
    body["stream"] = stream
    if stream and options.include_usage:
        body["stream_options"] = {"include_usage": True}
    for field in SAMPLING_FIELDS:
        value = getattr(options, field)
        if value is not None:
            body[field] = value
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": names.wire(tool.source, tool.name),
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in tools
        ]
        if options.strict_tools:
            for tool in body["tools"]:
                tool["function"]["strict"] = True
    if options.tool_choice is not None:
        body["tool_choice"] = _tool_choice(options.tool_choice, names)
    if options.extra_body:
        body = merge_patch(body, options.extra_body)
    return body
