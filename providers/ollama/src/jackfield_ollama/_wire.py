"""Ollama's native chat format: building /api/chat bodies and assembling its answers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from jackfield import (
    AssistantMessage,
    Completion,
    Conversation,
    ConversationError,
    FinishReason,
    Fragment,
    ImagePart,
    MalformedStreamError,
    SystemMessage,
    TextDelta,
    TextPart,
    ThoughtDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolMessage,
    TruncatedStreamError,
    Usage,
    UserMessage,
    merge_patch,
)
from jackfield.provider import ThinkSplitter, error_from_payload
from jackfield_ollama._options import OllamaOptions

__all__ = ["OllamaAssembler", "chat_body"]

DURATIONS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
SAMPLING = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "max_tokens": "num_predict",
    "stop": "stop",
    "num_ctx": "num_ctx",
}


def _wire_name(tool: Tool) -> str:
    return f"{tool.source}__{tool.name}" if tool.source else tool.name


def _images(parts: Iterable[TextPart | ImagePart], where: str) -> list[str]:
    images = []
    for part in parts:
        if not isinstance(part, ImagePart):
            continue
        if part.data is not None:
            import base64

            images.append(base64.b64encode(part.data).decode("ascii"))
        elif part.url is not None and part.url.startswith("data:") and ";base64," in part.url:
            images.append(part.url.split(",", 1)[1])
        else:
            raise ConversationError(
                f"{where}: Ollama takes images as bytes or data: URLs, not {part.url!r}"
            )
    return images


def _arguments(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text  # not JSON: sent as the model wrote it


def _message(
    index: int, message: Any, calls: dict[str, str], send_reasoning: bool
) -> dict[str, Any]:
    where = f"messages[{index}]"
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return {"role": "user", "content": message.content}
        wire: dict[str, Any] = {"role": "user", "content": message.text}
        images = _images(message.content, where)
        if images:
            wire["images"] = images
        return wire
    if isinstance(message, AssistantMessage):
        wire = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            wire["tool_calls"] = []
            for call in message.tool_calls:
                wire_name = f"{call.source}__{call.name}" if call.source else call.name
                calls[call.id] = wire_name
                wire["tool_calls"].append(
                    {"function": {"name": wire_name, "arguments": _arguments(call.arguments)}}
                )
        if send_reasoning and message.thoughts:
            wire["thinking"] = message.thoughts
        return wire
    assert isinstance(message, ToolMessage)
    wire = {"role": "tool", "content": message.content, "tool_call_id": message.tool_call_id}
    name = message.name or calls.get(message.tool_call_id)
    if name:
        wire["tool_name"] = name
    return wire


def chat_body(
    conversation: Conversation, tools: Iterable[Tool], options: OllamaOptions, *, stream: bool
) -> dict[str, Any]:
    """The /api/chat body: typed fields, then ``extra_body`` merged over them."""
    calls: dict[str, str] = {}
    body: dict[str, Any] = {}
    if options.model:
        body["model"] = options.model
    body["messages"] = [
        _message(i, m, calls, send_reasoning=True) for i, m in enumerate(conversation)
    ]
    tools = tuple(tools)
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": _wire_name(t),
                    "description": t.description,
                    "parameters": dict(t.parameters),
                },
            }
            for t in tools
        ]
    body["stream"] = stream
    model_options = {
        wire: getattr(options, field)
        for field, wire in SAMPLING.items()
        if getattr(options, field) is not None
    }
    model_options = merge_patch(model_options, options.options)
    if model_options:
        body["options"] = model_options
    for field in ("think", "format", "keep_alive"):
        value = getattr(options, field)
        if value is not None:
            body[field] = value
    if options.extra_body:
        body = merge_patch(body, options.extra_body)
    return body


class OllamaAssembler:
    """Ollama's answer objects (NDJSON lines, or one whole object) into fragments.

    ``think`` splits ``<think>`` blocks out of the content (what Ollama sends for thinking
    models when the request does not set ``think``); ``None`` leaves the content alone.
    """

    def __init__(
        self, tools: Iterable[Tool], label: str, think: ThinkSplitter | None = None
    ) -> None:
        self.label = label
        self._think = think
        self._names = {_wire_name(t): (t.source, t.name) for t in tools}
        self._calls = 0
        self._ids: set[str] = set()
        self.done = False
        self.final: Mapping[str, Any] = {}
        self.model: str | None = None

    def chunk(self, data: Any) -> list[Fragment]:
        if type(data) is not dict:
            raise MalformedStreamError(
                f"{self.label}: expected a JSON object, got {type(data).__name__}"
            )
        error = data.get("error")
        if error is not None:
            raise error_from_payload(error, self.label)
        if data.get("model"):
            self.model = str(data["model"])
        out: list[Fragment] = []
        message = data.get("message")
        if isinstance(message, dict):
            thinking = message.get("thinking")
            if thinking:
                out.append(ThoughtDelta(str(thinking)))
            content = message.get("content")
            if content:
                out += self._content(str(content))
            calls = message.get("tool_calls")
            if calls:
                if type(calls) is not list:
                    raise MalformedStreamError(f"{self.label}: 'tool_calls' is not a list")
                for call in calls:
                    out += self._tool_call(call)
        if data.get("done"):
            self.done = True
            self.final = data
        return out

    def _content(self, text: str) -> list[Fragment]:
        if self._think is None or self._think.passthrough:
            return [TextDelta(text)]
        return [
            ThoughtDelta(t) if thought else TextDelta(t) for thought, t in self._think.feed(text)
        ]

    def _tool_call(self, raw: Any) -> list[Fragment]:
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            raise MalformedStreamError(f"{self.label}: a tool call without a function name")
        arguments = function.get("arguments", {})
        text = (
            arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        )
        index = self._calls
        self._calls += 1
        call_id = str(raw.get("id") or f"call_{index}")
        while call_id in self._ids:
            call_id = f"{call_id}_{index}"
        self._ids.add(call_id)
        source, name = self._names.get(str(function["name"]), (None, str(function["name"])))
        return [
            ToolCallDelta(index, call_id, name, text),
            ToolCall(call_id, name, text, source, 0, index),
        ]

    def finish(self) -> list[Fragment]:
        if not self.done:
            raise TruncatedStreamError(
                f"{self.label}: the stream ended before Ollama said it was done"
            )
        out: list[Fragment] = []
        if self._think is not None:
            out += [
                ThoughtDelta(t) if thought else TextDelta(t) for thought, t in self._think.flush()
            ]
        final = self.final
        raw = final.get("done_reason")
        reason = FinishReason.normalise(raw if isinstance(raw, str) else None)
        if reason is None or (reason is FinishReason.STOP and self._calls):
            reason = FinishReason.TOOL_CALLS if self._calls else FinishReason.STOP
        prompt, completion = final.get("prompt_eval_count"), final.get("eval_count")
        usage = None
        if isinstance(prompt, int) or isinstance(completion, int):
            total = (prompt or 0) + (completion or 0)
            usage = Usage(
                prompt if isinstance(prompt, int) else None,
                completion if isinstance(completion, int) else None,
                total,
            )
        metrics = {key: final[key] for key in DURATIONS if key in final}
        if (
            isinstance(completion, int)
            and isinstance(final.get("eval_duration"), int)
            and final["eval_duration"]
        ):
            metrics["eval_per_second"] = completion / (final["eval_duration"] / 1e9)
        out.append(
            Completion(reason, raw if isinstance(raw, str) else None, usage, self.model, metrics)
        )
        return out
